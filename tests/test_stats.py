"""sim.analysis.stats: intervals inside each metric's range, for the mean or for one community;
replicates needed; declared metric ranges that the model keeps; Sobol convergence warnings."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from hydra_plugins.design_sweeper import designs
from sim.analysis import sensitivity, stats
from sim.core.config import from_dict
from sim.core.metrics import METRICS
from sim.experiment.simulate import replication_warning, simulate


def test_proportion_near_zero_keeps_its_interval_inside_the_range():
    # the run that printed unmet need [−0.018, 0.147]: small values, one large, five replicates
    values = [0.0, 0.0, 0.01, 0.02, 0.3]
    t_low = np.mean(values) - 2.776 * np.std(values, ddof=1) / math.sqrt(5)
    assert t_low < 0  # the plain t interval leaves [0, 1]
    iv = stats.mean_interval(values, (0.0, 1.0))
    assert 0 < iv.low < iv.mean < iv.high < 1
    assert (iv.kind, iv.method, iv.level) == ("mean", "logit-t", 0.95)
    pred = stats.prediction_interval(values, (0.0, 1.0))
    assert pred.kind == "prediction" and pred.low == 0.0 and pred.mean < pred.high <= 1


def test_amounts_stay_non_negative_and_unbounded_metrics_get_the_t_interval():
    amounts = [0, 0, 0, 1, 5]  # a plain non-negative range, not a count: the log-t interval
    iv = stats.mean_interval(amounts, (0.0, math.inf))
    assert 0 < iv.low < iv.mean < iv.high and iv.method == "log-t"
    plain = stats.mean_interval([1.0, 2.0, 3.0])
    assert plain.method == "t" and plain.low == pytest.approx(2 - 4.303 * 1 / math.sqrt(3), abs=1e-3)


# ------------------------------------------------------------------------------ counts
def test_garwood_known_answers_at_three_replicates():
    """Sum 0 and sum 1 over n = 3 whole counts: the exact Poisson (chi-square) limits of the mean."""
    counts = stats.bounds_of("conflicts_open")
    assert counts.kind == "count" and stats.is_count(counts) and counts == (0.0, math.inf)
    zero = stats.mean_interval([0, 0, 0], counts)
    assert (zero.low, zero.method) == (0.0, "garwood")
    assert zero.high == pytest.approx(scipy_stats.chi2.ppf(0.975, 2) / 6, rel=1e-12)  # 1.2296
    one = stats.mean_interval([0, 0, 1], counts)  # was 0.333 [0.005, 24.6] on the log scale
    assert one.method == "garwood" and one.mean == pytest.approx(1 / 3)
    assert one.low == pytest.approx(scipy_stats.chi2.ppf(0.025, 2) / 6, rel=1e-12)  # 0.0084
    assert one.high == pytest.approx(scipy_stats.chi2.ppf(0.975, 4) / 6, rel=1e-12)  # 1.857
    pred = stats.prediction_interval([0, 0, 1], counts)
    assert pred.low == 0.0 and pred.high >= one.high and pred.method == "negative binomial ∪ t"
    # the five-replicate case whose log-t interval for the mean, [0.09, 3.82], was wider than
    # the prediction interval [0, 3.32]
    five = stats.describe([0, 0, 0, 1, 2], counts)
    assert five["method"] == "garwood" and 0 < five["low"] < five["high"] < 3.32
    assert five["prediction"]["low"] <= five["low"] and five["high"] <= five["prediction"]["high"]


def test_overdispersed_and_non_whole_counts_get_the_scaled_garwood_interval():
    counts = stats.COUNT
    x = np.array([0.0, 0.0, 0.0, 1.0, 5.0])  # variance 4.7 against a mean of 1.2: overdispersed
    n, mean, var = x.size, x.mean(), x.var(ddof=1)
    assert (n - 1) * var / mean > scipy_stats.chi2.ppf(0.95, n - 1)
    phi = var / mean * (scipy_stats.t.ppf(0.975, n - 1) / scipy_stats.norm.ppf(0.975)) ** 2
    s = x.sum() / phi
    iv = stats.mean_interval(x, counts)
    assert iv.method == "scaled garwood"
    assert iv.low == pytest.approx(phi / (2 * n) * scipy_stats.chi2.ppf(0.025, 2 * s), rel=1e-9)
    assert iv.high == pytest.approx(phi / (2 * n) * scipy_stats.chi2.ppf(0.975, 2 * s + 2), rel=1e-9)
    poisson = stats.mean_bounds(n, mean, 0.0, counts, whole=True)  # same sum, no spread
    assert poisson[2] == "garwood" and iv.high > float(poisson[1])
    # means over a window of weeks are not whole: φ is estimated, with no test and no floor
    window = stats.mean_interval([0.5, 0.75, 1.25], counts)
    assert window.method == "scaled garwood" and 0 < window.low < window.mean < window.high
    flat = stats.mean_interval([0.25, 0.25, 0.25], counts)
    assert (flat.low, flat.high) == (0.25, 0.25)
    # differences of counts are not counts
    assert not stats.is_count(stats.bounds_of("conflicts_open_gain"))


def test_count_intervals_stay_in_range_and_inside_the_prediction_interval():
    rng = np.random.default_rng(5)
    rows = []
    for group in range(600):
        n = int(rng.integers(2, 11))
        mu = float(rng.choice([0.05, 0.3, 1.0, 4.0, 30.0]))
        x = rng.negative_binomial(0.7, 0.7 / (0.7 + mu), n) if group % 2 else rng.poisson(mu, n)
        x = x / 4 if group % 5 == 0 else x  # some window means
        rows += [{"point": group, "conflicts_open": float(v)} for v in x]
    df = pd.DataFrame(rows)
    mean = stats.interval_table(df, ["point"], "conflicts_open")
    pred = stats.interval_table(df, ["point"], "conflicts_open", kind="prediction")
    assert set(mean["method"]) == {"garwood", "scaled garwood"}
    assert (mean["low"] >= 0).all() and (mean["low"] <= mean["mean"]).all()
    assert (mean["mean"] <= mean["high"]).all() and np.isfinite(mean["high"]).all()
    assert (pred["low"] <= mean["low"]).all() and (mean["high"] <= pred["high"]).all()
    assert (pred["low"] >= 0).all()
    # the table and the one-group functions agree, method included
    for point in (0, 1, 5, 7):
        values = df.loc[df["point"] == point, "conflicts_open"]
        iv = stats.mean_interval(values, stats.bounds_of("conflicts_open"))
        pv = stats.prediction_interval(values, stats.bounds_of("conflicts_open"))
        for got, want in ((mean.iloc[point], iv), (pred.iloc[point], pv)):
            assert (got["low"], got["high"]) == pytest.approx((want.low, want.high))
            assert got["method"] == want.method


def test_garwood_covers_poisson_means_at_three_replicates():
    """Coverage for the mean of 3 Poisson counts, 4,000 trials: the log-t interval covered 0.44
    at μ = 0.2 (every all-zero sample gave a zero-width interval); Garwood's is exact."""
    rng = np.random.default_rng(3)
    for mu in (0.2, 1.0, 5.0):
        x = rng.poisson(mu, (4000, 3)).astype(float)
        low, high, _ = stats.mean_bounds(3, x.mean(axis=1), x.std(axis=1, ddof=1), stats.COUNT, whole=True)
        assert ((low <= mu) & (mu <= high)).mean() >= 0.95, mu


def test_prediction_interval_is_never_narrower_than_the_interval_for_the_mean():
    # an amount with many zeros: the log-t interval for the mean reaches past the t prediction
    amount = stats.bounds_of("linked_resources")
    iv, pv = stats.mean_interval([0, 0, 1], amount), stats.prediction_interval([0, 0, 1], amount)
    assert iv.method == "log-t" and pv.high == iv.high and pv.method.endswith("∪ mean interval")
    # a skewed proportion: the logit interval's upper end (0.498) passes the t prediction's (0.46)
    values = [0.0, 0.0, 0.01, 0.02, 0.3]
    iv, pv = stats.mean_interval(values, (0.0, 1.0)), stats.prediction_interval(values, (0.0, 1.0))
    assert pv.low == 0.0 and pv.high == iv.high and pv.method == "t, truncated to range ∪ mean interval"
    iv, pv = stats.mean_interval([1.0, 2.0, 3.0]), stats.prediction_interval([1.0, 2.0, 3.0])
    assert pv.low < iv.low and iv.high < pv.high and pv.method == "t"


def test_degenerate_samples():
    assert math.isnan(stats.mean_interval([0.4], (0, 1)).low)  # one replicate: unknown, not exact
    zeros = stats.mean_interval([0.0, 0.0, 0.0], (0, 1))
    assert (zeros.low, zeros.high) == (0.0, 0.0)
    assert math.isnan(stats.mean_interval([], (0, 1)).mean)


@pytest.mark.parametrize(("p", "concentration"), [(0.03, 200), (0.05, 40), (0.5, 8), (0.95, 40), (0.95, 4.2)])
def test_logit_interval_for_the_mean_covers_at_least_as_often_as_the_t_interval(p, concentration):
    """Coverage for the mean of Beta(κp, κ(1 − p)) proportions, 10 replicates, 4,000 trials.

    Near a bound the sample mean is skewed; the logit interval follows the skew and covers at
    least as often as the symmetric t interval (which also leaves [0, 1]). In the J-shaped case
    (κ = 4.2, p = 0.95) neither reaches 95% with 10 replicates: 0.89 against the t interval's 0.81.
    """
    rng = np.random.default_rng(7)
    trials = 4000
    x = rng.beta(concentration * p, concentration * (1 - p), (trials, 10))
    n, mean, sd = np.full(trials, 10), x.mean(axis=1), x.std(axis=1, ddof=1)
    low, high, method = stats.mean_bounds(n, mean, sd, (0.0, 1.0))
    t_low, t_high, _ = stats.mean_bounds(n, mean, sd)
    assert method == "logit-t" and (low >= 0).all() and (high <= 1).all() and (low <= high).all()
    logit_hits = int(((low <= p) & (p <= high)).sum())
    t_hits = int(((t_low <= p) & (p <= t_high)).sum())
    assert logit_hits >= t_hits - 0.005 * trials
    assert logit_hits / trials >= (0.93 if concentration > 5 else 0.85)


def test_wilson_interval_of_a_count():
    iv = stats.wilson(0, 20)
    assert iv.low == 0.0 and 0.1 < iv.high < 0.2 and iv.method == "wilson"
    assert stats.wilson(20, 20).high == 1.0


def test_replicates_needed_reaches_the_half_width():
    n = stats.replicates_needed(0.05, 0.02)
    t = scipy_stats.t.ppf(0.975, [n - 2, n - 1])
    half = t * 0.05 / np.sqrt([n - 1, n])
    assert half[1] <= 0.02 < half[0]  # the smallest n that reaches the half-width
    assert n > 5 and stats.replicates_needed(0.05, 0.02) < stats.replicates_needed(0.05, 0.01)
    assert stats.replicates_needed(0.0, 0.02) == 2


def test_interval_table_spelling_and_bounds_from_metric_metadata():
    df = pd.DataFrame({"arm": ["a"] * 5 + ["b"] * 5, "unmet_need": [0, 0, 0.01, 0.02, 0.3] * 2})
    table = stats.interval_table(df, ["arm"], "unmet_need")
    assert list(table.columns) == ["arm", "n", "mean", "sd", "low", "high", "level", "kind", "method"]
    assert (table["low"] >= 0).all() and (table["kind"] == "mean").all()
    assert stats.bounds_of("unmet_need") == (0.0, 5.0)
    assert stats.bounds_of("conflicts_open") == (0.0, math.inf)
    assert stats.bounds_of("trust_gain") == (-1.0, 1.0)
    assert stats.bounds_of("no_such_metric") == stats.UNBOUNDED


def test_every_metric_stays_in_its_declared_range_and_summary_intervals_too():
    cfg = from_dict({"community": {"preset": "workshop"}, "steps": 20, "replicates": 3})
    for lever in ("embedding", "converging", "linking", "immersion", "conduction", "integration"):
        getattr(cfg.levers, lever).intensity = 1.0
    result = simulate(cfg)
    for name, metric in METRICS.items():
        values = result.metrics[name].dropna()
        lo, hi = metric.bounds
        assert ((values >= lo) & (values <= hi)).all(), (name, values.min(), values.max())
    for name, row in result.summary["final"].items():
        lo, hi = stats.bounds_of(name)
        for low, high in ((row["low"], row["high"]), (row["prediction"]["low"], row["prediction"]["high"])):
            if not math.isnan(low):
                assert lo <= low <= high <= hi, name
    rep = result.summary["replication"]
    assert rep["replicates"] == 3 and rep["needed"] >= 2 and rep["half_width"] == 0.02
    if rep["needed"] > 3:
        line = replication_warning(result.summary)
        assert line is not None and "\n" not in line and f"replicates={rep['needed']}" in line


def sobol_table(n: int, groups: bool = False) -> tuple[dict, pd.DataFrame]:
    """A design record and summary of a linear test function: y = x1 + 2 x2 + 0·x3 (+ x4 with x1's group)."""
    spec = {
        "x1": {"lo": 0.0, "hi": 1.0, **({"group": "g1"} if groups else {})},
        "x2": {"lo": 0.0, "hi": 1.0, **({"group": "g2"} if groups else {})},
        "x3": {"lo": 0.0, "hi": 1.0, **({"group": "g3"} if groups else {})},
        "x4": {"lo": 0.0, "hi": 1.0, **({"group": "g1"} if groups else {})},
    }
    params = designs.parse_params(spec)
    x = designs.draw("sobol", params, n, seed=3)
    design = {
        "method": "sobol",
        "n": n,
        "params": [p.as_dict() for p in params],
        "cells": [[]],
        "points": [
            {
                "point": i,
                "cell": 0,
                "sample": i,
                "overrides": {p.key: float(v) for p, v in zip(params, row, strict=True)},
            }
            for i, row in enumerate(x)
        ],
    }
    y = x[:, 0] + 2 * x[:, 1] + x[:, 3]
    return design, pd.DataFrame({"point": np.arange(len(y)), "y_mean": y})


def test_small_sobol_design_warns_with_the_n_it_recommends_and_a_large_one_does_not():
    design, summary = sobol_table(16)
    checks = sensitivity.convergence(sensitivity.sobol_indices(design, summary, num_resamples=200))
    message = sensitivity.convergence_message(checks)
    assert message is not None and "N=16 is too small" in message
    assert checks["recommended_n"].max() > 16
    design, summary = sobol_table(4096)
    table = sensitivity.sobol_indices(design, summary, num_resamples=200)
    assert sensitivity.convergence(table).empty
    assert table.set_index("input").loc["x3", "ST"] == pytest.approx(0.0, abs=0.02)


def test_grouped_sobol_reports_groups_and_pawn_sees_the_inert_input():
    design, summary = sobol_table(1024, groups=True)
    assert len(design["points"]) == 1024 * (3 + 2)  # N·(G + 2) rows for G = 3 groups
    table = sensitivity.sobol_indices(design, summary, num_resamples=200).set_index("input")
    assert list(table.index) == ["g1", "g2", "g3"]
    # Var(y) = (1 + 4 + 1)/12: g1 (x1, x4) explains 2/6, g2 4/6, g3 nothing
    assert table.loc["g1", "ST"] == pytest.approx(1 / 3, abs=0.05)
    assert table.loc["g2", "ST"] == pytest.approx(2 / 3, abs=0.05)
    pawn = sensitivity.pawn_indices(design, summary).set_index("input")
    assert pawn.loc["x2", "pawn"] > 3 * pawn.loc["x3", "noise_floor"]
    assert pawn.loc["x3", "pawn"] < 2 * pawn.loc["x3", "noise_floor"] + 0.05


def test_recommended_n_is_a_capped_power_of_two_and_the_message_says_so():
    # the review's case: one ST interval 6,197 wide at N = 2 asked for N = 8,589,934,592
    indices = pd.DataFrame(
        {
            "group": "",
            "output": "trust",
            "input": ["a", "b"],
            "S1": [0.1, 0.2],
            "S1_low": [-3000.0, 0.1],
            "S1_high": [3000.0, 0.3],
            "ST": [0.5, 0.2],
            "ST_low": [-3098.0, 0.15],
            "ST_high": [3099.0, 0.25],
            "n": 2,
        }
    )
    checks = sensitivity.convergence(indices)
    assert checks["capped"].all() and set(checks["recommended_n"]) == {64}
    message = sensitivity.convergence_message(checks)
    assert message is not None and "8589934592" not in message
    assert "at least hydra.sweeper.n=64" in message and "step by step" in message
    # within the cap the 1/√N rule is followed and the message names N plainly
    assert sensitivity.recommended_n(64, 0.2) == 256 and not sensitivity.is_capped(64, 0.2)
    ok = sensitivity.convergence(indices.assign(ST_low=[0.4, 0.15], ST_high=[0.6, 0.25], S1_low=0.0, n=64))
    assert list(ok["recommended_n"]) == [256] and not ok["capped"].any()
    assert sensitivity.convergence_message(ok).endswith("rerun with hydra.sweeper.n=256")
    for n in (1, 2, 16, 64, 1024, 8192):
        for widest in (0.11, 0.5, 3.0, 6197.0):
            rec = sensitivity.recommended_n(n, widest)
            assert rec & (rec - 1) == 0 and n < rec <= max(16 * n, 64), (n, widest, rec)
            assert sensitivity.is_capped(n, widest) == (n * (widest / 0.1) ** 2 > rec)


def test_describe_many_is_describe_of_each_sample_to_the_bit() -> None:
    """Samples that share bounds are described in one vectorised call; each description is the
    one its sample gets alone. A count's bounds compare equal to the plain pair (0, ∞) and must
    still get the count methods."""
    rng = np.random.default_rng(4)
    samples = {
        "share": rng.beta(2, 5, 7),
        "share_flat": np.full(4, 0.25),
        "share_one": np.array([0.4]),
        "share_empty": np.array([math.nan, math.nan]),
        "count": rng.poisson(3.0, 9).astype(float),
        "count_zero": np.zeros(5),
        "count_spread": rng.negative_binomial(2, 0.1, 6).astype(float),
        "amount": rng.gamma(2.0, 3.0, 8),  # (0, ∞) but not a count
        "gain": rng.normal(0.0, 0.1, 12),
        "gain_bounded": rng.uniform(-0.5, 0.5, 5),
        "with_nan": np.array([0.2, math.nan, 0.3, 0.5]),
    }
    bounds = {
        "share": (0.0, 1.0),
        "share_flat": (0.0, 1.0),
        "share_one": (0.0, 1.0),
        "share_empty": (0.0, 1.0),
        "count": stats.COUNT,
        "count_zero": stats.COUNT,
        "count_spread": stats.COUNT,
        "amount": (0.0, math.inf),
        "gain": stats.UNBOUNDED,
        "gain_bounded": (-1.0, 1.0),
        "with_nan": (0.0, 1.0),
    }
    together = stats.describe_many(samples, bounds)
    assert list(together) == list(samples)

    def same(a: object, b: object) -> bool:
        return a == b or (a != a and b != b)  # equal, or both NaN

    for name, values in samples.items():
        mean_iv = stats.mean_interval(values, bounds[name])
        pred = stats.prediction_interval(values, bounds[name])
        got = together[name]
        assert got["n"] == np.isfinite(values).sum() and got["method"] == mean_iv.method, name
        assert all(same(got[k], getattr(mean_iv, k)) for k in ("mean", "low", "high")), name
        assert got["prediction"]["method"] == pred.method, name
        assert same(got["prediction"]["low"], pred.low) and same(got["prediction"]["high"], pred.high), name
    assert together["count"]["method"].endswith("garwood") and together["amount"]["method"] == "log-t"
