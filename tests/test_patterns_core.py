"""Patterns of docs/design.md §6 that need no lever: tipping (1), trust hysteresis (4), treadmill (5).

Each runs several seeded replicates and asserts a direction and a margin, never a number
copied from a run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import config, final_values, trajectories

from sim.experiment.simulate import simulate

SEEDS = [0, 1, 2]


def test_tipping_participation_jumps_as_threshold_spread_crosses_a_critical_value() -> None:
    """Granovetter (1978): thresholds ~ N(0.25, σ); participation jumps, not creeps, with σ."""
    spreads = [0.02, 0.05, 0.08, 0.11, 0.14, 0.2, 0.3]
    means = []
    for sd in spreads:
        cfg = config(
            "community",
            steps=40,
            dynamics={
                "threshold_mean": 0.25,
                "threshold_sd": sd,
                "trust_effect": 0.0,
                "resource_effect": 0.0,
            },
            levers={"embedding": {"member_activity": 0.0}},
        )
        means.append(final_values(cfg, SEEDS, "participation").mean())
    means = np.array(means)
    assert means[0] < 0.05, "narrow thresholds: nobody starts, nobody follows"
    assert means[-1] > 0.8, "wide thresholds: instigators start a cascade"
    steps = np.diff(means)
    total = means.max() - means.min()
    assert steps.max() > 0.7 * total, "most of the rise happens between two neighbouring spreads"
    critical = spreads[int(steps.argmax()) + 1]
    assert 0.05 < critical <= 0.14, "near Granovetter's critical spread"


def _half_time(series: pd.Series, start: int, target: float, falling: bool) -> int:
    """Weeks from ``start`` until the series first crosses ``target`` (horizon if never)."""
    after = series.loc[start:]
    crossed = after <= target if falling else after >= target
    return int(crossed.idxmax() - start) if crossed.any() else int(series.index.max() - start + 1)


def test_trust_falls_fast_and_recovers_several_times_more_slowly() -> None:
    shock_week = 60
    cfg = config(
        "community", steps=160, dynamics={"shock": {"week": shock_week, "duration": 6, "depth": 0.9}}
    )
    ratios = []
    for frame in trajectories(cfg, SEEDS):
        trust = frame["trust"]
        before = trust.loc[shock_week - 10 : shock_week].mean()
        trough_week = int(trust.loc[shock_week:].idxmin())
        drop = before - trust.loc[trough_week]
        assert drop > 0.1, "a service failure costs trust"
        fall = _half_time(trust, shock_week, before - drop / 2, falling=True)
        rise = _half_time(trust, trough_week, trust.loc[trough_week] + drop / 2, falling=False)
        ratios.append(rise / max(fall, 1))
    assert min(ratios) >= 2.0, f"recovery should take several times longer than the fall: {ratios}"


def test_expectation_treadmill_gains_fade_unless_performance_keeps_rising() -> None:
    """A sustained improvement from week 40 lifts satisfaction, then expectations catch up."""
    start = 40
    improved = config(
        "community", steps=160, replicates=4, levers={"linking": {"intensity": 1.0, "start_week": start}}
    )
    baseline = config("community", steps=160, replicates=4)
    a = simulate(improved).metrics.groupby("step").mean(numeric_only=True)
    b = simulate(baseline).metrics.groupby("step").mean(numeric_only=True)
    gain = a["satisfaction"] - b["satisfaction"]
    peak = gain.loc[start : start + 50].max()
    late = gain.loc[150:].mean()
    assert peak > 0.02, "the improvement is felt"
    assert late < 0.5 * peak, "the satisfaction gain fades"
    performance_gain = a["performance"] - b["performance"]
    early = performance_gain.loc[start : start + 50].mean()
    late_performance = performance_gain.loc[150:].mean()
    assert late_performance > 0.01, "services are still better"
    # what fades is the feeling, far more than the service behind it
    assert late_performance / early > late / peak + 0.2
    assert a["expectation"].loc[150:].mean() > b["expectation"].loc[150:].mean() + 0.02, "expectations rose"
