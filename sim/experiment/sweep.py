"""Sweeps on the job side: running a batch of design points, resuming, finding an earlier sweep.

A job launched by the design sweeper (``hydra/sweeper=design``) carries the ids of its points
in ``hydra.sweeper.points``; :func:`run_points` applies each point's overrides from the
sweep's ``design.json`` to the job's composed config and writes one run directory per point,
``<job dir>/point-NNNNNN``, skipping points that are already complete. A point that fails
leaves ``_FAILED.json`` with the error instead of a completion marker, and the job goes on
with its other points. A point stopped by SIGINT/SIGTERM keeps its finished replicates in a
run marked incomplete, and the job stops; a result that cannot be written (disk full) stops
the job too, since every later point would fail the same way. Either way the point is rerun
when the sweep is resumed.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import logging
import shutil
import signal
import traceback
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from sim.core.config import Config, ConfigError, validate
from sim.results import WriteError, check_run, write_incomplete, write_json, write_run
from sim.results.layout import FAILED_FILE, load_design, point_dirname

log = logging.getLogger(__name__)

#: hydra.sweeper.* settings that may change between a sweep and its resumption
RESUMABLE_CHANGES = ("hydra.sweeper.batch_size", "hydra.sweeper.progress", "hydra.sweeper.max_batch_size")


def point_config(base: Config, overrides: dict[str, Any]) -> Config:
    """A validated copy of ``base`` with dotted-key ``overrides`` set.

    Works on the dataclasses directly: re-composing an OmegaConf tree per point would cost
    about as much as the per-job overhead that batching points saves.
    """
    cfg = copy.deepcopy(base)
    for key, value in overrides.items():
        *path, leaf = key.split(".")
        obj: Any = cfg
        for part in path:
            obj = getattr(obj, part, None)
        names = {f.name for f in dataclasses.fields(obj)} if dataclasses.is_dataclass(obj) else set()
        if leaf not in names:
            raise ConfigError(f"{key}={value!r}: no such key in the configuration")
        if dataclasses.is_dataclass(getattr(obj, leaf)):
            raise ConfigError(f"{key}={value!r}: {key} is a group of settings; allowed: one of its keys")
        setattr(obj, leaf, _coerce(key, getattr(obj, leaf), value))
    return validate(cfg)


def _coerce(key: str, current: Any, value: Any) -> Any:
    """``value`` as the type of the field it replaces (what the schema would do on merge)."""
    if isinstance(current, bool):
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key}={value!r} is not a boolean; allowed: true or false")
    if isinstance(current, int):
        if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
            return int(value)
        raise ConfigError(f"{key}={value!r} is not an integer; allowed: a whole number")
    if isinstance(current, float):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{key}={value!r} is not a number; allowed: a number")
    if isinstance(current, str):
        return str(value)
    if isinstance(current, list):
        if isinstance(value, list | tuple):
            return list(value)
        raise ConfigError(f"{key}={value!r} is not a list; allowed: a list like [0.1, 0.2]")
    return value


def config_yaml(config: Config) -> str:
    """The YAML record of a point's full configuration (config.yaml of its run directory)."""
    import yaml

    return yaml.safe_dump(dataclasses.asdict(config), sort_keys=False, allow_unicode=True)


def check_points(cfg: DictConfig, probes: list[dict[str, Any]]) -> None:
    """The design sweeper's validation hook: raise ConfigError if any set of overrides makes a bad config."""
    from sim.experiment.compose import to_config

    base = to_config(cfg)
    for overrides in probes:
        point_config(base, overrides)


def run_points(cfg: DictConfig, job_dir: Path, sweep_dir: Path, points: list[int]) -> dict[str, Any]:
    """Run the design points ``points`` of the sweep in ``sweep_dir``, one run directory each.

    The points' replicates and baselines run together as ensembles
    (:mod:`sim.experiment.ensemble`), and each point is written as soon as its last replicate
    is in. Returns the ids that ran, were skipped (already complete) and failed (with the error).
    """
    from sim.experiment.compose import to_config
    from sim.results.lock import DirectoryLocked, writer_lock

    base = to_config(cfg)
    design = load_design(sweep_dir)
    by_id = {p["point"]: p for p in design["points"]}
    outcome: dict[str, Any] = {"ran": [], "skipped": [], "failed": {}}
    pending: dict[int, Config] = {}
    with contextlib.ExitStack() as locks:
        for pid in points:
            out = job_dir / point_dirname(pid)
            try:
                # one writer per point, even across sweeps driven by hand, until the batch is done
                locks.enter_context(writer_lock(out))
            except DirectoryLocked as exc:  # another process writes this point: leave it alone
                _fail(outcome, pid, str(exc))
                continue
            if check_run(out):
                outcome["skipped"].append(pid)
                continue
            _clear_point(out)  # an interrupted attempt: start the point again from nothing
            try:
                pending[pid] = point_config(base, by_id[pid]["overrides"])
            except Exception as exc:  # one bad point must not take its batch down with it
                _fail(outcome, pid, f"{type(exc).__name__}: {exc}", out)
        _run_pending(pending, by_id, job_dir, outcome)
    ran, skipped, failed = outcome["ran"], outcome["skipped"], outcome["failed"]
    print(f"job {job_dir.name}: ran {len(ran)}, skipped {len(skipped)}, failed {len(failed)} point(s)")
    return {"ran": sorted(ran), "skipped": skipped, "failed": failed}


def _run_pending(
    pending: dict[int, Config], by_id: dict[int, dict[str, Any]], job_dir: Path, outcome: dict[str, Any]
) -> None:
    """Run the points in ``pending`` as ensembles, writing each when it is complete.

    If an ensemble fails, the points it left unfinished are run again one at a time, so that
    the error is put on the point that causes it (a point's results do not depend on the
    company it keeps, so the others lose nothing). An interruption keeps every point's finished
    replicates, marked incomplete, and stops the job.
    """
    from sim.experiment import ensemble
    from sim.experiment.simulate import PointTables, jobs_of

    tables = {pid: PointTables(config, range(config.replicates)) for pid, config in pending.items()}
    jobs = [job for pid, config in pending.items() for job in jobs_of(config, key=pid)]
    try:
        for result in ensemble.run(jobs):
            pid = result.job.key[0]
            tables[pid].add(result)
            if tables[pid].complete:
                _write_point(pid, tables.pop(pid), by_id[pid], job_dir, outcome)
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        # the first unfinished point is the one in progress (marked even with nothing done, as a
        # single run is); the others are kept only where a replicate finished
        unfinished = list(tables.items())
        stops = [
            _keep_partial(pid, point, signum, job_dir)
            for i, (pid, point) in enumerate(unfinished)
            if i == 0 or point.done()
        ]
        raise (stops[0] if stops else exc) from None
    except WriteError:
        raise
    except Exception:  # find the point that fails, running the unfinished ones alone
        for pid in list(tables):
            try:
                for result in ensemble.run(jobs_of(pending[pid], key=pid)):
                    tables[pid].add(result)
                _write_point(pid, tables.pop(pid), by_id[pid], job_dir, outcome)
            except (KeyboardInterrupt, WriteError):
                raise
            except Exception as exc:
                _fail(outcome, pid, f"{type(exc).__name__}: {exc}", job_dir / point_dirname(pid))


def _write_point(pid: int, point: Any, entry: dict[str, Any], job_dir: Path, outcome: dict[str, Any]) -> None:
    """Write a complete point's run directory (its metrics carry the point id and arm)."""
    from sim.experiment.stopping import signals_deferred

    result = point.result()
    metrics = result.metrics
    metrics.insert(0, "point", pid)
    if "arm" in entry:
        metrics.insert(1, "arm", entry["arm"])
    summary = {**result.summary, "point": pid, "arm": entry.get("arm"), "overrides": entry["overrides"]}
    with signals_deferred():
        write_run(job_dir / point_dirname(pid), metrics, result.buildings, summary, config_yaml(point.cfg))
    outcome["ran"].append(pid)


def _keep_partial(pid: int, point: Any, signum: int, job_dir: Path) -> Any:
    """Write an interrupted point's finished replicates, marked incomplete; return its stop."""
    from sim.experiment.simulate import RunInterrupted

    done = point.done()
    stop = RunInterrupted(signum, point.result(), done, [r for r in point.which if r not in done])
    out = job_dir / point_dirname(pid)
    write_incomplete(out, stop, config_yaml(point.cfg))
    stop.where = out  # sim-run names the point's directory, not the job's
    return stop


def _fail(outcome: dict[str, Any], pid: int, message: str, out: Path | None = None) -> None:
    """Record a failed point (and leave its error in ``_FAILED.json`` when it has a directory)."""
    log.error("point %d failed: %s", pid, message)
    if out is not None:
        write_json(out / FAILED_FILE, {"point": pid, "error": message, "traceback": traceback.format_exc()})
    outcome["failed"][pid] = message


def _clear_point(out: Path) -> None:
    """Empty a point's directory of an earlier attempt, keeping the lock file this job holds."""
    from sim.results.lock import LOCK_FILE

    if not out.is_dir():
        return
    for child in out.iterdir():
        if child.name == LOCK_FILE:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _sweep_overrides(args: list[str]) -> tuple[list[str], list[str]]:
    """Task overrides and the design-defining hydra.sweeper overrides of a command line."""
    task, sweeper = [], []
    for a in args:
        if a.startswith("-"):
            continue
        key = a.lstrip("+~").partition("=")[0]
        if key.startswith(("hydra.", "hydra/")):
            if key.startswith("hydra.sweeper.") and not key.startswith(RESUMABLE_CHANGES):
                sweeper.append(a)
        else:
            task.append(a)
    return sorted(task), sorted(sweeper)


def find_resume_dir(args: list[str], parent: Path) -> Path | None:
    """The newest sweep under ``parent`` that was started by the same command (``args``), if any.

    Launcher choice and batch size may differ: resuming a laptop sweep on a cluster is allowed.
    """
    want = _sweep_overrides(args)
    if not parent.is_dir():
        return None
    for candidate in sorted((p for p in parent.iterdir() if p.is_dir()), reverse=True):
        record = candidate / "multirun.yaml"
        if not record.exists():
            continue
        try:
            old = OmegaConf.load(record)
            task = list(old.hydra.overrides.task)
            hydra_ov = list(old.hydra.overrides.hydra)
        except Exception:  # an unreadable record belongs to no sweep we can resume
            continue
        if _sweep_overrides([*task, *hydra_ov]) == want:
            return candidate
    return None
