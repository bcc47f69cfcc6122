"""The design sweeper's point contract, kept by any Hydra app: Hydra's own test suites run under it.

A job launched by ``hydra/sweeper=design`` carries the ids of its points in
``hydra.sweeper.points``, and the sweeper counts a point as done when a run directory
``<job dir>/point-NNNNNN`` passes the sweeper's ``check``. ``sim-run`` writes those directories
itself. :class:`PointMarker` is a Hydra callback that does it for an app that knows nothing of
points (the apps of Hydra's launcher and sweeper test suites): when a job completes it writes a
completion marker for each of the job's points, and :func:`marker_check` is the matching check.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn, JobStatus
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

MARKER = "_COMPLETE.json"


class PointMarker(Callback):
    """On a completed job, writes ``point-NNNNNN/_COMPLETE.json`` in its directory for each of its points."""

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        points = config.hydra.sweeper.get("points")
        if job_return.status != JobStatus.COMPLETED or not points:
            return
        for point in points:
            run = Path(config.hydra.runtime.output_dir) / f"point-{int(point):06d}"
            run.mkdir(parents=True, exist_ok=True)
            (run / MARKER).write_text(json.dumps({"point": int(point)}), encoding="utf-8")


def marker_check(run_dir: Path) -> str | None:
    """None if the point's run directory holds its completion marker, else why it is not complete."""
    return None if (Path(run_dir) / MARKER).is_file() else f"{run_dir} has no {MARKER}"
