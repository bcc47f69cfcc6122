"""Writing a run (atomically, with a completion marker), loading runs, collecting a sweep.

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

import argparse
import contextlib
import hashlib
import json
import math
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

MARKER = "_COMPLETE.json"
INCOMPLETE = "_INCOMPLETE.json"
METRICS_FILE = "metrics.parquet"
BUILDINGS_FILE = "buildings.parquet"
SUMMARY_FILE = "summary.json"
CONFIG_FILE = "config.yaml"
#: Hydra's record of how a run was made; covered by the completion marker
HYDRA_RECORD = ".hydra"


# ------------------------------------------------------------------------------ writing
class WriteError(OSError):
    """A result file could not be written (disk full, permission, ...); nothing was left half-written.

    The message is one line naming the path and the operating system's reason.
    """

    def __init__(self, path: Path, cause: BaseException) -> None:
        text = str(cause).strip()
        code = getattr(cause, "errno", None)
        found = re.search(r"\[errno (\d+)\]", text)  # pyarrow puts the errno in its message
        if code is None and found:
            code = int(found.group(1))
        reason = os.strerror(code) if code else (text.splitlines()[0] if text else type(cause).__name__)
        super().__init__(code, f"cannot write {path}: {reason}")
        self.path = Path(path)

    def __str__(self) -> str:
        return str(self.strerror)


def describe_os_error(exc: OSError) -> str:
    """One line for an operating-system error: the path and the reason, without a traceback."""
    if isinstance(exc, WriteError):
        return str(exc)
    reason = exc.strerror or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if exc.filename is None:
        return f"{reason}"
    where = f"{exc.filename}" + (f" -> {exc.filename2}" if exc.filename2 else "")
    return f"cannot access {where}: {reason}"


def _umask() -> int:
    """The process umask (read by setting and restoring it; there is no getter before 3.14)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _host_tag() -> str:
    """Eight hex digits naming this host in temporary file names (a host name may hold dots)."""
    import socket

    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


#: ``.NAME.<pid>-<host>.<random>.tmp``: a temporary file and the process that is writing it
_OWNED_TEMPORARY = re.compile(r"^\..+\.(\d+)-([0-9a-f]{8})\.[^.]+\.tmp$")
#: a temporary file that names no writer (an older version's, or one written under the folder's
#: writer lock) is removed without that lock only once it is this old
UNOWNED_TEMPORARY_AGE = 3600.0


def temporary_beside(path: Path) -> tuple[int, str]:
    """``mkstemp`` beside ``path``, named ``.NAME.<pid>-<host>.<random>.tmp``: (fd, its path).

    The writer's process id and host are in the name so that :func:`remove_orphan_temporaries`
    can tell a killed writer's leftovers from a file another process is writing right now.
    """
    path = Path(path)
    return tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}-{_host_tag()}.", suffix=".tmp", dir=path.parent
    )


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, fsync it, then rename it.

    Readers see either the old file or the whole new one, never a half-written file; on any
    error the temporary file is removed, ``path`` is untouched and an ``OSError`` becomes a
    :class:`WriteError` naming ``path``. The file gets the usual permissions (0666 minus the
    umask), not the owner-only mode of ``mkstemp``: results are meant to be shared.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = temporary_beside(path)
    except OSError as exc:
        raise WriteError(path, exc) from exc
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        os.close(fd)
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if isinstance(exc, OSError) and not isinstance(exc, WriteError):
            raise WriteError(path, exc) from exc
        raise


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON (NaN/inf as null) to ``path`` atomically."""
    write_text(path, json.dumps(_json_safe(data), indent=2, ensure_ascii=False) + "\n")


def write_parquet(path: Path, df: pd.DataFrame) -> None:
    """Write ``df`` as zstd-compressed Parquet to ``path`` atomically."""
    atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False, compression="zstd"))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def _json_safe(value: Any) -> Any:
    """NaN and inf are not JSON: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item"):
        return _json_safe(value.item())
    return value


# ------------------------------------------------------------------------------ reading
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


def _is_temporary(path: Path) -> bool:
    return path.name.startswith(".") and path.name.endswith(".tmp")


def _process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (one owned by another user counts)."""
    if pid <= 0:
        return True  # not a process id we could judge: keep its file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # EPERM: it exists, under another user
    return True


def orphaned(tmp: Path, holding_lock: bool = False) -> bool:
    """Whether the temporary file ``tmp`` belongs to no live writer and may be removed.

    A file named with its writer (``.NAME.<pid>-<host>.<random>.tmp``, see
    :func:`temporary_beside`) is orphaned when that process no longer exists on this host; one
    written on another host is kept (its process cannot be seen from here). A file that names
    no writer (an older version's, or the design sweeper's) is orphaned when the caller holds the
    folder's writer lock, or when nobody holds it and the file has not changed for
    :data:`UNOWNED_TEMPORARY_AGE` seconds.
    """
    found = _OWNED_TEMPORARY.match(tmp.name)
    if found is not None:
        pid, host = int(found.group(1)), found.group(2)
        if host != _host_tag():
            return False
        return pid != os.getpid() and not _process_alive(pid)
    if holding_lock:
        return True
    from sim.results.lock import is_locked

    if is_locked(tmp.parent):
        return False
    try:
        import time

        return time.time() - tmp.stat().st_mtime > UNOWNED_TEMPORARY_AGE
    except FileNotFoundError:
        return False


def remove_orphan_temporaries(directory: Path, holding_lock: bool = False) -> list[Path]:
    """Remove the temporary files (``.NAME.*.tmp``) killed writers left in ``directory`` (and its
    ``.hydra/``); return them.

    Safe to call at any time: a file is removed only if no live writer owns it (:func:`orphaned`);
    a file another process is writing right now is left alone. ``holding_lock``: the caller holds
    the directory's writer lock (:mod:`sim.results.lock`), or knows that no other process does,
    so unnamed temporary files are leftovers too. ``sim-run`` (through :func:`write_run`),
    ``sim-collect`` and ``sim-analyse`` call it on the folder they are about to write into.
    """
    removed: list[Path] = []
    directory = Path(directory)
    if not directory.is_dir():
        return removed
    for path in [directory, *(directory / HYDRA_RECORD,)]:
        if not path.is_dir():
            continue
        for tmp in path.iterdir():
            if tmp.is_file() and _is_temporary(tmp) and orphaned(tmp, holding_lock):
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
                    removed.append(tmp)
    return removed


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
        f"missing {_ranges(missing)}; rerun it, or resume its sweep, to redo it"
    )


def _ranges(values: list[int]) -> str:
    """[0, 1, 2, 5] → '0-2, 5'."""
    groups: list[list[int]] = []
    for v in sorted(values):
        if groups and groups[-1][-1] + 1 == v:
            groups[-1].append(v)
        else:
            groups.append([v])
    return ", ".join(str(g[0]) if len(g) == 1 else f"{g[0]}-{g[-1]}" for g in groups) or "none"


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


# ----------------------------------------------------------------------------- collecting
COLLECTED_FILE = "collected.parquet"
SUMMARY_TABLE_FILE = "summary.parquet"
COLLECTION_RECORD = "_COLLECTED.json"  # sim.results.integrity: what the tables were made from
#: parameter columns kept in collected.parquet even when they do not vary across the sweep
ALWAYS_KEPT = ("seed", "community.preset", "scenario.name")
ID_COLUMNS = ("point", "arm", "replicate", "step")


@dataclass
class CollectReport:
    """What ``collect`` found and wrote."""

    root: Path
    collected: Path
    summary: Path
    points: int = 0
    rows: int = 0
    missing: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    #: points whose run directory another process is writing now (neither missing nor failed)
    running: list[str] = field(default_factory=list)
    #: how many points the sweep has (its design's, or the jobs Hydra launched), None if unknown
    expected: int | None = None
    written: bool = False
    #: the PARTIAL note of a table collected with some points missing, None if complete
    partial_note: str | None = None
    #: the folder of every point missing (where its job would write), failed or running
    pending: list[Path] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [
            *(f"missing: {m}" for m in self.missing),
            *(f"failed: {f}" for f in self.failed),
            *(f"running: {r}" for r in self.running),
        ]


def _param_names() -> set[str]:
    from sim.core.config import Config
    from sim.core.params import flatten

    return set(flatten(Config()))


def _point_of_dir(run: Path, root: Path) -> int | None:
    """The point id a run directory stands for: point-NNNNNN, else a numbered Hydra job directory."""
    from hydra_plugins.design_sweeper.design_sweeper import point_id

    pid = point_id(run.name)
    if pid is not None:
        return pid
    return int(run.name) if run.name.isdigit() and run != root else None


def _failure(run: Path) -> str:
    from hydra_plugins.design_sweeper.design_sweeper import FAILED_FILE

    problem = check_run(run).problem or "unknown problem"
    failed = run / FAILED_FILE
    if failed.exists():
        with contextlib.suppress(ValueError, KeyError, OSError):
            problem = json.loads(failed.read_text(encoding="utf-8"))["error"]
    return f"{run}: {problem}"


def _expected_basic_jobs(root: Path) -> int | None:
    """How many jobs a plain Hydra sweep launched, from its multirun.yaml (None if unknown)."""
    record = root / "multirun.yaml"
    if not record.exists():
        return None
    try:
        from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
        from hydra.core.override_parser.overrides_parser import OverridesParser
        from omegaconf import OmegaConf

        task = list(OmegaConf.load(record).hydra.overrides.task)
        parsed = OverridesParser.create().parse_overrides(task)
        return len(BasicSweeper.split_arguments(parsed, None)[0])
    except Exception:  # a record we cannot replay: fall back to what is on disk
        return None


def discover(root: Path) -> tuple[dict[int, Path], CollectReport]:
    """The complete run directory of every point under ``root``, and what is missing or broken."""
    from hydra_plugins.design_sweeper.design_sweeper import DESIGN_FILE, find_point_dirs, load_design

    root = Path(root)
    report = CollectReport(root, root / COLLECTED_FILE, root / SUMMARY_TABLE_FILE)
    good: dict[int, Path] = {}
    from sim.results.lock import is_locked

    if (root / DESIGN_FILE).exists():
        expected = [p["point"] for p in load_design(root)["points"]]
        report.expected = len(expected)
        found = find_point_dirs(root)
        for pid in expected:
            dirs = found.get(pid, [])
            complete = [d for d in dirs if check_run(d)]
            if complete:
                good[pid] = complete[0]
                report.duplicates += [str(d) for d in complete[1:]]
            elif any(is_locked(d) for d in dirs):
                report.running.append(
                    f"point {pid} ({next(d for d in dirs if is_locked(d))} is being written)"
                )
                report.pending += dirs
            elif dirs:
                report.failed.append(_failure(dirs[-1]))
                report.pending += dirs
            else:
                report.missing.append(f"point {pid} (no run directory under {root})")
        return good, report
    runs_set = run_folders(root)
    for i, run in enumerate(sorted(runs_set)):
        pid = _point_of_dir(run, root)
        pid = i if pid is None else pid
        if check_run(run):
            good[pid] = run
        elif is_locked(run):
            report.running.append(f"{run} (being written)")
            report.pending.append(run)
        else:
            report.failed.append(_failure(run))
            report.pending.append(run)
    expected = _expected_basic_jobs(root)
    report.expected = expected
    if expected is not None:
        present = {_point_of_dir(r, root) for r in runs_set}
        absent = [j for j in range(expected) if j not in present]
        report.missing += [f"job {j} (no directory {root / str(j)})" for j in absent]
        report.pending += [root / str(j) for j in absent]  # where Hydra will write the job
    return dict(sorted(good.items())), report


def run_folders(root: Path) -> set[Path]:
    """Every folder under ``root`` that is, or is becoming, a run: those :func:`find_runs` finds
    and every job folder of a sweep (one holding Hydra's ``.hydra/`` record)."""
    root = Path(root)
    job_dirs = (
        {p for p in root.iterdir() if p.is_dir() and (p / HYDRA_RECORD).is_dir()} if root.is_dir() else set()
    )
    return set(find_runs(root)) | job_dirs


def collect(root: Path, allow_missing: bool = False) -> CollectReport:
    """Gather every complete run under ``root`` into ``collected.parquet`` and ``summary.parquet``.

    ``collected.parquet`` has one row per point × replicate × step: the point id (and arm), the
    replicate, step and seed, the parameters that vary across the sweep plus every lever
    intensity, the preset and the scenario, then every metric. Parameters that are the same
    everywhere are left out of the columns to keep the table small; they are kept as JSON in
    the file's metadata (``sim.constants``; see :func:`collected_constants`).
    ``summary.parquet`` has one row per point: final-step ``<m>_mean``, ``<m>_sd``, the 95%
    interval for the mean ``<m>_low``/``<m>_high`` and the 95% prediction interval for one
    community ``<m>_prediction_low``/``_high`` of every metric (:func:`sim.analysis.stats.flat_summary`).

    Runs are read one at a time (memory holds one run plus the summary rows). When a point is
    missing or failed, nothing is written unless ``allow_missing``; the two files appear
    together and whole, or not at all.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = Path(root)
    good, report = discover(root)
    report.points = len(good)
    if report.problems and not allow_missing:
        return report
    if not good:
        return report  # nothing complete to collect (the CLI says so); not one more "missing" point

    # Pass 1 (schemas and first rows only): which parameters vary, and the union of columns.
    params = _param_names()
    fields: dict[str, pa.Field] = {}
    first_values: dict[str, set[str]] = {}
    for run in good.values():
        schema = pq.read_schema(run / METRICS_FILE)
        for f in schema:
            fields.setdefault(f.name, f)
        names = [n for n in schema.names if n in params]
        row = pq.ParquetFile(run / METRICS_FILE).read_row_group(0, columns=names).slice(0, 1).to_pylist()[0]
        for name in names:
            first_values.setdefault(name, set()).add(json.dumps(row[name], default=str))
    varying = {n for n, v in first_values.items() if len(v) > 1}
    kept = {n for n in first_values if n in varying or n in ALWAYS_KEPT or _is_intensity(n)}
    constants = {n: json.loads(next(iter(v))) for n, v in first_values.items() if n not in kept}
    ids = ["point", *(["arm"] if "arm" in fields else []), "replicate", "step"]
    param_cols = sorted((n for n in fields if n in kept), key=lambda n: n != "seed")
    metric_cols = [
        n
        for n, f in fields.items()
        if n not in params
        and n not in ids
        and n != "run"
        and (pa.types.is_floating(f.type) or pa.types.is_integer(f.type) or pa.types.is_boolean(f.type))
    ]
    columns = [*ids, *param_cols, *metric_cols]
    point_type = pa.int64()
    from hydra_plugins.design_sweeper.design_sweeper import DESIGN_FILE, load_design
    from sim.results.integrity import (
        ContentDigest,
        build_record,
        content_metadata,
        table_metadata,
        write_record,
    )

    has_design = (root / DESIGN_FILE).exists()
    design = load_design(root) if has_design else None
    expected_ids: list[Any] | None
    if design is not None:
        expected_ids = [p["point"] for p in design["points"]]
    else:
        expected_ids = [*good, *report.missing, *report.failed, *report.running] if report.problems else None
    record = build_record(
        root, good, expected_ids, design.get("fingerprint") if design else None, report.pending
    )
    schema = pa.schema(
        [pa.field("point", point_type)] + [fields[c] for c in columns[1:]],
        metadata={
            "sim.constants": json.dumps(_json_safe(constants)),
            "sim.source": str(root),
            **table_metadata(record),
        },
    )

    # Pass 2: stream the runs into the table, keeping one summary row per point.
    from sim.analysis import stats

    remove_orphan_temporaries(root)  # a killed sim-collect's half-written tables
    fd, tmp_collected = temporary_beside(root / COLLECTED_FILE)
    os.close(fd)
    fd, tmp_summary = temporary_beside(root / SUMMARY_TABLE_FILE)
    os.close(fd)
    try:
        summary_rows = []
        digest = ContentDigest(schema)  # the table's own checksum, for a copy away from the sweep
        with pq.ParquetWriter(tmp_collected, schema, compression="zstd") as writer:
            for pid, run in good.items():
                df = pd.read_parquet(run / METRICS_FILE)
                df["point"] = pid
                for c in columns:
                    if c not in df.columns:
                        df[c] = None
                df = df[columns].sort_values(["replicate", "step"], kind="stable")
                chunk = pa.Table.from_pandas(df, schema=schema, preserve_index=False)
                writer.write_table(chunk)
                digest.update(chunk)
                report.rows += len(df)
                final = df[df["step"] == df["step"].max()]
                row: dict[str, Any] = {"point": pid}
                if "arm" in df.columns:
                    row["arm"] = df["arm"].iloc[0]
                row.update({c: df[c].iloc[0] for c in param_cols})
                row["replicates"] = int(final["replicate"].nunique())
                row["final_step"] = int(final["step"].iloc[0])
                for m in metric_cols:
                    values = pd.to_numeric(final[m], errors="coerce").to_numpy(dtype=float)
                    row.update(stats.flat_summary(m, values, stats.bounds_of(m)))
                row["run"] = str(run.relative_to(root))
                summary_rows.append(row)
                del df, final, chunk
            writer.add_key_value_metadata(
                {k.decode(): v.decode() for k, v in content_metadata(digest).items()}
            )
        summary_table = pa.Table.from_pandas(pd.DataFrame(summary_rows), preserve_index=False)
        summary_digest = ContentDigest(summary_table.schema)
        summary_digest.update(summary_table)
        summary_table = summary_table.replace_schema_metadata(
            {
                **(summary_table.schema.metadata or {}),
                **table_metadata(record),
                **content_metadata(summary_digest),
            }
        )
        pq.write_table(summary_table, tmp_summary, compression="zstd")
        umask = os.umask(0)
        os.umask(umask)
        for tmp in (tmp_collected, tmp_summary):
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes owner-only files; tables are for sharing
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        # The old record goes first and the new one comes last: in between, readers refuse the tables.
        with contextlib.suppress(FileNotFoundError):
            (root / COLLECTION_RECORD).unlink()
        os.replace(tmp_summary, report.summary)
        os.replace(tmp_collected, report.collected)
        write_record(root, record, [report.collected, report.summary])
    except BaseException:
        for tmp in (tmp_collected, tmp_summary):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise
    report.points = len(good)
    report.written = True
    if record["partial"]:
        from sim.results.integrity import CollectionStatus

        report.partial_note = CollectionStatus(
            root, tuple(record["points"]), len(record["expected"]), tuple(record["missing"])
        ).note
    return report


def _is_intensity(name: str) -> bool:
    return name.startswith("levers.") and name.endswith(".intensity")


def collected_constants(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The parameters left out of a collected table because they were the same at every point."""
    import pyarrow.parquet as pq

    path = Path(path)
    if path.is_dir():
        path = path / COLLECTED_FILE
    meta = pq.read_schema(path).metadata or {}
    return json.loads(meta.get(b"sim.constants", b"{}"))


def collect_cli(argv: list[str] | None = None) -> int:
    """``sim-collect DIR``: every complete run under DIR into DIR/collected.parquet and summary.parquet."""
    from sim.results.failure import EXIT_OTHER, report_failure

    parser = argparse.ArgumentParser(
        prog="sim-collect",
        description=(
            "sim-collect DIR: every complete run under DIR into DIR/collected.parquet and "
            "DIR/summary.parquet. The tables stay beside the runs they were made from (sim-analyse, "
            "sim-report and load check them against the sweep there), so there is no -o."
        ),
    )
    parser.add_argument("directory", type=Path, help="a sweep directory (or any folder of runs)")
    parser.add_argument(
        "--allow-missing",
        action="store_true",
        help="collect what is complete even if some points are missing or failed (marked PARTIAL)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show the traceback of an error")
    args = parser.parse_args(argv)
    if not args.directory.is_dir():
        print(f"sim-collect: error: {args.directory} is not a directory", file=sys.stderr)
        return 2
    try:
        report = collect(args.directory, allow_missing=args.allow_missing)
    except Exception as exc:  # unreadable input or unwritable folder: one line, nothing half-written
        return report_failure(exc, args.verbose, "sim-collect", suffix="; nothing written")
    for line in report.missing:
        print(f"sim-collect: missing {line}", file=sys.stderr)
    for line in report.failed:
        print(f"sim-collect: failed {line}", file=sys.stderr)
    for line in report.running:
        print(f"sim-collect: running {line}", file=sys.stderr)
    for line in report.duplicates:
        print(f"sim-collect: ignored duplicate {line}", file=sys.stderr)
    of = f" of {report.expected}" if report.expected is not None else ""
    counts = f"{len(report.missing)} missing, {len(report.failed)} failed, {len(report.running)} running"
    if not report.written:
        print(
            f"sim-collect: {report.points} complete{of} point(s): {counts}; nothing written"
            + (
                ""
                if args.allow_missing or not report.problems
                else " (use --allow-missing to collect the rest)"
            ),
            file=sys.stderr,
        )
        return EXIT_OTHER
    print(
        f"collected {report.points}{of} point(s), {report.rows} rows: {report.collected} and {report.summary}"
        + (f" ({counts})" if report.problems else "")
    )
    if report.partial_note:
        print(f"sim-collect: {report.partial_note}", file=sys.stderr)
    return 0
