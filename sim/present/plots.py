"""Plotly figures for every result: each function takes a tidy table and returns a ``Figure``.

The tables are those of :func:`sim.results.load` and :func:`sim.experiment.simulate.simulate`:

* the *metrics table*: one row per replicate × step, a column per metric (see
  :data:`sim.core.metrics.METRICS`), the dotted parameter columns of the run (``scenario.name``,
  ``levers.linking.intensity``, ``budget`` …) and, for several runs, a ``run`` column;
* the *buildings table*: one row per replicate × step × building with ``compound``,
  ``households``, ``satisfaction``, ``participation``, ``trust``, ``unmet_need``,
  ``need_information`` and ``conflicts_open``.

Every figure speaks English (``lang="en"``) or Chinese (``lang="zh"``) and uses one
colour-blind-safe palette: Okabe & Ito (2008) for categories, viridis for continuous scales
and a purple–orange diverging scale for differences. Intervals are t-based 95% confidence
intervals of the mean across replicates; comparisons between scenarios are paired by
replicate, since replicate r of every scenario shares its random streams (common random
numbers), which removes most of the noise from the difference.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.analysis import compare, stats
from sim.core.config import CHANNELS, NEED_CATEGORIES
from sim.core.levers import LEVERS
from sim.core.metrics import METRICS, label
from sim.vocab import CATEGORY_WORDS, CHANNEL_WORDS, LANGS, PROFILE_WORDS, check_lang, domain_word, translate

if TYPE_CHECKING:
    from sim.core.model import CommunityModel

__all__ = [
    "LANGS",
    "PALETTE",
    "budget_frontier",
    "community_map",
    "lever_grid_heatmap",
    "mean_interval",
    "network",
    "paired_differences",
    "param_label",
    "scenario_comparison",
    "sensitivity_bars",
    "sensitivity_table",
    "service_sankey",
    "text",
    "tidy_indices",
    "time_series",
    "tipping_curve",
]


# Okabe & Ito (2008), ordered so that the first colours stay distinct for every common kind of
# colour blindness and on a white background; yellow last because thin lines of it vanish.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#CC79A7",  # reddish purple
    "#000000",  # black
    "#F0E442",  # yellow
)
SEQUENTIAL = "Viridis"
DIVERGING = "PuOr"
GREY = "#999999"
FONT = (
    "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, WenQuanYi Micro Hei, Microsoft YaHei, PingFang SC, "
    "Arial, sans-serif"
)

_TEXT: dict[str, tuple[str, str]] = {
    "week": ("Week", "周"),
    "replicate": ("Replicate", "重复实验"),
    "scenario": ("Scenario", "情景"),
    "mean": ("mean", "均值"),
    "interval": ("95% interval", "95%区间"),
    "time_series_title": (
        "{metric}: mean and 95% interval over replicates",
        "{metric}：各次重复实验的均值及95%区间",
    ),
    "difference": ("Δ {metric}", "Δ {metric}"),
    "comparison_title": (
        "Difference to {baseline} at week {step} (paired by replicate, 95% interval)",
        "第{step}周与{baseline}的差值（按重复实验配对，95%区间）",
    ),
    "map_title": ("{metric} by building, week {step}", "各楼栋{metric}（第{step}周）"),
    "compound": ("Compound", "小区"),
    "building": ("Building", "楼栋"),
    "households": ("Households", "户数"),
    "conflicts_open": ("Open conflicts in compound", "小区未决矛盾"),
    "network_title": (
        "Social network of compound {compound}, week {week}",
        "第{compound}小区的社会网络（第{week}周）",
    ),
    "participating": ("Participating", "参与"),
    "not_participating": ("Not participating", "未参与"),
    "ties": ("Ties", "社会联系"),
    "party_member": ("Party member", "党员"),
    "household": ("Household", "住户"),
    "profile": ("Profile", "类型"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "heatmap_title": (
        "{metric} at week {step} over {x} × {y}",
        "第{step}周{metric}：{x} × {y}",
    ),
    "frontier_title": ("Budget frontier: {metric} against cost", "预算前沿：{metric}与成本"),
    "cost": ("Mean weekly cost (per 1,000 households)", "平均每周成本（每千户）"),
    "frontier": ("Frontier (best for the cost)", "前沿（同等成本下最优）"),
    "points": ("Parameter points", "参数组合"),
    "tipping_title": ("{metric} at week {step} against {x}", "第{step}周{metric}随{x}的变化"),
    "replicates": ("Replicates", "各次重复实验"),
    "steepest": ("steepest rise", "变化最陡处"),
    "sensitivity_title": ("Sensitivity of {output}", "{output}的敏感性"),
    "input": ("Input parameter", "输入参数"),
    "index": ("Index", "指数"),
    "sankey_title": (
        "Service flows: channel → need category (need units per household per week)",
        "服务流向：渠道 → 需求类别（每户每周需求单位）",
    ),
    "no_data": ("no data", "无数据"),
    "estimated_split": (
        "split estimated in proportion to each category's total",
        "按各类别总量比例估算的分配",
    ),
}

_EXTRA_LABELS: dict[str, tuple[str, str]] = {
    "satisfaction_gain": ("Satisfaction gain over baseline", "满意度提升（相对基线）"),
    "participation_gain": ("Participation gain over baseline", "参与率提升（相对基线）"),
    "trust_gain": ("Trust gain over baseline", "信任度提升（相对基线）"),
    "cost_effectiveness": ("Satisfaction gain per unit cost", "单位成本满意度提升"),
    "budget": ("Weekly budget (per 1,000 households)", "每周预算（每千户）"),
    "seed": ("Root seed", "随机种子"),
    "steps": ("Weeks", "周数"),
    "run": ("Run", "运行"),
    "scenario.name": ("Scenario", "情景"),
    "arm": ("Arm", "实验组"),
    "levers.embedding.member_activity": ("Party members' activity e", "党员活跃度 e"),
    "dynamics.threshold_mean": ("Mean participation threshold μ_θ", "参与阈值均值 μ_θ"),
    "dynamics.threshold_sd": ("Spread of participation thresholds σ_θ", "参与阈值离散度 σ_θ"),
    "dynamics.recruitment_effect": ("Recruitment effect ρ", "动员效应 ρ"),
    "dynamics.synergy": ("Synergy of pooled contributions r", "资源汇聚协同系数 r"),
}

_INDEX_TEXT = {
    "S1": ("First order S1", "一阶 S1"),
    "ST": ("Total order ST", "总效应 ST"),
    "S2": ("Second order S2", "二阶 S2"),
    "mu_star": ("Morris μ*", "Morris μ*"),
    "mu": ("Morris μ", "Morris μ"),
    "sigma": ("Morris σ", "Morris σ"),
}
BUILDING_COLUMNS = (
    "satisfaction",
    "participation",
    "trust",
    "unmet_need",
    "need_information",
    "conflicts_open",
)


# ------------------------------------------------------------------------------ labels
def text(key: str, lang: str = "en", **fields: Any) -> str:
    """A figure string (axis, title, legend) in English or Chinese, with ``{fields}`` filled."""
    return translate(_TEXT, key, lang, **fields)


def param_label(name: str, lang: str = "en") -> str:
    """Display label of a metric or a dotted parameter column (``levers.linking.intensity``)."""
    check_lang(lang)
    if name in METRICS:
        return label(name, lang)
    if name in _EXTRA_LABELS:
        en, zh = _EXTRA_LABELS[name]
        return zh if lang == "zh" else en
    parts = name.split(".")
    if len(parts) == 3 and parts[0] == "levers" and parts[2] == "intensity":
        return label(f"intensity_{parts[1]}", lang)
    if name in LEVERS:  # design sweeps name a lever's intensity by the lever alone
        return label(f"intensity_{name}", lang)
    if "." not in name:  # a short input name of a design (``threshold_sd``): its dotted key's label
        matches = [key for key in _EXTRA_LABELS if key.endswith(f".{name}")]
        if len(matches) == 1:
            en, zh = _EXTRA_LABELS[matches[0]]
            return zh if lang == "zh" else en
    return name


def _metric_label(name: str, lang: str) -> str:
    return param_label(name, lang)


def _group_label(df: pd.DataFrame, by: str | None, value: Any, lang: str) -> str:
    """Legend name of a group; scenarios show their title in the chosen language."""
    if by is None:
        return str(value)
    if by == "scenario.name":
        col = f"scenario.title_{lang}"
        if col in df.columns:
            titles = df.loc[df[by] == value, col].dropna()
            if len(titles):
                return str(titles.iloc[0])
    if isinstance(value, float):
        return f"{param_label(by, lang)} = {value:g}"
    return str(value)


TEMPLATE = "sim_white"


def _register_template() -> None:
    """``plotly_white`` with trace defaults for the trace types drawn here only.

    Plotly copies the whole template, with defaults for some fifty trace types, into every
    figure (about 45 ms a figure); the dashboard redraws several figures a step, so keeping
    just the types used gives the same look in a third of the time.
    """
    import plotly.io as pio

    if TEMPLATE in pio.templates:
        return
    full = pio.templates["plotly_white"]
    data = {kind: getattr(full.data, kind) for kind in ("scatter", "bar", "heatmap", "sankey")}
    pio.templates[TEMPLATE] = go.layout.Template(layout=full.layout, data=data)


def _style(fig: go.Figure, title: str, lang: str, **layout: Any) -> go.Figure:
    _register_template()
    fig.update_layout(
        title={"text": title, "x": 0.02, "xanchor": "left"},
        template=TEMPLATE,
        font={"family": FONT, "size": 13},
        colorway=list(PALETTE),
        margin={"l": 70, "r": 30, "t": 70, "b": 60},
        legend={"title": {"text": ""}},
        meta={"lang": lang},
        **layout,
    )
    return fig


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _require(df: pd.DataFrame, columns: Iterable[str | None], what: str = "table") -> None:
    missing = [c for c in columns if c is not None and c not in df.columns]
    if missing:
        shown = ", ".join(sorted(map(str, df.columns))[:12])
        raise ValueError(
            f"column {missing[0]!r} is not in the {what}; allowed: one of its columns ({shown}, …)"
        )


# ------------------------------------------------------------------------------ statistics
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


# ------------------------------------------------------------------------------ figures
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
                go.Scatter(
                    x=np.concatenate([x, x[::-1]]),
                    y=np.concatenate([part["high"].to_numpy(), part["low"].to_numpy()[::-1]]),
                    fill="toself",
                    mode="lines",  # no markers on the band outline
                    fillcolor=_rgba(colour, 0.2),
                    line={"width": 0},
                    hoverinfo="skip",
                    showlegend=False,
                    legendgroup=name,
                    name=f"{name} ({text('interval', lang)})",
                )
            )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=part["mean"],
                mode="lines",
                line={"color": colour, "width": 2},
                name=name,
                legendgroup=name,
                customdata=np.column_stack([part["low"], part["high"], part["n"]]),
                hovertemplate=(
                    f"{name}<br>{text('week', lang)} %{{x}}<br>{text('mean', lang)} %{{y:.3f}}"
                    f"<br>{text('interval', lang)} [%{{customdata[0]:.3f}}, %{{customdata[1]:.3f}}]"
                    "<br>n = %{customdata[2]}<extra></extra>"
                ),
            )
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
                customdata=np.column_stack([part["low"], part["high"], part["n"]]),
                hovertemplate=(
                    f"%{{y}}<br>{text('difference', lang, metric=mlabel)} %{{x:.4f}}"
                    f"<br>{text('interval', lang)} [%{{customdata[0]:.4f}}, %{{customdata[1]:.4f}}]"
                    "<br>n = %{customdata[2]}<extra></extra>"
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


def _tile_layout(compound_of_building: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int, int]:
    """Grid cell (row, col) of every building: compounds as blocks, buildings as tiles in them."""
    n_compounds = int(compound_of_building.max()) + 1
    counts = np.bincount(compound_of_building, minlength=n_compounds)
    width = max(1, math.ceil(math.sqrt(counts.max())))
    height = max(1, math.ceil(counts.max() / width))
    per_row = max(1, math.ceil(math.sqrt(n_compounds * height / width)))
    # rank of each building inside its compound, without a Python loop over buildings
    order = np.argsort(compound_of_building, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size) - starts[compound_of_building[order]]
    block_r, block_c = np.divmod(compound_of_building, per_row)
    rows = block_r * (height + 1) + rank // width
    cols = block_c * (width + 1) + rank % width
    return rows, cols, width, height, per_row


def community_map(
    buildings: pd.DataFrame,
    metric: str = "satisfaction",
    step: int | None = None,
    lang: str = "en",
    replicate: int | None = None,
) -> go.Figure:
    """Compounds as blocks and buildings as tiles, coloured by a building metric.

    Args:
        buildings: buildings table (replicate × step × building).
        metric: one of satisfaction, participation, trust, unmet_need, need_information,
            conflicts_open.
        step: the week to show (default: the last).
        replicate: one replicate; None averages over replicates.

    Hovering a tile shows its compound, building, households and every building metric.
    One heatmap trace holds all tiles (gaps between compounds are empty cells).
    """
    check_lang(lang)
    if metric not in BUILDING_COLUMNS:
        raise ValueError(f"metric={metric!r}; allowed: {', '.join(BUILDING_COLUMNS)}")
    _require(buildings, ["step", "building", "compound", metric], "buildings table")
    if buildings.empty:
        raise ValueError("the buildings table is empty; allowed: a run made with record_buildings=true")
    step = int(buildings["step"].max()) if step is None else int(step)
    sel = buildings[buildings["step"] == step]
    if sel.empty:
        steps = buildings["step"]
        raise ValueError(f"step={step} is not in the table; allowed: {steps.min()}..{steps.max()}")
    if replicate is not None:
        sel = sel[sel["replicate"] == replicate]
        if sel.empty:
            raise ValueError(
                f"replicate={replicate} is not in the table; allowed: {sorted(buildings.replicate.unique())}"
            )
    shown = [c for c in ("households", *BUILDING_COLUMNS) if c in sel.columns]
    table = sel.groupby("building", sort=True).agg(
        compound=("compound", "first"), **{c: (c, "mean") for c in shown}
    )
    b_compound = table["compound"].to_numpy(dtype=np.int64)
    rows, cols, width, height, per_row = _tile_layout(b_compound)
    n_rows, n_cols = int(rows.max()) + 1, int(cols.max()) + 1
    z = np.full((n_rows, n_cols), np.nan)
    z[rows, cols] = table[metric].to_numpy(dtype=float)
    custom = np.full((n_rows, n_cols, 2 + len(shown)), np.nan)
    custom[rows, cols, 0] = b_compound
    custom[rows, cols, 1] = table.index.to_numpy()
    for k, col in enumerate(shown):
        custom[rows, cols, 2 + k] = table[col].to_numpy(dtype=float)
    hover = [
        f"{text('compound', lang)} %{{customdata[0]:.0f}}",
        f"{text('building', lang)} %{{customdata[1]:.0f}}",
    ]
    for k, col in enumerate(shown):
        name = text(col, lang) if col in ("households", "conflicts_open") else _metric_label(col, lang)
        fmt = ".0f" if col == "households" else ".3f"
        hover.append(f"{name}: %{{customdata[{2 + k}]:{fmt}}}")
    mlabel = text(metric, lang) if metric == "conflicts_open" else _metric_label(metric, lang)
    bounded = metric in ("satisfaction", "participation", "trust", "need_information")
    fig = go.Figure(
        go.Heatmap(
            z=z,
            customdata=custom,
            hovertemplate="<br>".join(hover) + "<extra></extra>",
            colorscale=SEQUENTIAL,
            reversescale=metric in ("unmet_need", "conflicts_open"),  # dark = worse everywhere
            zmin=0.0 if bounded else None,
            zmax=1.0 if bounded else None,
            xgap=3,
            ygap=3,
            colorbar={"title": {"text": mlabel}},
            hoverongaps=False,
            name=mlabel,
        )
    )
    n_compounds = int(b_compound.max()) + 1
    block_r, block_c = np.divmod(np.arange(n_compounds), per_row)
    fig.add_trace(
        go.Scatter(
            x=block_c * (width + 1) + (width - 1) / 2,
            y=block_r * (height + 1) - 0.75,
            mode="text",
            text=[f"{text('compound', lang)} {c}" for c in range(n_compounds)],
            textfont={"size": 11, "color": "#333333"},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    _style(fig, text("map_title", lang, metric=mlabel, step=step), lang, plot_bgcolor="white")
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, title_text="")
    fig.update_yaxes(
        showticklabels=False,
        showgrid=False,
        zeroline=False,
        autorange="reversed",
        scaleanchor="x",
        title_text="",
    )
    return fig


def network(model: CommunityModel, compound: int = 0, lang: str = "en") -> go.Figure:
    """The social network of one compound, households coloured by participation.

    Buildings sit on a circle and their households on a small ring around each building, so
    the dense within-building ties and the cross-building short cuts are both visible; the
    layout needs no random numbers and no iteration. Party members are diamonds.
    Traces: ties, non-participants, participants.
    """
    check_lang(lang)
    c = model.community
    if not 0 <= compound < c.n_compounds:
        raise ValueError(f"compound={compound}; allowed: 0..{c.n_compounds - 1}")
    members = np.flatnonzero(c.compound == compound)
    local = {"index": np.full(c.n_households, -1)}
    local["index"][members] = np.arange(members.size)
    sub = c.network[members][:, members].tocoo()
    keep = sub.row < sub.col
    a, b = sub.row[keep], sub.col[keep]

    building = c.building[members]
    b_ids, b_local = np.unique(building, return_inverse=True)
    n_b = b_ids.size
    angle_b = 2 * np.pi * np.arange(n_b) / max(n_b, 1)
    centre = np.column_stack([np.cos(angle_b), np.sin(angle_b)]) * (1.0 if n_b > 1 else 0.0)
    counts = np.bincount(b_local, minlength=n_b)
    order = np.argsort(b_local, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size) - starts[b_local[order]]
    theta = 2 * np.pi * rank / np.maximum(counts[b_local], 1)
    radius = 0.9 * math.sin(math.pi / max(n_b, 2)) if n_b > 1 else 1.0
    xy = centre[b_local] + radius * np.column_stack([np.cos(theta), np.sin(theta)])

    ex = np.column_stack([xy[a, 0], xy[b, 0], np.full(a.size, np.nan)]).ravel()
    ey = np.column_stack([xy[a, 1], xy[b, 1], np.full(a.size, np.nan)]).ravel()
    hh = model.households
    participating = hh.participating[members]
    is_member = c.is_member[members]
    profile_names = np.array([domain_word(PROFILE_WORDS, p, lang) for p in PROFILE_WORDS])
    fig = go.Figure(
        go.Scatter(
            x=ex,
            y=ey,
            mode="lines",
            line={"color": "rgba(120,120,120,0.35)", "width": 0.6},
            hoverinfo="skip",
            name=text("ties", lang),
        )
    )
    for flag, key, colour in ((False, "not_participating", PALETTE[0]), (True, "participating", PALETTE[1])):
        idx = np.flatnonzero(participating == flag)
        custom = np.column_stack(
            [
                members[idx],
                building[idx],
                profile_names[c.profile[members[idx]]],
                np.where(is_member[idx], text("yes", lang), text("no", lang)),
                hh.trust[members[idx]].round(3),
                hh.satisfaction[members[idx]].round(3),
            ]
        )
        fig.add_trace(
            go.Scatter(
                x=xy[idx, 0],
                y=xy[idx, 1],
                mode="markers",
                name=text(key, lang),
                marker={
                    "color": colour,
                    "size": np.where(is_member[idx], 10, 7),
                    "symbol": np.where(is_member[idx], "diamond", "circle"),
                    "line": {"color": "white", "width": 0.5},
                },
                customdata=custom,
                hovertemplate=(
                    f"{text('household', lang)} %{{customdata[0]}}<br>"
                    f"{text('building', lang)} %{{customdata[1]}}<br>"
                    f"{text('profile', lang)}: %{{customdata[2]}}<br>"
                    f"{text('party_member', lang)}: %{{customdata[3]}}<br>"
                    f"{label('trust', lang)}: %{{customdata[4]}}<br>"
                    f"{label('satisfaction', lang)}: %{{customdata[5]}}<extra>{text(key, lang)}</extra>"
                ),
            )
        )
    _style(
        fig,
        text("network_title", lang, compound=compound, week=model.week),
        lang,
        plot_bgcolor="white",
        height=600,
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x")
    return fig


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
            hovertemplate=(
                f"{xl} = %{{x}}<br>{yl} = %{{y}}<br>{mlabel}: %{{z:.4f}}"
                f"<br>{text('interval', lang)} [%{{customdata[0]:.4f}}, %{{customdata[1]:.4f}}]"
                "<br>n = %{customdata[2]}<extra></extra>"
            ),
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
            go.Scatter(
                x=np.concatenate([xs, xs[::-1]]),
                y=np.concatenate([summary["high"].to_numpy(), summary["low"].to_numpy()[::-1]]),
                fill="toself",
                mode="lines",  # no markers on the band outline
                fillcolor=_rgba(colour, 0.2),
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
                legendgroup=str(name),
                name=f"{name} ({text('interval', lang)})",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=summary["mean"],
                mode="lines+markers",
                line={"color": colour, "width": 2},
                name=f"{name}: {text('mean', lang)}",
                legendgroup=str(name),
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


def sensitivity_table(
    result: dict[str, Any], names: Sequence[str], output: str | None = None
) -> pd.DataFrame:
    """A SALib Sobol or Morris result (dict-like) → tidy rows: input, index, value, conf.

    Sobol results give S1 and ST (with ``*_conf``); Morris results give mu_star (with
    ``mu_star_conf``) and sigma (no interval, conf NaN).
    """
    rows = []
    for kind in ("S1", "ST", "mu_star", "sigma"):
        if kind not in result:
            continue
        values = np.asarray(result[kind], dtype=float)
        conf = np.asarray(result.get(f"{kind}_conf", np.full(values.shape, np.nan)), dtype=float)
        for name, v, c in zip(names, values, conf, strict=True):
            rows.append({"input": name, "index": kind, "value": float(v), "conf": float(c)})
    if not rows:
        raise ValueError(f"result has none of S1, ST, mu_star, sigma; keys: {sorted(result)}")
    table = pd.DataFrame(rows)
    if output is not None:
        table["output"] = output
    return table


_INDEX_KINDS = ("S1", "ST", "mu_star", "sigma")


def tidy_indices(indices: pd.DataFrame) -> pd.DataFrame:
    """Sensitivity indices as tidy rows (input, index, value, conf, and output/group if present).

    Accepts the tidy form itself, or the wide tables of :mod:`sim.analysis`
    (``S1``, ``S1_low``, ``S1_high``, ``ST`` … or ``mu_star``, ``mu_star_low`` …, ``sigma``)
    and of SALib's ``to_df()`` (``S1``, ``S1_conf`` …); ``conf`` is the interval's half-width.
    """
    cols = set(indices.columns)
    if {"input", "index", "value", "conf"} <= cols:
        return indices
    kinds = [k for k in _INDEX_KINDS if k in cols]
    if "input" not in cols or not kinds:
        raise ValueError(
            f"indices table has columns {sorted(cols)}; allowed: input, index, value, conf "
            "or input with S1/ST/mu_star/sigma columns"
        )
    ids = [c for c in ("group", "output", "input") if c in cols]
    parts = []
    for kind in kinds:
        part = indices[ids].copy()
        part["index"] = kind
        part["value"] = indices[kind].to_numpy(dtype=float)
        if {f"{kind}_low", f"{kind}_high"} <= cols:
            part["conf"] = (indices[f"{kind}_high"] - indices[f"{kind}_low"]).to_numpy(dtype=float) / 2
        elif f"{kind}_conf" in cols:
            part["conf"] = indices[f"{kind}_conf"].to_numpy(dtype=float)
        else:
            part["conf"] = np.nan
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def sensitivity_bars(
    indices: pd.DataFrame, output: str | None = None, lang: str = "en", group: str | None = None
) -> go.Figure:
    """Sobol or Morris indices as grouped bars with their confidence intervals.

    Args:
        indices: tidy table with columns ``input`` (parameter name), ``index`` (S1, ST,
            mu_star, sigma …), ``value`` and ``conf`` (half-width of the interval; NaN for
            none); optional ``output`` (the metric analysed; with several, pass ``output``)
            and ``group``. The wide tables of :func:`sim.analysis.sobol_indices` and
            :func:`sim.analysis.morris_indices` are accepted too (see :func:`tidy_indices`).
        output: which output to show when the table holds several.
        group: which group of design points (``sim.analysis``) when the table holds several.

    One bar trace per index kind; inputs are sorted by their largest index.
    """
    check_lang(lang)
    indices = tidy_indices(indices)
    data = indices
    if "group" in data.columns:
        groups = list(pd.unique(data["group"]))
        if group is None and len(groups) > 1:
            raise ValueError(f"group=None but the table holds {len(groups)} groups; allowed: {groups}")
        group = groups[0] if group is None else group
        if group not in groups:
            raise ValueError(f"group={group!r}; allowed: {groups}")
        data = data[data["group"] == group]
    if "output" in data.columns:
        outputs = list(pd.unique(data["output"]))
        if output is None and len(outputs) > 1:
            raise ValueError(f"output=None but the table holds {len(outputs)} outputs; allowed: {outputs}")
        output = output if output is not None else outputs[0]
        if output not in outputs:
            raise ValueError(f"output={output!r}; allowed: {outputs}")
        data = data[data["output"] == output]
    order = data.groupby("input")["value"].max().sort_values(ascending=False).index
    inputs = list(order)
    xlabels = [param_label(i, lang) for i in inputs]
    fig = go.Figure()
    for i, kind in enumerate(pd.unique(data["index"])):
        part = data[data["index"] == kind].set_index("input").reindex(inputs)
        en, zh = _INDEX_TEXT.get(str(kind), (str(kind), str(kind)))
        fig.add_trace(
            go.Bar(
                x=xlabels,
                y=part["value"],
                name=zh if lang == "zh" else en,
                marker={"color": PALETTE[i % len(PALETTE)]},
                error_y={"type": "data", "array": part["conf"].fillna(0.0).to_numpy(), "color": "#333333"},
                customdata=part["conf"].to_numpy(),
                hovertemplate="%{x}<br>%{y:.3f} ± %{customdata:.3f}<extra>%{fullData.name}</extra>",
            )
        )
    shown = _metric_label(output, lang) if output else text("index", lang)
    _style(fig, text("sensitivity_title", lang, output=shown), lang, barmode="group")
    fig.update_xaxes(title_text=text("input", lang))
    fig.update_yaxes(title_text=text("index", lang))
    return fig


def _served(source: pd.DataFrame | CommunityModel, step: int | None) -> tuple[np.ndarray, np.ndarray, Any]:
    """Served need by channel and by category, and the channel × category matrix if known."""
    if isinstance(source, pd.DataFrame):
        cols_ch = [f"served_{ch}" for ch in CHANNELS]
        cols_k = [f"served_{k}" for k in NEED_CATEGORIES]
        _require(source, [*cols_ch, *cols_k])
        data = source if step is None or "step" not in source.columns else source[source["step"] == step]
        if data.empty:
            raise ValueError(f"step={step} is not in the table")
        return data[cols_ch].mean().to_numpy(), data[cols_k].mean().to_numpy(), None
    flow = source.flow
    matrix = getattr(flow, "served_matrix", None)
    return np.asarray(flow.served_by_channel), np.asarray(flow.served_by_category), matrix


def service_sankey(
    source: pd.DataFrame | CommunityModel, lang: str = "en", step: int | None = None
) -> go.Figure:
    """Service flows from the four channels to the five need categories, as a Sankey diagram.

    Args:
        source: a metrics table (its ``served_<channel>`` and ``served_<category>`` columns,
            averaged over replicates and over all weeks or ``step``) or a
            :class:`~sim.core.model.CommunityModel` (this week's flows).

    The model records how much each channel delivered and how much each category received.
    When the channel × category split itself is not recorded (a ``served_matrix`` on the
    model's flows), each channel's delivery is spread over categories in proportion to what
    they received; node totals are exact, the split of each link is that estimate.
    """
    check_lang(lang)
    by_channel, by_category, matrix = _served(source, step)
    estimated = matrix is None
    if matrix is None:
        total = by_category.sum()
        share = by_category / total if total > 0 else np.zeros_like(by_category)
        matrix = np.outer(by_channel, share)
    matrix = np.asarray(matrix, dtype=float)
    i_ch, i_k = np.nonzero(matrix > 0)
    n_ch = len(CHANNELS)
    pick = 1 if lang == "zh" else 0
    labels = [CHANNEL_WORDS[ch][pick] for ch in CHANNELS] + [CATEGORY_WORDS[k][pick] for k in NEED_CATEGORIES]
    node_colours = [PALETTE[i] for i in range(n_ch)] + [GREY] * len(NEED_CATEGORIES)
    fig = go.Figure(
        go.Sankey(
            arrangement="fixed",
            valueformat=".4f",
            node={
                "label": labels,
                "color": node_colours,
                "pad": 18,
                "thickness": 18,
                "line": {"color": "white", "width": 0.5},
            },
            link={
                "source": i_ch.tolist(),
                "target": (n_ch + i_k).tolist(),
                "value": matrix[i_ch, i_k].tolist(),
                "color": [_rgba(PALETTE[i], 0.45) for i in i_ch],
                "hovertemplate": "%{source.label} → %{target.label}: %{value}"
                + (f" ({text('estimated_split', lang)})" if estimated else "")
                + "<extra></extra>",
            },
        )
    )
    _style(fig, text("sankey_title", lang), lang)
    return fig
