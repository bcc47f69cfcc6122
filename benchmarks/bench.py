"""The benchmark suite: cost of the model by size, against a per-agent reference, and in sweeps.

``make bench`` (or ``python -m benchmarks``) measures, each in a fresh process:

1. every size preset (workshop, community, street, metro) with all six levers at intensity 1
   and no budget bound: build time, time per step, household-steps per second, peak memory;
2. the scaling exponent of time per step against households, fitted across the presets;
3. the per-agent Mesa reference (:mod:`benchmarks.reference`) at ``community`` size, and the
   speed-up of the model over it per household-step; and the same update compiled
   (:mod:`benchmarks.compiled_reference`), whose speed-up is the ceiling for the model's;
4. sweep throughput: a 200-point grid of lever intensities on the ``workshop`` preset through
   ``sim-run -m`` with the joblib launcher on all cores, against the ideal
   (single-point time × points / cores).

5. the ensemble runner (:mod:`sim.experiment.ensemble`): one lever sweep's jobs (random
   intensities × replicates, paired baselines) run one at a time (the per-point path) and as
   ensembles, side by side in one process, at ``workshop``, ``community`` and ``metro`` size;
   the workshop ratio is the headline, and its share of the compiled reference's speed at
   workshop size (measured in the same run) says how near the arithmetic it comes; and the
   768-point, 5-replicate workshop Sobol of ``experiment=sobol`` with paired baselines, timed
   through ``sim-run -m`` with the peak memory of its busiest process;

6. the room load test (:mod:`benchmarks.room`): ``sim-app`` on one CPU serving a room of 30
   participants' sessions driven from the other CPU (``--room 30,30``: two rooms of 30 in turn,
   as a laptop serves successive groups, so that memory a first room leaves is seen reused or
   not; ``--room 0`` leaves it
   out; ``python -m benchmarks room --sessions 1,10,30`` runs it alone, at several sizes).

Why one module of this length: the six parts share one record (``bench.json``), one way of
timing in fresh processes and one table of targets, and each is a short section.

It prints every figure beside its target and writes ``results/bench/bench.json`` atomically
(the room: ``results/bench/room.json``). ``--quick`` runs a small, fast variant (few steps, a
4-point sweep, no room) that checks the machinery, not the targets.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.core.levers import LEVERS

ROOT = Path(__file__).resolve().parent.parent
PRESETS = ("workshop", "community", "street", "metro")
DEFAULT_OUT = ROOT / "results" / "bench"

# The targets of the performance issue.
SPEEDUP_TARGET = 100.0  # × the per-agent reference's household-steps per second, at community size
EXPONENT_TARGET = 1.1  # time per step ∝ households^exponent, workshop → metro
METRO_SECONDS_TARGET = 30.0  # metro, 104 steps
METRO_MEMORY_TARGET_MB = 2048.0  # metro, peak resident memory of the process
SWEEP_EFFICIENCY_TARGET = 0.7  # achieved / ideal points per second
ENSEMBLE_RATIO_TARGET = 10.0  # ensemble / per-point household-steps per second, workshop sweep
CEILING_SHARE_TARGET = 0.25  # ensemble household-steps per second / the compiled reference's, workshop
SOBOL_SECONDS_TARGET = 25.0  # the 768-point, 5-replicate workshop Sobol with paired baselines


@dataclass(frozen=True)
class Plan:
    """How much to measure: the full suite or the quick smoke variant."""

    steps: int
    repeats: dict[str, int]
    reference_steps: int
    reference_street_steps: int
    sweep_grid: dict[str, list[float]]
    sweep_fixed: tuple[str, ...]
    point_repeats: int
    unbatched_sweep: bool
    #: per preset: (points, replicates, steps) of the ensemble comparison
    ensemble: dict[str, tuple[int, int, int]]
    ensemble_repeats: int
    #: overrides of the timed Sobol sweep (None: not timed)
    sobol: tuple[str, ...] | None

    @property
    def sweep_points(self) -> int:
        return math.prod(len(v) for v in self.sweep_grid.values())


FULL = Plan(
    steps=104,
    repeats={"workshop": 5, "community": 5, "street": 3, "metro": 1},
    reference_steps=10,
    reference_street_steps=3,
    # 5 × 5 × 8 = 200 points; the other three levers stay on (an ablation around "all six").
    sweep_grid={
        "embedding": [0.0, 0.25, 0.5, 0.75, 1.0],
        "converging": [0.0, 0.25, 0.5, 0.75, 1.0],
        "integration": [round(i / 7, 4) for i in range(8)],
    },
    sweep_fixed=(),
    point_repeats=2,
    unbatched_sweep=True,
    ensemble={"workshop": (24, 5, 104), "community": (12, 2, 104), "metro": (1, 2, 20)},
    ensemble_repeats=2,
    sobol=(
        "experiment=sobol",
        "community=workshop",
        "replicates=5",
        "baseline_comparison=true",
    ),
)
QUICK = Plan(
    steps=3,
    repeats={"workshop": 1, "community": 1, "street": 1, "metro": 1},
    reference_steps=2,
    reference_street_steps=1,
    sweep_grid={"embedding": [0.0, 1.0], "converging": [0.0, 1.0], "integration": [1.0]},
    sweep_fixed=("steps=4", "replicates=1"),
    point_repeats=1,
    unbatched_sweep=False,
    ensemble={"workshop": (3, 2, 3), "community": (1, 2, 3), "metro": (1, 1, 2)},
    ensemble_repeats=1,
    sobol=None,
)


# ------------------------------------------------------------------------------ helpers
def run_worker(args: list[str], timeout: float = 1800.0) -> dict[str, Any]:
    """Run ``python -m benchmarks.worker ARGS`` in a fresh process; its last stdout line is JSON."""
    cmd = [sys.executable, "-m", "benchmarks.worker", *args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[2:])} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fit_exponent(households: list[float], seconds: list[float]) -> float:
    """Least-squares slope of log(seconds) on log(households)."""
    if len(households) < 2:
        return math.nan
    slope, _ = np.polyfit(np.log(households), np.log(seconds), 1)
    return float(slope)


def cores() -> int:
    """Cores the joblib launcher uses with n_jobs=-1 (respects affinity and cgroup limits)."""
    import joblib

    return int(joblib.cpu_count())


# Every point of the benchmark sweep runs what a point of ``experiment=lever_grid`` runs (five
# replicates, each with its paired baseline, no per-building series) on the workshop preset;
# the three levers not on the grid stay at intensity 1 (an ablation around "all six").
SWEEP_EXPERIMENT = "lever_grid"
SWEEP_AXES = ("x", "y", "z")


def _fixed(plan: Plan) -> list[str]:
    levers = [f"levers.{name}.intensity=1" for name in LEVERS if name not in plan.sweep_grid]
    return ["community=workshop", *levers, *plan.sweep_fixed]


def _values(values: list[float]) -> str:
    return "[" + ",".join(f"{v:g}" for v in values) + "]"


def batched_sweep_overrides(plan: Plan) -> list[str]:
    """``sim-run -m`` overrides of the sweep through the design sweeper (batched jobs, joblib)."""
    axes = []
    for axis, (name, values) in zip(SWEEP_AXES, plan.sweep_grid.items(), strict=True):
        key = f"levers.{name}.intensity"
        if axis == "z":  # lever_grid defines x and y; a third axis is added
            axes.append(f"+hydra.sweeper.params.z={{key: {key}, values: {_values(values)}}}")
        else:
            axes += [
                f"hydra.sweeper.params.{axis}.key={key}",
                f"hydra.sweeper.params.{axis}.values={_values(values)}",
            ]
    return [f"experiment={SWEEP_EXPERIMENT}", *_fixed(plan), *axes]


def unbatched_sweep_overrides(plan: Plan) -> list[str]:
    """The same points as a plain Hydra sweep: one job per point (the basic sweeper), joblib."""
    swept = [
        f"levers.{name}.intensity={','.join(f'{v:g}' for v in values)}"
        for name, values in plan.sweep_grid.items()
    ]
    task = ["replicates=5", "record_buildings=false"]  # what lever_grid sets for its points
    return ["hydra/launcher=joblib", *task, *_fixed(plan), *swept]


def grid_points(plan: Plan) -> list[list[str]]:
    """The single-run overrides of every point of the sweep grid, in grid order."""
    names = list(plan.sweep_grid)
    points = []
    for values in itertools.product(*plan.sweep_grid.values()):
        swept = [f"levers.{n}.intensity={v:g}" for n, v in zip(names, values, strict=True)]
        points.append([f"experiment={SWEEP_EXPERIMENT}", *_fixed(plan), *swept])
    return points


# ------------------------------------------------------------------------ measurements
def measure_presets(plan: Plan, log) -> dict[str, dict[str, Any]]:
    out = {}
    for preset in PRESETS:
        log(f"  {preset} …")
        out[preset] = run_worker(
            ["model", "--preset", preset, "--steps", str(plan.steps), "--repeats", str(plan.repeats[preset])]
        )
    return out


def timed_command(cmd: list[str], what: str) -> tuple[float, float]:
    """Run ``cmd`` from the repository's root; its wall seconds and the load average before it."""
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return wall, load


def time_sweep(
    overrides: list[str], out_dir: Path, points: int, n_cores: int, single: float
) -> dict[str, Any]:
    """Run ``sim-run -m OVERRIDES`` into a temporary directory; wall time against the ideal."""
    sim_run = Path(sys.executable).parent / "sim-run"
    with tempfile.TemporaryDirectory(prefix=".sweep-", dir=out_dir) as tmp:
        wall, load = timed_command([str(sim_run), "-m", *overrides, f"hydra.sweep.dir={tmp}"], "sweep")
        completed = sum(1 for _ in Path(tmp).rglob("_COMPLETE.json"))
        jobs = sum(1 for d in Path(tmp).iterdir() if d.is_dir() and (d / ".hydra").is_dir())
    if completed != points:
        raise RuntimeError(f"sweep finished only {completed} of {points} points")
    ideal_wall = single * points / n_cores
    return {
        "points": points,
        "jobs": jobs,
        "cores": n_cores,
        "command": "sim-run -m " + " ".join(overrides),
        "wall_seconds": wall,
        "points_per_second": points / wall,
        "single_point_seconds": single,
        "ideal_wall_seconds": ideal_wall,
        "ideal_points_per_second": points / ideal_wall,
        "efficiency": ideal_wall / wall,
        "overhead_seconds_per_point": (wall - ideal_wall) * n_cores / points,
        "completed": completed,
        "load_average_at_start": load,
    }


def measure_sweep(plan: Plan, out_dir: Path, log) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Time the sweep through the design sweeper (batched) and, optionally, one job per point."""
    points = grid_points(plan)
    n_cores = cores()
    # Single-run time: three points spread over the grid (first, middle, last), best of repeats.
    sample = [points[0], points[len(points) // 2], points[-1]]
    log(f"  single-point time ({len(sample)} points × {plan.point_repeats}) …")
    single = run_worker(["points", "--repeats", str(plan.point_repeats), "--points", json.dumps(sample)])
    log(f"  design sweeper (batched jobs, joblib): {len(points)} points on {n_cores} cores …")
    batched = time_sweep(
        batched_sweep_overrides(plan), out_dir, len(points), n_cores, single["point_seconds"]
    )
    batched["launcher"] = "design sweeper, batch_size auto, joblib"
    batched["single_point_seconds_each"] = single["point_seconds_each"]
    unbatched = None
    if plan.unbatched_sweep:
        log(f"  plain sweep (one job per point, joblib): {len(points)} points …")
        unbatched = time_sweep(
            unbatched_sweep_overrides(plan), out_dir, len(points), n_cores, single["point_seconds"]
        )
        unbatched["launcher"] = "basic sweeper, one job per point, joblib"
    return batched, unbatched


def measure_ensembles(plan: Plan, log) -> dict[str, dict[str, Any]]:
    """Per preset: the same jobs one at a time and as ensembles, in one fresh process each."""
    out = {}
    for preset, (points, replicates, steps) in plan.ensemble.items():
        log(f"  {preset}: {points} points × {replicates} replicates, baselines paired, {steps} steps …")
        out[preset] = run_worker(
            [
                "ensemble",
                "--preset",
                preset,
                "--steps",
                str(steps),
                "--points",
                str(points),
                "--replicates",
                str(replicates),
                "--repeats",
                str(plan.ensemble_repeats),
            ]
        )
    return out


#: run argv[2:] and write the largest resident size (kB) any of its reaped descendants reached
_PEAK_OF_CHILDREN = (
    "import pathlib, resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[2:])\n"
    "pathlib.Path(sys.argv[1]).write_text(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(code)"
)


def time_sobol(overrides: tuple[str, ...], out_dir: Path) -> dict[str, Any]:
    """Wall time of the Sobol sweep through ``sim-run -m`` and the peak memory of its busiest process.

    The peak is the largest resident size any one process of the sweep reached: the sweep runs
    under a small parent of its own, whose reaped descendants are the sweep's processes alone
    (this process's children include the earlier workers, the metro one among them).
    """
    sim_run = Path(sys.executable).parent / "sim-run"
    with tempfile.TemporaryDirectory(prefix=".sobol-", dir=out_dir) as tmp:
        peak_file = Path(tmp) / "peak_rss_kb"
        cmd = [sys.executable, "-c", _PEAK_OF_CHILDREN, str(peak_file), str(sim_run), "-m", *overrides]
        wall, load = timed_command([*cmd, f"hydra.sweep.dir={tmp}/sweep"], "Sobol sweep")
        design = json.loads((Path(tmp) / "sweep" / "design.json").read_text(encoding="utf-8"))
        completed = sum(1 for _ in (Path(tmp) / "sweep").rglob("_COMPLETE.json"))
        peak_mb = int(peak_file.read_text()) / 1024.0
    points = len(design["points"])
    if completed != points:
        raise RuntimeError(f"Sobol sweep finished only {completed} of {points} points")
    return {
        "command": "sim-run -m " + " ".join(overrides),
        "points": points,
        "wall_seconds": wall,
        "peak_rss_mb_busiest_process": peak_mb,
        "load_average_at_start": load,
    }


def machine() -> dict[str, Any]:
    import mesa
    import scipy

    return {
        "cpu_count": os.cpu_count(),
        "joblib_cores": cores(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "mesa": mesa.__version__,
        "platform": platform.platform(),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def run(plan: Plan, quick: bool, out_dir: Path, log=print) -> dict[str, Any]:
    """Measure everything in ``plan``; return the bench.json document (not yet written)."""
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    info = machine()
    log(f"model, all six levers on, {plan.steps} steps, each preset in a fresh process:")
    presets = measure_presets(plan, log)
    log("per-agent Mesa reference at community size:")
    reference = run_worker(
        [
            "reference",
            "--preset",
            "community",
            "--steps",
            str(plan.reference_steps),
            "--repeats",
            str(plan.repeats["community"]),
        ]
    )
    log("the reference's update compiled, at community size:")
    compiled = run_worker(
        [
            "compiled-reference",
            "--preset",
            "community",
            "--steps",
            str(plan.steps * 10),
            "--repeats",
            str(plan.repeats["community"]),
        ]
    )
    # The same reference at street size: its cost per household-step does not fall with size,
    # while the model's fixed per-step costs spread over more households.
    log("per-agent Mesa reference at street size:")
    reference_street = run_worker(
        ["reference", "--preset", "street", "--steps", str(plan.reference_street_steps), "--repeats", "1"]
    )
    log("the reference's update compiled, at workshop size (the ensemble's ceiling):")
    compiled_workshop = run_worker(
        ["compiled-reference", "--preset", "workshop", "--steps", str(plan.steps * 10), "--repeats", "3"]
    )
    log("ensembles against the per-point path:")
    ensembles = measure_ensembles(plan, log)
    log("sweep throughput:")
    sweep, sweep_unbatched = measure_sweep(plan, out_dir, log)
    sobol = None
    if plan.sobol is not None:
        log("the 768-point, 5-replicate workshop Sobol with paired baselines, through sim-run -m …")
        sobol = time_sobol(plan.sobol, out_dir)
    load_at_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else None

    households = [presets[p]["households"] for p in PRESETS]
    step_seconds = [presets[p]["step_seconds"] for p in PRESETS]
    exponent = fit_exponent(households, step_seconds)
    exponent_large = fit_exponent(households[2:], step_seconds[2:])
    speedup = presets["community"]["household_steps_per_second"] / reference["household_steps_per_second"]
    # What the reference's own arithmetic, compiled, gains over it: the model does strictly more
    # work per household-step, so its speed-up cannot exceed this one.
    speedup_ceiling = compiled["household_steps_per_second"] / reference["household_steps_per_second"]
    speedup_street = (
        presets["street"]["household_steps_per_second"] / reference_street["household_steps_per_second"]
    )
    efficiency = sweep["efficiency"]
    metro = presets["metro"]
    metro_104 = metro["step_seconds"] * 104  # per-step cost × the default horizon
    workshop_ensemble = ensembles["workshop"]
    ensemble_ratio = workshop_ensemble["ratio"]
    ceiling_share = (
        workshop_ensemble["household_steps_per_second"]["ensemble"]
        / compiled_workshop["household_steps_per_second"]
    )

    def target(value: float, goal: float, better: str, judged: bool = True) -> dict[str, Any]:
        met = (value >= goal if better == "higher" else value < goal) if judged else None
        return {"value": value, "target": goal, "better": better, "met": met}

    # The quick variant runs too few steps and points to judge the targets; it checks the machinery.
    judged = not quick
    return {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python -m benchmarks" + (" --quick" if quick else ""),
        "quick": quick,
        "machine": info,
        "levers": {name: 1.0 for name in LEVERS},
        "budget": "inf",
        "presets": presets,
        "reference": reference,
        "reference_street": reference_street,
        "compiled_reference": compiled,
        "speedup_ceiling": speedup_ceiling,
        "speedup_street": speedup_street,
        "load_average_at_end": load_at_end,
        "sweep": sweep,
        "sweep_unbatched": sweep_unbatched,
        "speedup": speedup,
        "scaling_exponent": exponent,
        "scaling_exponent_street_metro": exponent_large,
        "sweep_efficiency": efficiency,
        "compiled_reference_workshop": compiled_workshop,
        "ensembles": ensembles,
        "ensemble_ratio": ensemble_ratio,
        "ensemble_ceiling_share": ceiling_share,
        "sobol": sobol,
        "metro_seconds_104_steps": metro_104,
        "metro_peak_rss_mb": metro["peak_rss_mb"],
        "targets": {
            "speedup": target(speedup, SPEEDUP_TARGET, "higher", judged),
            "scaling_exponent": target(exponent, EXPONENT_TARGET, "lower", judged),
            "metro_seconds_104_steps": target(metro_104, METRO_SECONDS_TARGET, "lower", judged),
            "metro_peak_rss_mb": target(metro["peak_rss_mb"], METRO_MEMORY_TARGET_MB, "lower", judged),
            "sweep_efficiency": target(efficiency, SWEEP_EFFICIENCY_TARGET, "higher", judged),
            "ensemble_ratio": target(ensemble_ratio, ENSEMBLE_RATIO_TARGET, "higher", judged),
            "ensemble_ceiling_share": target(ceiling_share, CEILING_SHARE_TARGET, "higher", judged),
            **(
                {"sobol_seconds": target(sobol["wall_seconds"], SOBOL_SECONDS_TARGET, "lower", judged)}
                if sobol
                else {}
            ),
            **{
                f"ensemble_not_slower_{p}": target(e["ratio"], 1.0, "higher", judged)
                for p, e in ensembles.items()
                if p != "workshop"
            },
        },
        "elapsed_seconds": time.perf_counter() - started,
    }


# ---------------------------------------------------------------------------- reporting
@dataclass(frozen=True)
class Table:
    """A table of the report: a header, rows of cells, and each column's alignment (``l`` or ``r``;
    by default the first column is words, the rest numbers)."""

    header: tuple[str, ...]
    rows: list[tuple[str, ...]]
    align: str = ""

    def _aligns(self) -> str:
        return self.align or "l" + "r" * (len(self.header) - 1)

    def markdown(self) -> list[str]:
        """The table in Markdown."""
        rule = "|" + "".join("---|" if a == "l" else "---:|" for a in self._aligns())
        return [_md_row(self.header), rule, *(_md_row(row) for row in self.rows)]

    def text(self) -> list[str]:
        """The table as aligned plain text (Markdown's emphasis dropped)."""
        rows = [self.header, *(tuple(cell.replace("**", "") for cell in row) for row in self.rows)]
        widths = [max(len(row[j]) for row in rows) for j in range(len(self.header))]
        return [
            "  ".join(
                cell.ljust(w) if a == "l" else cell.rjust(w)
                for cell, w, a in zip(row, widths, self._aligns(), strict=True)
            ).rstrip()
            for row in rows
        ]


def _md_row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(cells) + " |"


def preset_table(doc: dict[str, Any]) -> Table:
    """Cost of the model by size, the per-agent reference and its compiled update."""
    rows = []
    for name in PRESETS:
        p = doc["presets"][name]
        rows.append(
            (
                name,
                f"{p['households']:,}",
                f"{p['build_seconds']:.3f}",
                f"{p['step_seconds'] * 1e3:.2f}",
                f"{p['household_steps_per_second']:,.0f}",
                f"{p['peak_rss_mb']:.0f}",
                f"{p['agents_on_demand_seconds']:.2f}",
            )
        )
    ref, comp = doc["reference"], doc["compiled_reference"]
    rows.append(
        (
            f"per-agent Mesa reference ({ref['preset']}, {ref['steps']} steps)",
            f"{ref['households']:,}",
            f"{ref['build_seconds']:.3f}",
            f"{ref['step_seconds'] * 1e3:.2f}",
            f"{ref['household_steps_per_second']:,.0f}",
            f"{ref['peak_rss_mb']:.0f}",
            "–",
        )
    )
    rows.append(
        (
            f"the reference's update compiled ({comp['preset']}, {comp['steps']} steps)",
            f"{comp['households']:,}",
            "–",
            f"{comp['step_seconds'] * 1e3:.3f}",
            f"{comp['household_steps_per_second']:,.0f}",
            "–",
            "–",
        )
    )
    header = (
        "preset",
        "households",
        "build (s)",
        "time per step (ms)",
        "household-steps/s",
        "peak memory (MB)",
        "Mesa agents on first use (s)",
    )
    return Table(header, rows)


#: every figure beside its target (title, key, format, target format)
FIGURE_ROWS = [
    ("speed-up over the per-agent Mesa reference (community)", "speedup", "{:.1f}×", "≥ {:g}×"),
    ("scaling exponent of time per step (workshop → metro)", "scaling_exponent", "{:.2f}", "≤ {:g}"),
    ("metro, 104 steps", "metro_seconds_104_steps", "{:.1f} s", "< {:g} s"),
    ("metro, peak memory of the process", "metro_peak_rss_mb", "{:.0f} MB", "< {:g} MB"),
    ("sweep efficiency, {points} workshop points (achieved / ideal)", "sweep_efficiency", "{:.2f}", "≥ {:g}"),
    ("ensemble / per-point, workshop sweep", "ensemble_ratio", "{:.1f}×", "≥ {:g}×"),
    ("ensemble, share of the compiled ceiling", "ensemble_ceiling_share", "{:.0%}", "≥ {:.0%}"),
    ("768-point workshop Sobol, 5 replicates", "sobol_seconds", "{:.0f} s", "≤ {:g} s"),
    ("ensemble / per-point, community", "ensemble_not_slower_community", "{:.2f}×", "≥ {:g}×"),
    ("ensemble / per-point, metro", "ensemble_not_slower_metro", "{:.2f}×", "≥ {:g}×"),
]


def figure_table(doc: dict[str, Any]) -> Table:
    """Every figure with a target, measured and judged (not judged in a quick run)."""
    t = doc["targets"]
    rows = []
    for title, key, fmt, target in FIGURE_ROWS:
        if key not in t:
            continue
        met = {True: "yes", False: "**no**", None: "not judged"}[t[key]["met"]]
        title = title.format(points=doc["sweep"]["points"])
        rows.append((title, fmt.format(t[key]["value"]), target.format(t[key]["target"]), met))
    ceiling = "ceiling: the reference's own update compiled, over the reference"
    rows.append((ceiling, f"{doc['speedup_ceiling']:.0f}×", "–", "–"))
    return Table(("figure", "measured", "target", "met"), rows, align="lrrl")


def sweep_table(doc: dict[str, Any]) -> Table:
    """The design sweeper's and the basic sweeper's throughput against the ideal."""
    rows = []
    for key in ("sweep", "sweep_unbatched"):
        sw = doc.get(key)
        if sw:
            overhead = f"{sw['overhead_seconds_per_point']:.2f}" if sw["efficiency"] <= 1 else "– (ensembles)"
            rows.append(
                (
                    sw["launcher"],
                    f"{sw['jobs']}",
                    f"{sw['wall_seconds']:.1f}",
                    f"{sw['points_per_second']:.2f}",
                    f"{sw['ideal_points_per_second']:.2f}",
                    f"{sw['efficiency']:.2f}",
                    overhead,
                )
            )
    header = ("sweep", "jobs", "wall (s)", "points/s", "ideal points/s", "efficiency")
    header += ("overhead per point (s)",)
    return Table(header, rows)


def ensemble_table(doc: dict[str, Any]) -> Table:
    """The ensemble runner against one job at a time, by size."""
    rows = []
    for preset, e in doc["ensembles"].items():
        hs = e["household_steps_per_second"]
        rows.append(
            (
                preset,
                f"{e['jobs']}",
                f"{e['steps']}",
                f"{e['seconds']['per_point']:.2f}",
                f"{e['seconds']['ensemble']:.2f}",
                f"{hs['per_point']:,.0f}",
                f"{hs['ensemble']:,.0f}",
                f"{e['ratio']:.2f}×",
                f"{e['ensembles']} ({e['largest_ensemble']})",
                f"{e['peak_rss_mb']:.0f} ({e['rss_after_imports_mb']:.0f})",
            )
        )
    header = (
        "preset",
        "jobs",
        "steps",
        "per-point (s)",
        "ensemble (s)",
        "per-point hh-steps/s",
        "ensemble hh-steps/s",
        "ratio",
        "ensembles (largest)",
        "peak MB (after imports)",
    )
    return Table(header, rows)


def ensemble_sentences(doc: dict[str, Any]) -> list[str]:
    """The ceiling share and the Sobol sweep, in words."""
    comp = doc["compiled_reference_workshop"]
    out = [
        "Ceiling at workshop size (the reference's update compiled): "
        f"{comp['household_steps_per_second']:,.0f} household-steps/s; the ensemble reaches "
        f"{doc['ensemble_ceiling_share']:.0%} of it."
    ]
    if doc.get("sobol"):
        sb = doc["sobol"]
        out.append(
            f"Sobol (`{sb['command']}`): {sb['points']} points in {sb['wall_seconds']:.1f} s; the busiest "
            f"process peaked at {sb['peak_rss_mb_busiest_process']:.0f} MB."
        )
    return out


def _tables(doc: dict[str, Any]) -> list[Table]:
    tables = [preset_table(doc), figure_table(doc), sweep_table(doc)]
    return [*tables, ensemble_table(doc)] if doc.get("ensembles") else tables


def report(doc: dict[str, Any]) -> str:
    """Every figure, with its target beside it, as plain text."""
    lines: list[str] = []
    for table in _tables(doc):
        lines += [*table.text(), ""]
    if doc.get("ensembles"):
        lines += ensemble_sentences(doc)
    street = doc["reference_street"]
    lines.append(
        f"(scaling exponent street → metro alone: {doc['scaling_exponent_street_metro']:.2f}; speed-up at "
        f"street size: {doc['speedup_street']:.1f}× over the reference's "
        f"{street['household_steps_per_second']:,.0f} household-steps/s; "
        f"whole suite took {doc['elapsed_seconds']:.0f} s)"
    )
    load = doc["machine"]["load_average_at_start"]
    n_cores = doc["machine"]["joblib_cores"]
    if load and load[0] > n_cores:  # more runnable processes than cores when the suite started
        lines.append(
            f"warning: the machine was busy (load average {load[0]:.1f} on {n_cores} cores at the start): "
            "wall-clock figures are pessimistic and the sweep ratio unreliable; rerun when idle"
        )
    return "\n".join(lines)


def markdown(doc: dict[str, Any]) -> str:
    """The figures of a bench.json as Markdown tables (for docs/performance.md)."""
    m = doc["machine"]
    out = [
        f"Measured {doc['created']} with `{doc['command']}` on {m['cpu_count']} cores "
        f"({m['processor']}, Python {m['python']}, numpy {m['numpy']}, Mesa {m['mesa']}); "
        f"load average at start {m['load_average_at_start'][0]:.1f}."
    ]
    for table in _tables(doc):
        out += ["", *table.markdown()]
    if doc.get("ensembles"):
        out += ["", *ensemble_sentences(doc)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks [--quick] [--out DIR]``: measure, print, write DIR/bench.json."""
    from sim.results import write_json

    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke variant (targets not judged)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory for bench.json")
    parser.add_argument(
        "--markdown", type=Path, metavar="BENCH_JSON", help="print the figures of a bench.json as Markdown"
    )
    parser.add_argument(
        "--room",
        default="30,30",
        metavar="SESSIONS",
        help="room sizes of the load test after the suite (default 30,30; 0: none; never with --quick)",
    )
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(args.markdown.read_text(encoding="utf-8"))))
        return 0

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    doc = run(QUICK if args.quick else FULL, args.quick, args.out, log)
    path = args.out / "bench.json"
    write_json(path, doc)
    print(report(doc))
    print(f"written: {path}")
    if args.quick or args.room.strip() in ("", "0"):
        return 0
    from benchmarks import room

    log(f"room load test ({args.room} sessions):")
    return room.main(["--sessions", args.room, "--out", str(args.out)])
