"""Figures and tables of a global sensitivity analysis (Sobol indices, Morris screening)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from sim.vocab import check_lang

if TYPE_CHECKING:
    pass

from sim.present.plots.style import (
    _INDEX_TEXT,
    PALETTE,
    _metric_label,
    _style,
    param_label,
    text,
)


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
