"""Patterns of docs/design.md §6 that need no lever: tipping (1), trust hysteresis (4), treadmill (5).

Each runs several seeded replicates and asserts a direction and a margin, never a number
copied from a run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import config, final_values
from lever_helpers import credibly_above, interval

from sim.experiment import validate
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


def test_trust_falls_fast_and_recovers_several_times_more_slowly() -> None:
    """Pattern 4 as the harness measures it (sim.experiment.validate), on 8 seeds: after a
    6-week service failure trust takes credibly more than twice as long to recover half its
    loss as to lose it; with trust falling no faster than it rises (α⁻ = α⁺, the knock-out) the
    recovery is credibly quicker. The knock-out does not bring the ratio under 2: the rest of
    the asymmetry comes from elsewhere (docs/validation.md, pattern 4)."""
    pattern = validate.BY_NAME["trust_hysteresis"]
    runner = validate.Runner(8, validate.DEFAULT_SEED)
    full = pattern.measure(runner, ()).effects
    knocked = pattern.measure(runner, pattern.knockout).effects
    assert credibly_above(full, 2.0), interval(full)
    assert credibly_above(full - knocked, 0.5), interval(full - knocked)


TREADMILL_START = 40


def _treadmill_gains(**dynamics: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per replicate (columns), the weekly gain over the baseline of satisfaction and of
    performance when linking starts at week 40 of 160 (community preset, 8 paired seeds)."""
    levers = {"linking": {"intensity": 1.0, "start_week": TREADMILL_START}}
    improved = config("community", steps=160, replicates=8, levers=levers, dynamics=dynamics)
    baseline = config("community", steps=160, replicates=8, dynamics=dynamics)
    a, b = simulate(improved).metrics, simulate(baseline).metrics

    def gain(metric: str) -> pd.DataFrame:
        wide = [m.pivot_table(index="step", columns="replicate", values=metric) for m in (a, b)]
        return wide[0] - wide[1]

    return gain("satisfaction"), gain("performance")


def _early_late(gain: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    early = gain.loc[TREADMILL_START + 1 : TREADMILL_START + 20].mean().to_numpy()
    late = gain.loc[141:160].mean().to_numpy()
    return early, late


def test_expectation_treadmill_expectations_follow_a_sustained_improvement() -> None:
    """The mechanism of the treadmill: after linking starts at week 40, services stay better
    and expectations rise toward them; with expectations held still (knock-out) they do not."""
    levers = {"linking": {"intensity": 1.0, "start_week": TREADMILL_START}}
    for rate, rises in ((None, True), (0.0, False)):
        dynamics = {} if rate is None else {"expectation_up": rate}
        improved = config("community", steps=160, replicates=8, levers=levers, dynamics=dynamics)
        baseline = config("community", steps=160, replicates=8, dynamics=dynamics)
        a, b = simulate(improved).metrics, simulate(baseline).metrics

        def late_gain(metric: str, a: pd.DataFrame = a, b: pd.DataFrame = b) -> np.ndarray:
            wide = [m.pivot_table(index="step", columns="replicate", values=metric) for m in (a, b)]
            return (wide[0] - wide[1]).loc[141:160].mean().to_numpy()

        assert credibly_above(late_gain("performance"), 0.01), "services are still better"
        assert credibly_above(late_gain("expectation"), 0.02) == rises, interval(late_gain("expectation"))


@pytest.mark.xfail(
    strict=True,
    reason=(
        "not reproduced (docs/validation.md, pattern 5): the satisfaction gain of linking from week 40 "
        "does not fade; community preset, 8 seeds: weeks 41-60 minus weeks 141-160 is "
        "+0.001 [-0.001, +0.004]"
    ),
)
def test_expectation_treadmill_satisfaction_gain_fades() -> None:
    satisfaction, _ = _treadmill_gains()
    early, late = _early_late(satisfaction)
    assert credibly_above(early, 0.01), interval(early)
    assert credibly_above(early - late), interval(early - late)
