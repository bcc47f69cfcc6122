"""Figures of runs and scenario sets: metrics over time with 95% bands, and scenarios compared
with the baseline, paired by replicate."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.analysis import compare, stats
from sim.vocab import check_lang

if TYPE_CHECKING:
    pass

from sim.present.plots.style import (
    GREY,
    PALETTE,
    _group_label,
    _metric_label,
    _require,
    _style,
    interval_band,
    interval_hover_data,
    mean_line,
    text,
)


def mean_interval(df: pd.DataFrame, keys: list[str], value: str, level: float = 0.95) -> pd.DataFrame:
    """Per group of ``keys``: n, mean, sd and the ``level`` interval for the mean (``low``, ``high``).

    The interval respects the metric's range (:func:`sim.analysis.stats.interval_table`). A
    group with one value is drawn as a point (a zero-width band); NaN values are left out.
    """
    out = stats.interval_table(df, keys, value, level)
    single = out["n"].to_numpy() == 1
    out.loc[single, "low"] = out.loc[single, "mean"]
    out.loc[single, "high"] = out.loc[single, "mean"]
    return out


def _final(df: pd.DataFrame, group: list[str] | None = None) -> pd.DataFrame:
    """Rows at the last step (of each group, so runs of different lengths all count)."""
    if "step" not in df.columns:
        return df
    if not group:
        return df[df["step"] == df["step"].max()]
    last = df.groupby(group, dropna=False)["step"].transform("max")
    return df[df["step"] == last]


def _varying_params(df: pd.DataFrame) -> list[str]:
    """Dotted parameter columns (and ``budget``) that differ between rows: the sweep's axes."""
    cols = [c for c in df.columns if ("." in c or c == "budget") and not c.startswith("scenario.")]
    return [c for c in cols if df[c].nunique(dropna=False) > 1]


def paired_differences(
    df: pd.DataFrame,
    metrics: str | Sequence[str],
    baseline: str = "baseline",
    by: str = "scenario.name",
    level: float = 0.95,
) -> pd.DataFrame:
    """Final-step differences of every group to ``baseline``, paired by replicate.

    Returns one row per (group, metric) with the group, ``metric``, ``n`` pairs, ``mean``
    difference, ``sd``, the ``low``/``high`` interval, and the baseline and group means.
    Pairing by replicate is what common random numbers allow: replicate r of every group ran
    on the same seeds. Only replicates present in both tables are used.
    """
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    _require(df, [by, "replicate", *metrics])
    return compare.paired_differences(df, metrics, baseline, by, level)


def time_series(
    df: pd.DataFrame,
    metric: str,
    by: str | None = None,
    lang: str = "en",
    level: float = 0.95,
    band: bool | None = None,
) -> go.Figure:
    """A metric over the weeks: replicate mean and 95% band, one line per value of ``by``.

    Args:
        df: metrics table (``step``, ``replicate`` and ``metric`` columns).
        metric: the metric column to plot.
        by: column whose values are overlaid (``"scenario.name"``, ``"run"``, a lever
            intensity …); None for one line.
        lang: ``"en"`` or ``"zh"``.
        band: draw the 95% bands; default: only when at most six lines are overlaid (more
            bands hide each other).

    Traces: for each group, a band (``legendgroup`` = the group, no legend entry) followed
    by the mean line; without bands, the mean lines only.
    """
    check_lang(lang)
    _require(df, ["step", metric, by])
    keys = ([by] if by else []) + ["step"]
    summary = mean_interval(df, keys, metric, level)
    groups = list(pd.unique(summary[by])) if by else [None]
    band = len(groups) <= 6 if band is None else band
    fig = go.Figure()
    for i, value in enumerate(groups):
        colour = PALETTE[i % len(PALETTE)]
        part = summary if by is None else summary[summary[by] == value]
        part = part.sort_values("step")
        name = _metric_label(metric, lang) if by is None else _group_label(df, by, value, lang)
        x = part["step"].to_numpy()
        if band:
            fig.add_trace(
                interval_band(x, part["low"].to_numpy(), part["high"].to_numpy(), colour, name, lang)
            )
        hover = f"{name}<br>{text('week', lang)} %{{x}}<br>{text('mean', lang)} %{{y:.3f}}"
        fig.add_trace(
            mean_line(x, part["mean"], colour, name, name, **interval_hover_data(part, hover, lang, 3))
        )
    label_y = _metric_label(metric, lang)
    _style(fig, text("time_series_title", lang, metric=label_y), lang, hovermode="x unified")
    fig.update_xaxes(title_text=text("week", lang))
    fig.update_yaxes(title_text=label_y)
    return fig


def scenario_comparison(
    df: pd.DataFrame,
    metrics: str | Sequence[str],
    baseline: str = "baseline",
    by: str = "scenario.name",
    lang: str = "en",
    level: float = 0.95,
) -> go.Figure:
    """Paired differences to ``baseline`` at the final step, one panel per metric.

    Each panel holds one horizontal bar trace (one bar per scenario, coloured by scenario)
    with the 95% interval of the mean paired difference as error bars; a bar whose interval
    crosses zero is not distinguishable from the baseline.
    """
    check_lang(lang)
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    diffs = paired_differences(df, metrics, baseline, by, level)
    arms = list(pd.unique(diffs[by]))
    names = [_group_label(df, by, a, lang) for a in arms]
    colours = [PALETTE[(i + 1) % len(PALETTE)] for i in range(len(arms))]
    fig = make_subplots(rows=1, cols=len(metrics), shared_yaxes=True, horizontal_spacing=0.04)
    for j, metric in enumerate(metrics, start=1):
        part = diffs[diffs["metric"] == metric].set_index(by).loc[arms]
        mlabel = _metric_label(metric, lang)
        fig.add_trace(
            go.Bar(
                x=part["mean"],
                y=names,
                orientation="h",
                marker={"color": colours},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": (part["high"] - part["mean"]).to_numpy(),
                    "arrayminus": (part["mean"] - part["low"]).to_numpy(),
                    "color": "#333333",
                },
                name=mlabel,
                showlegend=False,
                **interval_hover_data(
                    part, f"%{{y}}<br>{text('difference', lang, metric=mlabel)} %{{x:.4f}}", lang, 4
                ),
            ),
            row=1,
            col=j,
        )
        fig.add_vline(x=0, line={"color": GREY, "width": 1}, row=1, col=j)
        fig.update_xaxes(title_text=text("difference", lang, metric=mlabel), row=1, col=j)
    base_name = _group_label(df, by, baseline, lang)
    step = int(_final(df, [by])["step"].max()) if "step" in df.columns else 0
    _style(
        fig,
        text("comparison_title", lang, baseline=base_name, step=step),
        lang,
        height=max(320, 60 + 45 * len(arms)),
    )
    fig.update_yaxes(title_text=text("scenario", lang), row=1, col=1, autorange="reversed")
    return fig
