"""Sensitivity indices of a design sweep, the SALib way: a design and a table in, tables out.

``design`` is the record the design sweeper writes (``design.json``: method, parameters with
bounds and optional ``group``, points with their overrides and sample index); ``summary`` has
one row per point with ``<output>_mean`` (``summary.parquet`` of ``sim-collect``). Nothing here
reads files: :mod:`sim.cli.analyse` does.

- :func:`sobol_indices`: first- and total-order Sobol indices with SALib's bootstrap intervals,
  per parameter or per SALib group (the parameters' ``group``: a lever, a submodel);
- :func:`morris_indices`: Morris μ, μ*, σ (per group when grouped; μ and σ are then NaN,
  SALib reports μ* only for groups);
- :func:`pawn_indices`: the moment-independent PAWN index (median Kolmogorov–Smirnov distance
  between conditional and unconditional output distributions) on the independent base rows of
  a Sobol design, with the index of an added dummy input as the noise floor;
- :func:`convergence` and :func:`convergence_message`: whether N was large enough, and the
  power of 2 to try next (capped: one step asks for at most 16 × N, or N = 64).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd

#: the widest total-order interval accepted before N is called too small
MAX_ST_WIDTH = 0.1
#: one recommendation asks for at most this many times the current N (a power of 2)
MAX_N_STEP = 16
#: ... but may always ask for this N (the default N of experiment=sobol and sobol_all)
MIN_CAPPED_N = 64
DEFAULT_OUTPUTS = ("participation", "satisfaction", "trust", "unmet_need", "satisfaction_gini")


def problem(design: dict[str, Any]) -> dict[str, Any]:
    """The SALib problem a design was drawn from, with ``groups`` when its parameters have them."""
    params = design["params"]
    out: dict[str, Any] = {
        "num_vars": len(params),
        "names": [p["name"] for p in params],
        "bounds": [[p["lo"], p["hi"]] for p in params],
    }
    if any(p.get("group") for p in params):
        out["groups"] = [p.get("group") or p["name"] for p in params]
    return out


def factor_names(prob: dict[str, Any]) -> list[str]:
    """What the indices are reported for: the groups (in order of first appearance) or the names."""
    return list(dict.fromkeys(prob["groups"])) if "groups" in prob else list(prob["names"])


def outputs_of(summary: pd.DataFrame, outputs: list[str] | tuple[str, ...] | None) -> list[str]:
    """The outputs to analyse: those asked for (checked), else the default ones the summary has."""
    available = [c[: -len("_mean")] for c in summary.columns if c.endswith("_mean")]
    if outputs:
        missing = [o for o in outputs if o not in available]
        if missing:
            raise ValueError(f"outputs {missing} are not in the summary; allowed: {available}")
        return list(outputs)
    chosen = [o for o in DEFAULT_OUTPUTS if o in available]
    return chosen or available


def point_groups(design: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
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


def responses(
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


def each_response(
    design: dict[str, Any], summary: pd.DataFrame, outputs: list[str] | tuple[str, ...] | None
) -> Iterator[tuple[str, str, np.ndarray, np.ndarray]]:
    """(group of points, output, X, Y) for every group of :func:`point_groups` and every output."""
    for group, points in point_groups(design):
        for output in outputs_of(summary, outputs):
            x, y = responses(design, summary, output, points)
            yield group, output, x, y


def _check_method(design: dict[str, Any], method: str) -> None:
    if design["method"] != method:
        raise ValueError(f"the sweep holds a {design['method']} design; allowed: a {method} sweep")


def _per_input(
    design: dict[str, Any],
    summary: pd.DataFrame,
    outputs: list[str] | tuple[str, ...] | None,
    method: str,
    indices: Callable[[dict[str, Any], int, np.ndarray, np.ndarray], Iterable[dict[str, Any]]],
) -> pd.DataFrame:
    """A ``method`` design's indices, one row per group of points, output and input.

    ``indices(problem, n_inputs, X, Y)`` gives the columns of every input (in
    :func:`factor_names` order); ``group``, ``output`` and ``input`` come first.
    """
    _check_method(design, method)
    prob = problem(design)
    names = factor_names(prob)
    rows = []
    for group, output, x, y in each_response(design, summary, outputs):
        for name, values in zip(names, indices(prob, len(names), x, y), strict=True):
            rows.append({"group": group, "output": output, "input": name, **values})
    return pd.DataFrame(rows)


def sobol_indices(
    design: dict[str, Any],
    summary: pd.DataFrame,
    outputs: list[str] | tuple[str, ...] | None = None,
    num_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """First- and total-order Sobol indices of every input (or group), per output, with bootstrap intervals.

    Columns: ``group`` (of design points), ``output``, ``input`` (a parameter, or a SALib group
    when the design is grouped), ``S1``, ``S1_low``, ``S1_high``, ``ST``, ``ST_low``,
    ``ST_high``, ``level``, ``n`` (SALib's N). An output constant across the design gets NaN.
    """
    from SALib.analyze import sobol

    def indices(
        prob: dict[str, Any], n_inputs: int, _: np.ndarray, y: np.ndarray
    ) -> Iterator[dict[str, Any]]:
        if not np.all(np.isfinite(y)) or np.ptp(y) == 0:
            res = {k: np.full(n_inputs, np.nan) for k in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            res = sobol.analyze(
                prob,
                y,
                calc_second_order=design.get("calc_second_order", False),
                num_resamples=num_resamples,
                conf_level=level,
                seed=seed,
            )
        for j in range(n_inputs):
            s1, s1c, st, stc = (float(res[k][j]) for k in ("S1", "S1_conf", "ST", "ST_conf"))
            yield {
                "S1": s1,
                "S1_low": s1 - s1c,
                "S1_high": s1 + s1c,
                "ST": st,
                "ST_low": st - stc,
                "ST_high": st + stc,
                "level": level,
                "n": int(design.get("n", 0)),
            }

    return _per_input(design, summary, outputs, "sobol", indices)


def morris_indices(
    design: dict[str, Any],
    summary: pd.DataFrame,
    outputs: list[str] | tuple[str, ...] | None = None,
    num_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Morris elementary-effect statistics (μ, μ*, σ) of every input (or group), with intervals on μ*."""
    from SALib.analyze import morris

    # read before analysing: morris.analyze adds ``groups`` to the problem it is given
    grouped = "groups" in problem(design)

    def indices(
        prob: dict[str, Any], n_inputs: int, x: np.ndarray, y: np.ndarray
    ) -> Iterator[dict[str, Any]]:
        res = morris.analyze(
            prob,
            x,
            y,
            num_resamples=num_resamples,
            conf_level=level,
            num_levels=design.get("num_levels", 4),
            seed=seed,
        )
        for j in range(n_inputs):
            mu_star, conf = float(res["mu_star"][j]), float(res["mu_star_conf"][j])
            yield {
                "mu": math.nan if grouped else float(res["mu"][j]),
                "mu_star": mu_star,
                "mu_star_low": max(0.0, mu_star - conf),
                "mu_star_high": mu_star + conf,
                "sigma": math.nan if grouped else float(res["sigma"][j]),
                "level": level,
            }

    return _per_input(design, summary, outputs, "morris", indices)


def base_rows(design: dict[str, Any], n_rows: int) -> np.ndarray:
    """Indices of the A and B rows of a Saltelli design (the 2N rows drawn independently).

    The other rows (A with column(s) of B) repeat values of these, so a given-data estimator
    such as PAWN would see dependent samples if it used them.
    """
    n = int(design["n"])
    if n_rows % n:
        raise ValueError(f"{n_rows} rows are not a multiple of N={n}; allowed: a complete Sobol design")
    block = n_rows // n
    starts = np.arange(n) * block
    return np.concatenate([starts, starts + block - 1])


def pawn_indices(
    design: dict[str, Any],
    summary: pd.DataFrame,
    outputs: list[str] | tuple[str, ...] | None = None,
    slices: int = 10,
    seed: int = 0,
) -> pd.DataFrame:
    """PAWN indices (moment-independent) of every parameter, per output, from a Sobol design.

    Columns: ``group``, ``output``, ``input`` (a parameter; PAWN is not grouped), ``pawn``
    (median KS distance over ``slices`` conditioning slices), ``pawn_min``, ``pawn_max``,
    ``noise_floor`` (the index of an independent uniform dummy input: indices near it carry no
    evidence of influence), ``n_rows``.
    """
    from SALib.analyze import pawn

    _check_method(design, "sobol")
    prob = problem(design)
    dummy = {
        "num_vars": prob["num_vars"] + 1,
        "names": [*prob["names"], "_dummy"],
        "bounds": [*prob["bounds"], [0.0, 1.0]],
    }
    rows = []
    for group, output, x, y in each_response(design, summary, outputs):
        keep = base_rows(design, len(y))
        x, y = x[keep], y[keep]
        if not np.all(np.isfinite(y)) or np.ptp(y) == 0:
            continue
        rng = np.random.default_rng(seed)
        xd = np.column_stack([x, rng.random(len(y))])
        res = pawn.analyze(dummy, xd, y, S=slices, seed=seed)
        floor = float(res["median"][-1])
        for j, name in enumerate(prob["names"]):
            rows.append(
                {
                    "group": group,
                    "output": output,
                    "input": name,
                    "pawn": float(res["median"][j]),
                    "pawn_min": float(res["minimum"][j]),
                    "pawn_max": float(res["maximum"][j]),
                    "noise_floor": floor,
                    "n_rows": len(y),
                }
            )
    return pd.DataFrame(rows)


def _power_of_two(x: float) -> int:
    """The smallest power of 2 at or above ``x`` (at least 1): the sweeper's N for Sobol designs."""
    return int(2 ** max(0, math.ceil(math.log2(max(x, 1.0)))))


def n_cap(n: int) -> int:
    """The largest N one recommendation may ask for from a design of N = ``n``.

    Widths shrink as 1/√N only once N is large enough for the bootstrap intervals to be
    trusted; extrapolating further than :data:`MAX_N_STEP` × N (intervals about 4× narrower)
    says more than the design can tell, so the step is capped there (and at least
    :data:`MIN_CAPPED_N`, a design small enough to be cheap and large enough to judge).
    """
    return _power_of_two(max(MAX_N_STEP * n, MIN_CAPPED_N))


def recommended_n(n: int, widest: float, target: float = MAX_ST_WIDTH) -> int:
    """The power of 2 at which the widest ST interval would shrink to ``target`` (width ∝ 1/√N).

    Capped at :func:`n_cap` (``n`` itself when there is nothing to do or no N is known);
    :func:`is_capped` says whether the cap was reached.
    """
    if not math.isfinite(widest) or widest <= target or n <= 0:
        return n
    return min(_power_of_two(n * (widest / target) ** 2), n_cap(n))


def is_capped(n: int, widest: float, target: float = MAX_ST_WIDTH) -> bool:
    """Whether the N the 1/√N rule asks for lies beyond :func:`n_cap` (so ``recommended_n`` is a floor)."""
    if not math.isfinite(widest) or widest <= target or n <= 0:
        return False
    return _power_of_two(n * (widest / target) ** 2) > n_cap(n)


def convergence(indices: pd.DataFrame, max_width: float = MAX_ST_WIDTH) -> pd.DataFrame:
    """Signs that a Sobol design was too small, one row per (group, output, input) at fault.

    Checks: the ST interval is wider than ``max_width``; S1 is significantly below 0 (its whole
    interval is); ST is below S1 beyond the intervals (``ST_high < S1_low``). Each row has
    ``problem``, ``recommended_n`` (a power of 2: N for the widest ST interval of its output to
    reach ``max_width``, capped at :func:`n_cap`; at least 2N when only the other checks
    failed) and ``capped`` (True when the cap was reached: then ``recommended_n`` is the next
    step, not the end). Empty when all is well.
    """
    rows = []
    for (group, output), g in indices.groupby(["group", "output"], sort=False):
        n = int(g["n"].iloc[0]) if "n" in g.columns else 0
        widths = g["ST_high"] - g["ST_low"]
        widest = float(widths.max()) if widths.notna().any() else math.nan
        rec = recommended_n(n, widest, max_width)
        capped = is_capped(n, widest, max_width)
        for row, width in zip(g.itertuples(), widths, strict=True):
            problems = []
            if width > max_width:
                problems.append(f"ST interval {width:.2f} wide (> {max_width:g})")
            if row.S1_high < 0:
                problems.append(f"S1 = {row.S1:.3f} significantly below 0")
            if row.ST_high < row.S1_low:
                problems.append(f"ST = {row.ST:.3f} below S1 = {row.S1:.3f} beyond the intervals")
            for i, p in enumerate(problems):
                # a negative S1 or ST < S1 is estimator noise too: at least double N
                only_width = i == 0 and width > max_width
                rows.append(
                    {
                        "group": group,
                        "output": output,
                        "input": row.input,
                        "problem": p,
                        "n": n,
                        "recommended_n": rec if only_width else max(rec, _power_of_two(2 * n)),
                        "capped": capped,
                    }
                )
    columns = ["group", "output", "input", "problem", "n", "recommended_n", "capped"]
    return pd.DataFrame(rows, columns=columns)


def convergence_message(checks: pd.DataFrame) -> str | None:
    """One line saying that N is too small and which N to use, or None when the checks passed.

    When the 1/√N rule asks for more than :func:`n_cap` allows, the line names the capped N as
    a floor ("at least") and says to increase N step by step.
    """
    if checks.empty:
        return None
    n = int(checks["n"].max())
    rec = int(checks["recommended_n"].max())
    outputs = ", ".join(dict.fromkeys(checks["output"]))
    first = checks.iloc[0]
    line = (
        f"warning: N={n} is too small for the Sobol indices of {outputs}: {len(checks)} problem(s), "
        f"e.g. {first['input']} on {first['output']}: {first['problem']}; "
    )
    capped = bool(checks["capped"].any()) if "capped" in checks.columns else False
    if capped:
        return line + (
            f"rerun with at least hydra.sweeper.n={rec} (a power of 2): the intervals at N={n} "
            "ask for more, beyond what this estimate can tell; increase N step by step, "
            "running sim-analyse after each"
        )
    return line + f"rerun with hydra.sweeper.n={rec}"
