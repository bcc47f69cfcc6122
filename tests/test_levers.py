"""The six levers one by one: intensity 0 is the baseline, more intensity moves the lever's own
intermediate metric, and the weekly budget scales every lever in proportion.

Every comparison is paired by seed (common random numbers) over several replicates and asserts
a direction with a margin.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from lever_helpers import all_levers, effect, frames, make_config, outcome, with_levers

from sim.core.config import ConfigError, from_dict
from sim.core.levers import LEVERS, conduction, embedding
from sim.core.model import CommunityModel
from sim.core.params import describe
from sim.experiment.simulate import replicate_seeds, simulate

REPLICATES = 4

# Parameters that say what a lever does when it acts. At intensity 0 none may matter, so a
# run with all of them changed must be the baseline, bit for bit. (Parameters that describe
# the status quo, such as embedding's base coverage or members' activity, are left alone.)
POLICY_PARAMETERS: dict[str, dict[str, object]] = {
    "embedding": {"targeting": 1.0, "prospect_judgement": 0.2},
    "converging": {"pooled_recognition": 3.0, "coordination_cut": 1.0, "vertical_sinking": 2.0},
    "linking": {
        "max_resources": 50.0,
        "half_saturation": 1.0,
        "max_capacity": 0.2,
        "venue_capacity": 0.2,
        "team_capacity": 0.2,
    },
    "immersion": {"consultation": 1.0, "education": 0.1, "mobilisation": 3.0},
    "conduction": {
        "standardisation": 1.0,
        "special_funds": 0.1,
        "burden_cut": 0.5,
        "rebound": 0.3,
        "social_worker_posts": 2.0,
        "retention_max": 0.99,
    },
    "integration": {
        "cross_appointment_max": 1.0,
        "mediation_gain": 0.9,
        "joint_mediation": 0.9,
        "precision": 1.0,
        "gap_cover": 0.5,
    },
}
WINDOW_AND_COST = {"cost_per_unit": 7.0, "start_week": 3, "duration_weeks": 10}


def _base(steps: int = 52, **extra):
    return make_config(steps=steps, **extra)


@pytest.mark.parametrize("lever", LEVERS)
def test_intensity_zero_is_the_baseline_bit_for_bit(lever: str) -> None:
    base = _base()
    changed = with_levers(base, **{lever: {"intensity": 0.0, **POLICY_PARAMETERS[lever], **WINDOW_AND_COST}})
    for ours, theirs in zip(frames(changed, 2), frames(base, 2), strict=True):
        pd.testing.assert_frame_equal(ours, theirs, check_exact=True)


def test_every_lever_parameter_is_documented_with_a_range() -> None:
    from sim.core.config import LeversConfig

    for lever in LEVERS:
        config_type = type(getattr(LeversConfig(), lever))
        for row in describe(config_type):
            assert row["doc"], f"levers.{lever}.{row['name']} has no meaning"
            assert row["lo"] is not None and row["hi"] is not None, f"levers.{lever}.{row['name']} range"
            default = row["default"]
            values = default if isinstance(default, list) else [default]
            assert all(row["lo"] <= v <= row["hi"] for v in values), f"levers.{lever}.{row['name']}"


def _rising(cfg_of, metric: str, margin: float, replicates: int = REPLICATES, window: int = 13) -> None:
    """``metric`` rises from intensity 0 to ½ to 1, by ``margin`` overall, in every replicate."""
    low, mid, high = (outcome(cfg_of(k), metric, replicates, window) for k in (0.0, 0.5, 1.0))
    assert (high - low > margin).all(), f"{metric}: {low} → {high}, margin {margin}"
    assert mid.mean() > low.mean() and high.mean() > mid.mean(), f"{metric}: not monotone {low, mid, high}"


def test_embedding_raises_coverage_and_asks() -> None:
    base = _base()

    def cfg(k: float):
        return with_levers(base, embedding={"intensity": k})

    _rising(cfg, "coverage_point", 0.5)
    _rising(cfg, "asks", 0.02)
    _rising(cfg, "participation", 0.03)


def test_converging_raises_contributions_and_joint_capacity() -> None:
    base = _base()

    def cfg(k: float):
        return with_levers(base, converging={"intensity": k})

    _rising(cfg, "contribution_rate", 0.05)
    low = outcome(cfg(0.0), "joint_capacity", REPLICATES)
    high = outcome(cfg(1.0), "joint_capacity", REPLICATES)
    assert (high > 1.5 * low).all(), (low, high)


def test_linking_raises_linked_resources_and_capacity() -> None:
    base = _base()

    def cfg(k: float):
        return with_levers(base, linking={"intensity": k})

    _rising(cfg, "linked_resources", 0.5)
    _rising(cfg, "linked_capacity", 0.004)


def test_immersion_raises_need_information_and_civic_resources() -> None:
    base = _base()

    def cfg(k: float):
        return with_levers(base, immersion={"intensity": k})

    _rising(cfg, "need_information", 0.1)
    _rising(cfg, "civic_resources", 0.1)
    _rising(cfg, "participation", 0.05)


def test_conduction_standardisation_raises_delivered_share_and_capacity() -> None:
    base = _base()

    def standardised(k: float):
        only = {"special_funds": 0.0, "burden_cut": 0.0, "social_worker_posts": 0.0}
        return with_levers(base, conduction={"intensity": k, **only})

    _rising(standardised, "funds_delivered_share", 0.1)
    # more of the same funds arrive: the government channel serves more
    _rising(standardised, "served_government", 0.0005)

    def full(k: float):
        return with_levers(base, conduction={"intensity": k})

    _rising(full, "effective_capacity", 0.1)


def test_integration_lowers_conflicts_and_raises_cross_appointment() -> None:
    # a conflict-prone estate: every compound managed, companies below expectations
    prone = make_config(
        community={
            **dict(n_compounds=4, buildings_per_compound=3, households_per_building=30, preset="small"),
            "property_managed_share": 1.0,
            "company_quality": 0.35,
            "initial_expectation": 0.75,
            "compounds_per_company": 1,
        },
        dynamics={"expectation_floor": 0.6},
        steps=78,
    )

    def cfg(k: float):
        return with_levers(prone, integration={"intensity": k})

    _rising(cfg, "cross_appointment", 0.5)
    started_base = np.array([f["conflicts_started"].sum() for f in frames(cfg(0.0), REPLICATES)])
    started_full = np.array([f["conflicts_started"].sum() for f in frames(cfg(1.0), REPLICATES)])
    assert started_base.mean() >= 2.0, f"the estate should be conflict-prone: {started_base}"
    assert (started_full < started_base).all() and started_full.mean() < 0.5 * started_base.mean()
    open_effect = effect(cfg(1.0), cfg(0.0), "conflicts_open", REPLICATES, window=39)
    assert open_effect.mean() < -0.2, open_effect


def test_embedding_asks_follow_the_reach_formula() -> None:
    cfg = _base(steps=1)
    model = CommunityModel(cfg, rng=replicate_seeds(cfg.seed, 1)[0])
    model.step()
    c = model.community
    members = np.bincount(c.building, weights=model.households.activity, minlength=c.n_buildings)
    share = np.minimum(1.0, cfg.levers.embedding.contacts / c.building_size)
    expected = np.where(model.buildings.covered, 1.0 - (1.0 - share) ** members, 0.0)
    np.testing.assert_allclose(embedding.reach(model), expected, rtol=1e-12)


# ----------------------------------------------------------------------------- budget
def test_budget_scales_every_lever_in_proportion() -> None:
    levers = all_levers(0.5)
    unbounded = make_config(levers=levers, steps=20)
    asked = sum(0.5 * getattr(unbounded.levers, n).cost_per_unit for n in LEVERS)
    frame = frames(unbounded, 1)[0]
    np.testing.assert_allclose(frame["cost"], asked, rtol=1e-12)
    assert (frame["budget_bound"] == 0).all()

    budget = asked / 3.0
    bound = make_config(levers=levers, steps=20, budget=budget)
    frame = frames(bound, 1)[0]
    np.testing.assert_allclose(frame["cost"], budget, rtol=1e-12)
    assert (frame["budget_bound"] == 1).all()
    for name in LEVERS:
        np.testing.assert_allclose(frame[f"intensity_{name}"], 0.5 / 3.0, rtol=1e-12)


def test_doubling_intensities_under_a_binding_budget_does_not_raise_cost() -> None:
    budget = 3.0
    half = make_config(levers=all_levers(0.5), steps=30, budget=budget)
    full = make_config(levers=all_levers(1.0), steps=30, budget=budget)
    for h, f in zip(frames(half, 2), frames(full, 2), strict=True):
        assert f["cost"].sum() <= h["cost"].sum() + 1e-9
        assert (f["cost"] <= budget + 1e-12).all()


def test_cost_counts_only_weeks_a_lever_acts() -> None:
    cfg = make_config(levers={"linking": {"intensity": 1.0, "start_week": 5, "duration_weeks": 10}}, steps=30)
    frame = frames(cfg, 1)[0]
    acting = (frame["step"] > 5) & (frame["step"] <= 15)
    np.testing.assert_allclose(frame.loc[acting, "cost"], cfg.levers.linking.cost_per_unit)
    assert (frame.loc[~acting, "cost"] == 0).all()
    assert (frame.loc[~acting, "linked_resources"] == 0).all()


def test_cost_effectiveness_is_satisfaction_gain_per_unit_cost() -> None:
    cfg = make_config(levers=all_levers(0.5), steps=20, replicates=2, budget=4.0)
    result = simulate(cfg)
    m = result.metrics
    base = simulate(make_config(steps=20, replicates=2)).metrics
    np.testing.assert_allclose(m["satisfaction_gain"], m["satisfaction"] - base["satisfaction"], atol=0)
    np.testing.assert_allclose(m["cost_effectiveness"], m["satisfaction_gain"] / m["cost"], rtol=1e-12)
    assert result.summary["budget_bound_steps"] == pytest.approx(20.0)
    assert result.summary["total_cost"] == pytest.approx(20 * 4.0)


# -------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("levers", "key"),
    [
        ({"embedding": {"intensity": 1.5}}, "levers.embedding.intensity"),
        ({"conduction": {"retention": [0.99, 0.8, 0.8]}}, "levers.conduction.retention[0]"),
        ({"integration": {"cross_appointment_base": 0.9, "cross_appointment_max": 0.5}}, "cross_appointment"),
        ({"linking": {"half_saturation": 0.0}}, "levers.linking.half_saturation"),
    ],
)
def test_bad_lever_values_give_one_line_naming_the_key(levers: dict, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        from_dict({"levers": levers})
    message = str(err.value)
    assert key in message and "allowed" in message and "\n" not in message


def test_retention_is_what_standardisation_promises() -> None:
    cfg = from_dict({"levers": {"conduction": {"retention": [0.6, 0.7, 0.8], "retention_max": 0.9}}})
    tau = conduction.retention(cfg.levers.conduction, 0.5)
    np.testing.assert_allclose(tau, [0.6 + 0.5 * 0.6 * 0.3, 0.7 + 0.5 * 0.6 * 0.2, 0.8 + 0.5 * 0.6 * 0.1])
    assert math.isclose(float(np.prod(conduction.retention(cfg.levers.conduction, 0.0))), 0.6 * 0.7 * 0.8)


def test_same_seed_same_run_with_every_lever_and_targeting() -> None:
    cfg = make_config(levers=all_levers(0.7, embedding={"targeting": 1.0}), steps=30, budget=6.0)
    seed = replicate_seeds(cfg.seed, 1)[0]
    runs = []
    for _ in range(2):
        model = CommunityModel(cfg, rng=seed)
        model.run()
        runs.append(model.recorder.frame())
    pd.testing.assert_frame_equal(runs[0], runs[1], check_exact=True)
