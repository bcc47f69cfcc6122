"""What a report says first: takeaways in plain words, computed from the data, and the arms.

:func:`takeaways` reads a result (:class:`sim.present.report.Source`) and returns three to five
sentences with their numbers and intervals, in English or Chinese: which arm does most, how
many arms differ clearly from the reference, what one lever adds to the other five; for a run,
where the headline metrics end; for a sweep, the best point and how the metric moves along
each input. A design sweep speaks from the tables ``sim-analyse`` wrote into SWEEP/analysis/:
a Sobol or Morris design names its most influential inputs with their indices and intervals
(and warns when N is too small), a factorial grid says where each headline metric changes most
steeply, with the paired interval of that step; without those tables it says to run
``sim-analyse`` first. Each sentence says what its interval is for.

:func:`arm_title` names an arm (a scenario or a design arm such as ``without_linking``) in
either language; :func:`arm_table` lists the arms with their lever settings;
:func:`effect_dots` draws the arms' paired differences as dots with intervals, sorted by effect;
:func:`chunks` splits many arms into groups of at most eight lines per chart.

Intervals come from :func:`sim.present.plots.paired_differences` and
:func:`sim.present.plots.mean_interval`; nothing here computes an interval of its own.

Why one module of this length: the takeaways of each kind of result share its wording of
numbers and intervals (the sentences themselves, in English and Chinese, are the
``report_story`` section of ``sim/strings.yaml``, read as ``_t``), so that each sentence is
written once, for both languages, and reads alike across kinds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from sim.core.levers import LEVER_TITLES, LEVERS
from sim.core.metrics import label
from sim.present import plots
from sim.vocab import strings

__all__ = ["MAX_SERIES", "arm_table", "arm_title", "chunks", "effect_dots", "is_ablation", "takeaways"]

MAX_SERIES = 8  # lines per chart: beyond this colours repeat and lines hide each other

_ARM_WORDS = strings("portfolio_arms")

_t = strings("report_story")


def _lever(name: str, lang: str) -> str:
    en, zh = LEVER_TITLES[name]
    return zh if lang == "zh" else en


def arm_title(name: str, lang: str = "en", df: pd.DataFrame | None = None, by: str | None = None) -> str:
    """An arm's name for people: the scenario's own title, or a design arm's name translated.

    ``only_linking`` → "Linking alone" / "仅链入"; ``without_linking`` → "All six without
    Linking" / "六入缺链入"; scenario names take ``scenario.title_en|zh`` from ``df``.
    """
    name = str(name)
    if df is not None and by == "scenario.name":
        col = f"scenario.title_{lang}"
        if col in df.columns:
            titles = df.loc[df["scenario.name"] == name, col]
            if not titles.empty and str(titles.iloc[0]).strip():
                return str(titles.iloc[0])
    if name in _ARM_WORDS:
        en, zh = _ARM_WORDS[name]
        return zh if lang == "zh" else en
    for prefix, en, zh in (("only_", "{} alone", "仅{}"), ("without_", "All six without {}", "六入缺{}")):
        lever = name.removeprefix(prefix)
        if name.startswith(prefix) and lever in LEVER_TITLES:
            return (zh if lang == "zh" else en).format(_lever(lever, lang))
    for suffix in ("_only",):
        lever = name.removesuffix(suffix)
        if name.endswith(suffix) and lever in LEVER_TITLES:
            return ("仅{}" if lang == "zh" else "{} alone").format(_lever(lever, lang))
    return name


def is_ablation(names: Sequence[str]) -> bool:
    """Whether the arms are a lever ablation: all six, and all six without some lever."""
    names = set(map(str, names))
    return "all_six" in names and any(f"without_{lever}" in names for lever in LEVERS)


def _num(value: float, metric: str, signed: bool = False) -> str:
    if not math.isfinite(value):
        return "–"
    if metric == "conflicts_open":
        return f"{value:+.1f}" if signed else f"{value:.1f}"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def _reference(names: Sequence[str]) -> str:
    names = list(map(str, names))
    return "baseline" if "baseline" in names else names[0]


def _differences(df: pd.DataFrame, by: str, metrics: Sequence[str], reference: str) -> pd.DataFrame:
    return plots.paired_differences(df, list(metrics), baseline=reference, by=by)


def _arm_takeaways(df: pd.DataFrame, by: str, lang: str) -> list[str]:
    names = list(map(str, pd.unique(df[by])))
    reference = _reference(names)
    ref_title = arm_title(reference, lang, df, by)
    metrics = [m for m in ("satisfaction", "participation") if m in df.columns]
    diffs = _differences(df, by, metrics, reference)
    out = []
    for metric in metrics[:1]:
        d = diffs[diffs["metric"] == metric].dropna(subset=["mean"])
        if d.empty:
            continue
        best = d.loc[d["mean"].idxmax()]
        verb = _t("raises" if best["mean"] >= 0 else "lowers", lang)
        out.append(
            _t(
                "best",
                lang,
                arm=arm_title(best[by], lang, df, by),
                verb=verb,
                metric=label(metric, lang),
                effect=_num(abs(best["mean"]), metric),
                low=_num(best["low"], metric, True),
                high=_num(best["high"], metric, True),
                reference=ref_title,
            )
        )
        above, below = int((d["low"] > 0).sum()), int((d["high"] < 0).sum())
        out.append(
            _t(
                "count",
                lang,
                above=above,
                below=below,
                unclear=len(d) - above - below,
                n=len(d),
                metric=label(metric, lang),
                reference=ref_title,
            )
        )
        worst = d.loc[d["mean"].idxmin()]
        if worst["high"] < 0:
            out.append(
                _t(
                    "worst",
                    lang,
                    arm=arm_title(worst[by], lang, df, by),
                    verb=_t("lowers", lang),
                    metric=label(metric, lang),
                    effect=_num(abs(worst["mean"]), metric),
                    low=_num(worst["low"], metric, True),
                    high=_num(worst["high"], metric, True),
                    reference=ref_title,
                )
            )
    if is_ablation(names) and "satisfaction" in df.columns:
        out += _ablation_takeaways(df, by, names, lang)
    if len(metrics) > 1:
        d = diffs[diffs["metric"] == metrics[1]].dropna(subset=["mean"])
        if not d.empty:
            best = d.loc[d["mean"].idxmax()]
            out.append(
                _t(
                    "best",
                    lang,
                    arm=arm_title(best[by], lang, df, by),
                    verb=_t("raises" if best["mean"] >= 0 else "lowers", lang),
                    metric=label(metrics[1], lang),
                    effect=_num(abs(best["mean"]), metrics[1]),
                    low=_num(best["low"], metrics[1], True),
                    high=_num(best["high"], metrics[1], True),
                    reference=ref_title,
                )
            )
    return out


def _ablation_takeaways(df: pd.DataFrame, by: str, names: list[str], lang: str) -> list[str]:
    """What each lever adds to the other five: all six minus all six without it (paired)."""
    metric = "satisfaction"
    without = [f"without_{lever}" for lever in LEVERS if f"without_{lever}" in names]
    part = df[df[by].isin(["all_six", *without])]
    adds = _differences(part, by, [metric], "all_six")  # (without − all six): minus what it adds
    adds = adds.assign(lever=adds[by].str.removeprefix("without_"))
    adds["add"], adds["add_low"], adds["add_high"] = -adds["mean"], -adds["high"], -adds["low"]
    alone = {}
    if "baseline" in names:
        singles = [f"only_{lever}" for lever in LEVERS if f"only_{lever}" in names]
        if singles:
            d = _differences(df[df[by].isin(["baseline", *singles])], by, [metric], "baseline")
            alone = {str(r[by]).removeprefix("only_"): r["mean"] for _, r in d.iterrows()}
    if adds.empty:
        return []
    top = adds.loc[adds["add"].idxmax()]
    low = adds.loc[adds["add"].idxmin()]
    lever = str(top["lever"])
    out = [
        _t(
            "adds",
            lang,
            lever=_lever(lever, lang),
            effect=_num(top["add"], metric, True),
            low=_num(top["add_low"], metric, True),
            high=_num(top["add_high"], metric, True),
            metric=label(metric, lang),
            verb=_t("raises" if alone.get(lever, 0.0) >= 0 else "lowers", lang),
            alone=_num(abs(alone[lever]), metric) if lever in alone else "–",
        )
    ]
    if len(adds) > 1:
        out.append(
            _t(
                "adds_most",
                lang,
                lever=_lever(lever, lang),
                least=_lever(str(low["lever"]), lang),
                effect=_num(low["add"], metric, True),
            )
        )
    return out


def _run_takeaways(df: pd.DataFrame, lang: str) -> list[str]:
    out = []
    last, first = int(df["step"].max()), int(df["step"].min())
    for metric in [m for m in ("satisfaction", "participation", "trust", "unmet_need") if m in df.columns][
        :3
    ]:
        end = plots.mean_interval(df[df["step"] == last].assign(_all=0), ["_all"], metric).iloc[0]
        start = df.loc[df["step"] == first, metric].mean()
        delta = end["mean"] - start
        change = (
            _t("flat", lang)
            if abs(delta) < 0.005
            else _t("up" if delta > 0 else "down", lang, by=_num(abs(delta), metric))
        )
        out.append(
            _t(
                "run_end",
                lang,
                weeks=last,
                metric=label(metric, lang),
                value=_num(end["mean"], metric),
                low=_num(end["low"], metric),
                high=_num(end["high"], metric),
                change=change,
            )
        )
    return out


def _sweep_takeaways(
    df: pd.DataFrame, varying: Sequence[str], lang: str, unit: str | None, jumps: bool = True
) -> list[str]:
    metric = "satisfaction" if "satisfaction" in df.columns else None
    inputs = [c for c in varying if c != "seed"]
    if metric is None or not inputs or "step" not in df.columns:
        return []
    final = plots._final(df, inputs + ([unit] if unit else []))
    cells = plots.mean_interval(final, inputs, metric)
    best = cells.loc[cells["mean"].idxmax()]
    where = ", ".join(f"{plots.param_label(c, lang)} = {plots._fmt(best[c])}" for c in inputs)
    out = [
        _t(
            "grid_best",
            lang,
            metric=label(metric, lang),
            value=_num(best["mean"], metric),
            low=_num(best["low"], metric),
            high=_num(best["high"], metric),
            where=where,
        )
    ]
    for param in inputs[:2]:
        curve = plots.mean_interval(final, [param], metric).sort_values(param)
        if len(curve) < 2:
            continue
        out.append(
            _t(
                "along",
                lang,
                param=plots.param_label(param, lang),
                lo=plots._fmt(curve[param].iloc[0]),
                hi=plots._fmt(curve[param].iloc[-1]),
                metric=label(metric, lang),
                start=_num(curve["mean"].iloc[0], metric),
                end=_num(curve["mean"].iloc[-1], metric),
            )
        )
        if jumps and len(inputs) == 1 and len(curve) >= 3:
            steps = np.diff(curve["mean"].to_numpy())
            i = int(np.argmax(np.abs(steps)))
            half = (curve["high"] - curve["low"]).to_numpy() / 2
            # a step is a tipping candidate only when it exceeds both neighbours' half-widths
            if abs(steps[i]) > half[i] + half[i + 1]:
                out.append(
                    _t(
                        "jump",
                        lang,
                        metric=label(metric, lang),
                        param=plots.param_label(param, lang),
                        a=plots._fmt(curve[param].iloc[i]),
                        b=plots._fmt(curve[param].iloc[i + 1]),
                        by=_num(steps[i], metric, True),
                    )
                )
            else:
                out.append(
                    _t("no_jump", lang, param=plots.param_label(param, lang), metric=label(metric, lang))
                )
    return out


# ------------------------------------------------------------------------------ designs
#: outputs the sensitivity takeaways speak of, in this order (those sim-analyse computed)
SENSITIVITY_OUTPUTS = ("satisfaction", "participation", "trust", "unmet_need", "satisfaction_gini")
#: metrics whose tipping points are told, in this order
TIPPING_METRICS = ("participation", "satisfaction", "trust", "unmet_need")


def _input_label(name: str, design: dict | None, lang: str) -> str:
    """A design input (its short name, or a SALib group) in words."""
    keys = {p.get("name"): p.get("key") for p in (design or {}).get("params", [])}
    return plots.param_label(str(keys.get(name) or name), lang)


def _join(items, lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(items)


def _idx(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else "–"


def _folder(src) -> str:
    path = src.path.parent if src.path.suffix == ".parquet" else src.path
    return str(path)


def _run_analyse(src, table: str, lang: str) -> str:
    return _t("run_analyse", lang, what=_t(f"what_{table}", lang), folder=_folder(src), table=table)


def _ranked(table: pd.DataFrame, column: str, lang: str) -> list[tuple[str, str, pd.DataFrame]]:
    """(output, group note, rows ranked by ``column``, none without it) for two outputs at most,
    the first group of each."""
    present = list(dict.fromkeys(table["output"]))
    outputs = [o for o in SENSITIVITY_OUTPUTS if o in present] or present
    out = []
    for output in outputs[:2]:
        rows = table[table["output"] == output]
        groups = list(dict.fromkeys(rows["group"])) if "group" in rows.columns else [""]
        group = groups[0] if groups else ""
        if "group" in rows.columns:
            rows = rows[rows["group"] == group]
        note = _t("group", lang, group=group) if group and len(groups) > 1 else ""
        ranked = rows.sort_values(column, ascending=False, na_position="last").dropna(subset=[column])
        out.append((output, note, ranked))
    return out


def _runners_up(rows: pd.DataFrame, key: str, field: str, index: str, src, lang: str) -> list[str]:
    """The second and third inputs by ``index`` (rows ranked), each with its interval."""
    return [
        _t(
            key,
            lang,
            name=_input_label(r["input"], src.design, lang),
            **{field: _idx(r[index]), "low": _idx(r[f"{index}_low"]), "high": _idx(r[f"{index}_high"])},
        )
        for _, r in rows.iloc[1:3].iterrows()
    ]


def _top_line(
    key: str,
    output: str,
    group: str,
    rows: pd.DataFrame,
    index: str,
    item: tuple[str, str],
    src,
    lang: str,
    **numbers: object,
) -> str:
    """The takeaway ``key`` on ``output``: its most influential input (the first of ``rows``,
    ranked by ``index``) with its ``numbers``, then the runners-up, each an ``item`` (the
    string's key and the field its index fills)."""
    items = _runners_up(rows, *item, index, src, lang)
    return _t(
        key,
        lang,
        output=label(output, lang),
        first=_input_label(rows.iloc[0]["input"], src.design, lang),
        rest=_t("sobol_rest", lang, items=_join(items, lang)) if items else "",
        group=group,
        **numbers,
    )


def _sobol_takeaways(src, lang: str) -> list[str]:
    """The most influential inputs by total-order index, and whether N was large enough."""
    table = src.analysis.get("sobol")
    if table is None or table.empty:
        return [_run_analyse(src, "sobol", lang)]
    from sim.analysis import sensitivity

    out = []
    for output, group, rows in _ranked(table, "ST", lang):
        if rows.empty:
            out.append(_t("constant", lang, output=label(output, lang)))
            continue
        top = rows.iloc[0]
        out.append(
            _top_line(
                "sobol_top",
                output,
                group,
                rows,
                "ST",
                ("sobol_item", "st"),
                src,
                lang,
                st=_idx(top["ST"]),
                st_low=_idx(top["ST_low"]),
                st_high=_idx(top["ST_high"]),
                s1=_idx(top["S1"]),
                s1_low=_idx(top["S1_low"]),
                s1_high=_idx(top["S1_high"]),
                n=int(top["n"]) if "n" in rows.columns else (src.design or {}).get("n", "?"),
            )
        )
    checks = src.analysis.get("convergence")
    if checks is None:
        checks = sensitivity.convergence(table)
    width = sensitivity.MAX_ST_WIDTH
    n = int(table["n"].max()) if "n" in table.columns else int((src.design or {}).get("n", 0))
    if not checks.empty:
        outputs = _join((label(o, lang) for o in dict.fromkeys(checks["output"])), lang)
        counts = {
            "check_wide": int(((table["ST_high"] - table["ST_low"]) > width).sum()),
            "check_negative": int((table["S1_high"] < 0).sum()),
            "check_order": int((table["ST_high"] < table["S1_low"]).sum()),
        }
        kinds = _join((_t(key, lang, k=k, width=width) for key, k in counts.items() if k), lang)
        # sim-analyse caps one step of N; then the N it names is a floor, not the end
        capped = "capped" in checks.columns and bool(checks["capped"].any())
        warning = _t(
            "sobol_small",
            lang,
            n=int(checks["n"].max()),
            k=len(checks),
            outputs=outputs,
            kinds=kinds,
            rerun=_t("rerun_capped" if capped else "rerun", lang, rec=int(checks["recommended_n"].max())),
        )
        out.insert(0, warning)  # before the numbers it qualifies
    else:
        widths = (table["ST_high"] - table["ST_low"]).dropna()
        if not widths.empty:
            out.append(_t("sobol_enough", lang, n=n, widest=float(widths.max()), width=width))
    return out


def _morris_takeaways(src, lang: str) -> list[str]:
    """The most influential inputs by μ*, and a warning when the top two cannot be told apart."""
    table = src.analysis.get("morris")
    if table is None or table.empty:
        return [_run_analyse(src, "morris", lang)]
    n = (src.design or {}).get("n", "?")
    out, warnings = [], []
    for output, group, rows in _ranked(table, "mu_star", lang):
        if rows.empty or not (rows["mu_star"] > 0).any():
            out.append(_t("constant", lang, output=label(output, lang)))
            continue
        top = rows.iloc[0]
        out.append(
            _top_line(
                "morris_top",
                output,
                group,
                rows,
                "mu_star",
                ("morris_item", "mu"),
                src,
                lang,
                mu=_idx(top["mu_star"]),
                low=_idx(top["mu_star_low"]),
                high=_idx(top["mu_star_high"]),
                sigma=_idx(float(top["sigma"])),
                n=n,
            )
        )
        if len(rows) > 1 and rows.iloc[1]["mu_star_high"] >= top["mu_star_low"] and not warnings:
            warnings.append(
                _t(
                    "morris_small",
                    lang,
                    n=n,
                    a=_input_label(top["input"], src.design, lang),
                    b=_input_label(rows.iloc[1]["input"], src.design, lang),
                    output=label(output, lang),
                )
            )
    return out + warnings


def _jump_interval(
    df: pd.DataFrame, row: pd.Series, by: list[str], metric: str
) -> tuple[float, float] | None:
    """The paired (by replicate) interval of the step from ``x_before`` to ``x_after``, or None."""
    x = str(row["x"])
    if any(c not in df.columns for c in (x, metric, "replicate", *by)):
        return None
    part = plots._final(df, [c for c in ("point", "run") if c in df.columns] or None)
    for col in by:
        part = part[part[col] == row[col]]
    values = part[x].astype(float)
    before = np.isclose(values, float(row["x_before"]))
    after = np.isclose(values, float(row["x_after"]))
    part = part[before | after].assign(_side=np.where(before[before | after], "before", "after"))
    if part["_side"].nunique() < 2:
        return None
    d = plots.paired_differences(part, metric, baseline="before", by="_side")
    d = d[d["_side"] == "after"].dropna(subset=["low", "high"])
    return (float(d["low"].iloc[0]), float(d["high"].iloc[0])) if not d.empty else None


def _tipping_takeaways(src, lang: str) -> list[str]:
    """Where each headline metric changes most steeply (sim-analyse's tipping table), with its interval."""
    table = src.analysis.get("tipping")
    if table is None or table.empty:
        return [_run_analyse(src, "tipping", lang)]
    fixed = {"metric", "x", "x_before", "x_after", "tipping_x", "jump", "sharpness", "abrupt"}
    by = [c for c in table.columns if c not in fixed and c not in ("value_before", "value_after")]
    present = list(dict.fromkeys(table["metric"]))
    metrics = [m for m in TIPPING_METRICS if m in present] or present
    out = []
    for metric in metrics[:2]:
        rows = table[table["metric"] == metric]
        row = rows.loc[rows["jump"].abs().idxmax()]
        settings = ", ".join(f"{plots.param_label(c, lang)} = {plots._fmt(row[c])}" for c in by)
        sharp = float(row["sharpness"])
        times = _t("tip_flat", lang) if math.isinf(sharp) else _t("tip_times", lang, x=sharp)
        if len(rows) > 1:
            k = int(rows["abrupt"].sum())
            verdict = _t("tip_count" if k else "tip_count_none", lang, k=k, n=len(rows))
        else:
            verdict = _t("tip_one" if bool(row["abrupt"]) else "tip_none", lang)
        fields = {
            "metric": label(metric, lang),
            "param": plots.param_label(str(row["x"]), lang),
            "a": plots._fmt(float(row["x_before"])),
            "b": plots._fmt(float(row["x_after"])),
            "where": _t("tip_where", lang, settings=settings) if settings else "",
            "jump": _num(float(row["jump"]), metric, True),
            "times": times,
            "verdict": verdict,
        }
        try:
            interval = _jump_interval(src.metrics, row, by, metric)
        except (KeyError, ValueError):
            interval = None
        if interval is None:
            out.append(_t("tip_no_interval", lang, **fields))
        else:
            low, high = interval
            out.append(_t("tip", lang, low=_num(low, metric, True), high=_num(high, metric, True), **fields))
    return out


def _design_takeaways(src, lang: str) -> list[str] | None:
    """Takeaways of a design sweep from sim-analyse's tables, or None for other sweeps."""
    design = getattr(src, "design", None) or {}
    method = design.get("method")
    if method == "sobol":
        return _sobol_takeaways(src, lang)
    if method == "morris":
        return _morris_takeaways(src, lang)
    if method == "factorial" and design.get("params"):
        # the steepest change first, then the best cell and one curve (no ad-hoc jump of our own)
        grid = _sweep_takeaways(src.metrics, src.varying, lang, src.unit, jumps=False)
        return _tipping_takeaways(src, lang) + grid[:2]
    return None


def takeaways(src, lang: str = "en") -> list[str]:
    """Three to five plain sentences about ``src`` (a :class:`sim.present.report.Source`).

    A Sobol or Morris design speaks of its most influential inputs and whether N sufficed, a
    factorial design of where its metrics change most steeply: both from the tables
    ``sim-analyse`` wrote into SWEEP/analysis/ (or they say to run it first)."""
    df = src.metrics
    designed = _design_takeaways(src, lang) if src.kind == "sweep" else None
    if src.kind == "scenarios" and src.arms:
        out = _arm_takeaways(df, src.arms, lang)
    elif src.kind == "run":
        out = _run_takeaways(df, lang)
    elif designed is not None:
        out = designed
        if (getattr(src, "design", None) or {}).get("method") in ("sobol", "morris"):
            return out[:5]  # bootstrap intervals of indices, not intervals for a mean
    else:
        out = _sweep_takeaways(df, src.varying, lang, src.unit)
    if "replicate" in df.columns:
        n = int(df["replicate"].nunique())
        out.append(_t("interval_note", lang, n=n))
    return out[:5] if len(out) > 5 else out


def arm_table(df: pd.DataFrame, by: str, lang: str = "en") -> pd.DataFrame:
    """One row per arm: its name, its title and the lever intensities (%) and budget it ran with."""
    first = df.drop_duplicates(by)
    table = pd.DataFrame(
        {
            _t("arm", lang): first[by].astype(str).to_numpy(),
            _t("title", lang): [arm_title(a, lang, df, by) for a in first[by]],
        }
    )
    for lever in LEVERS:
        col = f"levers.{lever}.intensity"
        if col in first.columns:
            table[_lever(lever, lang)] = [f"{100 * float(v):.0f}%" for v in first[col]]
    if "budget" in first.columns:
        table[_t("budget", lang)] = [_budget(v, lang) for v in first["budget"]]
    return table


def _budget(value: object, lang: str) -> str:
    """A budget as written: a number, or "unbounded" (inf, or missing where inf was stored)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _t("unbounded", lang)
    return f"{number:g}" if math.isfinite(number) else _t("unbounded", lang)


def chunks(names: Sequence[str], reference: str, size: int = MAX_SERIES) -> list[list[str]]:
    """Arms in groups of at most ``size`` lines, the reference first in every group."""
    others = [n for n in names if n != reference]
    per = max(1, size - 1)
    groups = [others[i : i + per] for i in range(0, len(others), per)] or [[]]
    return [[reference, *g] for g in groups]


def effect_dots(df: pd.DataFrame, by: str, metric: str, lang: str = "en") -> go.Figure:
    """Every arm's paired difference to the reference at the final week: a dot and its interval.

    Sorted by effect (largest at the top); a dot whose interval excludes zero is coloured, one
    whose interval includes zero is grey. One trace per colour, so the legend is the key.
    """
    names = list(map(str, pd.unique(df[by])))
    reference = _reference(names)
    d = _differences(df, by, [metric], reference).sort_values("mean")
    clear = (d["low"] > 0) | (d["high"] < 0)
    fig = go.Figure()
    for mask, colour, key in ((clear, plots.PALETTE[0], "clear"), (~clear, plots.GREY, "unclear")):
        part = d[mask]
        fig.add_trace(
            go.Scatter(
                x=part["mean"],
                y=[arm_title(a, lang, df, by) for a in part[by]],
                mode="markers",
                marker={"size": 11, "color": colour},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": (part["high"] - part["mean"]).to_numpy(),
                    "arrayminus": (part["mean"] - part["low"]).to_numpy(),
                    "color": colour,
                    "thickness": 2,
                },
                name=_t(key, lang),
                customdata=np.column_stack([part["low"], part["high"]]) if len(part) else None,
                hovertemplate=(
                    "%{y}<br>%{x:+.3f} [%{customdata[0]:+.3f}, %{customdata[1]:+.3f}]<extra></extra>"
                ),
            )
        )
    order = [arm_title(a, lang, df, by) for a in d[by]]
    step = int(df["step"].max()) if "step" in df.columns else 0
    fig.add_vline(x=0, line={"color": "#444444", "width": 1})
    fig.update_layout(
        title={
            "text": _t(
                "dots_title",
                lang,
                metric=label(metric, lang),
                reference=arm_title(reference, lang, df, by),
                step=step,
            ),
            "x": 0.01,
        },
        height=max(300, 90 + 32 * len(order)),
        yaxis={"categoryorder": "array", "categoryarray": order, "automargin": True},
        xaxis={"title": {"text": label(metric, lang)}, "zeroline": False},
        legend={"orientation": "h", "y": -0.15},
        plot_bgcolor="white",
        margin={"l": 10, "r": 20, "t": 50, "b": 60},
    )
    return fig
