"""The layout of results on disk: the file names of a run, of a collection and of a design sweep.

One place for every name a writer and a reader must agree on. A run directory holds
``metrics.parquet``, ``buildings.parquet``, ``summary.json``, ``config.yaml``, Hydra's
``.hydra/`` record and, written last, ``_COMPLETE.json`` (or ``_INCOMPLETE.json``). A design
sweep directory holds ``design.json`` (the points), the job folders, a ``point-NNNNNN`` run
directory per point and, for points that failed, ``_FAILED.json``; ``sim-collect`` adds
``collected.parquet``, ``summary.parquet`` and ``_COLLECTED.json``. Both the design sweeper
(``hydra_plugins.design_sweeper``) and the readers in :mod:`sim.results` import these names
from here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hydra.errors import HydraException

# ------------------------------------------------------------------------------ a run
MARKER = "_COMPLETE.json"
INCOMPLETE = "_INCOMPLETE.json"
METRICS_FILE = "metrics.parquet"
BUILDINGS_FILE = "buildings.parquet"
SUMMARY_FILE = "summary.json"
CONFIG_FILE = "config.yaml"
#: Hydra's record of how a run was made; covered by the completion marker
HYDRA_RECORD = ".hydra"

# ------------------------------------------------------------------------------ a collection
COLLECTED_FILE = "collected.parquet"
SUMMARY_TABLE_FILE = "summary.parquet"
COLLECTION_RECORD = "_COLLECTED.json"  # sim.results.integrity: what the tables were made from

# ------------------------------------------------------------------------------ a design sweep
DESIGN_FILE = "design.json"
POINT_PREFIX = "point-"
FAILED_FILE = "_FAILED.json"
#: the folder of a sweep into which sim-analyse writes its tables
ANALYSIS_DIR = "analysis"


def point_dirname(point: int) -> str:
    """The run directory name of a point inside its job directory."""
    return f"{POINT_PREFIX}{point:06d}"


def point_id(dirname: str) -> int | None:
    """The point id of a run directory name, or None if it is not one."""
    if not dirname.startswith(POINT_PREFIX):
        return None
    try:
        return int(dirname[len(POINT_PREFIX) :])
    except ValueError:
        return None


class DesignFileError(OSError):
    """A design record that cannot be read as one; the message names the file."""


class DesignMismatch(HydraException):
    """The sweep directory holds another command's design."""


def load_design(sweep_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The design record of a sweep directory (FileNotFoundError if it has none, DesignFileError
    naming the file if it is not a design record)."""
    path = Path(sweep_dir) / DESIGN_FILE
    try:
        design = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DesignFileError(f"{path} is not a design record (not valid JSON: {exc})") from None
    if not isinstance(design, dict) or not isinstance(design.get("points"), list):
        raise DesignFileError(f"{path} is not a design record (no list of points)")
    return design


def find_point_dirs(sweep_dir: Path) -> dict[int, list[Path]]:
    """Every run directory of a point under ``sweep_dir``, by point id (sorted paths)."""
    found: dict[int, list[Path]] = {}
    for root, dirs, _files in os.walk(sweep_dir):
        keep = []
        for d in dirs:
            pid = point_id(d)
            if pid is not None:
                found.setdefault(pid, []).append(Path(root) / d)
            elif not d.startswith("."):
                keep.append(d)
        dirs[:] = keep  # no need to descend into run directories or hidden folders
    return {pid: sorted(paths) for pid, paths in found.items()}


def id_ranges(values: list[int]) -> str:
    """[0, 1, 2, 5] → '0-2, 5'."""
    groups: list[list[int]] = []
    for v in sorted(values):
        if groups and groups[-1][-1] + 1 == v:
            groups[-1].append(v)
        else:
            groups.append([v])
    return ", ".join(str(g[0]) if len(g) == 1 else f"{g[0]}-{g[-1]}" for g in groups) or "none"
