"""``sim-report`` on a ``sim-calibrate`` folder: each key's posterior against its prior, each
target against its posterior predictive, and the ABC diagnostics."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.core.metrics import label
from sim.present import plots
from sim.present.report import story
from sim.present.report.folder import (
    MIN_DRAWS,
    MIN_ESS,
    MIN_GENERATIONS,
    Figure,
    KindSource,
    _dot_intervals,
    _g,
    _interval,
    _names,
    _pct,
    _quantiles,
    _statistic_bounds,
    _t,
)


def _posterior(src: KindSource) -> pd.DataFrame:
    """Per key: prior, weighted median and central 90% interval, width against the prior's 90%."""
    from sim.experiment.calibrate import weighted_quantile

    post = src.tables["posterior"]
    priors = src.record.get("spec", {}).get("fingerprint", {}).get("priors")
    if not priors:
        priors = [[p["key"], p["prior_low"], p["prior_high"]] for p in src.record.get("posterior", [])]
    rows = []
    for key, lo, hi in priors:
        x, w = post[key].to_numpy(float), post["weight"].to_numpy(float)
        low, median, high = np.clip(weighted_quantile(x, w, np.array([0.05, 0.5, 0.95])), lo, hi)
        ratio = (high - low) / (0.9 * (hi - lo)) if hi > lo else math.nan
        rows.append(
            {
                "key": key,
                "prior_low": lo,
                "prior_high": hi,
                "median": median,
                "low": low,
                "high": high,
                "ratio": ratio,
            }
        )
    return pd.DataFrame(rows)


def _checks(src: KindSource) -> pd.DataFrame:
    """Per target and plausibility range: the posterior predictive's median and 90% interval."""
    pred = src.tables.get("predictive")
    rows: list[dict[str, Any]] = []
    if pred is None:
        return pd.DataFrame(rows)
    for kind, entries in (
        ("target", src.record.get("targets", [])),
        ("range", src.record.get("plausibility", [])),
    ):
        for e in entries:
            column = f"{e['name']}@observed" if f"{e['name']}@observed" in pred.columns else e["name"]
            if column not in pred.columns:
                continue
            values = pred[column].to_numpy(float)
            low, median, high = _quantiles(values, _statistic_bounds(e["metric"], e["statistic"]))
            row = {
                "kind": kind,
                "name": e["name"],
                "metric": e["metric"],
                "statistic": e["statistic"],
                "median": median,
                "low": low,
                "high": high,
            }
            if kind == "target":
                row.update(value=e["value"], sd=e["sd"], inside=bool(low <= e["value"] <= high))
            else:
                finite = values[np.isfinite(values)]
                inside = (finite >= e["low"]) & (finite <= e["high"])
                share = float(inside.mean()) if finite.size else math.nan
                row.update(range_low=e["low"], range_high=e["high"], share=share)
            rows.append(row)
    return pd.DataFrame(rows)


def _target_name(row: Any, lang: str) -> str:
    return label(row.metric, lang) if row.name == row.metric else str(row.name)


def takeaways(src: KindSource, lang: str) -> list[str]:
    diag = src.tables["diagnostics"]
    last = diag.iloc[-1]
    draws = len(src.tables.get("predictive", ()))
    counts = {
        "gens": len(diag),
        "particles": int(last["particles"]),
        "eps": _g(float(last["epsilon"])),
        "ess": f"{float(last['effective_sample_size']):.0f}",
        "draws": draws,
    }
    few = len(diag) < MIN_GENERATIONS or float(last["effective_sample_size"]) < MIN_ESS or draws < MIN_DRAWS
    out = []
    if few:
        rerun = {"pop": max(100, counts["particles"]), "gen": max(5, len(diag)), "drw": max(50, draws)}
        out.append(_t("abc_few", lang, **counts, **rerun))
    post = _posterior(src)
    if len(post) > 2:  # many keys: how many the data narrowed, then the narrowest in detail
        clear = post[post["ratio"] < 0.5]
        names = _names([plots.param_label(k, lang) for k in clear["key"]], lang) or _t("none", lang)
        out.append(_t("keys_rest", lang, n=len(post), clear=len(clear), names=names))
        post = post.sort_values("ratio").head(1)
    out += [_key_takeaway(r, lang) for r in post.itertuples()]
    out += _target_takeaways(src, lang)[: 5 - len(out) - (0 if few else 1)]
    if not few:
        acc = float(last["acceptance_rate"]) if "acceptance_rate" in diag.columns else math.nan
        sims = int(src.record.get("simulations", diag["simulations"].sum()))
        out.append(_t("abc", lang, **counts, sims=sims, acc=_pct(acc)))
    return out[:5]


def _key_takeaway(r: Any, lang: str) -> str:
    """One calibrated key: median and 90% interval against its prior, and how far the data narrowed it."""
    kind = "narrow" if r.ratio < 0.5 else "narrow_some" if r.ratio < 0.9 else "narrow_not"
    return _t(
        "key",
        lang,
        name=plots.param_label(r.key, lang),
        median=_g(r.median),
        low=_g(r.low),
        high=_g(r.high),
        lo=_g(r.prior_low),
        hi=_g(r.prior_high),
        narrowed=_t(kind, lang, pct=_pct(r.ratio)),
    )


def _target_takeaways(src: KindSource, lang: str) -> list[str]:
    checks = _checks(src)
    if checks.empty:
        return []
    n = int(src.record.get("model", {}).get("replicates", 1) or 1)
    unit = _t("one_community", lang) if n == 1 else _t("communities", lang, n=n)
    targets = checks[checks["kind"] == "target"]
    out = []
    if len(targets) > 2:  # many targets: how many are reproduced, then the first missed in detail
        missed = targets[~targets["inside"].astype(bool)]
        names = _names([_target_name(r, lang) for r in missed.itertuples()], lang) or _t("none", lang)
        out.append(_t("targets_rest", lang, inside=len(targets) - len(missed), n=len(targets), names=names))
        targets = (missed if len(missed) else targets).head(1)
    for r in targets.itertuples():
        verdict = _t("inside" if r.inside else "outside", lang)
        numbers = {"median": _g(r.median), "low": _g(r.low), "high": _g(r.high), "sd": _g(r.sd)}
        out.append(
            _t(
                "target",
                lang,
                name=_target_name(r, lang),
                value=_g(r.value),
                unit=unit,
                verdict=verdict,
                **numbers,
            )
        )
    for r in checks[checks["kind"] == "range"].head(1).itertuples():
        out.append(
            _t(
                "range",
                lang,
                share=_pct(r.share),
                name=_target_name(r, lang),
                lo=_g(r.range_low),
                hi=_g(r.range_high),
            )
        )
    return out


def figures(src: KindSource, lang: str) -> list[Figure]:
    post = _posterior(src)
    span = (post["prior_high"] - post["prior_low"]).where(lambda s: s > 0, 1.0)
    unit = post.assign(**{c: (post[c] - post["prior_low"]) / span for c in ("median", "low", "high")})
    out: list[Figure] = []
    for i in range(0, len(unit), story.MAX_SERIES):
        part = unit.iloc[i : i + story.MAX_SERIES]
        keys = [plots.param_label(k, lang) for k in part["key"]]
        fig = go.Figure(
            [
                _dot_intervals([(k, 0.5, 0.0, 1.0) for k in keys], _t("prior", lang), plots.GREY, opacity=0),
                _dot_intervals(
                    [(k, r.median, r.low, r.high) for k, r in zip(keys, part.itertuples(), strict=True)],
                    _t("interval90", lang),
                    plots.PALETTE[0],
                ),
            ]
        )
        plots._style(fig, _t("t_posterior", lang), lang, height=140 + 40 * len(keys))
        fig.update_xaxes(range=[-0.05, 1.05])
        out.append((f"posterior_{i // story.MAX_SERIES + 1}", fig, _t("cap_posterior", lang)))
    weights = src.tables["posterior"]["weight"]
    for r in post.head(4).itertuples():
        edges = np.linspace(r.prior_low, r.prior_high, 26)
        density, _ = np.histogram(src.tables["posterior"][r.key], bins=edges, weights=weights, density=True)
        fig = go.Figure(
            go.Bar(
                x=(edges[:-1] + edges[1:]) / 2,
                y=density,
                marker_color=plots.PALETTE[0],
                name=_t("median", lang),
                showlegend=False,
            )
        )
        fig.add_vline(x=r.median, line={"color": plots.PALETTE[3], "dash": "dash"})
        for x in (r.low, r.high):
            fig.add_vline(x=x, line={"color": plots.PALETTE[3], "dash": "dot"})
        plots._style(fig, plots.param_label(r.key, lang), lang, bargap=0.02)
        fig.update_xaxes(range=[r.prior_low, r.prior_high])
        out.append((f"marginal_{r.Index + 1}", fig, _t("cap_marginal", lang)))
    checks = _checks(src)
    for i in range(0, len(checks), story.MAX_SERIES):
        part = checks.iloc[i : i + story.MAX_SERIES]
        names = [_target_name(r, lang) for r in part.itertuples()]
        observed = []
        for n, r in zip(names, part.itertuples(), strict=True):
            lo, hi = _statistic_bounds(r.metric, r.statistic)
            if r.kind == "target":
                observed.append((n, r.value, max(lo, r.value - 2 * r.sd), min(hi, r.value + 2 * r.sd)))
            else:
                observed.append((n, (r.range_low + r.range_high) / 2, r.range_low, r.range_high))
        fig = go.Figure(
            [
                _dot_intervals(observed, _t("target_sd", lang), plots.PALETTE[3], symbol="diamond-open"),
                _dot_intervals(
                    [(n, r.median, r.low, r.high) for n, r in zip(names, part.itertuples(), strict=True)],
                    _t("predictive", lang),
                    plots.PALETTE[0],
                ),
            ]
        )
        plots._style(fig, _t("t_checks", lang), lang, height=160 + 50 * len(names))
        out.append((f"predictive_{i // story.MAX_SERIES + 1}", fig, _t("cap_predictive", lang)))
    diag = src.tables["diagnostics"]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("epsilon", _t("ess", lang)))
    for col, (column, name) in enumerate(
        (("epsilon", "epsilon"), ("effective_sample_size", _t("ess", lang))), 1
    ):
        line = {"color": plots.PALETTE[col - 1]}
        trace = go.Scatter(x=diag["generation"], y=diag[column], name=name, mode="lines+markers", line=line)
        fig.add_trace(trace, row=1, col=col)
    plots._style(fig, "ABC-SMC", lang, showlegend=False)
    fig.update_xaxes(title_text=_t("generation", lang), dtick=1)
    return [*out, ("diagnostics", fig, _t("cap_diagnostics", lang))]


def facts(src: KindSource, lang: str) -> list[tuple[str, str]]:
    """(label, plain text) rows of "What was run" for this kind."""
    rec = src.record
    rows: list[tuple[str, str]] = []
    model = rec.get("model", {})
    post = _posterior(src)
    diag = src.tables["diagnostics"]
    rows += [
        (_t("f_targets", lang), str(rec.get("targets_file", "–"))),
        (_t("f_keys", lang), _names([plots.param_label(k, lang) for k in post["key"]], lang, 8)),
        (
            _t("f_model", lang),
            _t(
                "f_model_value",
                lang,
                preset=model.get("preset", "?"),
                weeks=model.get("steps", "?"),
                n=model.get("replicates", "?"),
            ),
        ),
        (
            _t("f_abc", lang),
            f"{len(diag)} × {int(diag['particles'].iloc[-1])} "
            f"({int(rec.get('simulations', diag['simulations'].sum()))})",
        ),
    ]
    return rows


def tables(src: KindSource, lang: str) -> list[tuple[str, pd.DataFrame]]:
    """(title, table) of this kind's numbers."""
    out: list[tuple[str, pd.DataFrame]] = []
    post = _posterior(src)
    out.append(
        (
            _t("t_posterior", lang),
            pd.DataFrame(
                {
                    _t("c_key", lang): [plots.param_label(k, lang) for k in post["key"]],
                    _t("c_prior", lang): [
                        f"[{_g(a)}, {_g(b)}]"
                        for a, b in zip(post["prior_low"], post["prior_high"], strict=True)
                    ],
                    _t("c_post", lang): [_interval(r.median, r.low, r.high) for r in post.itertuples()],
                    _t("c_ratio", lang): [_pct(v) for v in post["ratio"]],
                }
            ),
        )
    )
    checks = _checks(src)
    if not checks.empty:
        out.append(
            (
                _t("t_checks", lang),
                pd.DataFrame(
                    {
                        _t("c_check", lang): [_target_name(r, lang) for r in checks.itertuples()],
                        _t("c_stat", lang): list(checks["statistic"]),
                        _t("c_observed", lang): [
                            f"{_g(r.value)} ({_g(r.sd)})"
                            if r.kind == "target"
                            else f"[{_g(r.range_low)}, {_g(r.range_high)}]"
                            for r in checks.itertuples()
                        ],
                        _t("c_pred", lang): [_interval(r.median, r.low, r.high) for r in checks.itertuples()],
                        _t("c_verdict", lang): [
                            _t("inside" if r.inside else "outside", lang)
                            if r.kind == "target"
                            else _pct(r.share)
                            for r in checks.itertuples()
                        ],
                    }
                ),
            )
        )
    return out
