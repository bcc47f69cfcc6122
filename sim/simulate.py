"""Running one parameter point: replicates with common random numbers, tidy tables, a summary.

This is the library API behind ``sim-run``; notebooks can call :func:`simulate` directly::

    from sim.config import from_dict
    from sim.simulate import simulate
    result = simulate(from_dict({"community": {"preset": "workshop"}, "replicates": 3}))
    result.metrics.groupby("step").satisfaction.mean()
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.config import Config, validate
from sim.levers import LEVERS
from sim.model import CommunityModel

GAIN_METRICS = ("satisfaction", "participation", "trust")


def replicate_seeds(seed: int, replicates: int) -> list[np.random.SeedSequence]:
    """Seeds of replicates 0..R-1: the same at every parameter point (common random numbers)."""
    return np.random.SeedSequence(seed).spawn(replicates)


def baseline_of(cfg: Config) -> Config:
    """The same community and dynamics with every lever switched off."""
    base = dataclasses.replace(cfg, levers=dataclasses.replace(cfg.levers))
    for name in LEVERS:
        setattr(base.levers, name, dataclasses.replace(getattr(cfg.levers, name), intensity=0.0))
    return base


def has_levers(cfg: Config) -> bool:
    return any(getattr(cfg.levers, name).intensity > 0 for name in LEVERS)


def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted keys → scalar values of a config tree (lists become key[i])."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            out.update(flatten(value, key + "."))
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                out[f"{key}[{i}]"] = item
        else:
            out[key] = value
    return out


@dataclass
class RunResult:
    """Tables of one parameter point: per replicate × step, and per building for maps."""

    metrics: pd.DataFrame
    buildings: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def run_replicate(
    cfg: Config, replicate: int, seed: np.random.SeedSequence
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run one replicate to its horizon; return its metrics and building tables."""
    model = CommunityModel(cfg, rng=seed)
    model.run()
    metrics = model.recorder.frame()
    metrics.insert(0, "replicate", np.int32(replicate))
    buildings = model.recorder.building_frame(model)
    if not buildings.empty:
        buildings.insert(0, "replicate", np.int32(replicate))
    return metrics, buildings


def simulate(cfg: Config, replicates: range | None = None) -> RunResult:
    """Run every replicate of ``cfg`` (or those in ``replicates``) and summarise them."""
    validate(cfg)
    started = time.perf_counter()
    seeds = replicate_seeds(cfg.seed, cfg.replicates)
    which = range(cfg.replicates) if replicates is None else replicates
    compare = cfg.baseline_comparison and has_levers(cfg)
    base_cfg = dataclasses.replace(baseline_of(cfg), record_buildings=False) if compare else None
    metric_frames, building_frames = [], []
    for r in which:
        metrics, buildings = run_replicate(cfg, r, seeds[r])
        if base_cfg is not None:
            base, _ = run_replicate(base_cfg, r, seeds[r])
            add_gains(metrics, base)
        else:
            # no lever on: the run is its own baseline (gain 0); comparison switched off: unknown
            add_gains(metrics, None, unknown=has_levers(cfg))
        metric_frames.append(metrics)
        building_frames.append(buildings)
    metrics = pd.concat(metric_frames, ignore_index=True)
    buildings = pd.concat(building_frames, ignore_index=True) if building_frames else pd.DataFrame()
    params = pd.DataFrame({key: [value] * len(metrics) for key, value in flatten(cfg).items()})
    metrics = pd.concat([metrics, params], axis=1)
    summary = summarise(metrics, cfg, elapsed=time.perf_counter() - started)
    return RunResult(metrics=metrics, buildings=buildings, summary=summary)


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


def interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float]:
    """Mean, standard deviation and the t-based confidence interval of the mean."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return (math.nan,) * 4
    mean = float(x.mean())
    if n == 1:
        return mean, 0.0, mean, mean
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n))
    return mean, sd, mean - half, mean + half


def metric_columns(df: pd.DataFrame) -> list[str]:
    """The metric columns of a run table (not ids or parameters)."""
    from sim.metrics import METRICS

    extra = [f"{m}_gain" for m in GAIN_METRICS] + ["cost_effectiveness"]
    return [c for c in [*METRICS, *extra] if c in df.columns]


def summarise(metrics: pd.DataFrame, cfg: Config, elapsed: float = math.nan) -> dict[str, Any]:
    """Final-step mean, sd and 95% interval of every metric across replicates, plus run facts."""
    final = metrics[metrics["step"] == metrics["step"].max()]
    table = {}
    for name in metric_columns(metrics):
        mean, sd, lo, hi = interval(final[name].to_numpy())
        table[name] = {"mean": mean, "sd": sd, "ci95_low": lo, "ci95_high": hi}
    budget_bound_steps = metrics.groupby("replicate")["budget_bound"].sum().mean()
    return {
        "scenario": cfg.scenario.name,
        "preset": cfg.community.preset,
        "seed": cfg.seed,
        "steps": cfg.steps,
        "replicates": int(metrics["replicate"].nunique()),
        "budget_bound_steps": float(budget_bound_steps),
        "total_cost": float(metrics.groupby("replicate")["cost"].sum().mean()),
        "elapsed_seconds": elapsed,
        "final": table,
    }
