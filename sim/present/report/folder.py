"""What the reports of ``sim-calibrate``, ``sim-validate`` and ``sim-optimise`` folders share: the
kinds and the files that mark them, reading a folder, the English/Chinese strings, and the
words and numbers of a sentence."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from sim.analysis.stats import bounds_of
from sim.present import plots
from sim.present.report import story
from sim.vocab import LEVER_WORDS, domain_word, translate

#: kind -> (the command, files that mark its folder, files a report needs, files it may use)
KINDS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "calibration": (
        "sim-calibrate",
        ("calibration.json", "posterior.parquet"),
        ("posterior.parquet", "diagnostics.parquet", "summary.json"),
        ("predictive.parquet", "calibration.json"),
    ),
    "validation": ("sim-validate", ("validation.parquet",), ("validation.parquet",), ("validation.json",)),
    "optimisation": (
        "sim-optimise",
        ("optimise.json", "pareto.parquet"),
        ("optimise.json", "pareto.parquet", "evaluations.parquet"),
        ("arms.parquet", "draws.parquet"),
    ),
}

#: columns a report reads from each table
COLUMNS: dict[str, tuple[str, ...]] = {
    "posterior.parquet": ("weight",),
    "diagnostics.parquet": ("generation", "epsilon", "particles", "simulations", "effective_sample_size"),
    "validation.parquet": ("pattern", "title", "seeds", "mean", "low", "high", "margin", "verdict"),
    "pareto.parquet": ("policy", "weekly_cost", "budget", "robustness"),
    "arms.parquet": ("policy", "weekly_cost", "dominated"),
    "evaluations.parquet": ("policy_key", "policy", "draw"),
}

COLUMNS["validation.parquet"] += ("knockout_mean", "knockout_low", "knockout_high", "knockout_verdict")

ALLOWED = (
    "allowed: a run directory, a folder of runs, a collected .parquet, or the folder written by "
    "sim-calibrate, sim-validate or sim-optimise"
)

MIN_GENERATIONS, MIN_ESS, MIN_DRAWS = 3, 50, 20  # a calibration with less is rough

MIN_SEEDS = 20  # what sim-validate's verdicts are meant for

MIN_UNCERTAINTY_DRAWS = 8  # sim-optimise's default

MAX_TABLE_ROWS = 200

ALGORITHMS = {"nsga2": "NSGA-II", "nsga3": "NSGA-III"}

_T: dict[str, tuple[str, str]] = {
    "kind_calibration": ("a calibration (sim-calibrate)", "参数校准（sim-calibrate）"),
    "kind_validation": ("a pattern validation (sim-validate)", "模式验证（sim-validate）"),
    "kind_optimisation": ("a portfolio optimisation (sim-optimise)", "举措组合优化（sim-optimise）"),
    "more": ("(+{n} more)", "（另有 {n} 项）"),
    "tables": ("Tables", "数据表"),
    "key": (
        "{name}: median {median}, 90% credible interval [{low}, {high}] within its prior "
        "[{lo}, {hi}]; {narrowed}.",
        "{name}：中位数 {median}，90% 可信区间 [{low}, {high}]（先验范围 [{lo}, {hi}]）；{narrowed}。",
    ),
    "narrow": (
        "the data narrowed it to {pct} of the prior's 90% width",
        "数据将其收窄至先验90%宽度的 {pct}",
    ),
    "narrow_some": (
        "the data narrowed it somewhat ({pct} of the prior's 90% width)",
        "数据使其略有收窄（为先验90%宽度的 {pct}）",
    ),
    "narrow_not": (
        "the data hardly narrowed it ({pct} of the prior's 90% width): the targets do not pin it down",
        "数据几乎未使其收窄（为先验90%宽度的 {pct}）：目标数据无法确定该参数",
    ),
    "keys_rest": (
        "Of {n} calibrated keys, the data narrowed {clear} to less than half the prior's width "
        "({names}); each key's median and interval are in the table below.",
        "{n} 个校准参数中，数据将 {clear} 个收窄到先验宽度的一半以下（{names}）；"
        "各参数的中位数与区间见下表。",
    ),
    "target": (
        "Target {name} = {value} (sd {sd}): the posterior predictive gives {median}, 90% interval "
        "[{low}, {high}] for {unit}, measurement noise included: {verdict}.",
        "目标 {name} = {value}（标准差 {sd}）：后验预测为 {median}，90% 区间 [{low}, {high}]"
        "（{unit}，含测量误差）：{verdict}。",
    ),
    "one_community": ("one simulated community", "单个模拟社区"),
    "communities": ("the mean of {n} simulated communities", "{n} 个模拟社区的均值"),
    "inside": ("reproduced (inside the interval)", "得到再现（落在区间内）"),
    "outside": ("missed (outside the interval)", "未能再现（落在区间外）"),
    "targets_rest": (
        "{inside} of {n} targets lie inside their 90% posterior predictive interval; missed: {names}.",
        "{n} 个目标中有 {inside} 个落在后验预测90%区间内；未能再现：{names}。",
    ),
    "range": (
        "Plausibility: {share} of the predictive draws put {name} inside [{lo}, {hi}].",
        "合理性检查：{share} 的预测抽样使{name}落在 [{lo}, {hi}] 内。",
    ),
    "abc": (
        "ABC-SMC ran {gens} generations of {particles} particles ({sims} simulations): final epsilon "
        "{eps}, effective sample size {ess}, acceptance rate {acc}; {draws} posterior predictive draws.",
        "ABC-SMC 共 {gens} 代、每代 {particles} 个粒子（{sims} 次模拟）：最终容差 epsilon {eps}，"
        "有效样本量 {ess}，接受率 {acc}；后验预测抽样 {draws} 次。",
    ),
    "abc_few": (
        "Warning: too little to trust the posterior: {gens} generations of {particles} particles "
        "(final epsilon {eps}, effective sample size {ess}, {draws} predictive draws); rerun the same "
        "command with population={pop} generations={gen} draws={drw} (it resumes).",
        "警告：样本过少，后验不可靠：{gens} 代、每代 {particles} 个粒子（最终容差 epsilon {eps}，"
        "有效样本量 {ess}，预测抽样 {draws} 次）；请以 population={pop} generations={gen} "
        "draws={drw} 重新运行同一命令（可续算）。",
    ),
    "holds": ("holds", "成立"),
    "fails": ("fails", "不成立"),
    "inconclusive": ("inconclusive", "尚无定论"),
    "val_count": (
        "Of {n} patterns, {holds} hold, {fails} fail and {unclear} are inconclusive{failing}.",
        "{n} 个模式中，{holds} 个成立，{fails} 个不成立，{unclear} 个尚无定论{failing}。",
    ),
    "val_failing": ("; failing: {names}", "；不成立的有：{names}"),
    "val_ko_all": (
        "Switching its mechanism off removes the pattern (the knock-out fails) for all {n} patterns.",
        "关闭相应机制后，全部 {n} 个模式都消失（敲除实验不成立）。",
    ),
    "val_ko": (
        "Switching its mechanism off removes the pattern (the knock-out fails) for {k} of {n}; not for "
        "{names}, so those experiments do not show that their mechanism makes the pattern.",
        "关闭相应机制后模式消失（敲除实验不成立）的有 {k}/{n} 个；{names}在关闭机制后未消失，"
        "其实验不能说明该机制是模式的成因。",
    ),
    "val_unclear": (
        "Inconclusive (the 95% interval straddles δ; more seeds would decide): {names}.",
        "尚无定论（95% 区间跨过 δ，需更多种子才能判定）：{names}。",
    ),
    "val_clearest": (
        "Clearest: {title}, effect {mean} [{low}, {high}] against δ = {margin}.",
        "最明确的是{title}：效应 {mean} [{low}, {high}]，δ = {margin}。",
    ),
    "val_seeds": (
        "Each verdict rests on {seeds} seeds (seed base {seed}; arms paired by seed); intervals are 95% "
        "intervals for the mean effect over seeds, not the range of one community.{few}",
        "每项判定基于 {seeds} 个随机种子（种子基数 {seed}；各组按种子配对）；区间为各种子效应均值的95%区间，"
        "不是单个社区的变化范围。{few}",
    ),
    "val_few": (
        " With fewer than {n} seeds the verdicts are provisional (sim-validate seeds={n}).",
        "种子少于 {n} 个，判定仅供参考（sim-validate seeds={n}）。",
    ),
    "rob_mean": ("mean over the draws", "各抽样的均值"),
    "rob_percentile": ("the {p:g}th-percentile draw", "第 {p:g} 百分位抽样"),
    "rob_regret": ("least regret against the budget_frontier arms", "相对预算前沿方案的最小遗憾"),
    "rob_satisficing": ("share of draws meeting each threshold", "达到阈值的抽样比例"),
    "opt_front": (
        "The robust front holds {k} portfolios at a weekly budget of {budget} (robustness: {rob}), "
        "out of {evaluated} policies evaluated ({algorithm}, population {pop}, {gens} generations).",
        "每周预算 {budget} 下的稳健前沿含 {k} 个举措组合（稳健性：{rob}），共评估 {evaluated} 个组合"
        "（{algorithm}，种群 {pop}，{gens} 代）。",
    ),
    "opt_best": (
        "Best worst case for {metric}: {policy} ({levers}; {cost} a week) gives {worst} in its worst "
        "of {draws} draws (mean {mean}, {lo} to {hi} over the draws, each one community).",
        "{metric}最差情形最好的是 {policy}（{levers}；每周 {cost}）：{draws} 次抽样中最差为 {worst}"
        "（均值 {mean}，各抽样在 {lo} 至 {hi} 之间，每次抽样为单个社区）。",
    ),
    "opt_regret": (
        "Least regret on {metric}: {policy} ({levers}; {cost} a week) falls at most {regret} short of "
        "the best budget_frontier arm in any of {draws} draws (mean {mean}, {lo} to {hi} over the "
        "draws, each one community).",
        "{metric}遗憾最小的是 {policy}（{levers}；每周 {cost}）：{draws} 次抽样中较最佳预算前沿方案"
        "至多低 {regret}（均值 {mean}，各抽样在 {lo} 至 {hi} 之间，每次抽样为单个社区）。",
    ),
    "opt_cheap": (
        "The cheapest portfolio on the front, {policy} ({levers}), costs {cost} a week ({share} of the "
        "budget) and reaches {metric} {mean} on average (worst draw {worst}){same}.",
        "前沿上最便宜的组合 {policy}（{levers}）每周花费 {cost}（占预算 {share}），{metric}平均为 {mean}"
        "（最差抽样 {worst}）{same}。",
    ),
    "opt_same": ("; it is also the best worst case", "；它同时也是最差情形最好的组合"),
    "opt_same_regret": ("; it is also the least regret", "；它同时也是遗憾最小的组合"),
    "opt_arms": (
        "{k} of the {n} budget_frontier arms are dominated by a front portfolio; not dominated: {names}.",
        "{n} 个预算前沿方案中有 {k} 个被前沿组合支配；未被支配的：{names}。",
    ),
    "opt_draws": (
        "Outcomes are means over the last quarter of the weeks in each of {draws} uncertainty draws "
        "({groups}); a draw is one community, so ranges are for one community, not intervals for a "
        "mean.{few}",
        "各结果为 {draws} 次不确定性抽样（{groups}）中最后四分之一周数的均值；每次抽样为单个社区，"
        "因此给出的范围针对单个社区，而非均值的区间。{few}",
    ),
    "opt_few": (
        " {draws} draws are few for judging robustness: rerun with draws={n} or more.",
        "{draws} 次抽样不足以判断稳健性：请以 draws={n} 或更多重新运行。",
    ),
    "f_targets": ("Targets file", "目标数据文件"),
    "f_keys": ("Calibrated keys", "校准参数"),
    "f_model": ("Model", "模型"),
    "f_model_value": (
        "{preset}, {weeks} weeks, replicates per particle: {n}",
        "{preset}，{weeks} 周，每个粒子的重复次数：{n}",
    ),
    "f_abc": ("Generations × particles (simulations)", "代数 × 粒子数（模拟次数）"),
    "f_patterns": ("Patterns", "模式"),
    "f_seeds": ("Seeds per arm (seed base)", "每组种子数（种子基数）"),
    "f_frame": ("XLRM frame", "XLRM 框架"),
    "f_budget": ("Weekly budget (per 1,000 households)", "每周预算（每千户）"),
    "f_search": ("Search", "搜索"),
    "f_search_value": (
        "{algorithm}, population {pop}, {gens} generations, seed {seed}; robustness: {rob}",
        "{algorithm}，种群 {pop}，{gens} 代，随机种子 {seed}；稳健性：{rob}",
    ),
    "f_draws": ("Uncertainty draws", "不确定性抽样"),
    "f_overrides": ("Model overrides", "模型参数覆盖"),
    "c_key": ("Key", "参数"),
    "c_prior": ("Prior range", "先验范围"),
    "c_post": ("Median [90% credible interval]", "中位数［90% 可信区间］"),
    "c_ratio": ("Width / prior's 90% width", "宽度 / 先验90%宽度"),
    "c_check": ("Target or range", "目标或范围"),
    "c_stat": ("Statistic", "统计量"),
    "c_observed": ("Observed (sd) or range", "观测值（标准差）或范围"),
    "c_pred": (
        "Predictive median [90% interval, one observation]",
        "预测中位数［90% 区间，单次观测］",
    ),
    "c_verdict": ("Verdict", "判定"),
    "c_pattern": ("Pattern", "模式"),
    "c_effect_def": ("Effect", "效应"),
    "c_effect": ("Effect [95% interval for the mean]", "效应［均值的95%区间］"),
    "c_margin": ("δ", "δ"),
    "c_ko_effect": ("Knock-out effect [95% interval]", "敲除后效应［95% 区间］"),
    "c_ko": ("Knock-out verdict", "敲除实验判定"),
    "c_seeds": ("Seeds", "种子数"),
    "c_notes": ("Notes", "备注"),
    "c_policy": ("Portfolio", "举措组合"),
    "c_arm": ("budget_frontier arm", "预算前沿方案"),
    "c_cost": ("Weekly cost", "每周成本"),
    "c_robust": ("{metric} ({rob})", "{metric}（{rob}）"),
    "c_dominated": ("Dominated by", "被以下组合支配"),
    "c_on_front": ("On the front", "位于前沿"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "t_posterior": ("Posterior of each calibrated key", "各校准参数的后验"),
    "t_checks": ("Posterior predictive check", "后验预测检验"),
    "t_patterns": ("Patterns and their knock-outs", "各模式及其敲除实验"),
    "t_front": ("Portfolios of the robust front", "稳健前沿上的举措组合"),
    "t_arms": ("budget_frontier arms against the front", "预算前沿方案与前沿的比较"),
    "cap_posterior": (
        "Each key on its prior range (0 = prior low, 1 = prior high): grey the prior, blue the 90% "
        "credible interval, the dot the median.",
        "各参数在其先验范围内的位置（0 为先验下限，1 为上限）：灰色为先验，蓝色为90%可信区间，圆点为中位数。",
    ),
    "cap_marginal": (
        "Weighted posterior particles over the prior range; dashed: median, dotted: 90% credible interval.",
        "先验范围内按权重计的后验粒子分布；虚线为中位数，点线为90%可信区间。",
    ),
    "cap_predictive": (
        "Posterior predictive median and 90% interval of one simulated observation (measurement noise "
        "included, kept in the metric's range) against each target ± 2 sd, or each plausibility range.",
        "单次模拟观测的后验预测中位数及90%区间（含测量误差，不超出指标范围），与各目标值 ± 2 倍标准差"
        "或合理性范围对照。",
    ),
    "cap_diagnostics": (
        "Tolerance epsilon (falling) and effective sample size by ABC-SMC generation.",
        "各代 ABC-SMC 的容差 epsilon（逐代下降）与有效样本量。",
    ),
    "cap_effects": (
        "Each pattern's mean effect over seeds with its 95% interval, with and without its mechanism "
        "(knock-out); the bar marks δ, the smallest effect that counts.",
        "各模式在各种子上的平均效应及其95%区间（启用与关闭机制）；竖线为 δ，即计入的最小效应。",
    ),
    "cap_verdicts": (
        "Verdicts of the experiments and of their knock-outs (a knock-out should fail).",
        "各实验及其敲除实验的判定（敲除实验应不成立）。",
    ),
    "cap_front": (
        "Robust value against weekly cost: the front's portfolios joined by cost, the budget_frontier "
        "arms as crosses.",
        "稳健值与每周成本：前沿组合按成本连线，预算前沿方案以叉号表示。",
    ),
    "cap_portfolios": (
        "Lever intensities of up to eight portfolios of the front, from cheapest to dearest.",
        "前沿上至多八个举措组合的各举措强度，按成本由低到高。",
    ),
    "cap_draws": (
        "{metric} of each portfolio in every uncertainty draw (one community each), by community type.",
        "各举措组合在每次不确定性抽样（各为单个社区）中的{metric}，按社区类型分组。",
    ),
    "prior": ("prior", "先验"),
    "interval90": ("90% interval", "90% 区间"),
    "median": ("median", "中位数"),
    "target_sd": ("target ± 2 sd", "目标 ± 2 倍标准差"),
    "plausible": ("plausibility range", "合理性范围"),
    "predictive": ("posterior predictive", "后验预测"),
    "generation": ("Generation", "代"),
    "ess": ("Effective sample size", "有效样本量"),
    "experiment": ("experiment", "实验"),
    "knockout": ("knock-out", "敲除实验"),
    "delta": ("δ", "δ"),
    "effect_axis": ("Effect (pattern's own unit)", "效应（各模式自身单位）"),
    "arms": ("budget_frontier arms", "预算前沿方案"),
    "front": ("front", "前沿"),
    "intensity": ("Intensity", "强度"),
    "type": ("Community type", "社区类型"),
    "no_lever": ("no lever", "不启用举措"),
    "none": ("none", "无"),
}


def _t(key: str, lang: str, **fields: object) -> str:
    return translate(_T, key, lang, **fields)


@dataclass
class KindSource:
    """The files of one calibration, validation or optimisation folder."""

    path: Path
    kind: str
    tables: dict[str, pd.DataFrame]
    record: dict[str, Any] = field(default_factory=dict)
    #: provenance blocks of the folder's JSON records: "run" for the command that wrote the results,
    #: "history" for the one that started a calibration's history (calibration.json)
    provenance: list[dict[str, Any]] = field(default_factory=list)


def detect(path: str | Path) -> tuple[Path, str] | None:
    """(folder, kind) when ``path`` is such a folder (or one of its files), else None."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    for kind, (_, markers, needed, extra) in KINDS.items():
        ours = path.is_dir() or path.name in (*markers, *needed, *extra)
        if ours and any((folder / m).is_file() for m in markers):
            return folder, kind
    return None


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"PATH={path} is not readable JSON ({exc.__class__.__name__}); {ALLOWED}") from None
    if not isinstance(data, dict):
        raise ValueError(f"PATH={path} is not a JSON object; {ALLOWED}")
    return data


def read_kind(folder: str | Path, kind: str) -> KindSource:
    """The tables (by file stem) and JSON record of a ``kind`` folder; one-line errors naming it."""
    from sim.results import read_parquet

    folder = Path(folder)
    command, _, needed, extra = KINDS[kind]
    missing = [name for name in needed if not (folder / name).is_file()]
    if missing and kind == "optimisation" and (folder.parent / "pareto.parquet").is_file():
        raise FileNotFoundError(
            f"PATH={folder} is the re-evaluation inside a sim-optimise folder; allowed: that folder, "
            f"{folder.parent} (or sim-discover {folder} CONDITION)"
        )
    if missing:
        raise FileNotFoundError(
            f"PATH={folder} is a {command} folder without {', '.join(missing)} (not finished, or not the "
            f"folder {command} wrote); {ALLOWED}"
        )
    found = [n for n in (*needed, *extra) if (folder / n).is_file()]
    tables = {}
    for name in (n for n in found if n.endswith(".parquet")):
        try:
            tables[Path(name).stem] = table = read_parquet(folder / name)
        except ValueError as exc:  # damaged: one line naming the file
            raise ValueError(f"{exc}; allowed: the files {command} wrote, unedited") from None
        lacking = [c for c in COLUMNS.get(name, ()) if c not in table.columns]
        if lacking:
            raise ValueError(
                f"PATH={folder / name} has no column {lacking[0]!r}, so {command} did not write it; "
                f"allowed: the files {command} wrote, unedited"
            )
    records = {Path(n).stem: _json(folder / n) for n in found if n.endswith(".json")}
    record = records.get("summary") or records.get("optimise") or {}
    if kind == "calibration":
        record = {**record, "spec": records.get("calibration", {})}
    provenance = [
        {**r["provenance"], "origin": "history" if stem == "calibration" else "run"}
        for stem, r in records.items()
        if isinstance(r.get("provenance"), dict)
    ]
    return KindSource(folder, kind, tables, record, provenance)


def _g(value: float) -> str:
    return f"{value:.3g}" if math.isfinite(value) else "–"


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%" if math.isfinite(value) else "–"


def _names(items: list[str], lang: str, limit: int = 3) -> str:
    items = list(dict.fromkeys(items))
    shown = ("、" if lang == "zh" else ", ").join(items[:limit])
    return shown + (" " + _t("more", lang, n=len(items) - limit) if len(items) > limit else "")


def _levers(row: pd.Series, keys: list[str], lang: str) -> str:
    """A portfolio's decisions in words: "Embedding 80%, Linking 40%" (intensities above 0.5%)."""
    parts = []
    for key in keys:
        value = float(row[key])
        bits = key.split(".")
        if len(bits) == 3 and bits[2] == "intensity":
            if value >= 0.005:
                parts.append(f"{domain_word(LEVER_WORDS, bits[1], lang)} {_pct(value)}")
        else:
            parts.append(f"{plots.param_label(key, lang)} {_g(value)}")
    return ("，" if lang == "zh" else ", ").join(parts) or _t("no_lever", lang)


def _statistic_bounds(metric: str, statistic: str) -> tuple[float, float]:
    """The range of a statistic of a metric: the metric's own, N times it for ``sum_last_N``."""
    lo, hi = bounds_of(metric)
    if statistic.startswith("sum_last_"):
        n = int(statistic.rsplit("_", 1)[1])
        return lo * n, hi * n
    return float(lo), float(hi)


def _quantiles(values: np.ndarray, bounds: tuple[float, float], qs=(0.05, 0.5, 0.95)) -> list[float]:
    """Quantiles of ``values`` (NaN left out) kept inside ``bounds``."""
    values = values[np.isfinite(values)]
    if not values.size:
        return [math.nan] * len(qs)
    return [float(np.clip(q, *bounds)) for q in np.quantile(values, qs)]


def _scenario_title(name: str, lang: str) -> str:
    """A scenario's (community type's) title from its config file, or its name."""
    import yaml

    from sim.experiment.compose import CONFIG_DIR

    try:
        data = yaml.safe_load((CONFIG_DIR / "scenario" / f"{name}.yaml").read_text(encoding="utf-8"))
        return str(data["scenario"][f"title_{lang}"])
    except (OSError, KeyError, TypeError, ValueError):
        return story.arm_title(name, lang)


def _drop_empty(table: pd.DataFrame) -> pd.DataFrame:
    """The table without columns that hold no value in any row."""
    empty = [
        c
        for c in table.columns
        if table[c].map(lambda v: v is None or str(v).strip() in ("", "nan", "—")).all()
    ]
    return table.drop(columns=empty)


def _interval(mid: float, low: float, high: float) -> str:
    return f"{_g(mid)} [{_g(low)}, {_g(high)}]"


Figure = tuple[str, go.Figure, str]


def _dot_intervals(
    rows: list[tuple[str, float, float, float]], name: str, colour: str, **marker: Any
) -> go.Scatter:
    """One trace of dots (``mid``) with horizontal intervals [low, high], one row per category."""
    ys, mids, lows, highs = (list(col) for col in zip(*rows, strict=True)) if rows else ([], [], [], [])
    return go.Scatter(
        x=mids,
        y=ys,
        mode="markers",
        name=name,
        marker={"color": colour, "size": 10, **marker},
        error_x={
            "type": "data",
            "symmetric": False,
            "color": colour,
            "thickness": 2,
            "array": [h - m for h, m in zip(highs, mids, strict=True)],
            "arrayminus": [m - lo for m, lo in zip(mids, lows, strict=True)],
        },
    )
