"""Conflicts from the situation, companies and Party members who act (docs/ODD.md §3.4–3.5).

Each new rate has a direction test: raising it moves its outcome the way the ODD says, and 0
switches the mechanism off.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from conftest import config, merge

from sim.core import dynamics, members
from sim.core.model import CommunityModel
from sim.experiment.compose import compose_config

SEEDS = [1, 2, 3]


def runs(preset: str = "community", seeds=SEEDS, **overrides):
    """Metric frames of one run per seed."""
    cfg = config(preset, **merge({"steps": 52, "record_buildings": False}, overrides))
    out = []
    for seed in seeds:
        model = CommunityModel(cfg, rng=seed)
        model.run()
        out.append(model.recorder.frame())
    return out


def total(frames, metric: str) -> float:
    return float(np.mean([f[metric].sum() for f in frames]))


def last(frames, metric: str, weeks: int = 13) -> float:
    return float(np.mean([f[metric].iloc[-weeks:].mean() for f in frames]))


def conflict_estate(**overrides) -> CommunityModel:
    cfg = compose_config(["scenario=owner_company_conflict", "community=workshop", "steps=52"])
    for path, value in overrides.items():
        node = cfg
        *parents, leaf = path.split(".")
        for p in parents:
            node = getattr(node, p)
        setattr(node, leaf, value)
    return CommunityModel(cfg, rng=4)


# ------------------------------------------------------------------------------ conflicts
@pytest.mark.parametrize("rate", ["conflict_repairs", "conflict_arrears"])
def test_unrepaired_need_and_arrears_raise_the_conflict_hazard(rate: str) -> None:
    # companies that repair little, so that there is unrepaired need and arrears to respond to
    weak = {"market_capacity": 0.01, "fee_base": 0.5}
    off = runs(dynamics=weak | {rate: 0.0})
    on = runs(dynamics=weak | {rate: 15.0})
    assert total(on, "conflicts_started") > total(off, "conflicts_started")


def test_every_resolution_channel_shortens_conflicts() -> None:
    base = {"mediation_rate": 0.0, "resolution_owners_committee": 0.0, "resolution_legal": 0.0}
    base |= {"resolution_street": 0.0, "conflict_intercept": -2.0}
    closed = runs(dynamics=base)
    for channel in ("mediation_rate", "resolution_owners_committee", "resolution_legal", "resolution_street"):
        opened = runs(dynamics=base | {channel: 0.5, "street_after_weeks": 1})
        assert total(opened, "conflicts_open") < total(closed, "conflicts_open"), channel


def _in_conflict(model: CommunityModel, quality: float) -> np.ndarray:
    model.compounds.open_conflicts[:] = 1
    model.companies.quality[:] = quality
    model.companies.standard[:] = quality
    model.households.needs[:] = 0.0
    model.households.expectation[:] = 0.5
    before = model.households.needs[:, dynamics.DISPUTE].copy()
    dynamics.property_and_conflicts(model, chi=0.0, mediation=0.0)
    return model.households.needs[:, dynamics.DISPUTE] - before


def test_a_dispute_feeds_need_only_while_its_grievance_lasts() -> None:
    cfg = config("workshop", community={"property_managed_share": 1.0}, dynamics={"mediation_rate": 0.0})
    cfg.dynamics.resolution_legal = cfg.dynamics.resolution_owners_committee = 0.0
    added_with_gap = _in_conflict(CommunityModel(cfg, rng=0), quality=0.2)
    assert added_with_gap.min() > 0  # service 0.2 against expectations 0.5: a grievance
    added_without = _in_conflict(CommunityModel(cfg, rng=0), quality=0.9)
    assert np.all(added_without == 0)  # service above expectations, nothing unrepaired


def test_conflict_costs_a_share_of_trust_not_all_of_it() -> None:
    model = conflict_estate(**{"dynamics.conflict_trust_shock": 0.5, "dynamics.mediation_rate": 0.0})
    model.cfg.dynamics.resolution_owners_committee = model.cfg.dynamics.resolution_legal = 0.0
    model.cfg.dynamics.resolution_street = 0.0
    model.run()
    assert model.compounds.open_conflicts.sum() > 0
    assert model.households.trust.mean() > 0.0  # a share of trust per week: never extinct


# ------------------------------------------------------------------------------ companies
def test_owners_committees_replace_a_company_after_sustained_dissatisfaction() -> None:
    never = conflict_estate(**{"dynamics.replacement_rate": 0.0})
    never.run()
    assert never.companies.replacements.sum() == 0
    ready = {"dynamics.replacement_threshold": 1.0, "dynamics.replacement_patience": 2}
    model = conflict_estate(**ready, **{"dynamics.replacement_rate": 1.0})
    model.run(3)
    assert model.companies.replacements.sum() > 0
    assert model.recorder.frame()["company_replacements"].iloc[-1] == model.companies.replacements.sum()
    # the newcomer brings the type's standard and the old company's conflicts end
    np.testing.assert_allclose(model.companies.standard, model.cfg.community.company_quality)


def test_without_a_committee_there_is_no_exit() -> None:
    ready = {"dynamics.replacement_threshold": 1.0, "dynamics.replacement_patience": 1}
    model = conflict_estate(
        **ready, **{"dynamics.replacement_rate": 1.0, "community.owners_committee_share": 0.0}
    )
    model.run(10)
    assert model.companies.replacements.sum() == 0


@pytest.mark.parametrize(
    ("rate", "value"),
    [("quality_response", 0.5), ("replacement_risk_response", 0.2), ("red_property_weight", 1.0)],
)
def test_companies_raise_quality_under_pressure(rate: str, value: float) -> None:
    extra = {"levers": {"embedding": {"line_base": 1.0}}}  # every company has a branch (红色物业)
    scenario = {
        "community": {"company_quality": 0.3, "owners_committee_share": 1.0, "initial_expectation": 0.8}
    }
    scenario["dynamics"] = {"replacement_threshold": 0.9, "replacement_rate": 0.0}
    off = runs(**merge(merge(scenario, extra), {"dynamics": {rate: 0.0}}))
    on = runs(**merge(merge(scenario, extra), {"dynamics": {rate: value}}))
    assert last(on, "company_quality") > last(off, "company_quality") + 0.01


def test_the_street_keeps_service_above_its_floor() -> None:
    model = conflict_estate(**{"dynamics.service_floor": 0.3, "community.company_quality": 0.05})
    model.run()
    assert model.recorder.frame()["company_quality"].min() >= 0.3


def test_fee_collection_follows_satisfaction_and_payment_habits() -> None:
    cfg = config("workshop", community={"property_managed_share": 1.0})
    model = CommunityModel(cfg, rng=0)
    fees = []
    for satisfaction in (0.3, 0.8):
        m = copy.deepcopy(model)
        m.households.satisfaction[:] = satisfaction
        dynamics.property_and_conflicts(m, chi=0.0, mediation=0.0)
        fees.append(m.companies.fee_collection.mean())
    assert fees[1] > fees[0]
    cfg.community.fee_payment_shift = -0.2
    m = CommunityModel(cfg, rng=0)
    m.households.satisfaction[:] = 0.3
    dynamics.property_and_conflicts(m, chi=0.0, mediation=0.0)
    assert m.companies.fee_collection.mean() == pytest.approx(fees[0] - 0.2)


# ------------------------------------------------------------------------------ Party members
OFF = {"recognition_rate": 0.0, "burnout_rate": 0.0, "reversion_rate": 0.0}


def test_members_with_every_rate_off_keep_their_starting_activity() -> None:
    model = CommunityModel(config("workshop", steps=20, members=OFF), rng=0)
    start = model.households.activity.copy()
    model.run()
    np.testing.assert_array_equal(model.households.activity, start)


def test_recognition_raises_activity_and_burden_burns_members_out() -> None:
    base = runs("workshop", members={"recognition_rate": 0.0})
    recognised = runs("workshop", members={"recognition_rate": 1.0})
    assert last(recognised, "member_activity") > last(base, "member_activity") + 0.02
    rested = runs("workshop", members={"burnout_rate": 0.0})
    burnt = runs("workshop", members={"burnout_rate": 0.3})
    assert last(burnt, "member_activity") < last(rested, "member_activity") - 0.02
    assert last(burnt, "members_active") <= last(rested, "members_active")


def test_leaders_are_appointed_where_a_branch_covers_the_building() -> None:
    no_leaders = {"building_leader_share": 0.0}
    cfg = config("workshop", steps=3, community=no_leaders, levers={"embedding": {"intensity": 1.0}})
    model = CommunityModel(cfg, rng=0)
    assert not model.households.is_leader.any()
    model.run()
    c = model.community
    with_members = np.bincount(c.building, weights=c.is_member, minlength=c.n_buildings) > 0
    with_leader = np.bincount(c.building, weights=model.households.is_leader, minlength=c.n_buildings) > 0
    assert (with_leader >= with_members).all()
    assert not (model.households.is_leader & ~c.is_member).any()
    uncovered = CommunityModel(config("workshop", steps=3, community=no_leaders), rng=0)
    uncovered.run()
    assert uncovered.households.is_leader.sum() < model.households.is_leader.sum()


def test_role_models_lower_thresholds_and_raise_trust() -> None:
    silent = runs("workshop", members={"threshold_effect": 0.0, "trust_effect": 0.0})
    seen = runs("workshop", members={"threshold_effect": 0.5, "trust_effect": 0.05})
    assert last(seen, "participation") > last(silent, "participation")
    assert last(seen, "trust") > last(silent, "trust")


def test_conduct_is_seen_most_within_the_building() -> None:
    cfg = config("workshop", members={"beyond_building": 0.2})
    model = CommunityModel(cfg, rng=0)
    hh, c = model.households, model.community
    hh.activity[:] = 0.0
    member = np.flatnonzero(c.is_member)[0]
    hh.activity[member] = 1.0
    model.member_activity_start[:] = hh.activity
    members.act(model)
    same = (c.building == c.building[member]) & (np.arange(c.n_households) != member)
    assert hh.role_model[same].mean() > 5 * hh.role_model[~same].mean()


def test_members_and_companies_have_state_that_changes_in_the_metrics() -> None:
    (frame,) = runs("community", seeds=[1])
    for metric in (
        "member_activity",
        "members_active",
        "role_model_reach",
        "company_quality",
        "fee_collection",
    ):
        assert frame[metric].std() > 0, metric
    assert frame["leaders"].between(0, 1).all()
