"""``sim-report PATH``: one self-contained HTML report of a result (:mod:`sim.present.report`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.present.report.output import find_chromium, write_pngs, write_report
from sim.present.report.results import PNG_DIR, REPORT_FILE
from sim.results.failure import EXIT_BAD_INPUT
from sim.vocab import LANGS

EXIT_NO_BROWSER = 3  # --png without a Chromium to draw with


def main(argv: list[str] | None = None) -> int:
    """``sim-report PATH``: write PATH's report.html (and, with --png, its figures as PNGs)."""
    parser = argparse.ArgumentParser(
        prog="sim-report",
        description="Write one self-contained HTML report (works offline) of a run, a folder of runs, "
        "a collected sweep, or the folder of sim-calibrate, sim-validate or sim-optimise: takeaways "
        "first, then the figures for that kind of result.",
        epilog="examples:\n"
        "  sim-report results/runs/2026-11-28/10-00-00-000000\n"
        "  sim-report results/sweeps/lever_ablation/2026-11-28_10-00-00 --lang zh\n"
        "  sim-report results/sweeps/x/collected.parquet -o ~/reports/x.html --png\n"
        "  sim-report results/calibrations/field --lang zh",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "path",
        type=Path,
        help="a run directory, a folder of runs, a collected .parquet, or a sim-calibrate, "
        "sim-validate or sim-optimise folder",
    )
    parser.add_argument(
        "-o",
        "--out",
        "--output",
        dest="output",
        type=Path,
        help=f"where to write (default: PATH/{REPORT_FILE})",
    )
    parser.add_argument("--lang", choices=LANGS, default="en", help="language of the report")
    parser.add_argument("--png", action="store_true", help=f"also write each figure as PNG into {PNG_DIR}/")
    parser.add_argument(
        "--allow-missing", action="store_true", help="report a partial collection (marked PARTIAL)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show the traceback of an error")
    args = parser.parse_args(argv)
    from sim.results.failure import report_failure

    try:
        out, figures = write_report(args.path, args.output, args.lang, args.allow_missing)
    except (FileNotFoundError, ValueError) as exc:
        print(f"sim-report: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # e.g. -o into a read-only folder: one line, exit 74
        return report_failure(exc, args.verbose, "sim-report")
    print(f"wrote {out}")
    if args.png:
        try:
            paths = write_pngs(figures, out.parent / PNG_DIR)
        except RuntimeError as exc:
            print(f"sim-report: {exc}", file=sys.stderr)
            return EXIT_NO_BROWSER
        print(f"wrote {len(paths)} PNG images into {out.parent / PNG_DIR} (browser: {find_chromium()})")
    return 0


def cli() -> None:
    """Console entry point."""
    sys.exit(main())


if __name__ == "__main__":
    cli()
