"""One measurement in a fresh process, so that peak memory belongs to that measurement alone.

    python -m benchmarks.worker model --preset metro --steps 104 --repeats 1
    python -m benchmarks.worker reference --preset community --steps 20
    python -m benchmarks.worker compiled-reference --preset community --steps 1000
    python -m benchmarks.worker points --repeats 2 --points '[["community=workshop"]]'
    python -m benchmarks.worker ensemble --preset workshop --steps 104 --points 24 --replicates 5

Prints one JSON object on its last line of stdout. The orchestrator (:mod:`benchmarks.bench`)
starts these; they are also handy on their own when profiling one preset.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from sim.core.levers import LEVERS

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports ru_maxrss in KiB)."""
    scale = 1024.0 if sys.platform != "darwin" else 1024.0 * 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def current_rss_mb() -> float:
    """Resident memory now, in MiB (from /proc; the peak so far where /proc is missing)."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return peak_rss_mb()


def compose(overrides: list[str]):
    """The validated :class:`sim.core.config.Config` that ``sim-run overrides`` would run."""
    from sim.experiment.compose import compose as compose_overrides
    from sim.experiment.compose import to_config

    cfg = compose_overrides(overrides)
    return cfg, to_config(cfg)


def preset_config(preset: str, **overrides: Any):
    """The validated config of a size preset with all six levers on (no Hydra needed)."""
    from omegaconf import OmegaConf

    from sim.core.config import from_dict
    from sim.experiment.compose import CONFIG_DIR

    community = OmegaConf.to_container(OmegaConf.load(CONFIG_DIR / "community" / f"{preset}.yaml"))
    levers = {name: {"intensity": 1.0} for name in LEVERS}
    return from_dict({"community": community, "levers": levers, **overrides})


def timings(runs: list[float], households: int, steps: int) -> dict[str, float]:
    """Best and median of repeated runs, and the best as time per step and household-steps/s."""
    best = min(runs)
    return {
        "run_seconds": best,
        "run_seconds_median": float(np.median(runs)),
        "step_seconds": best / steps,
        "household_steps_per_second": households * steps / best,
    }


def measure_model(preset: str, steps: int, repeats: int, seed: int) -> dict[str, Any]:
    """Build and run ``preset`` with all six levers on, ``repeats`` times; best and median times."""
    from sim.core.model import CommunityModel

    cfg = preset_config(preset, steps=steps)
    rss_before = current_rss_mb()
    # Untimed: the compiled kernels are loaded from numba's cache (or compiled) on first use,
    # once per process; a sweep's worker pays it once for all its runs.
    t0 = time.perf_counter()
    CommunityModel(preset_config("workshop", steps=1), rng=seed).run(1)
    kernel_load = time.perf_counter() - t0
    builds, runs, agents = [], [], []
    households = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        model = CommunityModel(cfg, rng=seed)  # the same community every repeat
        t1 = time.perf_counter()
        model.run(steps)
        t2 = time.perf_counter()
        n_agents = len(model.agents)  # materialises the Mesa agents if they are made on demand
        t3 = time.perf_counter()
        households = model.community.n_households
        builds.append(t1 - t0)
        runs.append(t2 - t1)
        agents.append(t3 - t2)
        del model
    return {
        "preset": preset,
        "households": households,
        "agents": n_agents,
        "steps": steps,
        "repeats": repeats,
        "build_seconds": min(builds),
        "agents_on_demand_seconds": min(agents),
        "kernel_load_seconds": kernel_load,
        **timings(runs, households, steps),
        "rss_after_imports_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
    }


def measure_reference(preset: str, steps: int, repeats: int, seed: int) -> dict[str, Any]:
    """Build and run the per-agent reference model on the community of ``preset``; best of repeats.

    One warm-up step is left out of the timing, which makes the reference faster and the
    speed-up measured against it smaller.
    """
    from benchmarks.reference import ReferenceModel

    cfg = preset_config(preset)
    rss_before = current_rss_mb()
    builds, runs = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model = ReferenceModel(cfg, rng=seed)
        t1 = time.perf_counter()
        model.step()  # untimed: fills Mesa's neighbourhood caches (a cost a long run amortises)
        t1b = time.perf_counter()
        for _ in range(steps):
            model.step()
        t2 = time.perf_counter()
        builds.append(t1 - t0)
        runs.append(t2 - t1b)
        households = model.community.n_households
        del model
    return {
        "preset": preset,
        "households": households,
        "steps": steps,
        "repeats": repeats,
        "build_seconds": min(builds),
        **timings(runs, households, steps),
        "rss_after_imports_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
    }


def measure_compiled_reference(preset: str, steps: int, repeats: int, seed: int) -> dict[str, Any]:
    """Time the reference's update compiled (:mod:`benchmarks.compiled_reference`); best of repeats.

    The first step, which compiles the update or loads it from numba's cache, is left out.
    """
    from benchmarks.compiled_reference import CompiledReference

    cfg = preset_config(preset)
    runs = []
    for _ in range(repeats):
        model = CompiledReference(cfg, rng=seed)
        model.step()  # untimed: compilation, or loading the compiled update from the cache
        t0 = time.perf_counter()
        for _ in range(steps):
            model.step()
        runs.append(time.perf_counter() - t0)
        households = model.community.n_households
    return {
        "preset": preset,
        "households": households,
        "steps": steps,
        "repeats": repeats,
        **timings(runs, households, steps),
    }


def measure_points(points: list[list[str]], repeats: int) -> dict[str, Any]:
    """Time sweep jobs in-process: the same ``run_job`` a launcher calls, writing included.

    Each point is run ``repeats`` times after one untimed warm-up run (imports and caches, which
    a launcher's worker process pays once); its time is the best repeat.
    """
    from omegaconf import OmegaConf

    from sim.cli.run import run_job

    per_point = []
    with tempfile.TemporaryDirectory(prefix="bench-point-") as tmp:
        for i, overrides in enumerate(points):
            hydra_cfg, cfg = compose(overrides)
            config_yaml = OmegaConf.to_yaml(hydra_cfg)
            if i == 0:
                run_job(cfg, Path(tmp) / "warm-up", config_yaml)
            times = []
            for r in range(repeats):
                t0 = time.perf_counter()
                run_job(cfg, Path(tmp) / f"{i}-{r}", config_yaml)
                times.append(time.perf_counter() - t0)
            per_point.append(min(times))
    return {
        "points": points,
        "repeats": repeats,
        "point_seconds_each": per_point,
        "point_seconds": float(np.mean(per_point)),
        "peak_rss_mb": peak_rss_mb(),
    }


def ensemble_jobs(preset: str, steps: int, points: int, replicates: int, seed: int) -> list:
    """The jobs of a lever sweep: ``points`` random intensity settings × replicates, baselines paired.

    The intensities come from a fixed generator, so both paths of :func:`measure_ensemble` and
    every run of the suite time the same design.
    """
    import dataclasses

    from sim.experiment.simulate import jobs_of

    base = preset_config(preset, steps=steps, replicates=replicates, record_buildings=False)
    draws = np.random.default_rng(seed).random((points, len(LEVERS)))
    jobs = []
    for p, row in enumerate(draws):
        levers = dataclasses.replace(base.levers)
        for name, value in zip(LEVERS, row, strict=True):
            setattr(levers, name, dataclasses.replace(getattr(base.levers, name), intensity=float(value)))
        jobs += jobs_of(dataclasses.replace(base, levers=levers), key=p)
    return jobs


def measure_ensemble(
    preset: str, steps: int, points: int, replicates: int, repeats: int, seed: int
) -> dict[str, Any]:
    """One sweep's jobs run one at a time (the per-point path) and as ensembles, side by side.

    The two paths alternate (per-point, ensemble, per-point, …) so that both meet the same
    machine; each figure is the best of ``repeats``. Both give the same numbers (the suite
    checks a fingerprint of every job's final row), so the ratio is of speed alone.
    """
    from sim.experiment import ensemble

    jobs = ensemble_jobs(preset, steps, points, replicates, seed)
    households = community_households(jobs[0].cfg)
    list(ensemble.run(jobs[:2]))  # untimed: compiled kernels loaded, caches warm
    rss_before = current_rss_mb()
    times: dict[str, list[float]] = {"per_point": [], "ensemble": []}
    fingerprints: dict[str, float] = {}
    for _ in range(repeats):
        for path, max_members in (("per_point", 1), ("ensemble", ensemble.MAX_MEMBERS)):
            t0 = time.perf_counter()
            finals = [
                r.metrics.iloc[-1, 2:].to_numpy(dtype=float)
                for r in ensemble.run(jobs, max_members=max_members)
            ]
            times[path].append(time.perf_counter() - t0)
            fingerprints[path] = float(np.nansum(np.concatenate(finals)))
    if fingerprints["per_point"] != fingerprints["ensemble"]:
        raise RuntimeError(f"the two paths gave different numbers: {fingerprints}")
    member_steps = len(jobs) * households * steps
    best = {path: min(t) for path, t in times.items()}
    plan = ensemble.plan(jobs)
    return {
        "preset": preset,
        "households": households,
        "steps": steps,
        "points": points,
        "replicates": replicates,
        "jobs": len(jobs),
        "repeats": repeats,
        "ensembles": len(plan),
        "largest_ensemble": max(len(e) for e in plan),
        "memory_budget_mb": ensemble.memory_budget_mb(),
        "seconds": best,
        "household_steps_per_second": {path: member_steps / t for path, t in best.items()},
        "ratio": best["per_point"] / best["ensemble"],
        "rss_after_imports_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
    }


def community_households(cfg) -> int:
    """Households of ``cfg``'s community, from its shape (nothing built)."""
    from sim.core.community import community_shape

    return community_shape(cfg.community).households


def main(argv: list[str] | None = None) -> None:
    """Command line of one measurement; prints its JSON result."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.worker")
    parser.add_argument("kind", choices=("model", "reference", "compiled-reference", "points", "ensemble"))
    parser.add_argument("--preset", default="community")
    parser.add_argument("--steps", type=int, default=104)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument(
        "--points", default="[]", help="JSON list of override lists (points); a number of points (ensemble)"
    )
    parser.add_argument("--replicates", type=int, default=5, help="replicates per point (ensemble)")
    args = parser.parse_args(argv)
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    if args.kind == "model":
        result = measure_model(args.preset, args.steps, args.repeats, args.seed)
    elif args.kind == "reference":
        result = measure_reference(args.preset, args.steps, args.repeats, args.seed)
    elif args.kind == "compiled-reference":
        result = measure_compiled_reference(args.preset, args.steps, args.repeats, args.seed)
    elif args.kind == "ensemble":
        result = measure_ensemble(
            args.preset, args.steps, int(args.points), args.replicates, args.repeats, args.seed
        )
    else:
        result = measure_points(json.loads(args.points), args.repeats)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
