"""What a report says first: takeaways in plain words, computed from the data, and the arms.

:func:`takeaways` reads a result (:class:`sim.present.report.Source`) and returns three to five
sentences with their numbers and intervals, in English or Chinese: which arm does most, how
many arms differ clearly from the reference, what one lever adds to the other five; for a run,
where the headline metrics end; for a sweep, the best point and how the metric moves along
each input. Each sentence says what its interval is for (the mean over replicates).

:func:`arm_title` names an arm (a scenario or a design arm such as ``without_linking``) in
either language; :func:`arm_table` lists the arms with their lever settings;
:func:`effect_dots` draws the arms' paired differences as dots with intervals, sorted by effect;
:func:`chunks` splits many arms into groups of at most eight lines per chart.

Intervals come from :func:`sim.present.plots.paired_differences` and
:func:`sim.present.plots.mean_interval`; nothing here computes an interval of its own.
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

__all__ = ["MAX_SERIES", "arm_table", "arm_title", "chunks", "effect_dots", "is_ablation", "takeaways"]

MAX_SERIES = 8  # lines per chart: beyond this colours repeat and lines hide each other

_ARM_WORDS = {
    "baseline": ("Baseline (no levers)", "基线（不启用举措）"),
    "all_six": ("All six levers", "六入齐备"),
    "even": ("Even split of the budget", "预算平均分配"),
    "uniform": ("All levers at full intensity", "全部举措满强度"),
    "people": ("People first (immersion, embedding)", "以人为先（浸入、嵌入）"),
    "organisations": ("Organisations first (converging, linking)", "以组织为先（汇入、链入）"),
    "system": ("System first (conduction, integration)", "以机制为先（导入、融入）"),
}

_T = {
    "raises": ("raises", "提高"),
    "lowers": ("lowers", "降低"),
    "best": (
        "{arm} {verb} {metric} most: by {effect} ({low} to {high}) over {reference}.",
        "{arm}对{metric}的作用最大：较{reference}{verb} {effect}（{low} 至 {high}）。",
    ),
    "worst": (
        "{arm} {verb} {metric} most: by {effect} ({low} to {high}) against {reference}.",
        "{arm}使{metric}{verb}最多：较{reference}{verb} {effect}（{low} 至 {high}）。",
    ),
    "count": (
        "{above} of {n} arms raise {metric} clearly above {reference} (interval above zero), "
        "{below} lower it clearly, {unclear} cannot be told apart from it.",
        "{n} 个方案中，{above} 个使{metric}明显高于{reference}（区间在零以上），{below} 个明显更低，"
        "{unclear} 个与之无法区分。",
    ),
    "adds": (
        "Adding {lever} to the other five adds {effect} ({low} to {high}) to {metric}; "
        "alone it {verb} {metric} by {alone}.",
        "在其余五项之上加入{lever}，{metric}变化 {effect}（{low} 至 {high}）；单独使用时{verb} {alone}。",
    ),
    "adds_most": (
        "Of the six, {lever} adds most to the other five; {least} adds least ({effect}).",
        "六项中，{lever}对其余五项的增益最大；{least}增益最小（{effect}）。",
    ),
    "run_end": (
        "After {weeks} weeks {metric} is {value} ({low} to {high}), {change} since week 1.",
        "第 {weeks} 周{metric}为 {value}（{low} 至 {high}），较第 1 周{change}。",
    ),
    "up": ("up {by}", "上升 {by}"),
    "down": ("down {by}", "下降 {by}"),
    "flat": ("unchanged", "基本不变"),
    "grid_best": (
        "The highest {metric}, {value} ({low} to {high}), is at {where}.",
        "{metric}最高为 {value}（{low} 至 {high}），出现在{where}。",
    ),
    "along": (
        "Along {param} from {lo} to {hi}, {metric} moves from {start} to {end} "
        "(averaged over the other inputs).",
        "{param}从 {lo} 到 {hi}，{metric}从 {start} 变为 {end}（对其余输入取平均）。",
    ),
    "jump": (
        "The steepest change of {metric} along {param} is between {a} and {b}: {by}.",
        "{metric}沿{param}变化最陡处在 {a} 与 {b} 之间：{by}。",
    ),
    "no_jump": (
        "No step along {param} changes {metric} by more than its intervals allow: no tipping point shown.",
        "沿{param}，{metric}各步变化均未超出区间范围：未显示临界点。",
    ),
    "interval_note": (
        "Intervals are 95% intervals for the mean over {n} replicates (paired by replicate where arms "
        "are compared), not the range of one community.",
        "区间为 {n} 次重复实验均值的95%区间（方案比较时按重复实验配对），不是单个社区的变化范围。",
    ),
    "arm": ("Arm", "方案"),
    "title": ("Name", "名称"),
    "budget": ("Budget", "预算"),
    "unbounded": ("unbounded", "不设上限"),
    "dots_title": (
        "{metric}: difference to {reference} at week {step}, sorted by effect",
        "{metric}：第 {step} 周与{reference}之差（按效果排序）",
    ),
    "clear": ("interval excludes zero", "区间不含零"),
    "unclear": ("interval includes zero", "区间含零"),
}


def _t(key: str, lang: str, **fields: object) -> str:
    en, zh = _T[key]
    return (zh if lang == "zh" else en).format(**fields)


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


def _sweep_takeaways(df: pd.DataFrame, varying: Sequence[str], lang: str, unit: str | None) -> list[str]:
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
        if len(inputs) == 1 and len(curve) >= 3:
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


def takeaways(src, lang: str = "en") -> list[str]:
    """Three to five plain sentences about ``src`` (a :class:`sim.present.report.Source`)."""
    df = src.metrics
    if src.kind == "scenarios" and src.arms:
        out = _arm_takeaways(df, src.arms, lang)
    elif src.kind == "run":
        out = _run_takeaways(df, lang)
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
