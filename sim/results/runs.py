"""A run's files: written with a completion marker, checked, and loaded.

A run directory holds ``metrics.parquet`` (replicate × step), ``buildings.parquet``
(replicate × step × building), ``summary.json``, ``config.yaml`` and, written last,
``_COMPLETE.json`` with the SHA-256 of every file. A directory without a valid marker is an
unfinished or damaged run: :func:`load` and ``sim-collect`` skip it and say so.

A run stopped by SIGINT/SIGTERM keeps the replicates that finished: the same files hold
them, and ``_INCOMPLETE.json`` (written last, instead of ``_COMPLETE.json``) says which
replicates are missing and why. Such a run is never taken for a complete one: :func:`load`
and ``sim-collect`` skip it with that message, and a rerun or a resumed sweep redoes it
(``load(run, incomplete=True)`` reads the finished replicates on purpose).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.results.files import (
    WriteError,
    _is_temporary,
    remove_orphan_temporaries,
    sha256,
    write_json,
    write_parquet,
    write_text,
)
from sim.results.layout import (
    BUILDINGS_FILE,
    COLLECTED_FILE,
    CONFIG_FILE,
    HYDRA_RECORD,
    INCOMPLETE,
    MARKER,
    METRICS_FILE,
    SUMMARY_FILE,
    id_ranges,
)


def write_run(
    out_dir: Path,
    metrics: pd.DataFrame,
    buildings: pd.DataFrame,
    summary: dict[str, Any],
    config_yaml: str,
    incomplete: dict[str, Any] | None = None,
) -> Path:
    """Write every file of a run, then the completion marker with their checksums.

    With ``incomplete`` (what is missing and why) the files hold the finished replicates of an
    interrupted run, and the last file written is ``_INCOMPLETE.json`` (``incomplete`` plus the
    checksums) instead of ``_COMPLETE.json``. If a file cannot be written, the files this call
    wrote are removed again and :class:`WriteError` says which path failed and why.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(out_dir, exc) from exc
    # A rewrite is unfinished until its new marker lands: no old marker may vouch for new files.
    for old in (MARKER, INCOMPLETE):
        with contextlib.suppress(FileNotFoundError):
            (out_dir / old).unlink()
    from sim.results.lock import held_by_another

    # sim-run holds the directory's lock here: no other sim-run writes into it, so unnamed
    # leftovers are orphaned too (a live sim-report's named temporary file is still kept)
    remove_orphan_temporaries(out_dir, holding_lock=not held_by_another(out_dir))
    written: list[Path] = []

    def put(name: str, write: Callable[[Path, Any], None], data: Any) -> None:
        write(out_dir / name, data)
        written.append(out_dir / name)

    try:
        put(METRICS_FILE, write_parquet, metrics)
        if buildings is not None and not buildings.empty:
            put(BUILDINGS_FILE, write_parquet, buildings)
        put(SUMMARY_FILE, write_json, summary)
        put(CONFIG_FILE, write_text, config_yaml)
        covered = [*written, *_record_files(out_dir)]
        checksums = {"files": {p.relative_to(out_dir).as_posix(): sha256(p) for p in covered}}
        if incomplete is None:
            write_json(out_dir / MARKER, checksums)
        else:
            write_json(out_dir / INCOMPLETE, {**incomplete, **checksums})
    except BaseException:
        # Leave no partial set of files that looks like data (a full disk also gets space back).
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    return out_dir


def write_incomplete(out_dir: Path, stop: Any, config_yaml: str) -> Path:
    """Keep what an interrupted run finished, marked incomplete (``_INCOMPLETE.json``).

    ``stop`` is the :class:`sim.experiment.simulate.RunInterrupted` that ended the run: its ``partial``
    result (None if no replicate finished), ``done`` and ``missing`` replicates, and the signal.
    """
    out_dir = Path(out_dir)
    info = {
        "reason": f"interrupted by {stop.signal_name}",
        "replicates_done": [int(r) for r in stop.done],
        "replicates_missing": [int(r) for r in stop.missing],
    }
    if stop.partial is None:
        for old in (MARKER, INCOMPLETE):
            with contextlib.suppress(FileNotFoundError):
                (out_dir / old).unlink()
        write_json(out_dir / INCOMPLETE, {**info, "files": {}})
        return out_dir
    summary = {**stop.partial.summary, "incomplete": info}
    return write_run(out_dir, stop.partial.metrics, stop.partial.buildings, summary, config_yaml, info)


@dataclass(frozen=True)
class RunStatus:
    """Whether a run directory is a complete, undamaged run; truthy only when it is.

    ``problem`` says why not (one line naming the file), None when complete.
    """

    complete: bool
    problem: str | None = None

    def __bool__(self) -> bool:
        return self.complete

    def __str__(self) -> str:
        return self.problem or "complete"


COMPLETE = RunStatus(True)


def check_run(run_dir: Path) -> RunStatus:
    """The :class:`RunStatus` of ``run_dir``: complete only if its marker vouches for every file.

    Every file the marker lists must be there with its checksum, and every file of ``.hydra/``
    (the record of how the run was made) must be listed: a record rewritten by another writer
    after the marker makes the run incomplete.
    """
    run_dir = Path(run_dir)
    marker = run_dir / MARKER
    if not marker.exists():
        partial = incomplete_info(run_dir)
        if partial is not None:
            return RunStatus(False, describe_incomplete(partial))
        return RunStatus(False, "no completion marker (unfinished or interrupted run)")
    try:
        files = json.loads(marker.read_text(encoding="utf-8"))["files"]
    except (ValueError, KeyError, TypeError, OSError):
        return RunStatus(False, f"unreadable completion marker {marker}")
    problem = _check_files(run_dir, files, marker)
    return COMPLETE if problem is None else RunStatus(False, problem)


def _check_files(run_dir: Path, files: Any, marker: Path) -> str | None:
    """None if every file listed in ``marker`` is there with its checksum; else the first problem."""
    if not isinstance(files, dict) or METRICS_FILE not in files:
        return f"unreadable completion marker {marker}"
    for name, digest in files.items():
        path = run_dir / name
        if not path.exists():
            return f"missing file {path}"
        if sha256(path) != digest:
            return f"corrupt file {path} (checksum differs from {marker.name})"
    for path in _record_files(run_dir):
        if path.relative_to(run_dir).as_posix() not in files:
            return f"file {path} is not covered by {marker.name} (written after the run completed)"
    return None


def _record_files(run_dir: Path) -> list[Path]:
    """The files of Hydra's ``.hydra/`` record of a run (sorted), which its marker must cover."""
    record = Path(run_dir) / HYDRA_RECORD
    if not record.is_dir():
        return []
    return sorted(p for p in record.rglob("*") if p.is_file() and not _is_temporary(p))


def incomplete_info(run_dir: Path) -> dict[str, Any] | None:
    """The record of an interrupted run (``_INCOMPLETE.json``), or None if there is none."""
    path = Path(run_dir) / INCOMPLETE
    if not path.exists():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return {"reason": f"unreadable {path}"}
    return info if isinstance(info, dict) else {"reason": f"unreadable {path}"}


def describe_incomplete(info: dict[str, Any]) -> str:
    """One line on what an interrupted run holds and lacks."""
    done = info.get("replicates_done", [])
    missing = info.get("replicates_missing", [])
    total = len(done) + len(missing)
    reason = info.get("reason", "interrupted")
    return (
        f"incomplete run ({reason}): {len(done)} of {total} replicates finished, "
        f"missing {id_ranges(missing)}; rerun it, or resume its sweep, to redo it"
    )


def find_runs(root: Path) -> Iterator[Path]:
    """Every directory under ``root`` (itself included) that looks like a run, in sorted order."""
    root = Path(root)
    candidates = {p.parent for p in root.rglob(METRICS_FILE)} | {p.parent for p in root.rglob(MARKER)}
    if (root / METRICS_FILE).exists():
        candidates.add(root)
    yield from sorted(candidates)


class CorruptResultError(ValueError):
    """A result file exists but cannot be read as what it should be; the message names its path."""


def read_parquet(path: Path) -> pd.DataFrame:
    """``pandas.read_parquet`` that reports a damaged file in one line naming its path."""
    import pyarrow as pa

    try:
        return pd.read_parquet(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CorruptResultError(f"corrupt or unreadable Parquet file {path}: {detail}") from None


def load(
    path: str | os.PathLike[str],
    table: str = "metrics",
    verbose: bool = True,
    incomplete: bool = False,
    allow_missing: bool = False,
) -> pd.DataFrame:
    """The tidy table of a run, or of every complete run under a directory.

    Args:
        path: a run directory, a sweep directory, a collected ``.parquet`` file or any folder
            holding runs (``results/`` itself works).
        table: ``"metrics"`` (replicate × step) or ``"buildings"`` (replicate × step × building).
        verbose: say which runs were skipped and why.
        incomplete: also read interrupted runs (their finished replicates, checksums verified).
        allow_missing: accept a collected table made with ``sim-collect --allow-missing``; it is
            returned with ``df.attrs["partial"]`` set to its PARTIAL note (also printed).

    A collected table is read only after :func:`sim.results.integrity.verify_collection`
    has checked it against its record and the sweep: an edited, stale or (unless
    ``allow_missing``) partial table raises :class:`~sim.results.integrity.CollectionError`.
    So is any ``.parquet`` file whose metadata says it was collected, whatever its name (a copy
    saved as ``lone.parquet``): :func:`sim.results.integrity.verify_table`.

    With several runs, a ``run`` column holds each run's path relative to ``path``. A damaged
    Parquet file raises :class:`CorruptResultError` naming it; a run without a valid marker is
    skipped with a message (a single run asked for by name raises FileNotFoundError saying why).
    """
    path = Path(path)
    if path.is_file():
        return _read_collected(path, allow_missing, verbose)
    if not path.exists():
        raise FileNotFoundError(f"no such run or directory: {path}")
    filename = {"metrics": METRICS_FILE, "buildings": BUILDINGS_FILE}.get(table)
    if filename is None:
        raise ValueError(f"table={table!r}; allowed: 'metrics' or 'buildings'")
    if (path / COLLECTED_FILE).exists() and table == "metrics":
        return _read_collected(path / COLLECTED_FILE, allow_missing, verbose)
    frames = []
    runs = list(find_runs(path))
    skipped: list[str] = []
    for run in runs:
        problem = check_run(run).problem
        if problem is not None and incomplete and incomplete_info(run) is not None:
            problem = _check_files(run, incomplete_info(run).get("files"), run / INCOMPLETE)
        if problem is not None:
            skipped.append(f"{run}: {problem}")
            if verbose:
                print(f"skipping {run}: {problem}", file=sys.stderr)
            continue
        if not (run / filename).exists():
            continue
        df = read_parquet(run / filename)
        if len(runs) > 1 or run != path:
            df.insert(0, "run", str(run.relative_to(path)))
        frames.append(df)
    if not frames:
        why = f" ({skipped[0]})" if len(skipped) == 1 else f" ({len(skipped)} skipped)" if skipped else ""
        raise FileNotFoundError(f"no complete run with {filename} under {path}{why}")
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _read_collected(table: Path, allow_missing: bool, verbose: bool) -> pd.DataFrame:
    """A table file, verified first if it is a collected table, whatever its name (one-line
    refusal: :func:`sim.results.integrity.verify_table`); any other Parquet file as it is."""
    from sim.results.integrity import verify_table

    df = read_parquet(table)  # a damaged file is named as such before anything else is said of it
    status = verify_table(table, allow_missing=allow_missing)
    if status is None:
        return df  # not a collected table (no collection record in its metadata)
    if status.note is not None:
        df.attrs["partial"] = status.note
        if verbose:
            print(f"{table}: {status.note}", file=sys.stderr)
    return df


def load_summary(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``summary.json`` of a run."""
    return json.loads((Path(run_dir) / SUMMARY_FILE).read_text(encoding="utf-8"))
