"""Figures of sweeps: a lever grid as a heatmap, the budget frontier, and tipping curves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from sim.vocab import check_lang

if TYPE_CHECKING:
    pass

from sim.present.plots.runs import _final, _varying_params, mean_interval
from sim.present.plots.style import (
    DIVERGING,
    GREY,
    PALETTE,
    SEQUENTIAL,
    _group_label,
    _metric_label,
    _require,
    _rgba,
    _style,
    interval_band,
    interval_hover,
    mean_line,
    param_label,
    text,
)


def lever_grid_heatmap(
    df: pd.DataFrame,
    x: str,
    y: str,
    metric: str = "satisfaction_gain",
    lang: str = "en",
    step: int | None = None,
) -> go.Figure:
    """Replicate mean of ``metric`` at the final step (or ``step``) over a 2-D parameter grid.

    Args:
        df: metrics table of a sweep with the parameter columns ``x`` and ``y`` (for
            example ``levers.linking.intensity`` and ``levers.immersion.intensity``).
    Hover shows the mean, the 95% interval and the number of replicates of each cell.
    """
    check_lang(lang)
    _require(df, [x, y, metric])
    data = _final(df) if step is None else df[df["step"] == step]
    if data.empty:
        raise ValueError(f"step={step} is not in the table; allowed: {sorted(df['step'].unique())[:5]} …")
    cells = mean_interval(data, [y, x], metric)
    mean = cells.pivot(index=y, columns=x, values="mean")
    low = cells.pivot(index=y, columns=x, values="low").loc[mean.index, mean.columns]
    high = cells.pivot(index=y, columns=x, values="high").loc[mean.index, mean.columns]
    count = cells.pivot(index=y, columns=x, values="n").loc[mean.index, mean.columns]
    custom = np.dstack([low.to_numpy(), high.to_numpy(), count.to_numpy()])
    mlabel, xl, yl = _metric_label(metric, lang), param_label(x, lang), param_label(y, lang)
    values = mean.to_numpy(dtype=float)
    diverging = np.nanmin(values) < 0 < np.nanmax(values)
    fig = go.Figure(
        go.Heatmap(
            z=values,
            x=[str(v) for v in mean.columns],
            y=[str(v) for v in mean.index],
            customdata=custom,
            colorscale=DIVERGING if diverging else SEQUENTIAL,
            zmid=0.0 if diverging else None,
            colorbar={"title": {"text": mlabel}},
            texttemplate="%{z:.3f}",
            hovertemplate=f"{xl} = %{{x}}<br>{yl} = %{{y}}<br>{mlabel}: %{{z:.4f}}" + interval_hover(lang, 4),
            name=mlabel,
        )
    )
    shown_step = int(data["step"].max()) if "step" in data.columns else 0
    _style(fig, text("heatmap_title", lang, metric=mlabel, step=shown_step, x=xl, y=yl), lang)
    fig.update_xaxes(title_text=xl, type="category")
    fig.update_yaxes(title_text=yl, type="category")
    return fig


def _frontier(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the points no other point beats on both lower cost and higher value, by cost."""
    order = np.lexsort((-y, x))
    best = -np.inf
    keep = []
    for i in order:  # points of a sweep, a few hundred at most
        if y[i] > best:
            keep.append(i)
            best = y[i]
    return np.asarray(keep, dtype=int)


def budget_frontier(
    df: pd.DataFrame,
    metric: str = "satisfaction_gain",
    cost: str = "cost",
    by: str | Sequence[str] | None = None,
    lang: str = "en",
) -> go.Figure:
    """Outcome against spending for every parameter point, with the efficient frontier.

    Args:
        df: metrics table of a sweep (several portfolios or budgets).
        metric: outcome at the final step (mean and 95% interval across replicates).
        cost: column with the weekly cost; a point's cost is its mean over weeks and
            replicates (what was actually spent, after any budget cap).
        by: column(s) identifying a point; default: every parameter column that varies, or
            ``run`` when there is none.

    Traces: the points (with error bars) and the frontier line.
    """
    check_lang(lang)
    _require(df, [metric, cost])
    keys = [by] if isinstance(by, str) else list(by) if by is not None else _varying_params(df)
    if not keys:
        keys = ["run"] if "run" in df.columns else []
    if not keys:
        raise ValueError("by=None and the table has no varying parameter; allowed: a column naming points")
    _require(df, keys)
    spent = df.groupby(keys, dropna=False)[cost].mean().rename("x")
    final = mean_interval(_final(df, keys), keys, metric).set_index(keys)
    points = final.join(spent).reset_index()
    names = [
        ", ".join(f"{param_label(k, lang)}={_fmt(row[k])}" for k in keys) for _, row in points.iterrows()
    ]
    x = points["x"].to_numpy(dtype=float)
    y = points["mean"].to_numpy(dtype=float)
    front = _frontier(x, y)
    mlabel = _metric_label(metric, lang)
    fig = go.Figure(
        [
            go.Scatter(
                x=x,
                y=y,
                mode="markers",
                name=text("points", lang),
                marker={"color": PALETTE[0], "size": 8},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (points["high"] - points["mean"]).to_numpy(),
                    "arrayminus": (points["mean"] - points["low"]).to_numpy(),
                    "color": _rgba(PALETTE[0], 0.6),
                },
                text=names,
                hovertemplate=f"%{{text}}<br>{text('cost', lang)}: %{{x:.3f}}<br>{mlabel}: %{{y:.4f}}"
                "<extra></extra>",
            ),
            go.Scatter(
                x=x[front],
                y=y[front],
                mode="lines+markers",
                line={"color": PALETTE[3], "width": 2, "shape": "hv"},
                marker={"color": PALETTE[3], "size": 10, "symbol": "diamond-open"},
                name=text("frontier", lang),
                text=[names[i] for i in front],
                hovertemplate="%{text}<extra></extra>",
            ),
        ]
    )
    _style(fig, text("frontier_title", lang, metric=mlabel), lang)
    fig.update_xaxes(title_text=text("cost", lang))
    fig.update_yaxes(title_text=mlabel)
    return fig


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float | np.floating) else str(value)


def tipping_curve(
    df: pd.DataFrame,
    x: str,
    metric: str = "participation",
    by: str | None = None,
    lang: str = "en",
    level: float = 0.95,
) -> go.Figure:
    """The final-step metric against one parameter: every replicate, the mean and its band.

    Individual replicates are drawn too, because near a tipping point they split into a
    low and a high state and the mean alone would hide it. The steepest rise of the mean
    between neighbouring values of ``x`` is marked as the estimated tipping point.
    Traces per group of ``by``: replicate points, band, mean line.
    """
    check_lang(lang)
    _require(df, [x, metric, by])
    final = _final(df, [c for c in (x, by) if c])
    groups = list(pd.unique(final[by])) if by else [None]
    xl, mlabel = param_label(x, lang), _metric_label(metric, lang)
    fig = go.Figure()
    steepest: tuple[float, float] | None = None
    for i, value in enumerate(groups):
        colour = PALETTE[i % len(PALETTE)]
        part = final if by is None else final[final[by] == value]
        name = mlabel if by is None else _group_label(df, by, value, lang)
        summary = mean_interval(part, [x], metric, level).sort_values(x)
        xs = summary[x].to_numpy(dtype=float)
        fig.add_trace(
            go.Scatter(
                x=part[x],
                y=part[metric],
                mode="markers",
                marker={"color": _rgba(colour, 0.45), "size": 5},
                name=f"{name}: {text('replicates', lang)}",
                legendgroup=str(name),
                hovertemplate=f"{xl} = %{{x}}<br>{mlabel}: %{{y:.3f}}<extra></extra>",
            )
        )
        fig.add_trace(
            interval_band(xs, summary["low"].to_numpy(), summary["high"].to_numpy(), colour, str(name), lang)
        )
        fig.add_trace(
            mean_line(
                xs, summary["mean"], colour, f"{name}: {text('mean', lang)}", str(name), mode="lines+markers"
            )
        )
        if xs.size > 1:
            slope = np.diff(summary["mean"].to_numpy()) / np.diff(xs)
            k = int(np.nanargmax(slope)) if np.isfinite(slope).any() else 0
            if steepest is None or slope[k] > steepest[1]:
                steepest = ((xs[k] + xs[k + 1]) / 2, float(slope[k]))
    if steepest is not None and steepest[1] > 0:
        fig.add_vline(
            x=steepest[0],
            line={"color": GREY, "dash": "dash"},
            annotation_text=f"{text('steepest', lang)} ≈ {steepest[0]:.3g}",
            annotation_position="top left",
        )
    step = int(final["step"].max()) if "step" in final.columns else 0
    _style(fig, text("tipping_title", lang, metric=mlabel, step=step, x=xl), lang)
    fig.update_xaxes(title_text=xl)
    fig.update_yaxes(title_text=mlabel)
    return fig
