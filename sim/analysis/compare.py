"""Replicate statistics and paired arm comparisons: tables in, tables out.

Replicate r has the same seed at every point of a sweep (common random numbers), so an arm's
difference to the reference arm is taken replicate by replicate; the shared noise cancels.
Intervals come from :mod:`sim.analysis.stats` and respect each metric's range.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.analysis import stats

DEFAULT_OUTPUTS = ("participation", "satisfaction", "trust", "unmet_need", "satisfaction_gini")


def final_step(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of the last recorded step."""
    return df[df["step"] == df["step"].max()]


def replicate_stats(
    df: pd.DataFrame,
    metrics: list[str] | tuple[str, ...] = DEFAULT_OUTPUTS,
    by: str | list[str] = "point",
    step: int | None = None,
    level: float = stats.DEFAULT_LEVEL,
) -> pd.DataFrame:
    """Mean, sd, the interval for the mean and the prediction interval of each metric, per group.

    Args:
        df: a collected (or single-run) table with ``replicate`` and ``step`` columns.
        metrics: metric columns to summarise (those absent are ignored).
        by: grouping column(s), e.g. ``"point"`` or ``"arm"``.
        step: the step to look at; the final one if None.

    Columns: the ``by`` columns, ``metric``, ``n``, ``mean``, ``sd``, ``low``, ``high``
    (``kind`` "mean"), ``prediction_low``, ``prediction_high`` (one community), ``level``,
    ``method``.
    """
    by = [by] if isinstance(by, str) else list(by)
    at = final_step(df) if step is None else df[df["step"] == step]
    rows = []
    for key, group in at.groupby(by, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        for m in metrics:
            if m not in group.columns:
                continue
            d = stats.describe(group[m].to_numpy(dtype=float), stats.bounds_of(m), level)
            pred = d.pop("prediction")
            d.pop("bounds")
            assert isinstance(pred, dict)
            rows.append(
                {
                    **dict(zip(by, key, strict=True)),
                    "metric": m,
                    **d,
                    "prediction_low": pred["low"],
                    "prediction_high": pred["high"],
                }
            )
    return pd.DataFrame(rows)


def compare_arms(
    df: pd.DataFrame,
    metric: str,
    reference: str = "baseline",
    by: str = "arm",
    step: int | None = None,
    level: float = stats.DEFAULT_LEVEL,
    within: list[str] | None = None,
) -> pd.DataFrame:
    """Each arm minus the reference arm, paired by replicate (common random numbers).

    Returns one row per arm (and per level of the ``within`` columns, e.g. the budget of a
    budget × allocation sweep): ``n`` pairs, the two means (``arm_mean``, ``reference_mean``),
    the mean paired difference ``mean`` with its interval ``low``/``high`` (for the mean
    difference, inside the range a difference of the metric can take) and the t test's
    ``p_value``, and how much pairing narrowed the interval compared with independent samples
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
    bounds = stats.difference_bounds(stats.bounds_of(metric))
    rows = []
    for arm in dict.fromkeys(at[by]):  # in the order the arms were given
        if arm == reference or arm not in wide.columns:
            continue
        pair = pd.concat([wide[arm], ref], axis=1, keys=["arm", "ref"]).dropna()
        diff = (pair["arm"] - pair["ref"]).to_numpy(dtype=float)
        iv = stats.mean_interval(diff, bounds, level)
        n = diff.size
        sd = float(diff.std(ddof=1)) if n > 1 else math.nan
        independent = float(pair["arm"].var(ddof=1) + pair["ref"].var(ddof=1)) if n > 1 else math.nan
        reduction = 1 - sd**2 / independent if independent and independent > 0 else math.nan
        rows.append(
            {
                by: arm,
                "reference": reference,
                "metric": metric,
                "n": n,
                "arm_mean": float(pair["arm"].mean()),
                "reference_mean": float(pair["ref"].mean()),
                "mean": iv.mean,
                "sd": sd,
                "low": iv.low,
                "high": iv.high,
                "level": level,
                "kind": iv.kind,
                "method": iv.method,
                "p_value": stats.one_sample_p(diff),
                "variance_reduction": reduction,
            }
        )
    return pd.DataFrame(rows)


def paired_differences(
    df: pd.DataFrame,
    metrics: list[str],
    baseline: str,
    by: str,
    level: float = stats.DEFAULT_LEVEL,
) -> pd.DataFrame:
    """Final-step differences of every group of ``by`` to ``baseline``, paired by replicate (and seed).

    One row per (group, metric): ``n`` pairs, ``mean`` difference, ``sd``, ``low``/``high``
    (interval for the mean difference), ``level``, ``kind``, ``method``, ``baseline_mean``,
    ``arm_mean``. Only replicates present in both groups are used; a group sharing none
    raises ValueError. Each group is judged at its own last step.
    """
    groups = list(pd.unique(df[by]))
    if baseline not in groups:
        raise ValueError(f"baseline={baseline!r} is not a value of {by}; allowed: {groups}")
    last = df.groupby(by, dropna=False)["step"].transform("max") if "step" in df.columns else None
    final = df if last is None else df[df["step"] == last]
    pair_on = ["replicate"] + (["seed"] if "seed" in df.columns else [])
    base = final[final[by] == baseline].groupby(pair_on)[metrics].mean()
    rows = []
    for name in groups:
        if name == baseline:
            continue
        arm = final[final[by] == name].groupby(pair_on)[metrics].mean()
        common = arm.index.intersection(base.index)
        if common.empty:
            raise ValueError(
                f"{by}={name!r} shares no replicate (and seed) with baseline {baseline!r}; "
                "allowed: runs made with the same seed and replicates"
            )
        diff = arm.loc[common] - base.loc[common]
        for metric in metrics:
            d = diff[metric].to_numpy(dtype=float)
            d = d[np.isfinite(d)]
            iv = stats.mean_interval(d, stats.difference_bounds(stats.bounds_of(metric)), level)
            rows.append(
                {
                    by: name,
                    "metric": metric,
                    "n": d.size,
                    "mean": iv.mean,
                    "sd": float(d.std(ddof=1)) if d.size > 1 else 0.0,
                    "low": iv.low,
                    "high": iv.high,
                    "level": level,
                    "kind": iv.kind,
                    "method": iv.method,
                    "baseline_mean": float(base.loc[common, metric].mean()),
                    "arm_mean": float(arm.loc[common, metric].mean()),
                }
            )
    return pd.DataFrame(rows)
