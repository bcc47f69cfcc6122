"""Patterns of docs/design.md §6 that the levers must reproduce, each its own test.

2 diminishing returns of linked resources, larger where need information is high;
3 attenuation down the hierarchy, "raise τ beats adding money at the top" when τ is low,
  growing tasks crowding out services; 6 stratification under targeted recruitment;
7 coverage necessary but not sufficient; 8 complementarity of levers; 9 burden rebound.

Each test runs several seeded replicates (paired by seed across the arms) and asserts a
direction with a margin. Where a pattern needs a setting, it is named in the test: a
"stretched" community is one whose service channels have half their default capacity, so that
supply falls short of need (the default community is well supplied, and more supply then
meets little unmet need whatever its targeting).
"""

from __future__ import annotations

import numpy as np
from lever_helpers import (
    credibly_above,
    credibly_below,
    effect,
    frames,
    interval,
    make_config,
    outcome,
    with_levers,
)

from sim.core.levers import conduction

REPLICATES = 6
#: where a paired effect is small beside the seed-to-seed spread, more seeds decide it
PAIRED_REPLICATES = 20
# Half of every channel's default capacity (see sim.core.config.DynamicsConfig and conduction).
STRETCHED = {
    "government_capacity": 0.05,
    "social_capacity": 0.015,
    "volunteer_capacity": 0.075,
    "market_capacity": 0.03,
}
STRETCHED_FUNDS = {"city_funds": 0.03}


def stretched(need_information: float | None = None, **levers):
    dyn = dict(STRETCHED)
    if need_information is not None:
        dyn["base_need_information"] = need_information
    lever_cfg = {"conduction": dict(STRETCHED_FUNDS)}
    for name, values in levers.items():
        lever_cfg.setdefault(name, {}).update(values)
    return make_config(levers=lever_cfg, dynamics=dyn)


# ---------------------------------------------------------------------------- pattern 2
INTENSITIES = (0.2, 0.5, 1.0)


def test_pattern2_linked_resources_have_diminishing_returns_larger_where_information_is_high() -> None:
    # venue and team caps lifted so that the curve itself, Q_max(1 − exp(−L/L_half)), is tested
    uncapped = {"max_resources": 30.0, "venue_capacity": 1.0, "team_capacity": 1.0}
    per_unit = {}
    gains = {}
    for a in (0.1, 0.7):
        base = stretched(need_information=a)
        rows = []
        for k in INTENSITIES:
            cfg = with_levers(base, linking={"intensity": k, **uncapped})
            linked = outcome(cfg, "linked_resources", REPLICATES)
            gain = effect(cfg, base, "satisfaction", REPLICATES, window=52)
            rows.append(gain / linked)
            gains[a, k] = gain
        per_unit[a] = np.array(rows)  # (intensity, replicate)
    for a, rows in per_unit.items():
        # each step up in funding buys no more satisfaction per unit (on average over the
        # replicates, within 5%), and the most funding buys clearly less than the least
        means = rows.mean(axis=1)
        assert (means[1:] <= 1.05 * means[:-1]).all(), f"A={a}: gain per unit {means}"
        assert means[-1] < 0.8 * means[0], f"A={a}: gain per unit {means}"
        assert (rows[-1] < rows[0]).mean() >= 2 / 3, f"A={a}: {rows}"
    for k in INTENSITIES:
        diff = gains[0.7, k] - gains[0.1, k]
        assert diff.mean() > 0.01 and (diff > 0).mean() >= 2 / 3, f"k={k}: high-A minus low-A gain {diff}"


# ---------------------------------------------------------------------------- pattern 3
def test_pattern3_delivered_share_is_the_product_of_retentions() -> None:
    rng = np.random.default_rng(3)
    for _ in range(5):
        tau = sorted(rng.uniform(0.6, 0.95, size=3).round(3).tolist())
        k = round(float(rng.uniform(0, 1)), 2)
        cfg = make_config(levers={"conduction": {"retention": tau, "intensity": k}}, steps=3)
        frame = frames(cfg, 1)[0]
        expected = float(np.prod(conduction.retention(cfg.levers.conduction, k)))
        np.testing.assert_allclose(frame["funds_delivered_share"], expected, rtol=1e-12)
    # attenuation: one leakier hand-off lowers what arrives in proportion
    full = make_config(levers={"conduction": {"retention": [0.9, 0.9, 0.9]}}, steps=3)
    leaky = make_config(levers={"conduction": {"retention": [0.9, 0.6, 0.9]}}, steps=3)
    ratio = frames(leaky, 1)[0]["funds_delivered_share"] / frames(full, 1)[0]["funds_delivered_share"]
    np.testing.assert_allclose(ratio, 0.6 / 0.9, rtol=1e-12)


def test_pattern3_raising_retention_beats_money_at_the_top_when_retention_is_low() -> None:
    only_standardise = {"special_funds": 0.0, "burden_cut": 0.0, "social_worker_posts": 0.0}
    only_money = {"standardisation": 0.0, "burden_cut": 0.0, "social_worker_posts": 0.0}
    advantage = {}
    for tau in (0.6, 0.9):
        base = stretched(conduction={"retention": [tau] * 3})
        # the same lever at the same intensity costs the same, whichever sub-mechanism it buys
        std = with_levers(base, conduction={"intensity": 1.0, **only_standardise})
        money = with_levers(base, conduction={"intensity": 1.0, **only_money})
        advantage[tau] = {
            m: effect(std, money, m, PAIRED_REPLICATES) for m in ("served_government", "satisfaction")
        }
    low, high = advantage[0.6], advantage[0.9]
    # what reaches residents: standardising leaky hand-offs delivers more than money at the top
    assert credibly_above(low["served_government"], 0.001), interval(low["served_government"])
    # near τ_max there is little left to retain: money at the top wins instead
    assert credibly_below(high["served_government"]), interval(high["served_government"])
    assert credibly_below(high["satisfaction"]), interval(high["satisfaction"])
    # satisfaction follows the crossover: credibly worse with standardisation at high τ, not
    # credibly worse at low τ (20 seeds: +0.036 [0.000, 0.071]; a third of the seeds are
    # negative, so "better at low τ" is not claimed; docs/validation.md pattern 3)
    assert interval(low["satisfaction"]).high > 0, interval(low["satisfaction"])
    assert interval(low["satisfaction"]).mean > interval(high["satisfaction"]).mean + 0.02


def test_pattern3_growing_tasks_crowd_out_services() -> None:
    light = make_config(levers={"conduction": {"task_growth": [0.0, 0.0, 0.0]}})
    heavy = make_config(levers={"conduction": {"task_growth": [0.25, 0.25, 0.25]}})
    assert credibly_below(effect(heavy, light, "effective_capacity", REPLICATES), -0.2)
    assert credibly_below(effect(heavy, light, "served_government", REPLICATES), -0.002)
    # direction only for unmet need (20 seeds: +0.008 [0.007, 0.009]); the size of the harm
    # is judged on satisfaction, with the harness's one percentage point
    unmet = effect(heavy, light, "unmet_need", REPLICATES)
    assert credibly_above(unmet), interval(unmet)
    lost = effect(heavy, light, "satisfaction", REPLICATES)
    assert credibly_below(lost, -0.01), interval(lost)


# ---------------------------------------------------------------------------- pattern 6
def test_pattern6_targeted_recruitment_raises_participation_and_widens_the_gap() -> None:
    base = make_config(levers={"embedding": {"intensity": 1.0}})
    targeted = with_levers(base, embedding={"targeting": 1.0})
    replicates = 8
    participation = effect(targeted, base, "participation", replicates, window=26)
    gap = effect(targeted, base, "participation_gap", replicates, window=26)
    assert participation.mean() > 0.02 and (participation > 0).mean() >= 0.75, participation
    assert gap.mean() > 0.01 and (gap > 0).mean() >= 0.75, gap


# ---------------------------------------------------------------------------- pattern 7
def test_pattern7_coverage_is_necessary_not_sufficient() -> None:
    effects = {}
    for activity in (0.0, 0.3):
        base = make_config(levers={"embedding": {"member_activity": activity}})
        covered = with_levers(base, embedding={"intensity": 1.0})
        assert (outcome(covered, "coverage_point", REPLICATES) == 1.0).all()
        effects[activity] = {
            m: effect(covered, base, m, REPLICATES) for m in ("asks", "participation", "satisfaction")
        }
    passive, active = effects[0.0], effects[0.3]
    # full coverage with passive members: nobody is asked, participation does not move
    assert (passive["asks"] == 0).all()
    assert np.abs(passive["participation"]).max() < 0.01, passive
    # the same coverage with active members moves participation
    assert (active["asks"] > 0.02).all()
    assert active["participation"].mean() > 0.05 and (active["participation"] > 0.02).all(), active
    # and coverage without activity is not needed for that: activity without new coverage
    # (the status quo branches) asks, but fewer households than with coverage
    assert (active["asks"] > passive["asks"] + 0.02).all()


# ---------------------------------------------------------------------------- pattern 8
def _interaction(base, a: str, b: str, metric: str, k: float, replicates: int = REPLICATES) -> np.ndarray:
    """Joint effect minus the sum of the separate effects, per replicate."""
    only_a = with_levers(base, **{a: {"intensity": k}})
    only_b = with_levers(base, **{b: {"intensity": k}})
    both = with_levers(only_a, **{b: {"intensity": k}})
    return (
        effect(both, base, metric, replicates)
        - effect(only_a, base, metric, replicates)
        - effect(only_b, base, metric, replicates)
    )


def test_pattern8_levers_are_complements_in_their_mechanisms() -> None:
    base = make_config()
    # embedding's branches give the committee the ties that linking brokers through
    linked = _interaction(base, "embedding", "linking", "linked_capacity", 0.5)
    assert (linked > 0.002).all(), linked
    # consultation is worth more where embedding's members have drawn people in
    informed = _interaction(base, "embedding", "immersion", "need_information", 0.5)
    assert informed.mean() > 0.01 and (informed > 0).all(), informed


def test_pattern8_joint_effect_exceeds_the_sum_on_a_resident_outcome() -> None:
    # mobilisation (immersion) works through members' asks (embedding): in a stretched
    # community the pair moves residents' trust and participation by more than the two alone
    base = stretched()
    found = {}
    for metric in ("satisfaction", "participation", "trust"):
        found[metric] = _interaction(base, "embedding", "immersion", metric, 1.0)
    best = max(found, key=lambda m: found[m].mean())
    assert found[best].mean() > 0.02 and (found[best] > 0).mean() >= 2 / 3, found
    assert found["trust"].mean() > 0.01, found


# ---------------------------------------------------------------------------- pattern 9
def test_pattern9_burden_falls_then_rebounds_and_capacity_with_it() -> None:
    campaign = {"intensity": 1.0, "standardisation": 0.0, "special_funds": 0.0, "social_worker_posts": 0.0}
    base = make_config()
    one_off = with_levers(base, conduction={**campaign, "duration_weeks": 26})
    sustained = with_levers(base, conduction=campaign)
    phi0 = float(np.mean(base.levers.conduction.task_growth))
    replicates = 3
    for frame in frames(one_off, replicates):
        phi = frame["task_growth"].to_numpy()
        weff = frame["effective_capacity"].to_numpy()
        end_of_campaign, end = 25, len(phi) - 1  # rows: week 26 and the last week
        assert phi[end_of_campaign] < phi0 - 0.04, phi[end_of_campaign]
        assert phi[end] > phi[end_of_campaign] + 0.04 and abs(phi[end] - phi0) < 0.01
        assert np.all(np.diff(phi[end_of_campaign:]) >= 0)  # drifts back monotonically
        assert weff[end_of_campaign] > weff[end] + 0.05
    at_campaign_end = effect(one_off, base, "effective_capacity", replicates, window=1, at=26)
    at_end = effect(one_off, base, "effective_capacity", replicates, window=1)
    kept = effect(sustained, base, "effective_capacity", replicates, window=1)
    assert (at_campaign_end > 0.05).all() and (np.abs(at_end) < 0.25 * at_campaign_end).all()
    assert (kept > 0.05).all(), "a sustained burden cut keeps capacity up"
