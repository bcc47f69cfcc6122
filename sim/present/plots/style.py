"""The look every figure shares: the colour-blind-safe palette, fonts, the plot template, and
the labels of metrics, parameters and words in English and Chinese."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from sim.core.levers import LEVERS
from sim.core.metrics import BUILDING_METRICS, METRICS, label
from sim.vocab import check_lang, strings

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

#: a figure string (axis, title, legend) in English or Chinese: ``text(key, lang, **fields)``
text = strings("figures")

_EXTRA_LABELS = strings("figure_labels")

_INDEX_TEXT = strings("sensitivity_indices")

#: the measures of the buildings table: what the recorder keeps per building, and the open
#: conflicts of the building's compound
BUILDING_COLUMNS = (*BUILDING_METRICS, "conflicts_open")


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


def mean_line(
    x: Any, mean: Any, colour: str, name: str, group: str, mode: str = "lines", **extra: Any
) -> go.Scatter:
    """The line of a mean over replicates, in ``colour``, in the legend group ``group`` that its
    :func:`interval_band` shares."""
    return go.Scatter(
        x=x, y=mean, mode=mode, line={"color": colour, "width": 2}, name=name, legendgroup=group, **extra
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
