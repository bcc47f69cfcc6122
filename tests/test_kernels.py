"""The compiled per-household loops agree with the equations written as whole-array numpy.

Each test puts a model in a lived-in state (a few weeks run, all six levers on), applies one
stage with the compiled kernels and the same stage written as plain numpy (the form the
ODD gives), and compares. The neighbour means must match scipy's CSR product to the bit;
sums whose order differs (numpy's pairwise or BLAS sums against the kernels' sequential
ones) agree to a few units in the last place.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from sim.core import dynamics, kernels
from sim.core.config import from_dict
from sim.core.levers import LEVERS
from sim.core.metrics import gini
from sim.core.model import CommunityModel


@pytest.fixture(scope="module")
def lived_in() -> CommunityModel:
    cfg = from_dict(
        {
            "community": {"n_compounds": 3},
            "levers": {name: {"intensity": 0.7} for name in LEVERS},
            # conflicts open and stay open, so their trust shock acts
            "dynamics": {
                "conflict_intercept": -1.0,
                "resolution_owners_committee": 0.0,
                "resolution_street": 0.0,
                "resolution_legal": 0.0,
            },
        }
    )
    model = CommunityModel(cfg, rng=11)
    model.run(12)
    model.compounds.open_conflicts[:] = [0, 1, 2]  # so that the conflicts' trust shock acts

    return model


def _copy(model: CommunityModel) -> CommunityModel:
    return copy.deepcopy(model)


def test_neighbour_means_are_scipy_s_csr_product_to_the_bit(lived_in: CommunityModel) -> None:
    values = np.random.default_rng(1).random(lived_in.community.n_households)
    expected = lived_in._network_weights @ values  # scipy's CSR product
    isolated = np.diff(lived_in.community.network.indptr) == 0
    expected[isolated] = values[isolated]
    np.testing.assert_array_equal(lived_in.neighbour_mean(values), expected)


def test_supply_and_allocation_match_the_whole_array_form(lived_in: CommunityModel) -> None:
    model = _copy(lived_in)
    dynamics.arrive_needs(model)
    before = model.households.needs.copy()
    dynamics.supply_and_allocate(model, overlap=0.1, capacity_factor=0.9)
    hh, c, flow = model.households, model.community, model.flow

    # the allocation of sim/dynamics.py written out over whole arrays
    effort = 0.9 * 0.9
    n = c.n_households
    a = model.buildings.need_information[c.building]
    demand = before.sum(axis=0)
    preference = dynamics.COMPETENCE[:3] * demand
    share = preference / preference.sum(axis=1, keepdims=True)
    capacity = flow.capacity[:3]
    supply = (capacity[:, None] * share * dynamics.COMPETENCE[:3]).sum(axis=0)
    weights = a[:, None] * before / demand + ((1 - a) / n)[:, None]
    allotted = weights / weights.sum(axis=0) * supply
    quality = model.companies.quality * model.companies.responsiveness
    company = c.compound_company[c.compound]
    household_market = np.where(company >= 0, model.cfg.dynamics.market_capacity * quality[company], 0.0)
    compound_capacity = np.bincount(c.compound, household_market * effort, c.n_compounds)
    compound_demand = np.stack([np.bincount(c.compound, before[:, k], c.n_compounds) for k in range(5)], 1)
    m_pref = dynamics.COMPETENCE[3] * compound_demand
    with np.errstate(invalid="ignore", divide="ignore"):
        m_share = np.nan_to_num(m_pref / m_pref.sum(axis=1, keepdims=True))
        m_supply = compound_capacity[:, None] * m_share * dynamics.COMPETENCE[3]
        size = np.bincount(c.compound, minlength=c.n_compounds)[c.compound]
        m_weights = (
            np.nan_to_num(a[:, None] * before / compound_demand[c.compound]) + ((1 - a) / size)[:, None]
        )
    # market weights sum to one within every compound and category
    m_sums = np.stack([np.bincount(c.compound, m_weights[:, k], c.n_compounds) for k in range(5)], 1)
    np.testing.assert_allclose((m_weights / m_sums[c.compound]).sum(axis=0), c.n_compounds, rtol=1e-12)
    allotted += m_weights / m_sums[c.compound] * m_supply[c.compound]
    served = np.minimum(before, allotted)
    w = model.need_weights[0]  # per member
    performance = 1 - ((before - served) @ w) / (before @ w)

    np.testing.assert_allclose(hh.served, served, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(hh.needs, before - served, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(hh.performance, performance, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(flow.served_by_category * n, served.sum(axis=0), rtol=1e-12)
    assert 0 < served.sum() < before.sum()  # the allocation did something, and not everything


def test_attitudes_and_participation_match_the_whole_array_form(lived_in: CommunityModel) -> None:
    model = _copy(lived_in)
    dyn = model.cfg.dynamics
    hh = model.households
    q, e, s, t = hh.performance.copy(), hh.expectation.copy(), hh.satisfaction.copy(), hh.trust.copy()
    dynamics.update_attitudes(model)

    s_new = s + dyn.satisfaction_rate * (
        np.clip(
            dyn.satisfaction_base
            + dyn.satisfaction_performance * q
            + dyn.satisfaction_disconfirmation * (q - e),
            0,
            1,
        )
        - s
    )
    rate = np.where(q >= e, dyn.expectation_up, dyn.expectation_up * dyn.expectation_down_ratio)
    e_new = np.clip(np.maximum(e + rate * (q - e), dyn.expectation_floor), 0, 1)
    shock = dyn.conflict_trust_shock * np.minimum(model.compounds.open_conflicts, 3)[model.community.compound]
    t_new = np.clip(
        t
        + dyn.trust_up * np.maximum(s_new - t, 0)
        - dyn.trust_up * dyn.trust_down_ratio * np.maximum(t - s_new, 0)
        + dyn.trust_neighbour * (model.neighbour_mean(t) - t)
        - shock * t,
        0,
        1,
    )
    np.testing.assert_allclose(hh.satisfaction, s_new, rtol=0, atol=1e-15)
    np.testing.assert_allclose(hh.expectation, e_new, rtol=0, atol=1e-15)
    np.testing.assert_allclose(hh.trust, t_new, rtol=0, atol=1e-15)
    assert not np.array_equal(t_new, t)

    was = hh.participating.astype(float)
    push = model.neighbour_mean(was) + 0.3 * hh.asked + dyn.trust_effect * (hh.trust - 0.5)
    dynamics.participate(model, 0.3)
    np.testing.assert_array_equal(hh.participating, push >= hh.threshold)
    c = model.community
    expected = np.bincount(c.building, hh.participating, c.n_buildings) / np.maximum(c.building_size, 1)
    np.testing.assert_allclose(model.buildings.participation, expected, rtol=1e-15)


def test_recorded_household_metrics_match_numpy(lived_in: CommunityModel) -> None:
    model = _copy(lived_in)
    model.step()
    row = model.recorder.frame().iloc[-1]
    hh, c = model.households, model.community
    assert row["satisfaction"] == pytest.approx(hh.satisfaction.mean(), rel=1e-13)
    assert row["trust"] == pytest.approx(hh.trust.mean(), rel=1e-13)
    assert row["unmet_need"] == pytest.approx(hh.needs.sum(axis=1).mean(), rel=1e-13)
    assert row["need_information"] == pytest.approx(
        model.buildings.need_information[c.building].mean(), rel=1e-13
    )
    assert row["participation"] == pytest.approx(hh.participating.mean(), rel=1e-15)
    rich = hh.participating[model.resource_rich].mean()
    assert row["participation_rich"] == pytest.approx(rich, rel=1e-15)
    x = np.sort(hh.satisfaction)
    ranks = np.arange(1, x.size + 1)
    expected_gini = 2 * (ranks * x).sum() / (x.size * x.sum()) - (x.size + 1) / x.size
    assert row["satisfaction_gini"] == pytest.approx(expected_gini, rel=1e-12)
    worst = (np.bincount(c.compound, hh.satisfaction) / np.bincount(c.compound)).min()
    assert row["satisfaction_worst_compound"] == pytest.approx(worst, rel=1e-13)


def test_gini_of_known_distributions() -> None:
    assert gini(np.full(10, 3.0)) == pytest.approx(0.0, abs=1e-15)
    assert gini(np.zeros(5)) == 0.0
    one_has_all = np.zeros(100)
    one_has_all[7] = 1.0
    assert gini(one_has_all) == pytest.approx(0.99)  # (n − 1) / n
    assert gini(np.arange(1.0, 5.0)) == pytest.approx(0.25)


def test_nan_passes_through_the_kernels_as_numpy_lets_it() -> None:
    """A NaN in the state is not clipped away, so check_finite can report it."""
    needs = np.array([[np.nan, 0.2]])
    kernels.arrive_needs(needs, np.ones((1, 2)), np.ones((1, 2)), np.array([0.9]))  # keep: per member
    assert np.isnan(needs[0, 0]) and needs[0, 1] == pytest.approx(1.0)
