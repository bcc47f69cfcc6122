"""Sweeps on the job side: running a batch of design points, resuming, finding an earlier sweep.

A job launched by the design sweeper (``hydra/sweeper=design``) carries the ids of its points
in ``hydra.sweeper.points``; :func:`run_points` applies each point's overrides from the
sweep's ``design.json`` to the job's composed config and writes one run directory per point,
``<job dir>/point-NNNNNN``, skipping points that are already complete. A point that fails
leaves ``_FAILED.json`` with the error instead of a completion marker, and the job goes on
with its other points.
"""

from __future__ import annotations

import copy
import logging
import shutil
import traceback
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from hydra_plugins.design_sweeper.design_sweeper import FAILED_FILE, load_design, point_dirname

log = logging.getLogger(__name__)

#: hydra.sweeper.* settings that may change between a sweep and its resumption
RESUMABLE_CHANGES = ("hydra.sweeper.batch_size", "hydra.sweeper.progress", "hydra.sweeper.max_batch_size")


def apply_overrides(cfg: DictConfig, overrides: dict[str, Any]) -> DictConfig:
    """A copy of ``cfg`` with dotted-key ``overrides`` set (unknown keys raise, as on the command line)."""
    from omegaconf.errors import OmegaConfBaseException

    from sim.config import ConfigError, config_error_message

    out = copy.deepcopy(cfg)
    for key, value in overrides.items():
        if OmegaConf.select(out, key, default=_ABSENT) is _ABSENT:
            raise ConfigError(f"{key}={value!r}: no such key in the configuration")
        try:
            OmegaConf.update(out, key, value, merge=True)
        except OmegaConfBaseException as exc:
            raise ConfigError(f"{key}={value!r}: {config_error_message(exc)}") from None
    return out


_ABSENT = object()


def check_point(cfg: DictConfig, overrides: dict[str, Any]) -> None:
    """The design sweeper's validation hook: raise ConfigError if ``overrides`` make a bad config."""
    from sim.run import to_config

    to_config(apply_overrides(cfg, overrides))


def run_points(cfg: DictConfig, job_dir: Path, sweep_dir: Path, points: list[int]) -> dict[str, Any]:
    """Run the design points ``points`` of the sweep in ``sweep_dir``, one run directory each.

    Returns the ids that ran, were skipped (already complete) and failed (with the error).
    """
    from sim.results import check_run, write_json, write_run
    from sim.run import to_config
    from sim.simulate import simulate

    design = load_design(sweep_dir)
    by_id = {p["point"]: p for p in design["points"]}
    ran: list[int] = []
    skipped: list[int] = []
    failed: dict[int, str] = {}
    for pid in points:
        entry = by_id[pid]
        out = job_dir / point_dirname(pid)
        if check_run(out) is None:
            skipped.append(pid)
            continue
        if out.exists():
            shutil.rmtree(out)  # an interrupted attempt: start the point again from nothing
        try:
            point_cfg = apply_overrides(cfg, entry["overrides"])
            config = to_config(point_cfg)
            result = simulate(config)
            metrics = result.metrics
            metrics.insert(0, "point", pid)
            if "arm" in entry:
                metrics.insert(1, "arm", entry["arm"])
            summary = {
                **result.summary,
                "point": pid,
                "arm": entry.get("arm"),
                "overrides": entry["overrides"],
            }
            write_run(out, metrics, result.buildings, summary, OmegaConf.to_yaml(point_cfg))
            ran.append(pid)
        except Exception as exc:  # one bad point must not take its batch down with it
            message = f"{type(exc).__name__}: {exc}"
            log.error("point %d failed: %s", pid, message)
            write_json(
                out / FAILED_FILE, {"point": pid, "error": message, "traceback": traceback.format_exc()}
            )
            failed[pid] = message
    print(f"job {job_dir.name}: ran {len(ran)}, skipped {len(skipped)}, failed {len(failed)} point(s)")
    return {"ran": ran, "skipped": skipped, "failed": failed}


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
