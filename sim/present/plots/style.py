"""The look every figure shares: the colour-blind-safe palette, fonts, the plot template, and
the labels of metrics, parameters and words in English and Chinese."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from sim.core.levers import LEVERS
from sim.core.metrics import BUILDING_METRICS, METRICS, label
from sim.vocab import check_lang, translate

if TYPE_CHECKING:
    pass


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

#: the measures of the buildings table: what the recorder keeps per building, and the open
#: conflicts of the building's compound
BUILDING_COLUMNS = (*BUILDING_METRICS, "conflicts_open")


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


def interval_band(
    x: np.ndarray, low: np.ndarray, high: np.ndarray, colour: str, name: str, lang: str
) -> go.Scatter:
    """The shaded band of an interval around a line of ``colour`` (no markers, no legend entry
    of its own: it belongs to the line's legend group ``name``)."""
    return go.Scatter(
        x=np.concatenate([x, x[::-1]]),
        y=np.concatenate([high, low[::-1]]),
        fill="toself",
        mode="lines",  # no markers on the band outline
        fillcolor=_rgba(colour, 0.2),
        line={"width": 0},
        hoverinfo="skip",
        showlegend=False,
        legendgroup=name,
        name=f"{name} ({text('interval', lang)})",
    )


def interval_hover(lang: str, digits: int) -> str:
    """The end of a hover text that gives a mean's interval and n, read from ``customdata``
    (low, high, n in that order), with ``digits`` decimals."""
    return (
        f"<br>{text('interval', lang)} [%{{customdata[0]:.{digits}f}}, %{{customdata[1]:.{digits}f}}]"
        "<br>n = %{customdata[2]}<extra></extra>"
    )


def interval_hover_data(table: pd.DataFrame, head: str, lang: str, digits: int) -> dict[str, Any]:
    """Plotly's ``customdata`` and ``hovertemplate`` for the means of ``table`` (columns
    ``low``, ``high``, ``n``): ``head``, then the interval and n (:func:`interval_hover`)."""
    return {
        "customdata": np.column_stack([table["low"], table["high"], table["n"]]),
        "hovertemplate": head + interval_hover(lang, digits),
    }


def _require(df: pd.DataFrame, columns: Iterable[str | None], what: str = "table") -> None:
    missing = [c for c in columns if c is not None and c not in df.columns]
    if missing:
        shown = ", ".join(sorted(map(str, df.columns))[:12])
        raise ValueError(
            f"column {missing[0]!r} is not in the {what}; allowed: one of its columns ({shown}, …)"
        )
