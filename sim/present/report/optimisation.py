"""``sim-report`` on a ``sim-optimise`` folder: the robust front, its best worst case (or least
regret), its cheapest portfolio, and the uncertainty draws."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from sim.present import plots
from sim.present.report import story
from sim.present.report.folder import (
    ALGORITHMS,
    MIN_UNCERTAINTY_DRAWS,
    Figure,
    KindSource,
    _drop_empty,
    _g,
    _levers,
    _names,
    _pct,
    _scenario_title,
    _t,
)


def _objectives(src: KindSource) -> list[tuple[str, str, float]]:
    """(outcome name, metric, sign) of the frame's objectives other than cost."""
    outcomes = src.record.get("cache", {}).get("frame", {}).get("outcomes", {})
    return [
        (name, o["metric"], 1.0 if o.get("direction", "max") == "max" else -1.0)
        for name, o in outcomes.items()
        if o.get("objective", True) and o["metric"] != "cost"
    ]


def _decision_keys(src: KindSource) -> list[str]:
    keys = list(src.record.get("cache", {}).get("frame", {}).get("levers", {}))
    return [k for k in keys if k in src.tables["pareto"].columns]


def _per_policy(src: KindSource, metric: str, sign: float) -> pd.DataFrame:
    """Per front policy: the metric's mean, worst (oriented by ``sign``), min and max over the draws."""
    ev = src.tables["evaluations"]
    ev = ev[ev["policy"].isin(src.tables["pareto"]["policy"])]
    g = ev.groupby("policy")[metric]
    out = pd.DataFrame({"mean": g.mean(), "lo": g.min(), "hi": g.max(), "draws": g.size()})
    out["worst"] = out["lo"] if sign > 0 else out["hi"]
    return out


def takeaways(src: KindSource, lang: str) -> list[str]:
    front, search = src.tables["pareto"], src.record.get("search", {})
    keys = _decision_keys(src)
    rob = search.get("robustness", str(front["robustness"].iloc[0]))
    budget = float(search.get("budget", front["budget"].iloc[0]))
    evaluated = src.tables["evaluations"]["policy_key"].nunique()
    out = [
        _t(
            "opt_front",
            lang,
            k=len(front),
            budget=_g(budget),
            evaluated=evaluated,
            rob=_t(f"rob_{rob}", lang, p=float(search.get("percentile", 10))),
            algorithm=ALGORITHMS.get(str(search.get("algorithm")), str(search.get("algorithm", "?"))),
            pop=search.get("population", "?"),
            gens=search.get("generations", "?"),
        )
    ]
    objectives = _objectives(src)
    if objectives:
        name, metric, sign = objectives[0]
        stats = _per_policy(src, metric, sign)
        mlabel = plots.param_label(metric, lang)
        if rob == "regret":
            best = front.loc[front[f"{name}_robust"].idxmin()]
        else:
            best = front.loc[(sign * stats.loc[front["policy"], "worst"].to_numpy()).argmax()]
        s = stats.loc[best["policy"]]
        fields = {
            "metric": mlabel,
            "policy": story.arm_title(best["policy"], lang),
            "levers": _levers(best, keys, lang),
            "cost": _g(float(best["weekly_cost"])),
            "draws": int(s["draws"]),
            "mean": story._num(s["mean"], metric),
            "worst": story._num(s["worst"], metric),
            "lo": story._num(s["lo"], metric),
            "hi": story._num(s["hi"], metric),
        }
        if rob == "regret":
            out.append(_t("opt_regret", lang, regret=_g(float(best[f"{name}_robust"])), **fields))
        else:
            out.append(_t("opt_best", lang, **fields))
        cheap = front.loc[front["weekly_cost"].idxmin()]
        c = stats.loc[cheap["policy"]]
        out.append(
            _t(
                "opt_cheap",
                lang,
                policy=story.arm_title(cheap["policy"], lang),
                levers=_levers(cheap, keys, lang),
                cost=_g(float(cheap["weekly_cost"])),
                share=_pct(float(cheap["weekly_cost"]) / budget),
                metric=mlabel,
                mean=story._num(c["mean"], metric),
                worst=story._num(c["worst"], metric),
                same=_t("opt_same_regret" if rob == "regret" else "opt_same", lang)
                if cheap["policy"] == best["policy"]
                else "",
            )
        )
    arms = src.tables.get("arms")
    if arms is not None and not arms.empty:
        free = [story.arm_title(a, lang) for a in arms.loc[~arms["dominated"].astype(bool), "policy"]]
        out.append(
            _t(
                "opt_arms",
                lang,
                k=int(arms["dominated"].sum()),
                n=len(arms),
                names=_names(free, lang, 5) or _t("none", lang),
            )
        )
    draws = int(src.record.get("cache", {}).get("draws", src.tables["evaluations"]["draw"].nunique()))
    few = _t("opt_few", lang, draws=draws, n=MIN_UNCERTAINTY_DRAWS) if draws < MIN_UNCERTAINTY_DRAWS else ""
    types = [_scenario_title(str(o), lang) for o in _drawn_types(src)]
    out = [*out[:4], _t("opt_draws", lang, draws=draws, groups=_names(types, lang, 4) or "–", few=few)]
    return out


def _drawn_types(src: KindSource) -> list[Any]:
    """The community types (options of the frame's first group) the draws took, in order."""
    groups = src.record.get("cache", {}).get("frame", {}).get("groups", {})
    draws = src.tables.get("draws")
    group = next(iter(groups), None)
    if draws is not None and group in draws.columns:
        return list(dict.fromkeys(draws[group]))
    return [o for options in groups.values() for o in options]


def tables(src: KindSource, lang: str) -> list[tuple[str, pd.DataFrame]]:
    keys = _decision_keys(src)
    rob = str(src.record.get("search", {}).get("robustness", "mean"))
    rob_text = _t(f"rob_{rob}", lang, p=float(src.record.get("search", {}).get("percentile", 10)))
    outcomes = src.record.get("cache", {}).get("frame", {}).get("outcomes", {})
    names = [n for n, o in outcomes.items() if o.get("objective", True) and o["metric"] != "cost"]
    out = []
    for title, table, first in (
        ("t_front", src.tables["pareto"], "c_policy"),
        ("t_arms", src.tables.get("arms"), "c_arm"),
    ):
        if table is None or table.empty:
            continue
        shown = pd.DataFrame({_t(first, lang): [story.arm_title(p, lang) for p in table["policy"]]})
        shown[_t("c_cost", lang)] = [_g(v) for v in table["weekly_cost"]]
        for key in keys:
            shown[plots.param_label(key, lang)] = [
                _pct(v) if key.endswith(".intensity") else _g(v) for v in table[key]
            ]
        for n in names:
            metric = outcomes[n]["metric"]
            shown[_t("c_robust", lang, metric=plots.param_label(metric, lang), rob=rob_text)] = [
                story._num(float(v), metric) for v in table[f"{n}_robust"]
            ]
        if "dominated_by" in table.columns:
            shown[_t("c_dominated", lang)] = [
                _t("none", lang) if v == "none" else v for v in table["dominated_by"]
            ]
            shown[_t("c_on_front", lang)] = [_t("yes" if v else "no", lang) for v in table["on_front"]]
        out.append((_t(title, lang), _drop_empty(shown)))
    return out


def _shown_policies(front: pd.DataFrame) -> pd.DataFrame:
    """At most eight portfolios of the front, spread from the cheapest to the dearest."""
    front = front.sort_values("weekly_cost", kind="stable").reset_index(drop=True)
    if len(front) <= story.MAX_SERIES:
        return front
    picks = np.unique(np.linspace(0, len(front) - 1, story.MAX_SERIES).round().astype(int))
    return front.iloc[picks].reset_index(drop=True)


def figures(src: KindSource, lang: str) -> list[Figure]:
    front, arms = src.tables["pareto"], src.tables.get("arms")
    out: list[Figure] = []
    for name, metric, _ in _objectives(src)[:3]:
        f = front.sort_values("weekly_cost")
        fig = go.Figure(
            go.Scatter(
                x=f["weekly_cost"],
                y=f[f"{name}_robust"],
                mode="lines+markers",
                name=_t("front", lang),
                text=list(f["policy"]),
                marker={"color": plots.PALETTE[0], "size": 9},
            )
        )
        if arms is not None and not arms.empty:
            titles = [story.arm_title(a, lang) for a in arms["policy"]]
            fig.add_trace(
                go.Scatter(
                    x=arms["weekly_cost"],
                    y=arms[f"{name}_robust"],
                    mode="markers+text",
                    name=_t("arms", lang),
                    text=titles,
                    textposition="top center",
                    marker={"color": plots.PALETTE[1], "symbol": "x", "size": 10},
                )
            )
        plots._style(fig, plots.param_label(metric, lang), lang)
        fig.update_xaxes(title_text=_t("c_cost", lang))
        out.append((f"front_{name}", fig, _t("cap_front", lang)))
    shown, keys = _shown_policies(front), _decision_keys(src)
    fig = go.Figure()
    for i, key in enumerate(k for k in keys if k.endswith(".intensity")):
        fig.add_trace(
            go.Bar(
                x=list(shown["policy"]),
                y=shown[key],
                name=plots.param_label(key, lang),
                marker_color=plots.PALETTE[i % len(plots.PALETTE)],
            )
        )
    plots._style(fig, _t("t_front", lang), lang, barmode="group")
    fig.update_yaxes(title_text=_t("intensity", lang), range=[0, 1])
    out.append(("portfolios", fig, _t("cap_portfolios", lang)))
    objectives = _objectives(src)
    draws = src.tables.get("draws")
    if objectives:
        metric = objectives[0][1]
        ev = src.tables["evaluations"]
        ev = ev[ev["policy"].isin(shown["policy"])]
        group = next((g for g in src.record.get("cache", {}).get("frame", {}).get("groups", {})), None)
        if draws is not None and group in draws.columns:
            ev = ev.merge(draws[["draw", group]], on="draw")
            x = [_scenario_title(v, lang) for v in ev[group]]
        else:
            x = ["–"] * len(ev)
        ev = ev.assign(_x=x)
        fig = go.Figure()
        for i, policy in enumerate(shown["policy"]):
            rows = ev[ev["policy"] == policy]
            fig.add_trace(
                go.Box(
                    x=rows["_x"],
                    y=rows[metric],
                    name=str(policy),
                    boxpoints="all",
                    marker_color=plots.PALETTE[i % len(plots.PALETTE)],
                )
            )
        mlabel = plots.param_label(metric, lang)
        plots._style(fig, mlabel, lang, boxmode="group")
        fig.update_yaxes(title_text=mlabel)
        fig.update_xaxes(title_text=_t("type", lang))
        out.append(("draws", fig, _t("cap_draws", lang, metric=mlabel)))
    return out


def facts(src: KindSource, lang: str) -> list[tuple[str, str]]:
    """(label, plain text) rows of "What was run" for this kind."""
    rec = src.record
    rows: list[tuple[str, str]] = []
    cache, search = rec.get("cache", {}), rec.get("search", {})
    rob = str(search.get("robustness", "mean"))
    rows += [
        (_t("f_frame", lang), str(cache.get("frame", {}).get("name", "?"))),
        (_t("f_budget", lang), _g(float(search.get("budget", math.nan)))),
        (
            _t("f_search", lang),
            _t(
                "f_search_value",
                lang,
                algorithm=ALGORITHMS.get(str(search.get("algorithm")), "?"),
                pop=search.get("population", "?"),
                gens=search.get("generations", "?"),
                seed=search.get("seed", "?"),
                rob=_t(f"rob_{rob}", lang, p=float(search.get("percentile", 10))),
            ),
        ),
        (_t("f_draws", lang), str(cache.get("draws", "?"))),
        (_t("f_overrides", lang), " ".join(cache.get("overrides", [])) or _t("none", lang)),
    ]
    return rows
