"""Analysing sweeps: replicate statistics, paired arm comparisons, Sobol and Morris indices, tipping points.

Works on what ``sim-collect`` writes (``collected.parquet``: point × replicate × step;
``summary.parquet``: one row per point) and on the design record of the design sweeper
(``design.json``), so a notebook and ``sim-analyse DIR`` give the same numbers::

    from sim import analysis
    analysis.sobol_indices("results/sweeps/sobol/2026-11-28_10-00-00")
    analysis.compare_arms(sim.results.load(sweep_dir), "satisfaction", reference="baseline")

Intervals: replicate means get t intervals; arm differences are paired by replicate
(replicate r has the same seed at every point, so the difference removes the shared noise);
Sobol and Morris indices get SALib's bootstrap confidence intervals.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.experiment.simulate import interval
from sim.results import COLLECTED_FILE, SUMMARY_TABLE_FILE, collect, write_parquet
from sim.results.integrity import CollectionError, verify_collection

DEFAULT_OUTPUTS = ("participation", "satisfaction", "trust", "unmet_need", "satisfaction_gini")
ANALYSIS_DIR = "analysis"


# ------------------------------------------------------------------------------ replicates
def final_step(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of the last recorded step."""
    return df[df["step"] == df["step"].max()]


def replicate_stats(
    df: pd.DataFrame,
    metrics: list[str] | tuple[str, ...] = DEFAULT_OUTPUTS,
    by: str | list[str] = "point",
    step: int | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Mean, sd and t interval across replicates of each metric, per group, at one step.

    Args:
        df: a collected (or single-run) table with ``replicate`` and ``step`` columns.
        metrics: metric columns to summarise (those absent are ignored).
        by: grouping column(s), e.g. ``"point"`` or ``"arm"``.
        step: the step to look at; the final one if None.
    """
    by = [by] if isinstance(by, str) else list(by)
    at = final_step(df) if step is None else df[df["step"] == step]
    rows = []
    for key, group in at.groupby(by, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        for m in metrics:
            if m not in group.columns:
                continue
            mean, sd, lo, hi = interval(group[m].to_numpy(dtype=float), level)
            rows.append(
                {
                    **dict(zip(by, key, strict=True)),
                    "metric": m,
                    "n": int(group[m].notna().sum()),
                    "mean": mean,
                    "sd": sd,
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ comparisons
def compare_arms(
    df: pd.DataFrame,
    metric: str,
    reference: str = "baseline",
    by: str = "arm",
    step: int | None = None,
    level: float = 0.95,
    within: list[str] | None = None,
) -> pd.DataFrame:
    """Each arm minus the reference arm, paired by replicate (common random numbers).

    Returns one row per arm (and per level of the ``within`` columns, e.g. the budget of a
    budget × allocation sweep): the two means, the mean paired difference with its t interval
    and p-value, and how much pairing narrowed the interval compared with independent samples
    (``variance_reduction`` = 1 − Var(diff) / (Var(arm) + Var(ref))).
    """
    at = final_step(df) if step is None else df[df["step"] == step]
    if within:
        parts = []
        for key, group in at.groupby(within, sort=True):
            key = key if isinstance(key, tuple) else (key,)
            part = compare_arms(group, metric, reference, by, None, level)
            for col, value in zip(within, key, strict=True):
                part.insert(0, col, value)
            parts.append(part)
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if by not in at.columns:
        raise ValueError(f"by={by!r}: no such column; allowed: one of {sorted(at.columns)[:20]} ...")
    wide = at.pivot_table(index="replicate", columns=by, values=metric, aggfunc="mean")
    if reference not in wide.columns:
        raise ValueError(f"reference={reference!r} is not a value of {by}; allowed: {list(wide.columns)}")
    ref = wide[reference]
    rows = []
    for arm in dict.fromkeys(at[by]):  # in the order the arms were given
        if arm == reference or arm not in wide.columns:
            continue
        pair = pd.concat([wide[arm], ref], axis=1, keys=["arm", "ref"]).dropna()
        diff = (pair["arm"] - pair["ref"]).to_numpy(dtype=float)
        mean, sd, lo, hi = interval(diff, level)
        n = diff.size
        if n > 1 and sd > 0:
            p = float(2 * stats.t.sf(abs(mean) / (sd / math.sqrt(n)), n - 1))
        else:
            p = math.nan if n < 2 else (0.0 if mean != 0 else 1.0)
        independent = float(pair["arm"].var(ddof=1) + pair["ref"].var(ddof=1)) if n > 1 else math.nan
        reduction = 1 - sd**2 / independent if independent and independent > 0 else math.nan
        rows.append(
            {
                by: arm,
                "reference": reference,
                "metric": metric,
                "n_pairs": n,
                "mean": float(pair["arm"].mean()),
                "reference_mean": float(pair["ref"].mean()),
                "diff": mean,
                "diff_sd": sd,
                "diff_ci_low": lo,
                "diff_ci_high": hi,
                "p_value": p,
                "variance_reduction": reduction,
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ sensitivity
def _design(sweep_dir: Path) -> dict[str, Any]:
    from hydra_plugins.design_sweeper.design_sweeper import load_design

    return load_design(sweep_dir)


def _problem(design: dict[str, Any]) -> dict[str, Any]:
    params = design["params"]
    return {
        "num_vars": len(params),
        "names": [p["name"] for p in params],
        "bounds": [[p["lo"], p["hi"]] for p in params],
    }


def _summary(sweep_dir: Path) -> pd.DataFrame:
    path = sweep_dir / SUMMARY_TABLE_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} not found; run `sim-collect {sweep_dir}` first")
    return pd.read_parquet(path)


def _outputs(summary: pd.DataFrame, outputs: list[str] | tuple[str, ...] | None) -> list[str]:
    available = [c[: -len("_mean")] for c in summary.columns if c.endswith("_mean")]
    if outputs:
        missing = [o for o in outputs if o not in available]
        if missing:
            raise ValueError(f"outputs {missing} are not in the summary; allowed: {available}")
        return list(outputs)
    chosen = [o for o in DEFAULT_OUTPUTS if o in available]
    return chosen or available


def _groups(design: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Points grouped by everything that is not the design (cell, arm, command-line sweeps)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    keys = {p["key"] for p in design["params"]}
    for point in design["points"]:
        others = {k: v for k, v in point["overrides"].items() if k not in keys}
        label = " ".join(
            [*design["cells"][point["cell"]], *(f"{k}={v}" for k, v in others.items())]
            + ([f"arm={point['arm']}"] if "arm" in point else [])
        )
        groups.setdefault(label, []).append(point)
    return list(groups.items())


def _responses(
    design: dict[str, Any], summary: pd.DataFrame, output: str, points: list[dict[str, Any]]
) -> tuple[np.ndarray, np.ndarray]:
    """Design matrix X and response Y (replicate mean at the final step), in sample order."""
    means = summary.set_index("point")[f"{output}_mean"]
    ordered = sorted(points, key=lambda p: p["sample"])
    missing = [p["point"] for p in ordered if p["point"] not in means.index]
    if missing:
        raise ValueError(
            f"{len(missing)} design point(s) have no result (e.g. {missing[:5]}); rerun the sweep"
        )
    keys = [p["key"] for p in design["params"]]
    x = np.array([[p["overrides"][k] for k in keys] for p in ordered], dtype=float)
    y = means.loc[[p["point"] for p in ordered]].to_numpy(dtype=float)
    return x, y


def _sampled_sweep(sweep_dir: Path, method: str) -> tuple[dict, pd.DataFrame, dict]:
    """The design, per-point summary and SALib problem of a collected ``method`` sweep."""
    design = _design(sweep_dir)
    if design["method"] != method:
        raise ValueError(f"{sweep_dir} holds a {design['method']} design; allowed: a {method} sweep")
    return design, _summary(sweep_dir), _problem(design)


def sobol_indices(
    sweep_dir: str | os.PathLike[str],
    outputs: list[str] | tuple[str, ...] | None = None,
    num_resamples: int = 1000,
    conf_level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """First- and total-order Sobol indices of every input, for each output, with bootstrap intervals.

    Reads ``design.json`` (method ``sobol``) and ``summary.parquet`` of a collected sweep. An
    output that is constant across the design gets NaN indices (nothing to apportion).
    """
    from SALib.analyze import sobol

    design, summary, problem = _sampled_sweep(Path(sweep_dir), "sobol")
    rows = []
    for group, points in _groups(design):
        for output in _outputs(summary, outputs):
            _, y = _responses(design, summary, output, points)
            if not np.all(np.isfinite(y)) or np.ptp(y) == 0:
                res = {k: np.full(problem["num_vars"], np.nan) for k in ("S1", "S1_conf", "ST", "ST_conf")}
            else:
                res = sobol.analyze(
                    problem,
                    y,
                    calc_second_order=design.get("calc_second_order", False),
                    num_resamples=num_resamples,
                    conf_level=conf_level,
                    seed=seed,
                )
            for j, name in enumerate(problem["names"]):
                s1, s1c, st, stc = (float(res[k][j]) for k in ("S1", "S1_conf", "ST", "ST_conf"))
                rows.append(
                    {
                        "group": group,
                        "output": output,
                        "input": name,
                        "S1": s1,
                        "S1_low": s1 - s1c,
                        "S1_high": s1 + s1c,
                        "ST": st,
                        "ST_low": st - stc,
                        "ST_high": st + stc,
                        "conf_level": conf_level,
                    }
                )
    return pd.DataFrame(rows)


def morris_indices(
    sweep_dir: str | os.PathLike[str],
    outputs: list[str] | tuple[str, ...] | None = None,
    num_resamples: int = 1000,
    conf_level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Morris elementary-effect statistics (μ, μ*, σ) of every input, with bootstrap intervals on μ*."""
    from SALib.analyze import morris

    design, summary, problem = _sampled_sweep(Path(sweep_dir), "morris")
    rows = []
    for group, points in _groups(design):
        for output in _outputs(summary, outputs):
            x, y = _responses(design, summary, output, points)
            res = morris.analyze(
                problem,
                x,
                y,
                num_resamples=num_resamples,
                conf_level=conf_level,
                num_levels=design.get("num_levels", 4),
                seed=seed,
            )
            for j, name in enumerate(problem["names"]):
                mu_star, conf = float(res["mu_star"][j]), float(res["mu_star_conf"][j])
                rows.append(
                    {
                        "group": group,
                        "output": output,
                        "input": name,
                        "mu": float(res["mu"][j]),
                        "mu_star": mu_star,
                        "mu_star_low": mu_star - conf,
                        "mu_star_high": mu_star + conf,
                        "sigma": float(res["sigma"][j]),
                        "conf_level": conf_level,
                    }
                )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ tipping points
def tipping_points(
    summary: pd.DataFrame,
    x: str,
    metric: str,
    by: list[str] | None = None,
    ratio: float = 3.0,
) -> pd.DataFrame:
    """Where ``metric`` changes most abruptly along the 1-D sweep over ``x``, per group of ``by``.

    ``summary`` has one row per point with ``x``, ``{metric}_mean`` and, if present, its 95%
    interval (``summary.parquet``). For each group the largest step between neighbouring values
    of ``x`` is located; it is called a tipping point (``abrupt``) when it is at least ``ratio``
    times the median of the other steps and the intervals on either side do not overlap.
    """
    by = list(by or [])
    mean_col = f"{metric}_mean" if f"{metric}_mean" in summary.columns else metric
    lo_col, hi_col = f"{metric}_ci95_low", f"{metric}_ci95_high"
    rows = []
    groups = summary.groupby(by, sort=True) if by else [((), summary)]
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        g = group.groupby(x, sort=True)[[c for c in (mean_col, lo_col, hi_col) if c in group.columns]].mean()
        if len(g) < 3:
            continue
        xs = g.index.to_numpy(dtype=float)
        ys = g[mean_col].to_numpy(dtype=float)
        steps = np.diff(ys)
        i = int(np.argmax(np.abs(steps)))
        others = np.delete(np.abs(steps), i)
        typical = float(np.median(others)) if others.size else 0.0
        separated = True
        if lo_col in g.columns and hi_col in g.columns:
            lo, hi = g[lo_col].to_numpy(dtype=float), g[hi_col].to_numpy(dtype=float)
            separated = bool(lo[i + 1] > hi[i] or hi[i + 1] < lo[i])
        # a flat curve has no jump at all; a single step on an otherwise flat curve is infinitely sharp
        sharpness = 0.0 if steps[i] == 0 else (abs(steps[i]) / typical if typical > 0 else math.inf)
        rows.append(
            {
                **dict(zip(by, key, strict=True)),
                "metric": metric,
                "x": x,
                "x_before": xs[i],
                "x_after": xs[i + 1],
                "tipping_x": (xs[i] + xs[i + 1]) / 2,
                "jump": float(steps[i]),
                "sharpness": sharpness,
                "abrupt": bool(sharpness >= ratio and separated and steps[i] != 0),
                "value_before": ys[i],
                "value_after": ys[i + 1],
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ sim-analyse
def analyse(
    sweep_dir: str | os.PathLike[str],
    outputs: list[str] | None = None,
    reference: str | None = None,
    tipping_x: str | None = None,
    num_resamples: int = 1000,
    allow_missing: bool = False,
) -> dict[str, pd.DataFrame]:
    """Everything that fits the sweep in ``sweep_dir``: indices, arm comparisons, tipping points.

    Collects the sweep first if it has no ``summary.parquet``. Writes each table to
    ``DIR/analysis/<name>.parquet`` and returns them. The collected tables are verified first
    (:func:`sim.results.integrity.verify_collection`): an edited, stale or — unless
    ``allow_missing`` — partial collection is refused; from a partial one every table carries
    its PARTIAL note in ``attrs["partial"]`` (kept in the Parquet file's metadata).
    """
    sweep_dir = Path(sweep_dir)
    if not (sweep_dir / SUMMARY_TABLE_FILE).exists():
        report = collect(sweep_dir)
        if not report.written:
            raise FileNotFoundError(
                f"{sweep_dir} cannot be collected: " + "; ".join(report.problems[:5]) + " (see sim-collect)"
            )
    partial = verify_collection(sweep_dir, allow_missing=allow_missing).note
    tables: dict[str, pd.DataFrame] = {}
    design = _design(sweep_dir) if (sweep_dir / "design.json").exists() else None
    summary = _summary(sweep_dir)
    method = design["method"] if design else None
    if method == "sobol":
        tables["sobol"] = sobol_indices(sweep_dir, outputs, num_resamples)
    elif method == "morris":
        tables["morris"] = morris_indices(sweep_dir, outputs, num_resamples)
    if "arm" in summary.columns and summary["arm"].nunique() > 1:
        arms = list(dict.fromkeys(summary.sort_values("point")["arm"]))
        ref = reference or ("baseline" if "baseline" in arms else arms[0])
        import pyarrow.parquet as pq

        final = int(summary["final_step"].max())
        # arms are compared at each level of whatever else the design varies (e.g. the budget)
        within = [p["key"] for p in design["params"] if p["key"] in summary.columns] if design else []
        wanted = ["arm", "replicate", "step", *within, *_outputs(summary, outputs)]
        table = pq.read_table(sweep_dir / COLLECTED_FILE, columns=wanted, filters=[("step", "==", final)])
        df = table.to_pandas()
        tables["comparison"] = pd.concat(
            [compare_arms(df, m, reference=ref, within=within) for m in _outputs(summary, outputs)],
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
                [tipping_points(summary, key, m, by=others) for m in _outputs(summary, outputs)],
                ignore_index=True,
            )
    for name, table in tables.items():
        if partial:
            table.attrs["partial"] = partial
        write_parquet(sweep_dir / ANALYSIS_DIR / f"{name}.parquet", table)
    return tables


def _brackets(low: pd.Series, high: pd.Series, spec: str) -> list[str]:
    """Intervals as text, ``[low, high]`` with the given format spec."""
    return [f"[{a:{spec}}, {b:{spec}}]" for a, b in zip(low, high, strict=True)]


def format_tables(tables: dict[str, pd.DataFrame]) -> str:
    """A readable text rendering of :func:`analyse`'s tables."""
    parts = []
    with pd.option_context("display.width", 140, "display.max_rows", 500, "display.max_columns", 20):
        if "sobol" in tables:
            t = tables["sobol"]
            for (group, output), g in t.groupby(["group", "output"], sort=False):
                title = f"Sobol indices of {output}" + (f" [{group}]" if group else "")
                shown = pd.DataFrame(
                    {
                        "input": g["input"],
                        "S1": g["S1"].map("{:.3f}".format),
                        "S1 95%": _brackets(g["S1_low"], g["S1_high"], ".3f"),
                        "ST": g["ST"].map("{:.3f}".format),
                        "ST 95%": _brackets(g["ST_low"], g["ST_high"], ".3f"),
                    }
                )
                parts.append(f"{title}\n{shown.to_string(index=False)}")
        if "morris" in tables:
            t = tables["morris"]
            for (group, output), g in t.groupby(["group", "output"], sort=False):
                title = f"Morris elementary effects of {output}" + (f" [{group}]" if group else "")
                shown = pd.DataFrame(
                    {
                        "input": g["input"],
                        "mu*": g["mu_star"].map("{:.4f}".format),
                        "mu* 95%": _brackets(g["mu_star_low"], g["mu_star_high"], ".4f"),
                        "mu": g["mu"].map("{:.4f}".format),
                        "sigma": g["sigma"].map("{:.4f}".format),
                    }
                )
                parts.append(f"{title}\n{shown.to_string(index=False)}")
        if "comparison" in tables:
            t = tables["comparison"]
            within = [c for c in t.columns[: list(t.columns).index("arm")]]
            for metric, g in t.groupby("metric", sort=False):
                shown = pd.DataFrame(
                    {
                        **{c: g[c] for c in within},
                        "arm": g["arm"],
                        "mean": g["mean"].map("{:.3f}".format),
                        f"− {g['reference'].iloc[0]}": g["diff"].map("{:+.4f}".format),
                        "95% (paired)": _brackets(g["diff_ci_low"], g["diff_ci_high"], "+.4f"),
                        "pairs": g["n_pairs"],
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
    parser = argparse.ArgumentParser(prog="sim-analyse", description=cli.__doc__)
    parser.add_argument("directory", type=Path, help="a sweep directory (results/sweeps/NAME/<timestamp>)")
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
            args.directory, outputs, args.reference, args.tipping_x, args.resamples, args.allow_missing
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
    for name in tables:
        print(f"wrote {args.directory / ANALYSIS_DIR / f'{name}.parquet'}")
    if partial:
        print(partial)
    return 0


if __name__ == "__main__":
    sys.exit(cli())
