"""What a collected sweep is made of, and the one check every reader makes before using it.

``sim-collect`` writes, after ``collected.parquet`` and ``summary.parquet``, the record
``_COLLECTED.json``: the SHA-256 of both tables, the design's fingerprint and point ids, and for
every point collected the checksum of its run's completion marker (which itself vouches for
every file of the run). The same provenance is in both tables' Parquet metadata
(``sim.collection``), so a table copied elsewhere still says whether it is partial.

:func:`verify_collection` compares all of it with the sweep as it is now and refuses, in one
line saying what to do:

- an **edited** table (its checksum differs from the record), or one with no record;
- a **stale** table: a point collected has changed or gone, a point completed since, or the
  sweep's design is not the one collected;
- a **partial** table (collected with ``--allow-missing``), unless the reader allows it too;
  then the returned status carries a note (``PARTIAL: 12 of 14 points ...``) that every output
  made from it shows.

Readers: :func:`sim.results.load`, ``sim-analyse`` and ``sim-report`` call it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

COLLECTION_RECORD = "_COLLECTED.json"
METADATA_KEY = b"sim.collection"
RECORD_VERSION = 1


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
) -> dict[str, Any]:
    """The provenance of a collection (without the tables' checksums, which come once written)."""
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
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        files, points = record["files"], record["points"]
    except (OSError, ValueError, KeyError, TypeError):
        raise CollectionError(f"unreadable {path}; {again}") from None
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
    expected = record.get("expected")
    missing = tuple(record.get("missing") or ())
    status = CollectionStatus(
        root, tuple(points), len(expected) if expected is not None else len(points), missing
    )
    if status.partial and not allow_missing:
        raise CollectionError(
            f"{root / COLLECTED_FILE} is partial: {len(points)} of {status.expected} points "
            f"(missing {_short(missing)}); allowed: complete the sweep (resume=true) and {again}, "
            "or --allow-missing to use it marked partial"
        )
    return status


def _check_still_current(root: Path, record: dict[str, Any], again: str) -> None:
    """Every point collected is unchanged, no other point has completed since, same design."""
    from hydra_plugins.design_sweeper.design_sweeper import DESIGN_FILE, find_point_dirs, load_design
    from sim.results import MARKER

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
