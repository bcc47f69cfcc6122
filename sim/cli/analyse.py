"""``sim-analyse DIR``: sensitivity indices, convergence checks, arm comparisons and tipping points.

Reads what ``sim-collect`` writes (``summary.parquet``: one row per point; ``collected.parquet``:
point × replicate × step) and the design record of the design sweeper (``design.json``), all in
:func:`read_sweep`, then hands tables to :mod:`sim.analysis` and writes what it returns to
``DIR/analysis/<name>.parquet`` (or ``-o/--out FOLDER``). A notebook gets the same numbers with::

    from sim.cli.analyse import analyse
    tables = analyse("results/sweeps/sobol/2026-11-28_10-00-00")
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis import compare, sensitivity, tipping
from sim.cli.guide import plain
from sim.results import COLLECTED_FILE, SUMMARY_TABLE_FILE, collect, remove_orphan_temporaries, write_parquet
from sim.results.integrity import CollectionError, verify_collection
from sim.results.layout import ANALYSIS_DIR


@dataclass
class SweepTables:
    """The tables of a collected sweep: its design record (None without one), summary, collected rows."""

    design: dict[str, Any] | None
    summary: pd.DataFrame
    collected: pd.DataFrame | None = None


def read_sweep(
    sweep_dir: str | os.PathLike[str],
    collected_columns: list[str] | None = None,
    step: int | None = None,
    allow_missing: bool = False,
) -> SweepTables:
    """Every table ``sim-analyse`` reads, read here only (collecting the sweep first if needed).

    ``collected_columns`` also reads those columns of ``collected.parquet`` (at ``step`` only,
    when given); without it the collected table is not read.
    """
    from sim.results.integrity import verify_collection

    sweep_dir = Path(sweep_dir)
    path = sweep_dir / SUMMARY_TABLE_FILE
    if path.exists():
        verify_collection(sweep_dir, allow_missing=allow_missing)
    else:
        report = collect(sweep_dir)
        if not report.written:
            raise FileNotFoundError(
                f"{sweep_dir} cannot be collected: " + "; ".join(report.problems[:5]) + " (see sim-collect)"
            )
    design = None
    if (sweep_dir / "design.json").exists():
        from sim.results.layout import load_design

        design = load_design(sweep_dir)
    summary = pd.read_parquet(path)
    collected = None
    if collected_columns is not None:
        import pyarrow.parquet as pq

        filters = [("step", "==", step)] if step is not None else None
        collected = pq.read_table(
            sweep_dir / COLLECTED_FILE, columns=collected_columns, filters=filters
        ).to_pandas()
    return SweepTables(design, summary, collected)


def analyse(
    sweep_dir: str | os.PathLike[str],
    outputs: list[str] | None = None,
    reference: str | None = None,
    tipping_x: str | None = None,
    num_resamples: int = 1000,
    allow_missing: bool = False,
    out: str | os.PathLike[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Everything that fits the sweep in ``sweep_dir``; writes each table to ``out/<name>.parquet``
    (default ``DIR/analysis``).

    A stale, edited or (unless ``allow_missing``) partial collection is refused
    (:func:`sim.results.integrity.verify_collection`); from a partial one every table carries
    its PARTIAL note in ``attrs["partial"]``.

    Sobol designs get ``sobol`` (with ``convergence`` and ``pawn``), Morris designs ``morris``,
    designs with arms ``comparison``, factorial designs ``tipping``.
    """
    sweep_dir = Path(sweep_dir)
    tables: dict[str, pd.DataFrame] = {}
    sweep = read_sweep(sweep_dir, allow_missing=allow_missing)
    partial = verify_collection(sweep_dir, allow_missing=allow_missing).note
    design, summary = sweep.design, sweep.summary
    method = design["method"] if design else None
    if design is not None and method == "sobol":
        tables["sobol"] = sensitivity.sobol_indices(design, summary, outputs, num_resamples)
        tables["convergence"] = sensitivity.convergence(tables["sobol"])
        tables["pawn"] = sensitivity.pawn_indices(design, summary, outputs)
    elif design is not None and method == "morris":
        tables["morris"] = sensitivity.morris_indices(design, summary, outputs, num_resamples)
    chosen = sensitivity.outputs_of(summary, outputs)
    if "arm" in summary.columns and summary["arm"].nunique() > 1:
        arms = list(dict.fromkeys(summary.sort_values("point")["arm"]))
        ref = reference or ("baseline" if "baseline" in arms else arms[0])
        final = int(summary["final_step"].max())
        # arms are compared at each level of whatever else the design varies (e.g. the budget)
        within = [p["key"] for p in design["params"] if p["key"] in summary.columns] if design else []
        wanted = ["arm", "replicate", "step", *within, *chosen]
        df = read_sweep(
            sweep_dir, collected_columns=wanted, step=final, allow_missing=allow_missing
        ).collected
        assert df is not None
        tables["comparison"] = pd.concat(
            [compare.compare_arms(df, m, reference=ref, within=within) for m in chosen],
            ignore_index=True,
        )
    if method == "factorial" and design and design["params"]:
        names = {p["key"]: p["name"] for p in design["params"]}
        key = next((k for k, n in names.items() if tipping_x in (k, n)), None) if tipping_x else None
        key = key or max(names, key=lambda k: len({p["overrides"][k] for p in design["points"]}))
        if key in summary.columns:
            others = [k for k in names if k != key and k in summary.columns]
            if "arm" in summary.columns:
                others.append("arm")
            tables["tipping"] = pd.concat(
                [tipping.tipping_points(summary, key, m, by=others) for m in chosen],
                ignore_index=True,
            )
    folder = Path(out or sweep_dir / ANALYSIS_DIR)
    remove_orphan_temporaries(folder)  # a killed sim-analyse's half-written tables
    for name, table in tables.items():
        if partial:
            table.attrs["partial"] = partial
        write_parquet(folder / f"{name}.parquet", table)
    return tables


def _brackets(low: pd.Series, high: pd.Series, spec: str) -> list[str]:
    """Intervals as text, ``[low, high]`` with the given format spec."""
    return [f"[{a:{spec}}, {b:{spec}}]" for a, b in zip(low, high, strict=True)]


def _estimate(g: pd.DataFrame, column: str, spec: str, label: str | None = None) -> dict[str, Any]:
    """``column`` and its 95% interval (``column_low``, ``column_high``) as text columns."""
    label = label or column
    return {
        label: g[column].map(f"{{:{spec}}}".format),
        f"{label} 95%": _brackets(g[f"{column}_low"], g[f"{column}_high"], spec),
    }


def _index_table(what: str, group: str, output: str, columns: dict[str, Any]) -> str:
    """A titled text table of one output's indices (``what``), for one group of design points."""
    title = f"{what} of {output}" + (f" [{group}]" if group else "")
    return f"{title}\n{pd.DataFrame(columns).to_string(index=False)}"


def format_tables(tables: dict[str, pd.DataFrame]) -> str:
    """A readable text rendering of :func:`analyse`'s tables."""
    parts = []
    with pd.option_context("display.width", 140, "display.max_rows", 500, "display.max_columns", 20):
        if "sobol" in tables:
            t = tables["sobol"]
            pawn = tables.get("pawn")
            for (group, output), g in t.groupby(["group", "output"], sort=False):
                columns = {"input": g["input"], **_estimate(g, "S1", ".3f"), **_estimate(g, "ST", ".3f")}
                parts.append(_index_table("Sobol indices", group, output, columns))
                if pawn is not None and not pawn.empty:
                    p = pawn[(pawn["group"] == group) & (pawn["output"] == output)]
                    if not p.empty:
                        top = p.sort_values("pawn", ascending=False).head(10)
                        parts.append(
                            f"PAWN (median KS) of {output}, top 10; noise floor "
                            f"{p['noise_floor'].iloc[0]:.3f} ({p['n_rows'].iloc[0]} base rows)\n"
                            + top[["input", "pawn", "pawn_min", "pawn_max"]].to_string(
                                index=False, float_format="{:.3f}".format
                            )
                        )
        if "morris" in tables:
            t = tables["morris"]
            for (group, output), g in t.groupby(["group", "output"], sort=False):
                columns = {
                    "input": g["input"],
                    **_estimate(g, "mu_star", ".4f", label="mu*"),
                    "mu": g["mu"].map("{:.4f}".format),
                    "sigma": g["sigma"].map("{:.4f}".format),
                }
                parts.append(_index_table("Morris elementary effects", group, output, columns))
        if "comparison" in tables:
            t = tables["comparison"]
            within = [c for c in t.columns[: list(t.columns).index("arm")]]
            for metric, g in t.groupby("metric", sort=False):
                shown = pd.DataFrame(
                    {
                        **{c: g[c] for c in within},
                        "arm": g["arm"],
                        "mean": g["arm_mean"].map("{:.3f}".format),
                        f"− {g['reference'].iloc[0]}": g["mean"].map("{:+.4f}".format),
                        "95% for the mean (paired)": _brackets(g["low"], g["high"], "+.4f"),
                        "pairs": g["n"],
                    }
                )
                parts.append(
                    f"{metric}: each arm minus {g['reference'].iloc[0]}\n{shown.to_string(index=False)}"
                )
        if "tipping" in tables:
            t = tables["tipping"]
            cols = [c for c in t.columns if c not in ("value_before", "value_after", "x")]
            parts.append("Largest jumps along " + str(t["x"].iloc[0]) + "\n" + t[cols].to_string(index=False))
    return (
        "\n\n".join(parts)
        if parts
        else "nothing to analyse: no sobol/morris design, arms or factorial inputs"
    )


def cli(argv: list[str] | None = None) -> int:
    """``sim-analyse DIR``: sensitivity indices, arm comparisons and tipping points of a sweep."""
    parser = argparse.ArgumentParser(
        prog="sim-analyse",
        description=plain(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("directory", type=Path, help="a sweep directory (results/sweeps/NAME/<timestamp>)")
    parser.add_argument(
        "-o", "--out", type=Path, help=f"folder for the analysis tables (default: DIRECTORY/{ANALYSIS_DIR})"
    )
    parser.add_argument(
        "--outputs", help="comma-separated metrics (default: participation, satisfaction, ...)"
    )
    parser.add_argument("--reference", help="arm the others are compared with (default: baseline)")
    parser.add_argument("--tipping-x", help="input along which to look for tipping points")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default 1000)")
    parser.add_argument(
        "--allow-missing", action="store_true", help="analyse a partial collection (marked PARTIAL)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show the traceback of an error")
    args = parser.parse_args(argv)
    if not args.directory.is_dir():
        print(f"sim-analyse: error: {args.directory} is not a directory", file=sys.stderr)
        return 2
    outputs = [o.strip() for o in args.outputs.split(",")] if args.outputs else None
    from sim.results.failure import report_failure

    try:
        tables = analyse(
            args.directory,
            outputs,
            args.reference,
            args.tipping_x,
            args.resamples,
            args.allow_missing,
            out=args.out,
        )
    except CollectionError as exc:
        return report_failure(exc, args.verbose, "sim-analyse")
    except (FileNotFoundError, ValueError) as exc:
        print(f"sim-analyse: error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # e.g. a read-only sweep folder: one line, exit 74
        return report_failure(exc, args.verbose, "sim-analyse")
    partial = next((t.attrs["partial"] for t in tables.values() if "partial" in t.attrs), None)
    if partial:
        print(partial)
    print(format_tables(tables))
    if "convergence" in tables:
        message = sensitivity.convergence_message(tables["convergence"])
        if message:
            print(f"sim-analyse: {message}", file=sys.stderr)
    for name in tables:
        print(f"wrote {(args.out or args.directory / ANALYSIS_DIR) / f'{name}.parquet'}")
    if partial:
        print(partial)
    return 0


if __name__ == "__main__":
    sys.exit(cli())
