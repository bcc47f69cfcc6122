"""Collecting a sweep: every complete run under a folder into one table, with a record of
what it was made from (``sim-collect``)."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.results.files import _json_safe, remove_orphan_temporaries, temporary_beside
from sim.results.layout import (
    COLLECTED_FILE,
    COLLECTION_RECORD,
    DESIGN_FILE,
    FAILED_FILE,
    HYDRA_RECORD,
    METRICS_FILE,
    SUMMARY_TABLE_FILE,
    find_point_dirs,
    load_design,
    point_id,
)
from sim.results.runs import check_run, find_runs

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

    pid = point_id(run.name)
    if pid is not None:
        return pid
    return int(run.name) if run.name.isdigit() and run != root else None


def _failure(run: Path) -> str:

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
