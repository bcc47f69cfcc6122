"""``sim-report`` on a ``sim-validate`` folder: the verdict of each pattern and of its knock-out,
with the seeds each rests on."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from sim.present import plots
from sim.present.report import story
from sim.present.report.folder import (
    MIN_SEEDS,
    Figure,
    KindSource,
    _dot_intervals,
    _drop_empty,
    _g,
    _interval,
    _names,
    _t,
)


def _pattern_bounds(name: str) -> tuple[float, float]:
    from sim.experiment.validate import BY_NAME

    pattern = BY_NAME.get(name)
    return tuple(pattern.bounds) if pattern is not None else (-math.inf, math.inf)


def _validation_rows(src: KindSource) -> pd.DataFrame:
    """validation.parquet with every interval kept inside its pattern's range."""
    table = src.tables["validation"].copy()
    for prefix in ("", "knockout_"):
        for col in ("mean", "low", "high"):
            c = f"{prefix}{col}"
            if c in table.columns:
                table[c] = [
                    float(np.clip(v, *_pattern_bounds(p)))
                    for p, v in zip(table["pattern"], table[c], strict=True)
                ]
    return table


def takeaways(src: KindSource, lang: str) -> list[str]:
    table = _validation_rows(src)
    n = len(table)
    counts = table["verdict"].value_counts()
    failing = list(table.loc[table["verdict"] == "fails", "title"])
    out = [
        _t(
            "val_count",
            lang,
            n=n,
            holds=int(counts.get("holds", 0)),
            fails=int(counts.get("fails", 0)),
            unclear=int(counts.get("inconclusive", 0)),
            failing=_t("val_failing", lang, names=_names(failing, lang)) if failing else "",
        )
    ]
    kept = list(table.loc[table["knockout_verdict"] != "fails", "title"])
    if kept:
        out.append(_t("val_ko", lang, k=n - len(kept), n=n, names=_names(kept, lang)))
    else:
        out.append(_t("val_ko_all", lang, n=n))
    unclear = list(table.loc[table["verdict"] == "inconclusive", "title"])
    if unclear:
        out.append(_t("val_unclear", lang, names=_names(unclear, lang)))
    holds = table[table["verdict"] == "holds"]
    if not holds.empty:
        clear = (holds["low"] - holds["margin"]) / (holds["high"] - holds["low"]).clip(lower=1e-12)
        r = holds.loc[clear.idxmax()]
        out.append(
            _t(
                "val_clearest",
                lang,
                title=r["title"],
                mean=_g(r["mean"]),
                low=_g(r["low"]),
                high=_g(r["high"]),
                margin=_g(r["margin"]),
            )
        )
    seeds = int(table["seeds"].min())
    few = _t("val_few", lang, n=MIN_SEEDS) if seeds < MIN_SEEDS else ""
    seed = table["seed"].iloc[0] if "seed" in table.columns else "?"
    out = [*out[:4], _t("val_seeds", lang, seeds=seeds, seed=seed, few=few)]
    return out


_VERDICT_COLOURS = {"holds": plots.PALETTE[2], "fails": plots.PALETTE[3], "inconclusive": plots.PALETTE[1]}


def figures(src: KindSource, lang: str) -> list[Figure]:
    t = _validation_rows(src)
    out: list[Figure] = []
    per = story.MAX_SERIES
    for i in range(0, len(t), per):
        part = t.iloc[i : i + per]
        traces = []
        for verdict, colour in _VERDICT_COLOURS.items():
            rows = part[part["verdict"] == verdict]
            traces.append(
                _dot_intervals(
                    [(r.title, r.mean, r.low, r.high) for r in rows.itertuples()],
                    f"{_t('experiment', lang)}: {_t(verdict, lang)}",
                    colour,
                )
            )
        traces.append(
            _dot_intervals(
                [(r.title, r.knockout_mean, r.knockout_low, r.knockout_high) for r in part.itertuples()],
                _t("knockout", lang),
                plots.GREY,
                symbol="circle-open",
            )
        )
        traces.append(
            go.Scatter(
                x=part["margin"],
                y=part["title"],
                mode="markers",
                name=_t("delta", lang),
                marker={"symbol": "line-ns-open", "size": 18, "color": plots.PALETTE[6]},
            )
        )
        fig = go.Figure([tr for tr in traces if len(tr.x)])
        plots._style(fig, _t("t_patterns", lang), lang, height=160 + 60 * len(part))
        fig.update_xaxes(title_text=_t("effect_axis", lang))
        fig.update_yaxes(automargin=True)
        out.append((f"effects_{i // per + 1}", fig, _t("cap_effects", lang)))
    fig = go.Figure()
    columns = [_t("experiment", lang), _t("knockout", lang)]
    for verdict, colour in _VERDICT_COLOURS.items():
        counts = [int((t["verdict"] == verdict).sum()), int((t["knockout_verdict"] == verdict).sum())]
        fig.add_trace(go.Bar(x=columns, y=counts, name=_t(verdict, lang), marker_color=colour))
    plots._style(fig, _t("cap_verdicts", lang), lang, barmode="stack")
    return [*out, ("verdicts", fig, _t("cap_verdicts", lang))]


def facts(src: KindSource, lang: str) -> list[tuple[str, str]]:
    """(label, plain text) rows of "What was run" for this kind."""
    rows: list[tuple[str, str]] = []
    table = src.tables["validation"]
    rows += [
        (_t("f_patterns", lang), str(len(table))),
        (_t("f_seeds", lang), f"{int(table['seeds'].min())} ({table['seed'].iloc[0]})"),
    ]
    return rows


def tables(src: KindSource, lang: str) -> list[tuple[str, pd.DataFrame]]:
    """(title, table) of this kind's numbers."""
    out: list[tuple[str, pd.DataFrame]] = []
    t = _validation_rows(src)
    out.append(
        (
            _t("t_patterns", lang),
            _drop_empty(
                pd.DataFrame(
                    {
                        _t("c_pattern", lang): t["title"],
                        _t("c_effect_def", lang): t.get("effect", ""),
                        _t("c_effect", lang): [_interval(r.mean, r.low, r.high) for r in t.itertuples()],
                        _t("c_margin", lang): [_g(v) for v in t["margin"]],
                        _t("c_verdict", lang): [_t(v, lang) for v in t["verdict"]],
                        _t("c_ko_effect", lang): [
                            _interval(r.knockout_mean, r.knockout_low, r.knockout_high)
                            for r in t.itertuples()
                        ],
                        _t("c_ko", lang): [_t(v, lang) for v in t["knockout_verdict"]],
                        _t("c_seeds", lang): t["seeds"],
                        _t("c_notes", lang): t.get("notes", ""),
                    }
                )
            ),
        )
    )
    return out
