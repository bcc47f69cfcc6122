"""``sim-collect DIR``: every complete run under DIR into one table (:func:`sim.results.collect`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.results.collect import collect
from sim.results.failure import EXIT_BAD_INPUT, EXIT_OTHER, report_failure


def main(argv: list[str] | None = None) -> int:
    """``sim-collect DIR``: every complete run under DIR into DIR/collected.parquet and summary.parquet."""
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
        return EXIT_BAD_INPUT
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


def cli() -> None:
    """Console entry point ``sim-collect``."""
    sys.exit(main())
