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


def test_counts_stay_non_negative_and_unbounded_metrics_get_the_t_interval():
    counts = [0, 0, 0, 1, 5]
    iv = stats.mean_interval(counts, (0.0, math.inf))
    assert 0 < iv.low < iv.mean < iv.high and iv.method == "log-t"
    plain = stats.mean_interval([1.0, 2.0, 3.0])
    assert plain.method == "t" and plain.low == pytest.approx(2 - 4.303 * 1 / math.sqrt(3), abs=1e-3)


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
