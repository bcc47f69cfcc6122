"""Every interval of the project, in one place and with one spelling.

An interval is reported with the columns (or keys) ``mean``, ``low``, ``high``, ``level``,
``kind`` and ``method``:

- ``kind="mean"``: a confidence interval for the mean over replicates, i.e. where the average
  community of this configuration lies;
- ``kind="prediction"``: a prediction interval for one more replicate, i.e. where one community
  of this configuration lies.

Both respect the range of the metric (``bounds``, declared in :mod:`sim.core.metrics`):

- a metric bounded on both sides, e.g. a proportion in [0, 1]: the interval for the mean is a
  t interval on the logit scale of ``(x − a) / (b − a)`` with the delta-method standard error
  ``se / (p (1 − p))``, transformed back (``method="logit-t"``). Wilson's interval is for a
  binomial count and is not right for the mean of continuous proportions; :func:`wilson` is
  here for true counts of successes (e.g. seeds in which a pattern held);
- a metric bounded on one side, e.g. a count or an amount in [0, ∞): the same on the log scale
  of ``x − a`` (``method="log-t"``);
- an unbounded metric: the plain t interval (``method="t"``).

Prediction intervals are the normal-theory ``mean ± t·sd·√(1 + 1/n)`` intersected with the
range (``method="t, truncated to range"``): a value cannot fall outside its range, so the
intersection loses no coverage. With one value (or none) an interval is unknown (NaN); with
values that are all equal it has zero width.

:func:`replicates_needed` answers how many replicates give a chosen half-width of the interval
for the mean (by default 0.02 on proportions).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

Bounds = tuple[float, float]

UNBOUNDED: Bounds = (-math.inf, math.inf)
DEFAULT_LEVEL = 0.95
#: default interval half-width on a proportion that replicates should reach (issue-level default)
DEFAULT_HALF_WIDTH = 0.02
INTERVAL_COLUMNS = ("mean", "low", "high", "level", "kind", "method")


def bounds_of(name: str) -> Bounds:
    """The range of a metric column: declared in :mod:`sim.core.metrics`; gains are differences.

    ``<metric>_gain`` (a lever run minus its paired baseline) lies in [a − b, b − a] when the
    metric lies in [a, b]; an unknown column is unbounded.
    """
    from sim.core.metrics import METRICS

    if name in METRICS:
        return METRICS[name].bounds
    if name.endswith("_gain") and name[: -len("_gain")] in METRICS:
        lo, hi = METRICS[name[: -len("_gain")]].bounds
        return difference_bounds((lo, hi))
    return UNBOUNDED


def difference_bounds(bounds: Bounds) -> Bounds:
    """The range of a difference of two values that each lie in ``bounds``."""
    lo, hi = bounds
    width = hi - lo
    return (-width, width)


def is_proportion(bounds: Bounds) -> bool:
    return bounds == (0.0, 1.0)


@dataclass(frozen=True)
class Interval:
    """One interval: where ``kind`` says whether it is for the mean or for one community."""

    mean: float
    low: float
    high: float
    level: float
    kind: str
    method: str

    def as_dict(self) -> dict[str, float | str]:
        return asdict(self)


def _t_quantile(n: np.ndarray, level: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.where(n > 1, stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)), np.nan)


def mean_bounds(
    n: np.ndarray | float,
    mean: np.ndarray | float,
    sd: np.ndarray | float,
    bounds: Bounds = UNBOUNDED,
    level: float = DEFAULT_LEVEL,
) -> tuple[np.ndarray, np.ndarray, str]:
    """Vectorised interval for the mean from group sizes, means and standard deviations.

    Returns ``(low, high, method)``; see the module docstring for the method per kind of range.
    """
    n = np.asarray(n, dtype=np.float64)
    mean = np.asarray(mean, dtype=np.float64)
    sd = np.nan_to_num(np.asarray(sd, dtype=np.float64), nan=0.0)
    lo, hi = (float(b) for b in bounds)
    q = _t_quantile(n, level)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        se = sd / np.sqrt(np.maximum(n, 1))
        if math.isfinite(lo) and math.isfinite(hi):
            width = hi - lo
            p = np.clip((mean - lo) / width, 0.0, 1.0)
            inside = (p > 0) & (p < 1) & (se > 0)
            pc = np.where(inside, p, 0.5)
            z = special.logit(pc)
            se_z = (se / width) / (pc * (1 - pc))
            low = np.where(inside, lo + width * special.expit(z - q * se_z), mean)
            high = np.where(inside, lo + width * special.expit(z + q * se_z), mean)
            method = "logit-t"
        elif math.isfinite(lo) or math.isfinite(hi):
            sign = 1.0 if math.isfinite(lo) else -1.0
            origin = lo if math.isfinite(lo) else hi
            y = np.maximum(sign * (mean - origin), 0.0)
            inside = (y > 0) & (se > 0)
            yc = np.where(inside, y, 1.0)
            a = origin + sign * yc * np.exp(-q * se / yc)
            b = origin + sign * yc * np.exp(q * se / yc)
            low = np.where(inside, np.minimum(a, b), mean)
            high = np.where(inside, np.maximum(a, b), mean)
            method = "log-t"
        else:
            low, high = mean - q * se, mean + q * se
            low, high = np.where(se > 0, low, mean), np.where(se > 0, high, mean)
            method = "t"
    unknown = ~(n > 1) | ~np.isfinite(mean)
    return np.where(unknown, np.nan, low), np.where(unknown, np.nan, high), method


def prediction_bounds(
    n: np.ndarray | float,
    mean: np.ndarray | float,
    sd: np.ndarray | float,
    bounds: Bounds = UNBOUNDED,
    level: float = DEFAULT_LEVEL,
) -> tuple[np.ndarray, np.ndarray, str]:
    """Vectorised prediction interval for one more value, intersected with ``bounds``."""
    n = np.asarray(n, dtype=np.float64)
    mean = np.asarray(mean, dtype=np.float64)
    sd = np.nan_to_num(np.asarray(sd, dtype=np.float64), nan=0.0)
    q = _t_quantile(n, level)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = q * sd * np.sqrt(1 + 1 / np.maximum(n, 1))
    low = np.clip(mean - half, bounds[0], bounds[1])
    high = np.clip(mean + half, bounds[0], bounds[1])
    unknown = ~(n > 1) | ~np.isfinite(mean)
    method = "t" if bounds == UNBOUNDED else "t, truncated to range"
    return np.where(unknown, np.nan, low), np.where(unknown, np.nan, high), method


def _clean(values: Sequence[float] | np.ndarray) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64).ravel()
    return x[np.isfinite(x)]


def mean_interval(
    values: Sequence[float] | np.ndarray, bounds: Bounds = UNBOUNDED, level: float = DEFAULT_LEVEL
) -> Interval:
    """Interval for the mean of ``values`` (NaN ignored) that stays inside ``bounds``."""
    x = _clean(values)
    mean = float(x.mean()) if x.size else math.nan
    sd = float(x.std(ddof=1)) if x.size > 1 else 0.0
    low, high, method = mean_bounds(x.size, mean, sd, bounds, level)
    return Interval(mean, float(low), float(high), level, "mean", method)


def prediction_interval(
    values: Sequence[float] | np.ndarray, bounds: Bounds = UNBOUNDED, level: float = DEFAULT_LEVEL
) -> Interval:
    """Prediction interval for one more value like ``values`` (one community), inside ``bounds``."""
    x = _clean(values)
    mean = float(x.mean()) if x.size else math.nan
    sd = float(x.std(ddof=1)) if x.size > 1 else 0.0
    low, high, method = prediction_bounds(x.size, mean, sd, bounds, level)
    return Interval(mean, float(low), float(high), level, "prediction", method)


def wilson(successes: int, n: int, level: float = DEFAULT_LEVEL) -> Interval:
    """Wilson score interval of a binomial proportion ``successes / n`` (true counts only)."""
    if n <= 0:
        return Interval(math.nan, math.nan, math.nan, level, "mean", "wilson")
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half), level, "mean", "wilson")


def bootstrap_interval(
    values: Sequence[float] | np.ndarray,
    level: float = DEFAULT_LEVEL,
    resamples: int = 2000,
    seed: int = 0,
    method: str = "BCa",
) -> Interval:
    """Bootstrap interval (scipy's BCa by default) for the mean; always inside the values' range."""
    x = _clean(values)
    mean = float(x.mean()) if x.size else math.nan
    if x.size < 2 or np.ptp(x) == 0:
        low = high = mean if x.size >= 2 else math.nan
        return Interval(mean, low, high, level, "mean", f"bootstrap-{method}")
    res = stats.bootstrap(
        (x,),
        np.mean,
        confidence_level=level,
        n_resamples=resamples,
        method=method,
        random_state=np.random.default_rng(seed),
    )
    ci = res.confidence_interval
    return Interval(mean, float(ci.low), float(ci.high), level, "mean", f"bootstrap-{method}")


def one_sample_p(values: Sequence[float] | np.ndarray) -> float:
    """Two-sided p-value of the t test that the mean of ``values`` is zero."""
    x = _clean(values)
    if x.size < 2:
        return math.nan
    sd = float(x.std(ddof=1))
    if sd == 0:
        return 0.0 if x.mean() != 0 else 1.0
    return float(2 * stats.t.sf(abs(x.mean()) / (sd / math.sqrt(x.size)), x.size - 1))


def replicates_needed(sd: float, half_width: float, level: float = DEFAULT_LEVEL, cap: int = 100_000) -> int:
    """Smallest number of replicates whose t interval for the mean has at most ``half_width``.

    Uses the replicate standard deviation ``sd`` on the metric's own scale (the transformed
    intervals of bounded metrics are no wider than this near the middle of the range and
    narrower near a bound, so the answer errs on the safe side). At least 2.
    """
    if not math.isfinite(sd) or sd <= 0:
        return 2
    n = max(2, math.ceil((stats.norm.ppf(0.5 + level / 2) * sd / half_width) ** 2))
    while n < cap and stats.t.ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n) > half_width:
        n += 1
    return min(n, cap)


def describe(
    values: Sequence[float] | np.ndarray, bounds: Bounds = UNBOUNDED, level: float = DEFAULT_LEVEL
) -> dict[str, object]:
    """n, mean, sd, the interval for the mean and, under ``prediction``, the one for one community."""
    x = _clean(values)
    mean_iv = mean_interval(x, bounds, level)
    pred = prediction_interval(x, bounds, level)
    return {
        "n": int(x.size),
        "mean": mean_iv.mean,
        "sd": float(x.std(ddof=1)) if x.size > 1 else (0.0 if x.size else math.nan),
        "low": mean_iv.low,
        "high": mean_iv.high,
        "level": level,
        "kind": "mean",
        "method": mean_iv.method,
        "bounds": [bounds[0], bounds[1]],
        "prediction": {"low": pred.low, "high": pred.high, "kind": "prediction", "method": pred.method},
    }


def flat_summary(prefix: str, values: Sequence[float] | np.ndarray, bounds: Bounds = UNBOUNDED) -> dict:
    """The columns a one-row-per-point table carries for one metric.

    ``{prefix}_mean``, ``_sd``, ``_low``, ``_high`` (for the mean) and ``_prediction_low``,
    ``_prediction_high`` (one community), all at :data:`DEFAULT_LEVEL`.
    """
    d = describe(values, bounds)
    pred = d["prediction"]
    assert isinstance(pred, dict)
    return {
        f"{prefix}_mean": d["mean"],
        f"{prefix}_sd": d["sd"],
        f"{prefix}_low": d["low"],
        f"{prefix}_high": d["high"],
        f"{prefix}_prediction_low": pred["low"],
        f"{prefix}_prediction_high": pred["high"],
    }


def interval_table(
    df: pd.DataFrame,
    keys: list[str],
    value: str,
    level: float = DEFAULT_LEVEL,
    bounds: Bounds | None = None,
    kind: str = "mean",
) -> pd.DataFrame:
    """Per group of ``keys``: ``n``, ``mean``, ``sd``, ``low``, ``high``, ``level``, ``kind``, ``method``.

    ``bounds`` defaults to the declared range of the metric ``value`` (:func:`bounds_of`);
    ``kind`` is ``"mean"`` or ``"prediction"``. Groups keep table order; NaN values are left out.
    """
    if kind not in ("mean", "prediction"):
        raise ValueError(f"kind={kind!r}; allowed: 'mean' or 'prediction'")
    bounds = bounds_of(value) if bounds is None else bounds
    g = df.groupby(keys, sort=False, dropna=False)[value]
    out = g.agg(n="count", mean="mean", sd="std").reset_index()
    compute = mean_bounds if kind == "mean" else prediction_bounds
    low, high, method = compute(out["n"], out["mean"], out["sd"], bounds, level)
    out["low"], out["high"] = low, high
    out["sd"] = out["sd"].fillna(0.0)
    out["level"] = level
    out["kind"] = kind
    out["method"] = method
    return out
