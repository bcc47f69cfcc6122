"""What made a result: package version, git commit, dependencies, Python, machine, command line.

Recorded in every run's ``summary.json`` and every design sweep's ``design.json`` so that a
number can be traced to the code and environment that produced it. Nothing here depends on
the time of day or on where the results were written (the output directory is left out of the
command line; Hydra's ``.hydra/`` record keeps it), so identical runs on one machine record
identical provenance.
"""

from __future__ import annotations

import functools
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

#: the distributions whose versions can change a result or how it is written
KEY_DEPENDENCIES = (
    "mesa",
    "hydra-core",
    "omegaconf",
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "numba",
    "SALib",
    "plotly",
)
PACKAGE = "community-governance-sim"


def _version(dist: str) -> str | None:
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


@functools.cache
def git_state(where: Path | None = None) -> dict[str, Any]:
    """Commit of the source tree the package runs from and whether it had uncommitted changes.

    ``{"commit": None, "dirty": None}`` for an installed wheel (no git tree) or without git.
    """
    root = where or Path(__file__).resolve().parent.parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if commit.returncode != 0:
            return {"commit": None, "dirty": None}
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}


@functools.cache
def _environment() -> dict[str, Any]:
    return {
        "package": PACKAGE,
        "version": _version(PACKAGE),
        **git_state(),
        "dependencies": {d: _version(d) for d in KEY_DEPENDENCIES},
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor_count": _cpu_count(),
    }


def _cpu_count() -> int | None:
    import os

    return os.cpu_count()


#: overrides that say only where results go (recorded in each run's ``.hydra/``), not what they are
OUTPUT_KEYS = ("hydra.run.dir", "hydra.sweep.dir", "hydra.sweep.subdir")


def command_line(argv: list[str] | None = None) -> list[str]:
    """The command that made a result, without where it was written.

    ``-o DIR`` / ``--out DIR`` / ``--out=DIR`` and ``hydra.run.dir=`` / ``hydra.sweep.dir=`` /
    ``hydra.sweep.subdir=`` are left out: the output location is in the run's ``.hydra/``
    record, and leaving it out keeps ``summary.json`` bit-identical between identical runs
    written to different directories.
    """
    argv = list(sys.argv if argv is None else argv)
    if not argv:
        return []
    kept: list[str] = []
    args = iter(argv[1:])
    for arg in args:
        if arg in ("-o", "--out"):
            next(args, None)  # and the directory after it
            continue
        if arg.startswith("--out="):
            continue
        key = arg.lstrip("+~").partition("=")[0]
        if "=" in arg and key in OUTPUT_KEYS:
            continue
        kept.append(arg)
    return [Path(argv[0]).name, *kept]


def provenance(seeds: dict[str, Any] | None = None) -> dict[str, Any]:
    """The provenance record: environment, the seeds given, and the command line (without the
    output location, see :func:`command_line`)."""
    return {
        **_environment(),
        "seeds": dict(seeds or {}),
        "command_line": command_line(),
    }
