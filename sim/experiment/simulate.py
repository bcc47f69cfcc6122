"""Running one parameter point: replicates with common random numbers, tidy tables, a summary.

This is the library API behind ``sim-run``; notebooks can call :func:`simulate` directly::

    from sim.core.config import from_dict
    from sim.experiment.simulate import simulate
    result = simulate(from_dict({"community": {"preset": "workshop"}, "replicates": 3}))
    result.metrics.groupby("step").satisfaction.mean()

Stopping: Ctrl-C (or, under ``sim-run``, SIGINT/SIGTERM via
:func:`sim.experiment.stopping.stop_on_signals`) during
:func:`simulate` raises :class:`RunInterrupted`, a ``KeyboardInterrupt`` that carries the
replicates that had finished, so that a caller can keep them (``sim-run`` writes them as a
run marked incomplete).
"""

from __future__ import annotations

import dataclasses
import math
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis import stats
from sim.core.config import Config, validate
from sim.core.levers import LEVERS
from sim.core.params import flatten
from sim.experiment import ensemble
from sim.experiment.ensemble import Job
from sim.results.provenance import provenance

GAIN_METRICS = ("satisfaction", "participation", "trust")


def replicate_seeds(seed: int, replicates: int) -> list[np.random.SeedSequence]:
    """Seeds of replicates 0..R-1: the same at every parameter point (common random numbers)."""
    return np.random.SeedSequence(seed).spawn(replicates)


def structure_of(cfg: Config, replicate: int) -> tuple[Config, int]:
    """The config replicate ``replicate`` runs and the index of its community structure.

    Replicates share the community seed (structure 0) unless ``community.vary_structure``:
    then every ``community.runs_per_structure`` consecutive replicates share a structure seed
    spawned from ``community.seed``, so that the summary can tell structural spread (between
    structures) from behavioural spread (within one).
    """
    c = cfg.community
    if not c.vary_structure:
        return cfg, 0
    index = replicate // c.runs_per_structure
    state = np.random.SeedSequence(c.seed, spawn_key=(index,)).generate_state(1, np.uint64)[0]
    seed = int(state >> np.uint64(1))  # within the parameter's range [0, 2**63 - 1]
    return dataclasses.replace(cfg, community=dataclasses.replace(c, seed=seed)), index


def baseline_of(cfg: Config) -> Config:
    """The same community and dynamics with every lever switched off."""
    base = dataclasses.replace(cfg, levers=dataclasses.replace(cfg.levers))
    for name in LEVERS:
        setattr(base.levers, name, dataclasses.replace(getattr(cfg.levers, name), intensity=0.0))
    return base


def has_levers(cfg: Config) -> bool:
    return any(getattr(cfg.levers, name).intensity > 0 for name in LEVERS)


@dataclass
class RunResult:
    """Tables of one parameter point: per replicate × step, and per building for maps."""

    metrics: pd.DataFrame
    buildings: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    #: wall-clock seconds the replicates took; kept out of ``summary`` so that summary.json is
    #: bit-identical between identical runs (sim-run logs it instead)
    elapsed_seconds: float = math.nan


def jobs_of(cfg: Config, replicates: Sequence[int] | None = None, key: Any = None) -> list[Job]:
    """The ensemble jobs of a parameter point: each replicate, and its paired baseline if compared.

    A job's ``key`` is ``(key, replicate, is_baseline)``. Baselines share their replicate's
    seed and structure (common random numbers), so a gain is a paired difference.
    """
    seeds = replicate_seeds(cfg.seed, cfg.replicates)
    base_cfg = dataclasses.replace(baseline_of(cfg), record_buildings=False) if compares(cfg) else None
    jobs = []
    for r in range(cfg.replicates) if replicates is None else replicates:
        run_cfg, structure = structure_of(cfg, r)
        jobs.append(Job(run_cfg, seeds[r], r, structure, (key, r, False)))
        if base_cfg is not None:
            jobs.append(Job(structure_of(base_cfg, r)[0], seeds[r], r, structure, (key, r, True)))
    return jobs


def compares(cfg: Config) -> bool:
    """Whether a point's replicates are paired with baselines (a lever is on and comparison asked)."""
    return cfg.baseline_comparison and has_levers(cfg)


class PointTables:
    """Collects one point's job results as they come and assembles the point when all are in."""

    def __init__(self, cfg: Config, which: Sequence[int]) -> None:
        self.cfg = cfg
        self.which = list(which)
        self.compare = compares(cfg)
        self.runs: dict[int, ensemble.JobResult] = {}
        self.baselines: dict[int, ensemble.JobResult] = {}
        self.started = time.perf_counter()

    def add(self, result: ensemble.JobResult) -> None:
        _, replicate, is_baseline = result.job.key
        (self.baselines if is_baseline else self.runs)[replicate] = result

    def done(self) -> list[int]:
        """Replicates whose run (and baseline, if paired) have finished, in order."""
        return [r for r in self.which if r in self.runs and (not self.compare or r in self.baselines)]

    @property
    def complete(self) -> bool:
        return len(self.done()) == len(self.which)

    def result(self) -> RunResult | None:
        """The point's tables and summary from the replicates done (None if none is)."""
        metric_frames, building_frames = [], []
        for r in self.done():
            metrics = self.runs[r].metrics
            if self.compare:
                add_gains(metrics, self.baselines[r].metrics)
            else:
                # no lever on: the run is its own baseline (gain 0); comparison switched off: unknown
                add_gains(metrics, None, unknown=has_levers(self.cfg))
            metric_frames.append(metrics)
            building_frames.append(self.runs[r].buildings)
        if not metric_frames:
            return None
        return _assemble(self.cfg, metric_frames, building_frames, self.started)


def run_replicate(
    cfg: Config, replicate: int, seed: np.random.SeedSequence
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run one replicate to its horizon (an ensemble of one); return its metrics and building tables."""
    cfg, structure = structure_of(cfg, replicate)
    (result,) = ensemble.run([Job(cfg, seed, replicate, structure)])
    return result.metrics, result.buildings


def simulate(cfg: Config, replicates: range | None = None, memory_mb: float | None = None) -> RunResult:
    """Run every replicate of ``cfg`` (or those in ``replicates``) and summarise them.

    The replicates and their paired baselines run as ensembles (:mod:`sim.experiment.ensemble`)
    within ``memory_mb`` (default: :func:`sim.experiment.ensemble.memory_budget_mb`); the
    results do not depend on it. Raises :class:`RunInterrupted` (with the finished replicates)
    when interrupted.
    """
    validate(cfg)
    which = list(range(cfg.replicates) if replicates is None else replicates)
    point = PointTables(cfg, which)
    try:
        for result in ensemble.run(jobs_of(cfg, which), memory_mb):
            point.add(result)
    except KeyboardInterrupt as exc:
        done = point.done()
        raise RunInterrupted(
            getattr(exc, "signum", signal.SIGINT), point.result(), done, [r for r in which if r not in done]
        ) from None
    result = point.result()
    assert result is not None, "a point has at least one replicate"
    return result


def _assemble(
    cfg: Config, metric_frames: list[pd.DataFrame], building_frames: list[pd.DataFrame], started: float
) -> RunResult:
    """The tables and summary of the replicates that ran."""
    metrics = pd.concat(metric_frames, ignore_index=True)
    buildings = pd.concat(building_frames, ignore_index=True) if building_frames else pd.DataFrame()
    params = pd.DataFrame({key: [value] * len(metrics) for key, value in flatten(cfg).items()})
    metrics = pd.concat([metrics, params], axis=1)
    summary = summarise(metrics, cfg)
    return RunResult(metrics, buildings, summary, elapsed_seconds=time.perf_counter() - started)


# ------------------------------------------------------------------------------ stopping cleanly
# (the signal handling itself is in sim.experiment.stopping)
class RunInterrupted(KeyboardInterrupt):
    """:func:`simulate` was stopped; ``partial`` holds the replicates that finished (or None)."""

    def __init__(self, signum: int, partial: RunResult | None, done: list[int], missing: list[int]) -> None:
        super().__init__(f"{signal.Signals(signum).name}: {len(done)} of {len(done) + len(missing)} done")
        self.signum = int(signum)
        self.partial = partial
        self.done = list(done)
        self.missing = list(missing)
        self.where: object = None  # the run directory the finished replicates were written to

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name


def add_gains(metrics: pd.DataFrame, baseline: pd.DataFrame | None, unknown: bool = False) -> None:
    """Gains over the paired baseline replicate and satisfaction gained per unit cost.

    Without a baseline the gains are 0 (the run is the baseline) or, with ``unknown``, NaN.
    """
    for name in GAIN_METRICS:
        if baseline is not None:
            metrics[f"{name}_gain"] = metrics[name].to_numpy() - baseline[name].to_numpy()
        else:
            metrics[f"{name}_gain"] = np.nan if unknown else 0.0
    cost = metrics["cost"].to_numpy()
    gain = metrics["satisfaction_gain"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        metrics["cost_effectiveness"] = np.where(cost > 0, gain / cost, np.nan)


def metric_columns(df: pd.DataFrame) -> list[str]:
    """The metric columns of a run table (not ids or parameters)."""
    from sim.core.metrics import METRICS

    extra = [f"{m}_gain" for m in GAIN_METRICS] + ["cost_effectiveness"]
    return [c for c in [*METRICS, *extra] if c in df.columns]


#: metrics whose interval half-width decides whether a run had replicates enough
SUFFICIENCY_METRICS = ("participation", "satisfaction", "trust")


def replication(final: pd.DataFrame, replicates: int, half_width: float) -> dict[str, Any]:
    """Replicates needed for a 95% interval for the mean of ``half_width`` on each proportion.

    Other metrics are judged at ``half_width`` times their range (or their mean when unbounded)
    and are listed but do not decide ``sufficient``, which looks at :data:`SUFFICIENCY_METRICS`.
    """
    needed: dict[str, int] = {}
    for name in metric_columns(final):
        values = final[name].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if values.size < 2:
            continue
        lo, hi = stats.bounds_of(name)
        scale = hi - lo if math.isfinite(hi - lo) else abs(float(values.mean()))
        if scale > 0:
            needed[name] = stats.replicates_needed(float(values.std(ddof=1)), half_width * scale)
    deciding = {m: needed[m] for m in SUFFICIENCY_METRICS if m in needed}
    most = max(deciding.values()) if deciding else None
    limiting = max(deciding, key=deciding.__getitem__) if deciding else None
    return {
        "half_width": half_width,
        "level": stats.DEFAULT_LEVEL,
        "replicates": replicates,
        "needed": most,
        "limiting_metric": limiting,
        "sufficient": None if most is None else replicates >= most,
        "by_metric": needed,
    }


def replication_warning(summary: dict[str, Any]) -> str | None:
    """One line when a run had too few replicates for its interval half-width, else None."""
    rep = summary.get("replication") or {}
    if rep.get("sufficient") is not False:
        return None
    return (
        f"warning: {rep['replicates']} replicates are too few for a 95% interval for the mean of "
        f"±{rep['half_width']:g} on {', '.join(m for m in SUFFICIENCY_METRICS if m in rep['by_metric'])} "
        f"({rep['limiting_metric']} needs {rep['needed']}); run with replicates={rep['needed']}"
    )


def summarise(metrics: pd.DataFrame, cfg: Config) -> dict[str, Any]:
    """Final-step statistics of every metric across replicates, plus run facts.

    Each metric has ``n``, ``mean``, ``sd``, ``low``/``high`` (the 95% interval for the mean,
    ``kind`` "mean") and ``prediction`` (the 95% prediction interval for one community), both
    inside the metric's range (:mod:`sim.analysis.stats`). ``replication`` says how many
    replicates the chosen ``interval_half_width`` needs.
    """
    final = metrics[metrics["step"] == metrics["step"].max()]
    names = metric_columns(metrics)
    table = stats.describe_many(
        {name: final[name].to_numpy() for name in names}, {name: stats.bounds_of(name) for name in names}
    )
    budget_bound_steps = metrics.groupby("replicate")["budget_bound"].sum().mean()
    replicates = int(metrics["replicate"].nunique())
    out = {
        "scenario": cfg.scenario.name,
        "preset": cfg.community.preset,
        "seed": cfg.seed,
        "steps": cfg.steps,
        "replicates": replicates,
        "budget_bound_steps": float(budget_bound_steps),
        "total_cost": float(metrics.groupby("replicate")["cost"].sum().mean()),
        "final": table,
        "provenance": provenance(
            {"seed": cfg.seed, "replicate_streams": "SeedSequence(seed).spawn(replicates)"}
        ),
        "replication": replication(final, replicates, cfg.interval_half_width),
    }
    if cfg.community.vary_structure and "structure" in final:
        out["structure"] = structural_spread(final, metric_columns(metrics))
    return out


def structural_spread(final: pd.DataFrame, names: list[str]) -> dict[str, Any]:
    """Between-structure and within-structure (behavioural) sd of each final metric.

    A one-way random-effects analysis of variance with structures as groups: the behavioural
    variance is the within-structure mean square, the structural variance (MS_between −
    MS_within) / runs per structure, floored at 0. Both are spreads of one community's outcome,
    not intervals for the mean. NaN where a part cannot be estimated (one run per structure,
    or a single structure).
    """
    groups = final.groupby("structure")
    sizes = groups.size().to_numpy()
    k, n = sizes.size, int(sizes.sum())
    out: dict[str, Any] = {"structures": int(k), "runs_per_structure": float(sizes.mean()) if k else 0.0}
    for name in names:
        values = final[name].to_numpy(dtype=np.float64)
        if not np.isfinite(values).all():
            out[name] = {"structural_sd": math.nan, "behavioural_sd": math.nan}
            continue
        means = groups[name].mean().to_numpy()
        within = float(((values - groups[name].transform("mean").to_numpy()) ** 2).sum())
        ms_within = within / (n - k) if n > k else math.nan
        ms_between = float((sizes * (means - values.mean()) ** 2).sum()) / (k - 1) if k > 1 else math.nan
        between = max(0.0, (ms_between - ms_within) / float(sizes.mean())) if k > 1 and n > k else math.nan
        out[name] = {
            "structural_sd": math.sqrt(between) if math.isfinite(between) else math.nan,
            "behavioural_sd": math.sqrt(ms_within) if math.isfinite(ms_within) else math.nan,
        }
    return out
