"""The residents' submodels and service supply (MODEL.md §2–3), on whole arrays.

Every function reads last week's state and writes this week's, vectorised over households:
there is no Python loop over households anywhere in a step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model import CommunityModel

# What each channel is good at (rows: government, social, volunteer, market; columns: care,
# family, property, safety, dispute). A channel spends its capacity on categories in
# proportion to competence × demand, and delivers competence × effort.
COMPETENCE = np.array(
    [
        [1.0, 0.8, 0.4, 1.0, 0.8],  # government: community workers, delivered funds
        [1.0, 1.0, 0.2, 0.4, 0.6],  # social: social organisations, stationed units
        [0.8, 0.6, 0.3, 0.8, 0.6],  # volunteer: residents' mutual aid
        [0.1, 0.1, 1.0, 0.6, 0.2],  # market: property companies and firms
    ]
)
PROPERTY = 2
DISPUTE = 4


def arrive_needs(model: CommunityModel) -> None:
    """n_ik ← clip((1 − δ) n_ik + ν_pk ε_ik), ε ~ Exp(1); faster property needs where unmanaged.

    The decay δ stands for needs that households settle themselves or give up on; it keeps
    backlogs finite when supply falls short.
    """
    hh = model.households
    hh.needs *= 1.0 - model.cfg.dynamics.need_decay
    rates = model.household_need_rates  # (N, K), fixed per household
    hh.needs += rates * model.rng.exponential(1.0, size=rates.shape)
    np.clip(hh.needs, 0.0, 1.0, out=hh.needs)


def form_need_information(model: CommunityModel, added: np.ndarray | float) -> None:
    """A_b = clip(A₀ + what reporting, consultation and coordination add)."""
    a = model.buildings.need_information
    a[:] = model.cfg.dynamics.base_need_information + added
    np.clip(a, 0.0, 1.0, out=a)


def supply_and_allocate(model: CommunityModel, overlap: float, capacity_factor: float) -> None:
    """Channels supply services by category; services reach households; needs fall; Q forms.

    A household's share of category-k supply mixes need-proportional targeting (weight A_b)
    with an even spread (1 − A_b). Nobody is served more than they need; supply that finds
    no need is lost (the price of poor information).
    """
    dyn = model.cfg.dynamics
    hh = model.households
    c = model.community
    flow = model.flow
    n = c.n_households
    needs_before = hh.needs.copy()
    effort = (1.0 - overlap) * capacity_factor
    flow.overlap = overlap

    demand = needs_before.sum(axis=0)  # (K,)
    participants = float(hh.participating.sum())
    capacity = (
        np.array(
            [
                (
                    dyn.government_capacity * flow.effective_capacity
                    + flow.funds_service
                    + flow.linked_capacity
                )
                * n,
                (dyn.social_capacity + flow.joint_service) * n,
                dyn.volunteer_capacity * participants,
                0.0,  # market, per compound below
            ]
        )
        * effort
    )
    # community-wide channels: spend by competence × demand, deliver competence × effort
    preference = COMPETENCE[:3] * demand
    totals = preference.sum(axis=1, keepdims=True)
    share = np.divide(preference, totals, out=np.zeros_like(preference), where=totals > 0)
    supply = capacity[:3, None] * share * COMPETENCE[:3]  # (3, K)

    a_hh = model.buildings.need_information[c.building][:, None]  # (N, 1)
    weights = a_hh * np.divide(needs_before, demand, out=np.zeros_like(needs_before), where=demand > 0)
    weights += (1.0 - a_hh) / n
    weights /= weights.sum(axis=0)
    allotted = weights * supply.sum(axis=0)  # (N, K)

    # market: each property company serves the households of its compounds
    company = c.compound_company[c.compound]
    managed = company >= 0
    market_capacity = np.zeros(n)
    if c.n_companies:
        quality = model.companies.quality * model.companies.responsiveness
        market_capacity[managed] = dyn.market_capacity * quality[company[managed]] * effort
    m_demand_by_compound = np.column_stack(
        [np.bincount(c.compound, weights=col, minlength=c.n_compounds) for col in needs_before.T]
    )
    m_capacity_by_compound = np.bincount(c.compound, weights=market_capacity, minlength=c.n_compounds)
    m_pref = COMPETENCE[3] * m_demand_by_compound
    m_tot = m_pref.sum(axis=1, keepdims=True)
    m_share = np.divide(m_pref, m_tot, out=np.zeros_like(m_pref), where=m_tot > 0)
    m_supply = m_capacity_by_compound[:, None] * m_share * COMPETENCE[3]  # (C, K)
    size_c = np.bincount(c.compound, minlength=c.n_compounds).astype(float)
    m_weights = a_hh * np.divide(
        needs_before,
        m_demand_by_compound[c.compound],
        out=np.zeros_like(needs_before),
        where=m_demand_by_compound[c.compound] > 0,
    )
    m_weights += (1.0 - a_hh) / size_c[c.compound][:, None]
    m_allotted = m_weights * m_supply[c.compound]
    allotted += m_allotted

    served = np.minimum(needs_before, allotted)
    hh.served[:] = served
    hh.needs -= served
    w = model.need_weights
    total = needs_before @ w
    unmet = hh.needs @ w
    hh.performance[:] = np.where(total > 1e-12, 1.0 - unmet / np.maximum(total, 1e-12), 1.0)

    # bookkeeping: what each channel delivered, pro rata within each category
    offered = np.vstack([supply, m_supply.sum(axis=0, keepdims=True)])  # (4, K)
    offered_total = offered.sum(axis=0)
    served_k = served.sum(axis=0)
    fraction = np.divide(served_k, offered_total, out=np.zeros_like(served_k), where=offered_total > 0)
    flow.capacity[:] = np.append(capacity[:3], market_capacity.sum())
    flow.served_by_channel[:] = (offered * fraction).sum(axis=1) / n
    flow.served_by_category[:] = served_k / n


def property_and_conflicts(model: CommunityModel, chi: float, mediation: float) -> None:
    """Fees follow satisfaction, quality follows fees; owner–company conflicts start and end."""
    dyn = model.cfg.dynamics
    c = model.community
    hh = model.households
    co = model.companies
    cmp = model.compounds
    size = np.maximum(np.bincount(c.compound, minlength=c.n_compounds), 1)
    sat_c = np.bincount(c.compound, weights=hh.satisfaction, minlength=c.n_compounds) / size
    exp_c = np.bincount(c.compound, weights=hh.expectation, minlength=c.n_compounds) / size
    managed = c.compound_company >= 0
    if c.n_companies:
        company = c.compound_company[managed]
        served_sat = np.bincount(company, weights=sat_c[managed], minlength=c.n_companies)
        served_n = np.maximum(np.bincount(company, minlength=c.n_companies), 1)
        co.fee_collection[:] = np.clip(
            dyn.fee_base + dyn.fee_sensitivity * (served_sat / served_n - 0.5), 0.0, 1.0
        )
        co.quality += dyn.quality_adjustment * (co.fee_collection - dyn.fee_break_even)
        co.quality += dyn.quality_reversion * (c.company_quality - co.quality)
        np.clip(co.quality, 0.05, 1.0, out=co.quality)

    gap = np.zeros(c.n_compounds)
    if c.n_companies:
        gap[managed] = exp_c[managed] - co.quality[c.compound_company[managed]]
    logit = (
        dyn.conflict_intercept
        + dyn.conflict_gap * gap
        - model.cfg.levers.integration.conflict_reduction * chi
    )
    p_start = np.where(managed, 1.0 / (1.0 + np.exp(-logit)), 0.0)
    started = model.rng.random(c.n_compounds) < p_start
    resolved = model.rng.binomial(cmp.open_conflicts, mediation)
    cmp.open_conflicts += started.astype(cmp.open_conflicts.dtype) - resolved
    model.flow.conflicts_started = float(started.sum())
    model.flow.conflicts_resolved = float(resolved.sum())

    # open conflicts breed disputes in their compound
    in_conflict = cmp.open_conflicts[c.compound] > 0
    hh.needs[:, DISPUTE] = np.minimum(1.0, hh.needs[:, DISPUTE] + dyn.conflict_dispute_need * in_conflict)


def update_attitudes(model: CommunityModel) -> None:
    """Satisfaction (expectancy–disconfirmation), expectations (asymmetric) and trust."""
    dyn = model.cfg.dynamics
    hh = model.households
    q = hh.performance
    e_old = hh.expectation.copy()
    target = np.clip(
        dyn.satisfaction_base
        + dyn.satisfaction_performance * q
        + dyn.satisfaction_disconfirmation * (q - e_old),
        0.0,
        1.0,
    )
    hh.satisfaction += dyn.satisfaction_rate * (target - hh.satisfaction)

    rate = np.where(q >= e_old, dyn.expectation_up, dyn.expectation_up * dyn.expectation_down_ratio)
    hh.expectation[:] = np.clip(np.maximum(dyn.expectation_floor, e_old + rate * (q - e_old)), 0.0, 1.0)

    t_old = hh.trust.copy()
    s = hh.satisfaction
    up = dyn.trust_up
    down = dyn.trust_up * dyn.trust_down_ratio
    neighbours = model.neighbour_mean(t_old)
    open_c = model.compounds.open_conflicts[model.community.compound]
    shock = dyn.conflict_trust_shock * np.minimum(open_c, 3)
    hh.trust[:] = np.clip(
        t_old
        + up * np.maximum(s - t_old, 0.0)
        - down * np.maximum(t_old - s, 0.0)
        + dyn.trust_neighbour * (neighbours - t_old)
        - shock,
        0.0,
        1.0,
    )


def participate(model: CommunityModel, rho: float) -> None:
    """P_i = [f_i + ρ·ask_i + β_T (T_i − ½) ≥ θ_i], f_i = share of neighbours who took part."""
    dyn = model.cfg.dynamics
    hh = model.households
    f = model.neighbour_mean(hh.participating.astype(np.float64))
    push = f + rho * hh.asked + dyn.trust_effect * (hh.trust - 0.5)
    hh.participating[:] = push >= hh.threshold
    c = model.community
    model.buildings.participation[:] = np.bincount(
        c.building, weights=hh.participating, minlength=c.n_buildings
    ) / np.maximum(c.building_size, 1)
