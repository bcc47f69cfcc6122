"""Writing a run (atomically, with a completion marker), loading runs, collecting a sweep.

A run directory holds ``metrics.parquet`` (replicate × step), ``buildings.parquet``
(replicate × step × building), ``summary.json``, ``config.yaml`` and, written last,
``_COMPLETE.json`` with the SHA-256 of every file. A directory without a valid marker is an
unfinished or damaged run: :func:`load` and ``sim-collect`` skip it and say so.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

MARKER = "_COMPLETE.json"
METRICS_FILE = "metrics.parquet"
BUILDINGS_FILE = "buildings.parquet"
SUMMARY_FILE = "summary.json"
CONFIG_FILE = "config.yaml"


# ------------------------------------------------------------------------------ writing
def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, fsync it, then rename it.

    Readers see either the old file or the whole new one, never a half-written file; on any
    error the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(_json_safe(data), indent=2, ensure_ascii=False) + "\n")


def write_parquet(path: Path, df: pd.DataFrame) -> None:
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
) -> Path:
    """Write every file of a run, then the completion marker with their checksums."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    marker = out_dir / MARKER
    with contextlib.suppress(FileNotFoundError):
        marker.unlink()  # a rewrite is incomplete until its new marker lands
    files = {METRICS_FILE: metrics, SUMMARY_FILE: summary, CONFIG_FILE: config_yaml}
    write_parquet(out_dir / METRICS_FILE, metrics)
    if buildings is not None and not buildings.empty:
        write_parquet(out_dir / BUILDINGS_FILE, buildings)
        files[BUILDINGS_FILE] = buildings
    write_json(out_dir / SUMMARY_FILE, summary)
    write_text(out_dir / CONFIG_FILE, config_yaml)
    write_json(marker, {"files": {name: sha256(out_dir / name) for name in files}})
    return out_dir


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
def check_run(run_dir: Path) -> str | None:
    """None when ``run_dir`` is a complete run whose files match their checksums; else why not."""
    run_dir = Path(run_dir)
    marker = run_dir / MARKER
    if not marker.exists():
        return "no completion marker (unfinished or interrupted run)"
    try:
        files = json.loads(marker.read_text(encoding="utf-8"))["files"]
    except (ValueError, KeyError, TypeError):
        return f"unreadable completion marker {marker}"
    for name, digest in files.items():
        path = run_dir / name
        if not path.exists():
            return f"missing file {path}"
        if sha256(path) != digest:
            return f"corrupt file {path} (checksum differs from the completion marker)"
    return None


def find_runs(root: Path) -> Iterator[Path]:
    """Every directory under ``root`` (itself included) that looks like a run, in sorted order."""
    root = Path(root)
    candidates = {p.parent for p in root.rglob(METRICS_FILE)} | {p.parent for p in root.rglob(MARKER)}
    if (root / METRICS_FILE).exists():
        candidates.add(root)
    yield from sorted(candidates)


def load(path: str | os.PathLike[str], table: str = "metrics", verbose: bool = True) -> pd.DataFrame:
    """The tidy table of a run, or of every complete run under a directory.

    Args:
        path: a run directory, a sweep directory, a collected ``.parquet`` file or any folder
            holding runs (``results/`` itself works).
        table: ``"metrics"`` (replicate × step) or ``"buildings"`` (replicate × step × building).
        verbose: say which runs were skipped and why.

    With several runs, a ``run`` column holds each run's path relative to ``path``.
    """
    path = Path(path)
    if path.is_file():
        return pd.read_parquet(path)
    if not path.exists():
        raise FileNotFoundError(f"no such run or directory: {path}")
    filename = {"metrics": METRICS_FILE, "buildings": BUILDINGS_FILE}.get(table)
    if filename is None:
        raise ValueError(f"table={table!r}; allowed: 'metrics' or 'buildings'")
    if (path / "collected.parquet").exists() and table == "metrics":
        return pd.read_parquet(path / "collected.parquet")
    frames = []
    runs = list(find_runs(path))
    for run in runs:
        problem = check_run(run)
        if problem is not None:
            if verbose:
                print(f"skipping {run}: {problem}", file=sys.stderr)
            continue
        if not (run / filename).exists():
            continue
        df = pd.read_parquet(run / filename)
        if len(runs) > 1 or run != path:
            df.insert(0, "run", str(run.relative_to(path)))
        frames.append(df)
    if not frames:
        raise FileNotFoundError(f"no complete run with {filename} under {path}")
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def load_summary(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    return json.loads((Path(run_dir) / SUMMARY_FILE).read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------- collecting
def collect(root: Path, allow_missing: bool = False) -> tuple[Path, list[str]]:
    """Gather every complete run under ``root`` into ``root/collected.parquet``.

    Runs are read and appended one at a time, so memory holds one run plus the writer's
    buffer. Returns the output path and the list of problems (incomplete or corrupt runs).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = Path(root)
    out = root / "collected.parquet"
    problems: list[str] = []
    runs = [r for r in find_runs(root) if r != root]
    good = []
    for run in runs:
        problem = check_run(run)
        if problem:
            problems.append(f"{run}: {problem}")
        else:
            good.append(run)
    if problems and not allow_missing:
        return out, problems
    if not good:
        problems.append(f"{root}: no complete run found")
        return out, problems

    def write(tmp: Path) -> None:
        writer = None
        schema = None
        try:
            for run in good:
                df = pd.read_parquet(run / METRICS_FILE)
                df.insert(0, "run", str(run.relative_to(root)))
                table = pa.Table.from_pandas(df, preserve_index=False)
                if writer is None:
                    schema = table.schema
                    writer = pq.ParquetWriter(tmp, schema, compression="zstd")
                writer.write_table(table.cast(schema))
        finally:
            if writer is not None:
                writer.close()

    atomic_write(out, write)
    return out, problems


def collect_cli(argv: list[str] | None = None) -> int:
    """``sim-collect DIR``: every complete run under DIR into DIR/collected.parquet."""
    parser = argparse.ArgumentParser(prog="sim-collect", description=collect_cli.__doc__)
    parser.add_argument("directory", type=Path, help="a sweep directory (or any folder of runs)")
    parser.add_argument(
        "--allow-missing",
        action="store_true",
        help="collect what is complete even if some runs are not",
    )
    args = parser.parse_args(argv)
    if not args.directory.is_dir():
        print(f"sim-collect: error: {args.directory} is not a directory", file=sys.stderr)
        return 2
    out, problems = collect(args.directory, allow_missing=args.allow_missing)
    for problem in problems:
        print(f"sim-collect: {problem}", file=sys.stderr)
    if problems and not args.allow_missing:
        print(
            f"sim-collect: {len(problems)} run(s) incomplete or corrupt; nothing written "
            "(use --allow-missing to collect the rest)",
            file=sys.stderr,
        )
        return 1
    if not out.exists():
        return 1
    print(f"wrote {out}")
    return 0
