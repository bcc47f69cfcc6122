"""``sim-report`` on the folders of ``sim-calibrate``, ``sim-validate`` and ``sim-optimise``.

:func:`detect` tells such a folder by the files its command writes; :func:`read_kind` loads
them (one line naming the path when a file is missing or unreadable); :func:`takeaways` says
in three to five sentences, in English or Chinese, what the files show; :func:`figures` draws
the figures chosen for the kind; :func:`build_page` makes the page: takeaways, what was run,
figures, tables and the provenance footer of :mod:`sim.present.report`.

- calibration: each key's posterior median and central 90% credible interval against its
  prior and how much the data narrowed it; each target against its posterior predictive
  median and 90% interval (for one simulated observation, measurement noise included, kept in
  the metric's range); generations, particles, final epsilon and ESS, with a warning when few.
- validation: how many patterns hold, fail or are inconclusive, whether each knock-out
  removes its pattern, and the seeds each verdict rests on.
- optimisation: the robust front, its portfolio with the best worst case (or least regret),
  its cheapest portfolio, the budget_frontier arms it beats, and the uncertainty draws.

The three kinds share reading, the page and the footer, so they live in one module; its length
is mostly the English/Chinese string table (``_T``).
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.analysis.stats import bounds_of
from sim.core.metrics import label
from sim.present import plots, story
from sim.vocab import LEVER_WORDS, check_lang, domain_word, translate

__all__ = ["KINDS", "KindSource", "build_page", "detect", "figures", "read_kind", "tables", "takeaways"]

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


# ------------------------------------------------------------------------------ reading
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


# ------------------------------------------------------------------------------ words and numbers
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


# ------------------------------------------------------------------------------ calibration
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


def _calibration_takeaways(src: KindSource, lang: str) -> list[str]:
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


# ------------------------------------------------------------------------------ validation
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


def _validation_takeaways(src: KindSource, lang: str) -> list[str]:
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


# ------------------------------------------------------------------------------ optimisation
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


def _optimisation_takeaways(src: KindSource, lang: str) -> list[str]:
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


def takeaways(src: KindSource, lang: str = "en") -> list[str]:
    """Three to five plain sentences about a calibration, validation or optimisation folder."""
    check_lang(lang)
    make = {
        "calibration": _calibration_takeaways,
        "validation": _validation_takeaways,
        "optimisation": _optimisation_takeaways,
    }[src.kind]
    return make(src, lang)[:5]


# ------------------------------------------------------------------------------ facts and tables
def facts(src: KindSource, lang: str) -> list[tuple[str, str]]:
    """(label, plain text) rows of "What was run" for the folder."""
    from sim.present.report import _t as rt

    rec = src.record
    rows = [(rt("kind", lang), _t(f"kind_{src.kind}", lang)), (rt("source", lang), str(src.path))]
    if src.kind == "calibration":
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
    elif src.kind == "validation":
        table = src.tables["validation"]
        rows += [
            (_t("f_patterns", lang), str(len(table))),
            (_t("f_seeds", lang), f"{int(table['seeds'].min())} ({table['seed'].iloc[0]})"),
        ]
    else:
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


def tables(src: KindSource, lang: str) -> list[tuple[str, pd.DataFrame]]:
    """(title, table) of the folder's numbers, empty columns left out."""
    out: list[tuple[str, pd.DataFrame]] = []
    if src.kind == "calibration":
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
                            _t("c_pred", lang): [
                                _interval(r.median, r.low, r.high) for r in checks.itertuples()
                            ],
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
    elif src.kind == "validation":
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
    else:
        out += _optimisation_tables(src, lang)
    return [(title, table.head(MAX_TABLE_ROWS)) for title, table in out]


def _optimisation_tables(src: KindSource, lang: str) -> list[tuple[str, pd.DataFrame]]:
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


# ------------------------------------------------------------------------------ figures
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


def _calibration_figures(src: KindSource, lang: str) -> list[Figure]:
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


_VERDICT_COLOURS = {"holds": plots.PALETTE[2], "fails": plots.PALETTE[3], "inconclusive": plots.PALETTE[1]}


def _validation_figures(src: KindSource, lang: str) -> list[Figure]:
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


def _shown_policies(front: pd.DataFrame) -> pd.DataFrame:
    """At most eight portfolios of the front, spread from the cheapest to the dearest."""
    front = front.sort_values("weekly_cost", kind="stable").reset_index(drop=True)
    if len(front) <= story.MAX_SERIES:
        return front
    picks = np.unique(np.linspace(0, len(front) - 1, story.MAX_SERIES).round().astype(int))
    return front.iloc[picks].reset_index(drop=True)


def _optimisation_figures(src: KindSource, lang: str) -> list[Figure]:
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


def figures(src: KindSource, lang: str = "en") -> list[Figure]:
    """(name, figure, caption) of the figures chosen for the folder's kind (≤ 8 series a chart)."""
    make = {
        "calibration": _calibration_figures,
        "validation": _validation_figures,
        "optimisation": _optimisation_figures,
    }[src.kind]
    return make(src, lang)


# ------------------------------------------------------------------------------ the page
def build_page(src: KindSource, lang: str = "en", figs: list[Figure] | None = None) -> str:
    """The report as one HTML string: takeaways, what was run, figures, tables, provenance."""
    from sim.present import report

    check_lang(lang)
    figs = figures(src, lang) if figs is None else figs
    title = report._t("title", lang, name=src.path.name or str(src.path))
    points = "".join(f"<li>{html.escape(p)}</li>" for p in takeaways(src, lang))
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts(src, lang)
    )
    blocks = []
    for i, (key, fig, caption) in enumerate(figs):
        div = fig.to_html(
            full_html=False,
            include_plotlyjs=(i == 0),
            div_id=f"figure-{key}",
            config={"displaylogo": False, "responsive": True},
        )
        blocks.append(
            f'<figure id="fig-{html.escape(key)}">{div}'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    parts = [
        f"<h3>{html.escape(name)}</h3>"
        + table.to_html(index=False, classes=f"summary {src.kind}", border=0, escape=True)
        for name, table in tables(src, lang)
    ]
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    made = report._t("generated", lang, when=when, path=str(src.path), version=report._version())
    return f"""<!DOCTYPE html>
<html lang="{"zh-CN" if lang == "zh" else "en"}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{report._CSS}</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<h2>{report._t("takeaways", lang)}</h2>
<ul class="takeaways">{points}</ul>
<h2>{report._t("what", lang)}</h2>
<table class="facts">{rows}</table>
<h2>{report._t("figures", lang)}</h2>
{"".join(blocks)}
<h2>{_t("tables", lang)}</h2>
{"".join(parts)}
<footer><p>{html.escape(made)}</p>
{report.provenance_html(src.provenance, lang)}</footer>
</body>
</html>
"""
