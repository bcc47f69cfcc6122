"""``hydra/sweeper=design``: SALib designs and named arms, batched into jobs, resumable, with progress.

The sweeper turns a design (Sobol/Saltelli, Morris, Latin hypercube or full factorial over
``params``), crossed with named ``arms`` (sets of overrides) and with any ordinary Hydra sweep
on the command line (``a=1,2,3``), into numbered *points*. It writes the whole list to
``<sweep dir>/design.json``, groups the points into jobs of ``batch_size`` and hands the jobs
to whatever launcher is configured (basic, joblib, ray, submitit). A job receives the ids of
its points in ``hydra.sweeper.points``; the task function reads their overrides from
``design.json`` and writes one run directory per point, ``<job dir>/point-NNNNNN``.

Re-running into the same sweep directory resumes: points whose run directory passes the
``check`` function are skipped, broken leftovers are removed and rerun, and the sweep says
how many it skipped, ran and failed. While jobs run, a progress bar counts finished points
(by their completion markers, so it works whichever launcher runs them).

Command-line sweeps over config *groups* (``community=workshop,street``) cannot be applied
inside a job, so they split the points into cells whose jobs carry the group choice.

Why one module of this length: it is the one Hydra ``Sweeper`` class and the few functions of its
resumable sweep; the designs, the overrides and the folder layout have modules of their own.
"""

import contextlib
import copy
import hashlib
import importlib
import itertools
import json
import logging
import os
import shutil
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional  # noqa: UP035 (OmegaConf schemas need typing generics)

from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import JobReturn, JobStatus
from hydra.errors import HydraException
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from hydra_plugins.design_sweeper import designs
from hydra_plugins.design_sweeper import overrides as job_overrides_lib
from sim.results.files import write_json
from sim.results.layout import (  # noqa: F401 (re-exported: the sweeper's layout, for its callers)
    DESIGN_FILE,
    FAILED_FILE,
    MARKER,
    POINT_PREFIX,
    DesignFileError,
    DesignMismatch,
    find_point_dirs,
    id_ranges,
    load_design,
    point_dirname,
    point_id,
)

log = logging.getLogger(__name__)

DESIGN_VERSION = 1


@dataclass
class DesignSweeperConf:
    """Settings of the design sweeper (``hydra.sweeper.*``)."""

    _target_: str = "hydra_plugins.design_sweeper.design_sweeper.DesignSweeper"
    # sobol | morris | latin | factorial
    method: str = "factorial"
    # SALib's N: base samples (sobol, a power of 2), trajectories (morris) or samples (latin)
    n: int = 64
    # seed of the random parts of the design (not of the simulation)
    seed: int = 12345
    # name -> {key, lo, hi} | {key, values} | [values]
    params: Dict[str, Any] = field(default_factory=dict)  # noqa: UP006
    # name -> {config key: value}: named sets of overrides crossed with the design
    arms: Dict[str, Any] = field(default_factory=dict)  # noqa: UP006
    # points per job; 0 picks about four jobs per CPU of this machine
    batch_size: int = 0
    # sobol: also draw the rows for second-order indices
    calc_second_order: bool = False
    # morris: grid levels and optional optimised trajectories
    num_levels: int = 4
    optimal_trajectories: Optional[int] = None  # noqa: UP045
    # factorial: values of a parameter given by bounds
    levels: int = 5
    # "module:function" taking a run directory, returning a status that is truthy when the run is
    # complete (sim.results.RunStatus); None also means complete, a string says why not
    check: str = "sim.results:check_run"
    # "module:function" taking (task config, [{key: value}, ...]) that raises if a point is not
    # allowed; called with every arm and each parameter's bounds before anything is launched
    validate: Optional[str] = "sim.experiment.sweep:check_points"  # noqa: UP045
    # show a progress bar of finished points
    progress: bool = True
    # jobs handed to the launcher per call (None: all at once)
    max_batch_size: Optional[int] = None  # noqa: UP045
    # set by the sweeper on each job: the ids of the points that job runs
    points: Optional[List[int]] = None  # noqa: UP006, UP045


ConfigStore.instance().store(group="hydra/sweeper", name="design", node=DesignSweeperConf, provider="sim")


# ------------------------------------------------------------------------------ shared helpers
def _import(dotted: str) -> Callable[[Path], Any]:
    module, _, name = dotted.partition(":")
    return getattr(importlib.import_module(module), name)


def _is_complete(status: Any) -> bool:
    """A check's answer: a status truthy when complete, or the older None (complete) / reason."""
    return status is None or (not isinstance(status, str) and bool(status))


def _plain(value: Any) -> Any:
    if isinstance(value, DictConfig) or OmegaConf.is_config(value):
        return OmegaConf.to_container(value, resolve=True)
    return value


# ------------------------------------------------------------------------------ the sweeper
class DesignSweeper(Sweeper):
    """Draws a design, launches its points in batches, skips what is done, shows progress."""

    def __init__(self, **settings: Any) -> None:
        super().__init__()
        self.settings = settings
        self.hydra_context: HydraContext | None = None
        self.config: DictConfig | None = None
        self.launcher: Launcher | None = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        from hydra.core.plugins import Plugins

        self.hydra_context = hydra_context
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    # -------------------------------------------------------------------- building the points
    def build(self, arguments: list[str]) -> dict[str, Any]:
        """The design record: method, inputs, cells (job-level overrides) and every point."""
        assert self.config is not None
        s = self.settings
        parser = OverridesParser.create(
            config_loader=self.hydra_context.config_loader if self.hydra_context else None
        )
        overrides = parser.parse_overrides(arguments)
        groups = set(self.config.hydra.runtime.choices.keys())
        fixed: list[str] = []  # every job carries these
        group_axes: list[list[str]] = []  # sweeps the job applies (groups, +/~ keys): cells
        value_axes: list[tuple[str, list[Any]]] = []  # command-line sweeps over values: per point
        template: list[dict[str, Any]] = []  # the command line in order (see overrides.job_overrides)
        value_texts: dict[str, dict[str, list[Any]]] = {}
        for o in overrides:
            if not o.is_sweep_override():
                fixed.append(o.input_line)
                template.append({"fixed": o.input_line})
                continue
            if not o.is_discrete_sweep():
                raise HydraException(
                    f"{o.input_line}: the design sweeper takes lists, choice() and range() sweeps; "
                    "give continuous ranges as hydra.sweeper.params.NAME={lo: ..., hi: ...}"
                )
            key = o.get_key_element()
            elements = job_overrides_lib.sweep_elements(o, int(s.get("seed", 12345)))
            texts = [job_overrides_lib.element_text(e) for e in elements]
            if job_overrides_lib.applied_by_job(o, groups):
                template.append({"cell": len(group_axes)})
                group_axes.append([f"{key}={t}" for t in texts])
            else:
                values = [job_overrides_lib.element_value(e) for e in elements]
                template.append({"value": key})
                value_axes.append((key, values))
                value_texts[key] = {"values": values, "texts": texts}

        try:
            params = designs.parse_params(_plain(s.get("params")))
            matrix = designs.draw(
                str(s.get("method", "factorial")),
                params,
                int(s.get("n", 64)),
                int(s.get("seed", 12345)),
                calc_second_order=bool(s.get("calc_second_order", False)),
                num_levels=int(s.get("num_levels", 4)),
                optimal_trajectories=s.get("optimal_trajectories"),
                levels=int(s.get("levels", 5)),
            )
        except designs.DesignError as exc:
            raise HydraException(str(exc)) from None
        arms = _plain(s.get("arms")) or {}
        if not isinstance(arms, dict) or not all(isinstance(v, dict) for v in arms.values()):
            raise HydraException("hydra.sweeper.arms: allowed: a mapping of arm name -> {config key: value}")
        arm_items = list(arms.items()) or [(None, {})]

        cells = [list(c) for c in itertools.product(*group_axes)] or [[]]
        points = []
        for ci, _cell in enumerate(cells):
            for combo in itertools.product(*[vals for _, vals in value_axes]):
                cli = {key: value for (key, _), value in zip(value_axes, combo, strict=True)}
                for arm, arm_overrides in arm_items:
                    for sample, row in enumerate(matrix):
                        values = {p.key: designs.native(v) for p, v in zip(params, row, strict=True)}
                        entry: dict[str, Any] = {
                            "point": len(points),
                            "cell": ci,
                            "sample": sample,
                            "overrides": {**cli, **arm_overrides, **values},
                        }
                        if arm is not None:
                            entry["arm"] = arm
                        points.append(entry)
        design = {
            "version": DESIGN_VERSION,
            "method": str(s.get("method", "factorial")),
            "n": int(s.get("n", 64)),
            "seed": int(s.get("seed", 12345)),
            "calc_second_order": bool(s.get("calc_second_order", False)),
            "num_levels": int(s.get("num_levels", 4)),
            "params": [p.as_dict() for p in params],
            "arms": [a for a, _ in arm_items if a is not None],
            "fixed": fixed,
            "cells": cells,
            "samples": len(matrix),
            "points": points,
            # how jobs write their overrides back in command-line order (not part of the fingerprint)
            "template": template,
            "value_texts": value_texts,
        }
        design["fingerprint"] = fingerprint(design)
        return design

    # -------------------------------------------------------------------- running
    def sweep(self, arguments: list[str]) -> Any:
        assert self.config is not None and self.launcher is not None and self.hydra_context is not None
        # One absolute directory for every job, wherever (and in whatever cwd) a launcher runs it.
        sweep_dir = Path(str(self.config.hydra.sweep.dir)).resolve()
        with contextlib.suppress(Exception):
            OmegaConf.set_readonly(self.config.hydra, False)
        self.config.hydra.sweep.dir = str(sweep_dir)
        from sim.results.lock import writer_lock  # one sweep per directory (re-entrant for sim-run)

        with writer_lock(sweep_dir):
            return self._sweep_locked(arguments, sweep_dir)

    def _sweep_locked(self, arguments: list[str], sweep_dir: Path) -> Any:
        assert self.config is not None and self.launcher is not None
        design = self.build(arguments)
        total = len(design["points"])
        design_path = sweep_dir / DESIGN_FILE
        if design_path.exists():
            old = load_design(sweep_dir)
            if old.get("fingerprint") != design["fingerprint"]:
                raise DesignMismatch(
                    f"hydra.sweep.dir={sweep_dir} holds a different sweep (its design.json differs from "
                    "this command's design); allowed: the same command, or a new directory"
                )
        else:
            from sim.results.provenance import provenance

            write_json(design_path, {**design, "provenance": provenance({"seed": design.get("seed")})})
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        self._validate(design)

        check = _import(str(self.settings.get("check", "sim.results:check_run")))
        complete, stale = self._status(sweep_dir, check, range(total))
        for path in stale:
            shutil.rmtree(path, ignore_errors=True)  # unfinished leftovers: rerun from scratch
        _remove_empty_jobs(sweep_dir)
        pending = [p for p in design["points"] if p["point"] not in complete]
        skipped = total - len(pending)
        batch_size = self._batch_size(len(pending))
        jobs = self._jobs(design, pending, batch_size, sweep_dir)
        print(
            f"design sweep {sweep_dir}: {total} points ({design['method']}); "
            f"{skipped} already complete, skipped; running {len(pending)} in {len(jobs)} job(s) "
            f"of up to {batch_size} point(s)",
            flush=True,
        )
        if total and not pending:
            message = (
                f"design sweep {sweep_dir}: all {total} point(s) are already complete there "
                f"({'points ' + id_ranges(sorted(complete))}), so nothing runs; to run the sweep again, "
                "give a new hydra.sweep.dir"
            )
            log.warning(message)
            print(message, file=sys.stderr, flush=True)
        returns: list[Sequence[JobReturn]] = []
        job_errors: list[str] = []
        first_error: BaseException | None = None  # the first job's own exception, raised at the end
        if jobs:
            first_job = self._next_job_number(sweep_dir)
            monitor = _Progress(
                sweep_dir, {p["point"] for p in pending}, bool(self.settings.get("progress", True))
            )
            monitor.start()
            try:
                step = self.settings.get("max_batch_size") or len(jobs)
                for start in range(0, len(jobs), step):
                    chunk = jobs[start : start + step]
                    results = self.launcher.launch(chunk, initial_job_idx=first_job + start)
                    returns.append(results)
                    for r in results:
                        if r.status == JobStatus.FAILED:
                            if first_error is None and isinstance(r._return_value, BaseException):
                                first_error = r._return_value
                            job_errors.append(
                                f"job {r.hydra_cfg.hydra.job.num if r.hydra_cfg else '?'}: "
                                f"{type(r._return_value).__name__}: {r._return_value}"
                            )
            finally:
                monitor.stop()
        done, _ = self._status(sweep_dir, check, [p["point"] for p in pending])
        failed = sorted(p["point"] for p in pending if p["point"] not in done)
        ran = len(pending) - len(failed)
        print(f"design sweep finished: skipped {skipped}, ran {ran}, failed {len(failed)}", flush=True)
        for line in job_errors:
            print(f"  {line}", file=sys.stderr)
        if failed:
            reasons = _failure_reasons(sweep_dir, failed)
            for pid in failed[:20]:
                print(f"  point {pid} failed: {reasons.get(pid, 'no complete run written')}", file=sys.stderr)
            if len(failed) > 20:
                print(f"  ... and {len(failed) - 20} more", file=sys.stderr)
            summary = (
                f"{len(failed)} of {total} point(s) failed; rerun the same command (with resume=true) "
                "to retry only those"
            )
            if first_error is not None:
                # as Hydra's basic sweeper does: the job's own exception, with what the sweep knows
                first_error.add_note(f"design sweep: {summary}")
                raise first_error
            raise HydraException(summary)
        return returns

    def _validate(self, design: dict[str, Any]) -> None:
        """Compose one job per cell and try every arm and each parameter's extremes now, so a bad
        override fails before anything is launched."""
        assert self.hydra_context is not None and self.config is not None
        if not design["points"]:
            return
        hook_path = self.settings.get("validate")
        hook = _import(str(hook_path)) if hook_path else None
        first = design["points"][0]["point"]
        probes: list[dict[str, Any]] = [{}]
        for arm in _plain(self.settings.get("arms")) or {}:
            probes.append(dict(_plain(self.settings.get("arms"))[arm]))
        for p in design["params"]:
            extremes = p["values"] if "values" in p else [p["lo"], p["hi"]]
            probes.extend({p["key"]: designs.native(v)} for v in extremes)
        cli_keys: dict[str, set[Any]] = {}
        for point in design["points"]:
            for key, value in point["overrides"].items():
                if not any(key == q["key"] for q in design["params"]):
                    cli_keys.setdefault(key, set()).add(json.dumps(value, sort_keys=True))
        for key, values in cli_keys.items():
            probes.extend({key: json.loads(v)} for v in values)
        for cell in design["cells"]:
            job = self.hydra_context.config_loader.load_sweep_config(
                master_config=self.config,
                sweep_overrides=[*design["fixed"], *cell, f"hydra.sweeper.points=[{first}]"],
            )
            if hook is None:
                continue
            task = copy.deepcopy(job)
            with read_write(task), open_dict(task):
                del task["hydra"]  # what the task function sees, as in hydra.core.utils.run_job
            try:
                hook(task, probes)
            except Exception as exc:
                where = " ".join(cell) or "the design"
                raise HydraException(f"{where}: {exc}") from None

    def _status(
        self, sweep_dir: Path, check: Callable[[Path], Any], points: Any
    ) -> tuple[set[int], list[Path]]:
        """Points with a complete run directory, and run directories that are not complete."""
        wanted = set(points)
        complete: set[int] = set()
        stale: list[Path] = []
        for pid, paths in find_point_dirs(sweep_dir).items():
            if pid not in wanted:
                continue
            for path in paths:
                if not _is_complete(check(path)):
                    stale.append(path)
                elif pid not in complete:
                    complete.add(pid)
        return complete, stale

    def _batch_size(self, pending: int) -> int:
        size = int(self.settings.get("batch_size") or 0)
        if size < 0:
            raise HydraException(
                f"hydra.sweeper.batch_size={size}; allowed: 0 (automatic) or a positive integer"
            )
        assert self.config is not None
        subdir = str(OmegaConf.to_container(self.config.hydra.sweep, resolve=False).get("subdir", ""))
        if "override_dirname" in subdir:
            # a job of several points has no overrides of its own: its directory would be shared
            if size > 1:
                raise HydraException(
                    f"hydra.sweeper.batch_size={size} with hydra.sweep.subdir={subdir} gives every job of "
                    "a cell the same directory; allowed: hydra.sweeper.batch_size=1 (or 0), or a subdir "
                    "with ${hydra.job.num}"
                )
            return 1
        if size == 0:
            workers = os.cpu_count() or 1
            size = max(1, min(64, -(-pending // (4 * workers))))
        return size

    def _jobs(
        self, design: dict[str, Any], pending: list[dict[str, Any]], size: int, sweep_dir: Path
    ) -> list[list[str]]:
        jobs = []
        by_id = {p["point"]: p for p in pending}
        for ci, cell in enumerate(design["cells"]):
            ids = [p["point"] for p in pending if p["cell"] == ci]
            for start in range(0, len(ids), size):
                chunk = ids[start : start + size]
                only = by_id[chunk[0]] if len(chunk) == 1 else None
                jobs.append(
                    [
                        *job_overrides_lib.job_overrides(
                            design["template"], cell, only, design["value_texts"]
                        ),
                        f"hydra.sweep.dir='{sweep_dir}'",
                        f"hydra.sweeper.points=[{','.join(map(str, chunk))}]",
                    ]
                )
        return jobs

    @staticmethod
    def _next_job_number(sweep_dir: Path) -> int:
        """Resumed launches number their jobs after the earlier ones, so no job directory is reused."""
        nums = [int(p.name) for p in sweep_dir.iterdir() if p.is_dir() and p.name.isdigit()]
        return max(nums) + 1 if nums else 0


def _remove_empty_jobs(sweep_dir: Path) -> None:
    """Remove job folders that hold no point (a job killed before its first point, or whose
    unfinished points were just removed): a restart must not leave one more empty folder."""
    for job in sweep_dir.iterdir():
        if not (job.is_dir() and job.name.isdigit()):
            continue
        if not any(point_id(p.name) is not None for p in job.iterdir()):
            shutil.rmtree(job, ignore_errors=True)


def fingerprint(design: dict[str, Any]) -> str:
    """A hash of what defines the points (not of when or where they ran)."""
    keys = ("method", "n", "seed", "params", "arms", "fixed", "cells", "points")
    blob = json.dumps({k: design[k] for k in keys}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _failure_reasons(sweep_dir: Path, failed: list[int]) -> dict[int, str]:
    reasons = {}
    wanted = set(failed)
    for pid, paths in find_point_dirs(sweep_dir).items():
        if pid in wanted:
            for path in paths:
                with contextlib.suppress(OSError, ValueError, KeyError):
                    reasons[pid] = json.loads((path / FAILED_FILE).read_text(encoding="utf-8"))["error"]
    return reasons


class _Progress:
    """A progress bar of finished points, fed by completion markers on disk (any launcher)."""

    def __init__(self, sweep_dir: Path, points: set[int], enabled: bool, interval: float = 1.0) -> None:
        self.sweep_dir = sweep_dir
        self.pending = set(points)
        self.total = len(points)
        self.enabled = enabled
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sweep-progress", daemon=True)
        self._bar = None

    def start(self) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        self._bar = tqdm(
            total=self.total,
            unit="point",
            desc="points",
            file=sys.stderr,
            mininterval=0.5,
            dynamic_ncols=True,
        )
        self._thread.start()

    def _poll(self) -> None:
        done = 0
        for pid, paths in find_point_dirs(self.sweep_dir).items():
            if pid in self.pending and any((p / MARKER).exists() for p in paths):
                self.pending.discard(pid)
                done += 1
        if done and self._bar is not None:
            self._bar.update(done)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._poll()

    def stop(self) -> None:
        if not self.enabled or self._bar is None:
            return
        self._stop.set()
        self._thread.join()
        self._poll()
        self._bar.close()
