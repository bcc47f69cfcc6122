"""What a collected sweep is made of, and the one check every reader makes before using it.

``sim-collect`` writes, after ``collected.parquet`` and ``summary.parquet``, the record
``_COLLECTED.json``: the SHA-256 of both tables, the design's fingerprint and point ids, for
every point collected the checksum of its run's completion marker (which itself vouches for
every file of the run), and the folder of every point that was missing, failed or running
(``pending``). The same provenance is in both tables' Parquet metadata (``sim.collection``),
and each table also carries a checksum of its own content (``sim.content``: column names and
types and a hash of every row), so a table copied elsewhere, under any name, still says
whether it is partial and whether it was edited (:func:`verify_table`).

:func:`verify_collection` compares all of it with the sweep as it is now and refuses, in one
line saying what to do:

- an **edited** table (its checksum differs from the record), or one with no record;
- a **stale** table: a point collected has changed or gone, a point completed since (a
  design point, or the folder of a plain sweep's missing or failed job), a run folder appeared
  that the record does not list (a plain sweep), or the sweep's design is not the one collected;
- a **partial** table (collected with ``--allow-missing``), unless the reader allows it too;
  then the returned status carries a note (``PARTIAL: 12 of 14 points ...``) that every output
  made from it shows.

Readers: :func:`sim.results.load`, ``sim-analyse`` and ``sim-report`` call it; for a table
file given by path (any name), :func:`verify_table` does.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

COLLECTION_RECORD = "_COLLECTED.json"
METADATA_KEY = b"sim.collection"
#: the checksum of a table's own content, in its Parquet metadata (see :class:`ContentDigest`)
CONTENT_KEY = b"sim.content"
#: 2: the record lists the folders of points missing, failed or running (``pending``)
RECORD_VERSION = 2


class CollectionError(ValueError):
    """A collected table that must not be used as it is (edited, stale or partial); one line."""


@dataclass(frozen=True)
class CollectionStatus:
    """The outcome of :func:`verify_collection` for a usable table (else it raises)."""

    root: Path
    points: tuple[Any, ...]
    expected: int | None
    missing: tuple[Any, ...] = field(default_factory=tuple)

    @property
    def partial(self) -> bool:
        return bool(self.missing)

    @property
    def note(self) -> str | None:
        """``PARTIAL: ...`` for a partial table (to be shown in every output made from it), else None."""
        if not self.partial:
            return None
        return (
            f"PARTIAL: collected from {len(self.points)} of {self.expected} points "
            f"(missing {_short(self.missing)}); results describe only the points collected"
        )


def _short(items: tuple[Any, ...] | list[Any], limit: int = 10) -> str:
    shown = ", ".join(str(i) for i in list(items)[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")


def marker_checksum(run: Path) -> str | None:
    """The SHA-256 of a run's completion marker (it vouches for every file of the run), or None."""
    from sim.results import MARKER, sha256

    path = Path(run) / MARKER
    return sha256(path) if path.is_file() else None


def build_record(
    root: Path,
    good: dict[int, Path],
    expected: list[Any] | None,
    design_fingerprint: str | None,
    pending: list[Path] | None = None,
) -> dict[str, Any]:
    """The provenance of a collection (without the tables' checksums, which come once written).

    ``pending``: the folder of every point not collected because it was missing (where its job
    would write), failed or running; a completion marker appearing in one later makes the
    table stale.
    """
    root = Path(root)
    points = {
        str(pid): {"run": run.relative_to(root).as_posix(), "marker": marker_checksum(run)}
        for pid, run in good.items()
    }
    missing = [p for p in (expected or []) if str(p) not in points]
    return {
        "version": RECORD_VERSION,
        "design": design_fingerprint,
        "expected": None if expected is None else list(expected),
        "points": points,
        "missing": missing,
        "partial": bool(missing),
        "pending": sorted({Path(d).relative_to(root).as_posix() for d in pending or []}),
    }


def table_metadata(record: dict[str, Any]) -> dict[bytes, bytes]:
    """The Parquet key-value metadata that carries a collection's provenance inside each table."""
    return {METADATA_KEY: json.dumps(record, sort_keys=True).encode()}


def write_record(root: Path, record: dict[str, Any], tables: list[Path]) -> Path:
    """Write ``_COLLECTED.json`` (atomically, last): the record plus the checksum of each table."""
    from sim.results import sha256, write_json

    path = Path(root) / COLLECTION_RECORD
    write_json(path, {**record, "files": {t.name: sha256(t) for t in tables}})
    return path


def read_table_record(table: Path) -> dict[str, Any] | None:
    """The provenance kept in a collected table's metadata, or None if it has none."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(table).metadata or {}
        return json.loads(meta[METADATA_KEY]) if METADATA_KEY in meta else None
    except (OSError, ValueError, KeyError):
        return None


class ContentDigest:
    """SHA-256 of a table's content: column names and types, then a 64-bit hash of every row.

    It does not depend on how the table is split into row groups or compressed, so it can be
    computed while a table is streamed out and again from the file; any changed value, row or
    column changes it. Fed with Arrow tables of one schema (:meth:`update`), in row order.
    """

    def __init__(self, schema: Any) -> None:
        import hashlib

        self._hash = hashlib.sha256()
        self._hash.update(json.dumps([[f.name, str(f.type)] for f in schema]).encode())
        self.rows = 0

    def update(self, table: Any) -> None:
        import numpy as np
        import pandas as pd

        if table.num_rows == 0:
            return
        frame = table.to_pandas(ignore_metadata=True)
        rows = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        self._hash.update(np.ascontiguousarray(rows, dtype="<u8").tobytes())
        self.rows += table.num_rows

    def record(self) -> dict[str, Any]:
        """What a table carries under :data:`CONTENT_KEY`."""
        return {"sha256": self._hash.hexdigest(), "rows": self.rows}


def content_metadata(digest: ContentDigest) -> dict[bytes, bytes]:
    """The Parquet key-value metadata that carries a table's own content checksum."""
    return {CONTENT_KEY: json.dumps(digest.record(), sort_keys=True).encode()}


def read_table_content(table: Path) -> dict[str, Any] | None:
    """The content checksum a table carries (:data:`CONTENT_KEY`), or None if it has none."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(table).metadata or {}
        value = json.loads(meta[CONTENT_KEY]) if CONTENT_KEY in meta else None
    except (OSError, ValueError, KeyError):
        return None
    return value if isinstance(value, dict) else None


def content_of(table: Path) -> dict[str, Any]:
    """The content checksum of ``table`` as it is now (read one row group at a time)."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(table)
    digest = ContentDigest(parquet.schema_arrow)
    for i in range(parquet.num_row_groups):
        digest.update(parquet.read_row_group(i))
    return digest.record()


def _is_sweep_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a sweep (a design record, Hydra's multirun record or job folders)."""
    from sim.results.layout import DESIGN_FILE

    if (folder / DESIGN_FILE).is_file() or (folder / "multirun.yaml").is_file():
        return True
    return any(p.is_dir() and (p / ".hydra").is_dir() for p in folder.iterdir())


def verify_table(table: str | os.PathLike[str], allow_missing: bool = False) -> CollectionStatus | None:
    """Check a collected table given by path, whatever its name; None if it is not a collected table.

    - ``collected.parquet`` / ``summary.parquet`` beside their ``_COLLECTED.json``:
      :func:`verify_collection` of the folder.
    - Another file beside a ``_COLLECTED.json`` (a copy saved under another name): it must be one
      of the tables that record lists (same SHA-256), and the record must still be current.
    - A table in a sweep folder without ``_COLLECTED.json``: refused (nothing to check it against).
    - A table away from its sweep (no ``_COLLECTED.json``, not in a sweep folder) whose metadata
      carries the collection record: its content must match the checksum it carries; one
      without such a checksum (collected by an older version) cannot be verified and is refused.

    A partial table is refused unless ``allow_missing``, as by :func:`verify_collection`.
    """
    from sim.results import COLLECTED_FILE, SUMMARY_TABLE_FILE, sha256

    table = Path(table)
    folder = table.parent
    standard = table.name in (COLLECTED_FILE, SUMMARY_TABLE_FILE)
    beside = folder / COLLECTION_RECORD
    if standard and (beside.is_file() or read_table_record(table) is None):
        return verify_collection(folder, allow_missing)
    embedded = read_table_record(table)
    if embedded is None:
        return None  # an ordinary Parquet file (an analysis table, a user's own)
    if beside.is_file():
        again = f"run `sim-collect {folder}` again"
        record = _read_record(beside, again)
        if sha256(table) not in record["files"].values():
            raise CollectionError(
                f"{table} is not a table that {beside} records (edited, or copied from another "
                f"collection or an older one); use the tables {beside.name} lists, or {again}"
            )
        _check_still_current(folder, record, again)
        return _usable(folder, table, record, allow_missing, again)
    if _is_sweep_folder(folder):
        again = f"run `sim-collect {folder}` again"
        raise CollectionError(
            f"{table} is in a sweep folder without {COLLECTION_RECORD}, so it cannot be checked "
            f"against the sweep; {again}"
        )
    again = "collect its sweep again and copy the new table"
    content = read_table_content(table)
    if content is None or not isinstance(content.get("sha256"), str):
        raise CollectionError(
            f"{table} cannot be verified: it carries no checksum of its own content (collected by "
            f"an older version) and no {COLLECTION_RECORD} is beside it; allowed: read it in its "
            "sweep folder, or collect the sweep again and copy the new table"
        )
    if content_of(table) != content:
        raise CollectionError(
            f"{table} was changed after it was collected (its content differs from the checksum "
            f"it carries); {again}"
        )
    return _usable(folder, table, embedded, allow_missing, again)


def _read_record(path: Path, again: str) -> dict[str, Any]:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(record["files"], dict) or not isinstance(record["points"], dict):
            raise TypeError
    except (OSError, ValueError, KeyError, TypeError):
        raise CollectionError(f"unreadable {path}; {again}") from None
    return record


def _usable(
    root: Path, table: Path, record: dict[str, Any], allow_missing: bool, again: str
) -> CollectionStatus:
    """The status of a verified table; a partial one is refused unless ``allow_missing``."""
    points = record.get("points") or {}
    expected = record.get("expected")
    missing = tuple(record.get("missing") or ())
    status = CollectionStatus(
        root, tuple(points), len(expected) if expected is not None else len(points), missing
    )
    if status.partial and not allow_missing:
        raise CollectionError(
            f"{table} is partial: {len(points)} of {status.expected} points "
            f"(missing {_short(missing)}); allowed: complete the sweep (resume=true) and {again}, "
            "or --allow-missing to use it marked partial"
        )
    return status


def verify_collection(root: str | os.PathLike[str], allow_missing: bool = False) -> CollectionStatus:
    """Check the collected tables of ``root`` against their record and the sweep as it is now.

    Raises :class:`CollectionError` (one line naming the file and what to do) for an edited,
    unrecorded, stale or — unless ``allow_missing`` — partial collection. Returns its status;
    ``status.note`` is set for a partial one and must appear in whatever is made from it.
    """
    from sim.results import COLLECTED_FILE, SUMMARY_TABLE_FILE, sha256

    root = Path(root)
    again = f"run `sim-collect {root}` again"
    path = root / COLLECTION_RECORD
    if not path.is_file():
        raise CollectionError(
            f"{root / COLLECTED_FILE} has no {COLLECTION_RECORD} saying what it was collected from "
            f"(collected by an older version, or copied or edited); {again}"
        )
    record = _read_record(path, again)
    files = record["files"]
    for name in (COLLECTED_FILE, SUMMARY_TABLE_FILE):
        table = root / name
        if name not in files and not table.exists():
            continue  # a record of the summary alone (what an analysis needs) leaves no table out
        if not table.is_file():
            raise CollectionError(f"{table} is missing though {path.name} records it; {again}")
        if sha256(table) != files.get(name):
            raise CollectionError(
                f"{table} was changed after it was collected (its checksum differs from {path.name}); {again}"
            )
    _check_still_current(root, record, again)
    return _usable(root, root / COLLECTED_FILE, record, allow_missing, again)


def _check_still_current(root: Path, record: dict[str, Any], again: str) -> None:
    """Every point collected is unchanged, no other point has completed since, same design."""
    from sim.results import MARKER
    from sim.results.layout import DESIGN_FILE, find_point_dirs, load_design

    design_path = root / DESIGN_FILE
    if record.get("design") is not None:
        design = load_design(root)
        if design.get("fingerprint") != record["design"]:
            raise CollectionError(
                f"{design_path} is not the design that was collected (stale table); {again}"
            )
    for pid, entry in record["points"].items():
        run = root / entry["run"]
        if marker_checksum(run) != entry["marker"]:
            raise CollectionError(
                f"point {pid} ({run}) has changed or gone since it was collected (stale table); {again}"
            )
    missing = record.get("missing") or []
    if missing and design_path.is_file():
        found = find_point_dirs(root)
        done_since = [p for p in missing if any((d / MARKER).is_file() for d in found.get(p, []))]
        if done_since:
            raise CollectionError(
                f"{root} has {len(done_since)} point(s) completed since it was collected "
                f"({_short(done_since)}; the table is stale); {again}"
            )
    if "pending" not in record:  # collected by an older version, which did not list them
        if missing and not design_path.is_file():
            raise CollectionError(
                f"{root / COLLECTION_RECORD} does not say where its missing points would run "
                f"(collected by an older version), so it cannot be checked for staleness; {again}"
            )
        return
    pending = [str(p) for p in record.get("pending") or []]
    done_since = [p for p in pending if (root / p / MARKER).is_file()]
    if done_since:
        raise CollectionError(
            f"{root} has {len(done_since)} run(s) completed since it was collected "
            f"({_short([str(root / p) for p in done_since])}; the table is stale); {again}"
        )
    if design_path.is_file():
        return  # a design sweep's points are known by id: checked above
    from sim.results import run_folders

    listed = {str(e["run"]) for e in record["points"].values()} | set(pending)
    new = sorted(
        rel for rel in (d.relative_to(root).as_posix() for d in run_folders(root)) if rel not in listed
    )
    if new:
        raise CollectionError(
            f"{root} has {len(new)} run folder(s) that were not there when it was collected "
            f"({_short([str(root / p) for p in new])}; the table is stale); {again}"
        )
