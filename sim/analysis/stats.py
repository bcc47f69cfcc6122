"""Every interval of the project, in one place and with one spelling.

An interval is reported with the columns (or keys) ``mean``, ``low``, ``high``, ``level``,
``kind`` and ``method``:

- ``kind="mean"``: a confidence interval for the mean over replicates, i.e. where the average
  community of this configuration lies;
- ``kind="prediction"``: a prediction interval for one more replicate, i.e. where one community
  of this configuration lies.

Both respect the range of the metric (``bounds``, declared in :mod:`sim.core.metrics`;
:func:`bounds_of` returns it as a :class:`Range`, which also carries the metric's kind):

- a metric bounded on both sides, e.g. a proportion in [0, 1]: the interval for the mean is a
  t interval on the logit scale of ``(x − a) / (b − a)`` with the delta-method standard error
  ``se / (p (1 − p))``, transformed back (``method="logit-t"``). Wilson's interval is for a
  binomial count and is not right for the mean of continuous proportions; :func:`wilson` is
  here for true counts of successes (e.g. seeds in which a pattern held);
- a count (``kind="count"`` in :mod:`sim.core.metrics`, e.g. conflicts open, in [0, ∞)): see
  below (``method="garwood"`` or ``"scaled garwood"``);
- any other metric bounded on one side, e.g. an amount in [0, ∞): the t interval on the log
  scale of ``x − a`` (``method="log-t"``);
- an unbounded metric: the plain t interval (``method="t"``).

Counts. The log-t interval fails on counts with many zeros (replicates {0, 0, 1} gave
0.33 [0.005, 24.6]), and a percentile or BCa bootstrap is poor with 3–5 replicates. The rule:

- whole counts x₁…xₙ: their sum S is Poisson(nμ) when the counts are, and the interval for μ
  is Garwood's exact one, ``[χ²(α/2; 2S) / 2n, χ²(1 − α/2; 2S + 2) / 2n]`` (Garwood 1936,
  Biometrika 28: 437–442), with the lower end 0 when S = 0 (``method="garwood"``);
- overdispersion: when Fisher's index-of-dispersion test, D = (n − 1) s² / x̄ against
  χ²(n − 1) (Fisher 1950, Biometrics 6: 17–24), rejects Poisson variation at the 5% level
  (:data:`DISPERSION_TEST_LEVEL`), the counts are treated as quasi-Poisson (McCullagh and
  Nelder 1989, Generalized Linear Models, ch. 9): Garwood's interval of S/φ scaled by φ, i.e.
  ``[φ χ²(α/2; 2S/φ) / 2n, φ χ²(1 − α/2; 2S/φ + 2) / 2n]``, a gamma interval of the kind of Fay
  and Feuer (1997, Statistics in Medicine 16: 791–801). φ = (s² / x̄)(t/z)²: the dispersion
  estimate, widened by the squared ratio of the t quantile (n − 1 degrees of freedom) to the
  normal one because φ is estimated from n values (``method="scaled garwood"``);
- values of a count metric that are not whole (e.g. a mean over a window of weeks): the unit
  of the count is unknown, so φ is always estimated as above, without the test and without a
  floor of 1 (``method="scaled garwood"``); all-equal such values give a zero-width interval.

Every count interval lies in [a, ∞): {0, 0, 1} gives 0.33 [0.008, 1.86] (log-t: [0.005, 24.6]).
In simulation (20,000 trials per case, means 0.2–20) the 95% interval covered the mean of
Poisson counts in at least 95% of trials at n = 3, 5, 10 and 20. For overdispersed counts
(negative binomial, size 0.5 or 2) the test has little power with few replicates: with means
of 5–20 coverage was 0.73–0.88 at n = 3 and 0.85–0.93 at n = 5, at least 0.91 from n = 10 (and
at least 0.91 for means of 0.2–1 at any n). The log-t interval covered 0.44 for Poisson counts
of mean 0.2 at n = 3.

Prediction intervals are the normal-theory ``mean ± t·sd·√(1 + 1/n)`` intersected with the
range (``method="t, truncated to range"``): a value cannot fall outside its range, so the
intersection loses no coverage. For whole counts the interval is also widened to the central
range of the negative-binomial predictive of one more count (a Poisson count whose mean has
the Jeffreys posterior Gamma(S/φ + ½, n), scaled by φ as above; ``method="negative binomial ∪
t"`` or ``"scaled negative binomial ∪ t"``), so that a count is never predicted more precisely
than Poisson variation allows. A prediction interval is never narrower than the interval for
the mean: where it would be, it is widened to it and its method ends in ``∪ mean interval``.
With one value (or none) an interval is unknown (NaN); with values that are all equal it has
zero width, except for whole counts.

The vectorised functions (:func:`mean_bounds`, :func:`prediction_bounds`) return the method as
one string, or one per row where rows differ (count metrics); a table's ``method`` column then
names each row's method.

:func:`replicates_needed` answers how many replicates give a chosen half-width of the interval
for the mean (by default 0.02 on proportions).

Why one module of this length: every interval of the project is computed here and nowhere
else, and a seventh of the module is this account of which interval is used when and why.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

Bounds = tuple[float, float]

UNBOUNDED: Bounds = (-math.inf, math.inf)
DEFAULT_LEVEL = 0.95
#: default interval half-width on a proportion that replicates should reach (issue-level default)
DEFAULT_HALF_WIDTH = 0.02
#: level of the index-of-dispersion test that turns whole counts from Garwood to scaled Garwood
DISPERSION_TEST_LEVEL = 0.05
INTERVAL_COLUMNS = ("mean", "low", "high", "level", "kind", "method")


class Range(tuple):
    """A metric's range ``(low, high)`` together with its kind (``count``, ``amount``, …).

    It unpacks, compares and hashes as the plain pair, so it goes wherever a :data:`Bounds`
    goes; the interval functions read ``kind`` to choose the method for counts.
    """

    kind: str

    def __new__(cls, low: float, high: float, kind: str = "") -> Range:
        self = super().__new__(cls, (float(low), float(high)))
        self.kind = kind
        return self

    def __getnewargs__(self) -> tuple[float, float, str]:
        return (self[0], self[1], self.kind)

    def __repr__(self) -> str:
        return f"Range({self[0]!r}, {self[1]!r}, kind={self.kind!r})"


#: the range of a count: non-negative, and intervals for counts (module docstring)
COUNT = Range(0.0, math.inf, "count")


def bounds_of(name: str) -> Bounds:
    """The range of a metric column: declared in :mod:`sim.core.metrics`; gains are differences.

    A metric's range comes as a :class:`Range` that carries the metric's kind (so counts get
    the count intervals). ``<metric>_gain`` (a lever run minus its paired baseline) lies in
    [a − b, b − a] when the metric lies in [a, b] and is not a count; an unknown column is
    unbounded.
    """
    from sim.core.metrics import METRICS

    if name in METRICS:
        metric = METRICS[name]
        return Range(*metric.bounds, metric.kind)
    if name.endswith("_gain") and name[: -len("_gain")] in METRICS:
        lo, hi = METRICS[name[: -len("_gain")]].bounds
        return difference_bounds((lo, hi))
    return UNBOUNDED


def difference_bounds(bounds: Bounds) -> Bounds:
    """The range of a difference of two values that each lie in ``bounds`` (a plain pair)."""
    lo, hi = bounds
    width = hi - lo
    return (-width, width)


def is_proportion(bounds: Bounds) -> bool:
    return bounds == (0.0, 1.0)


def is_count(bounds: Bounds) -> bool:
    """Whether ``bounds`` is the range of a count metric: kind ``count``, [a, ∞) with a finite."""
    return getattr(bounds, "kind", "") == "count" and math.isfinite(bounds[0]) and bounds[1] == math.inf


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


def _group_arrays(
    n: np.ndarray | float, mean: np.ndarray | float, sd: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group sizes, means and standard deviations as float arrays; a NaN sd (a group of one) is 0."""
    n = np.asarray(n, dtype=np.float64)
    mean = np.asarray(mean, dtype=np.float64)
    return n, mean, np.nan_to_num(np.asarray(sd, dtype=np.float64), nan=0.0)


@functools.lru_cache(maxsize=4096)
def _quantile(distribution: str, p: float, df: float | None = None) -> float:
    """``scipy.stats.<distribution>.ppf(p[, df])`` of one value, remembered.

    A point's summary asks for the same few quantiles (t with n − 1 degrees of freedom, at one
    level) hundreds of times, and scipy's generic ``ppf`` costs about 0.1 ms a call in argument
    checking alone. The value is the same float scipy returns for that element of an array.
    """
    dist = getattr(stats, distribution)
    return float(dist.ppf(p) if df is None else dist.ppf(p, df))


def _quantiles(distribution: str, p: float, df: np.ndarray) -> np.ndarray:
    """:func:`_quantile` over an array of degrees of freedom, each distinct value once."""
    df = np.asarray(df, dtype=np.float64)
    if df.ndim == 0:
        return np.float64(_quantile(distribution, p, float(df)))
    distinct, where = np.unique(df, return_inverse=True)
    values = np.array([_quantile(distribution, p, float(d)) for d in distinct], dtype=np.float64)
    return values[where].reshape(df.shape)


def _chi2_ppf(p: float, df: np.ndarray) -> np.ndarray:
    """``scipy.stats.chi2.ppf(p, df)`` for 0 < p < 1 and df > 0 (NaN elsewhere), without the
    generic method's argument checks: the same expression scipy evaluates, so the same floats."""
    return 2 * special.gammaincinv(np.asarray(df, dtype=np.float64) / 2, p)


def _t_quantile(n: np.ndarray, level: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.where(n > 1, _quantiles("t", 0.5 + level / 2, np.maximum(n - 1, 1)), np.nan)


def _methods(method: np.ndarray) -> str | np.ndarray:
    """One string when every row has the same method, else the array of per-row methods."""
    flat = np.asarray(method, dtype=object).ravel()
    if flat.size == 0:
        return ""
    first = flat[0]
    if all(m == first for m in flat):
        return str(first)
    return np.asarray(method, dtype=object)


def _whole(n: np.ndarray, mean: np.ndarray, whole: np.ndarray | bool | None) -> np.ndarray:
    """Whether each group's values are whole counts; inferred from the sum when not given."""
    if whole is not None:
        return np.broadcast_to(np.asarray(whole, dtype=bool), np.broadcast(n, mean).shape)
    with np.errstate(invalid="ignore"):
        total = n * mean
        return np.abs(total - np.round(total)) <= 1e-9 * np.maximum(1.0, np.abs(total))


def _dispersion(
    n: np.ndarray, mean: np.ndarray, sd: np.ndarray, whole: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """φ per group and whether it is estimated (scaled Garwood) rather than 1 (Garwood)."""
    df = np.maximum(n - 1, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        phi_hat = np.where(mean > 0, sd * sd / np.where(mean > 0, mean, 1.0), 0.0)
        adjust = (_quantiles("t", 0.5 + level / 2, df) / _quantile("norm", 0.5 + level / 2)) ** 2
        over = (n > 1) & (df * phi_hat > _quantiles("chi2", 1 - DISPERSION_TEST_LEVEL, df))
    scaled = ~whole | over
    return np.where(scaled, phi_hat * adjust, 1.0), scaled


def _garwood(n: np.ndarray, mean: np.ndarray, phi: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Garwood's interval for the mean of n counts with sum S, on S/φ and scaled by φ."""
    alpha = 1 - level
    nn = np.maximum(n, 1)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        positive = phi > 0
        phic = np.where(positive, phi, 1.0)
        s = np.maximum(nn * mean, 0.0) / phic
        low = np.where(s > 0, phic / (2 * nn) * _chi2_ppf(alpha / 2, np.maximum(2 * s, 1e-300)), 0.0)
        high = phic / (2 * nn) * _chi2_ppf(1 - alpha / 2, 2 * s + 2)
    # φ = 0: values (not whole counts) all equal, a zero-width interval as for other metrics
    return np.where(positive, low, mean), np.where(positive, high, mean)


def _count_mean_bounds(
    n: np.ndarray, mean: np.ndarray, sd: np.ndarray, origin: float, whole: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.maximum(mean - origin, 0.0)
    phi, scaled = _dispersion(n, y, sd, whole, level)
    low, high = _garwood(n, y, phi, level)
    method = np.where(scaled, "scaled garwood", "garwood").astype(object)
    return origin + low, origin + high, method


def mean_bounds(
    n: np.ndarray | float,
    mean: np.ndarray | float,
    sd: np.ndarray | float,
    bounds: Bounds = UNBOUNDED,
    level: float = DEFAULT_LEVEL,
    whole: np.ndarray | bool | None = None,
) -> tuple[np.ndarray, np.ndarray, str | np.ndarray]:
    """Vectorised interval for the mean from group sizes, means and standard deviations.

    Returns ``(low, high, method)``; see the module docstring for the method per kind of range.
    ``whole`` matters for counts only (:func:`is_count`): whether each group's values are whole
    numbers; when not given, a group whose sum ``n · mean`` is whole is taken to be whole counts.
    ``method`` is one string, or an array of one per row when rows differ.
    """
    n, mean, sd = _group_arrays(n, mean, sd)
    lo, hi = (float(b) for b in bounds)
    q = _t_quantile(n, level)
    method: str | np.ndarray
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        se = sd / np.sqrt(np.maximum(n, 1))
        if is_count(bounds):
            low, high, per_row = _count_mean_bounds(n, mean, sd, lo, _whole(n, mean, whole), level)
            method = _methods(per_row)
        elif math.isfinite(lo) and math.isfinite(hi):
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


def _count_predictive(
    n: np.ndarray, mean: np.ndarray, sd: np.ndarray, origin: float, whole: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Central ``level`` range of the (scaled) negative-binomial predictive of one more count."""
    alpha = 1 - level
    y = np.maximum(mean - origin, 0.0)
    phi, scaled = _dispersion(n, y, sd, whole, level)
    nn = np.maximum(n, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        phic = np.where(phi > 0, phi, 1.0)
        r = nn * y / phic + 0.5  # Jeffreys: rate | S ~ Gamma(S/φ + ½, n)
        p = nn / (nn + 1)
        low = origin + phic * stats.nbinom.ppf(alpha / 2, r, p)
        high = origin + phic * stats.nbinom.ppf(1 - alpha / 2, r, p)
    method = np.where(scaled, "scaled negative binomial ∪ t", "negative binomial ∪ t").astype(object)
    return low, high, method


def prediction_bounds(
    n: np.ndarray | float,
    mean: np.ndarray | float,
    sd: np.ndarray | float,
    bounds: Bounds = UNBOUNDED,
    level: float = DEFAULT_LEVEL,
    whole: np.ndarray | bool | None = None,
) -> tuple[np.ndarray, np.ndarray, str | np.ndarray]:
    """Vectorised prediction interval for one more value, inside ``bounds``.

    The t interval intersected with ``bounds``; for whole counts also the negative-binomial
    predictive range; never narrower than the interval for the mean (module docstring).
    ``whole`` as in :func:`mean_bounds`.
    """
    n, mean, sd = _group_arrays(n, mean, sd)
    q = _t_quantile(n, level)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = q * sd * np.sqrt(1 + 1 / np.maximum(n, 1))
    low = np.clip(mean - half, bounds[0], bounds[1])
    high = np.clip(mean + half, bounds[0], bounds[1])
    base = "t" if bounds == UNBOUNDED else "t, truncated to range"
    method = np.full(np.broadcast(n, mean).shape, base, dtype=object)
    if is_count(bounds):
        is_whole = _whole(n, mean, whole)
        nb_low, nb_high, nb_method = _count_predictive(n, mean, sd, float(bounds[0]), is_whole, level)
        low = np.where(is_whole, np.fmin(low, nb_low), low)
        high = np.where(is_whole, np.fmax(high, nb_high), high)
        method = np.where(is_whole, nb_method, method)
    m_low, m_high, _ = mean_bounds(n, mean, sd, bounds, level, whole)
    with np.errstate(invalid="ignore"):
        widened = (m_low < low) | (m_high > high)
    low, high = np.fmin(low, m_low), np.fmax(high, m_high)
    method = np.where(widened, method + " ∪ mean interval", method)
    unknown = ~(n > 1) | ~np.isfinite(mean)
    return np.where(unknown, np.nan, low), np.where(unknown, np.nan, high), _methods(method)


def _clean(values: Sequence[float] | np.ndarray) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64).ravel()
    return x[np.isfinite(x)]


def _is_whole(x: np.ndarray) -> bool:
    return bool(np.all(x == np.round(x)))


def _sample_interval(
    values: Sequence[float] | np.ndarray, bounds: Bounds, level: float, kind: str
) -> Interval:
    """The ``kind`` interval (``mean`` or ``prediction``) of ``values`` (NaN ignored) inside ``bounds``."""
    x = _clean(values)
    mean = float(x.mean()) if x.size else math.nan
    sd = float(x.std(ddof=1)) if x.size > 1 else 0.0
    rule = mean_bounds if kind == "mean" else prediction_bounds
    low, high, method = rule(x.size, mean, sd, bounds, level, _is_whole(x))
    return Interval(mean, float(low), float(high), level, kind, str(method))


def mean_interval(
    values: Sequence[float] | np.ndarray, bounds: Bounds = UNBOUNDED, level: float = DEFAULT_LEVEL
) -> Interval:
    """Interval for the mean of ``values`` (NaN ignored) that stays inside ``bounds``."""
    return _sample_interval(values, bounds, level, "mean")


def prediction_interval(
    values: Sequence[float] | np.ndarray, bounds: Bounds = UNBOUNDED, level: float = DEFAULT_LEVEL
) -> Interval:
    """Prediction interval for one more value like ``values`` (one community), inside ``bounds``."""
    return _sample_interval(values, bounds, level, "prediction")


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
    n = max(2, math.ceil((_quantile("norm", 0.5 + level / 2) * sd / half_width) ** 2))
    while n < cap and _quantile("t", 0.5 + level / 2, n - 1) * sd / math.sqrt(n) > half_width:
        n += 1
    return min(n, cap)


def describe(
    values: Sequence[float] | np.ndarray, bounds: Bounds = UNBOUNDED, level: float = DEFAULT_LEVEL
) -> dict[str, object]:
    """n, mean, sd, the interval for the mean and, under ``prediction``, the one for one community."""
    return describe_many({"": values}, {"": bounds}, level)[""]


def describe_many(
    samples: Mapping[str, Sequence[float] | np.ndarray],
    bounds: Mapping[str, Bounds],
    level: float = DEFAULT_LEVEL,
) -> dict[str, dict[str, object]]:
    """:func:`describe` of each named sample (NaN ignored), inside its ``bounds[name]``.

    Samples that share their bounds have their intervals computed in one vectorised call of
    :func:`mean_bounds` and :func:`prediction_bounds` (a point's summary describes about a
    hundred metrics, and a call costs about the same for one sample as for a hundred); each
    value is the float a call for that sample alone gives.
    """
    cleaned = {name: _clean(values) for name, values in samples.items()}
    # a Range compares as its pair, so a count's bounds are told apart by their kind
    groups: dict[tuple[Bounds, str], list[str]] = {}
    for name in cleaned:
        groups.setdefault((bounds[name], getattr(bounds[name], "kind", "")), []).append(name)
    out: dict[str, dict[str, object]] = {}
    for names in groups.values():
        group_bounds = bounds[names[0]]
        xs = [cleaned[name] for name in names]
        n = np.array([x.size for x in xs], dtype=np.float64)
        mean = np.array([float(x.mean()) if x.size else math.nan for x in xs])
        sd = np.array([float(x.std(ddof=1)) if x.size > 1 else 0.0 for x in xs])
        whole = np.array([_is_whole(x) for x in xs], dtype=bool)
        m_low, m_high, m_method = mean_bounds(n, mean, sd, group_bounds, level, whole)
        p_low, p_high, p_method = prediction_bounds(n, mean, sd, group_bounds, level, whole)
        for i, name in enumerate(names):
            out[name] = {
                "n": int(n[i]),
                "mean": float(mean[i]),
                "sd": float(sd[i]) if n[i] > 1 else (0.0 if n[i] else math.nan),
                "low": float(m_low[i]),
                "high": float(m_high[i]),
                "level": level,
                "kind": "mean",
                "method": _row(m_method, i),
                "bounds": [bounds[name][0], bounds[name][1]],
                "prediction": {
                    "low": float(p_low[i]),
                    "high": float(p_high[i]),
                    "kind": "prediction",
                    "method": _row(p_method, i),
                },
            }
    return {name: out[name] for name in samples}


def _row(method: str | np.ndarray, i: int) -> str:
    """Row ``i``'s method from what :func:`mean_bounds` or :func:`prediction_bounds` returned."""
    return method if isinstance(method, str) else str(method[i])


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
    ``method`` names each row's method (rows of a count metric may differ).
    """
    if kind not in ("mean", "prediction"):
        raise ValueError(f"kind={kind!r}; allowed: 'mean' or 'prediction'")
    bounds = bounds_of(value) if bounds is None else bounds
    g = df.groupby(keys, sort=False, dropna=False)[value]
    out = g.agg(n="count", mean="mean", sd="std").reset_index()
    # counts: whether each group's values are whole numbers (Garwood) or not (module docstring)
    whole = g.agg(lambda s: _is_whole(_clean(s))).to_numpy(dtype=bool) if is_count(bounds) else None
    compute = mean_bounds if kind == "mean" else prediction_bounds
    low, high, method = compute(out["n"], out["mean"], out["sd"], bounds, level, whole)
    out["low"], out["high"] = low, high
    out["sd"] = out["sd"].fillna(0.0)
    out["level"] = level
    out["kind"] = kind
    out["method"] = method
    return out
