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
    arrivals = _scratch(model).arrivals
    model.rng.standard_exponential(out=arrivals)  # the same draws as exponential(1.0, size)
    arrivals *= model.household_need_rates  # ν_pk, (N, K), fixed per household
    hh.needs += arrivals
    _clip01(hh.needs)


def form_need_information(model: CommunityModel, added: np.ndarray | float) -> None:
    """A_b = clip(A₀ + what reporting, consultation and coordination add)."""
    a = model.buildings.need_information
    a[:] = model.cfg.dynamics.base_need_information + added
    np.clip(a, 0.0, 1.0, out=a)


class _Scratch:
    """Static indices and reusable buffers of one model, made on first use.

    The community never changes during a run, so the gathers and bin indices the weekly
    supply needs are computed once; the (N, K) buffers are reused so that a step does not
    allocate full-size arrays. Sums that must match ``X.sum(axis=0)`` bit for bit use one
    ``bincount`` over the flattened array (the same sequential order, without the slow
    strided reduction).
    """

    def __init__(self, model: CommunityModel) -> None:
        c = model.community
        n, k = model.households.needs.shape
        self.n, self.k = n, k
        self.category_bins = np.tile(np.arange(k, dtype=np.intp), n)
        self.compound_category_bins = (c.compound.astype(np.intp)[:, None] * k + np.arange(k)).ravel()
        self.compound_size = np.bincount(c.compound, minlength=c.n_compounds).astype(float)
        self.household_compound_size = self.compound_size[c.compound]
        self.household_company = c.compound_company[c.compound]
        self.managed_rows = np.flatnonzero(self.household_company >= 0)
        self.managed_company = self.household_company[self.managed_rows]
        self.needs_before = np.empty((n, k))
        self.weights = np.empty((n, k))
        self.market_weights = np.empty((n, k))
        self.gathered = np.empty((n, k))
        self.info = np.empty(n)
        self.spread = np.empty(n)
        self.market_capacity = np.zeros(n)
        self.e_old = np.empty(n)
        self.t_old = np.empty(n)
        self.surprise = np.empty(n)
        self.target = np.empty(n)
        self.tmp = np.empty(n)
        self.arrivals = np.empty((n, k))
        self.building_size = np.maximum(c.building_size, 1).astype(float)
        self.compound_size_nonzero = np.maximum(self.compound_size, 1.0)
        self.managed_compounds = c.compound_company >= 0
        self.company_of_managed = c.compound_company[self.managed_compounds]
        self.compounds_served = np.maximum(
            np.bincount(self.company_of_managed, minlength=c.n_companies), 1
        ).astype(float)

    def column_sums(self, x: np.ndarray) -> np.ndarray:
        """``x.sum(axis=0)`` of an (N, K) array, bit for bit."""
        return np.bincount(self.category_bins, weights=x.ravel(), minlength=self.k)


def _scratch(model: CommunityModel) -> _Scratch:
    scratch = model.__dict__.get("_supply_scratch")
    if scratch is None:
        scratch = model.__dict__["_supply_scratch"] = _Scratch(model)
    return scratch


def _safe_divide(num: np.ndarray, den: np.ndarray, out: np.ndarray) -> np.ndarray:
    """num / den where den > 0, else 0 (the masked path only when some den is not positive)."""
    positive = den > 0
    if positive.all():
        return np.divide(num, den, out=out)
    out.fill(0.0)
    return np.divide(num, den, out=out, where=positive)


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
    s = _scratch(model)
    n = s.n
    needs_before = s.needs_before
    np.copyto(needs_before, hh.needs)
    effort = (1.0 - overlap) * capacity_factor
    flow.overlap = overlap

    demand = s.column_sums(needs_before)  # (K,)
    participants = float(np.count_nonzero(hh.participating))
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
    share = _safe_divide(preference, totals, np.empty_like(preference))
    supply = capacity[:3, None] * share * COMPETENCE[:3]  # (3, K)

    # weights: A_b · need share + (1 − A_b) / N, normalised per category
    a = np.take(model.buildings.need_information, c.building, out=s.info)
    a_col = a[:, None]
    spread = np.subtract(1.0, a, out=s.spread)  # 1 − A_b
    weights = _safe_divide(needs_before, demand, s.weights)
    weights *= a_col
    weights += (spread / n)[:, None]
    sums = s.column_sums(weights)
    # A category nobody needs with A_b = 1 everywhere has all-zero weights: nothing to share out.
    if (sums > 0).all():
        weights /= sums  # the usual case, without the masked division's cost
    else:
        np.divide(weights, sums, out=weights, where=sums > 0)
    allotted = weights
    allotted *= supply.sum(axis=0)  # (N, K)

    # market: each property company serves the households of its compounds
    market_capacity = s.market_capacity
    if c.n_companies:
        quality = model.companies.quality * model.companies.responsiveness
        market_capacity[s.managed_rows] = dyn.market_capacity * quality[s.managed_company] * effort
    m_demand_by_compound = np.bincount(
        s.compound_category_bins, weights=needs_before.ravel(), minlength=c.n_compounds * s.k
    ).reshape(c.n_compounds, s.k)
    m_capacity_by_compound = np.bincount(c.compound, weights=market_capacity, minlength=c.n_compounds)
    m_pref = COMPETENCE[3] * m_demand_by_compound
    m_tot = m_pref.sum(axis=1, keepdims=True)
    m_share = _safe_divide(m_pref, m_tot, np.empty_like(m_pref))
    m_supply = m_capacity_by_compound[:, None] * m_share * COMPETENCE[3]  # (C, K)
    gathered = np.take(m_demand_by_compound, c.compound, axis=0, out=s.gathered)
    m_weights = _safe_divide(needs_before, gathered, s.market_weights)
    m_weights *= a_col
    spread /= s.household_compound_size
    m_weights += spread[:, None]
    m_weights *= np.take(m_supply, c.compound, axis=0, out=s.gathered)
    allotted += m_weights

    served = np.minimum(needs_before, allotted, out=hh.served)
    hh.needs -= served
    w = model.need_weights
    total = needs_before @ w
    unmet = hh.needs @ w
    if (total > 1e-12).all():
        np.divide(unmet, total, out=hh.performance)
        np.subtract(1.0, hh.performance, out=hh.performance)
    else:
        hh.performance[:] = np.where(total > 1e-12, 1.0 - unmet / np.maximum(total, 1e-12), 1.0)

    # bookkeeping: what each channel delivered, pro rata within each category
    offered = np.concatenate([supply, m_supply.sum(axis=0, keepdims=True)])  # (4, K)
    offered_total = offered.sum(axis=0)
    served_k = s.column_sums(served)
    fraction = _safe_divide(served_k, offered_total, np.empty_like(served_k))
    flow.capacity[:3] = capacity[:3]
    flow.capacity[3] = market_capacity.sum()
    flow.served_by_channel[:] = (offered * fraction).sum(axis=1) / n
    flow.served_by_category[:] = served_k / n
    np.multiply(offered, fraction / n, out=flow.served_matrix)


def property_and_conflicts(model: CommunityModel, chi: float, mediation: float) -> None:
    """Fees follow satisfaction, quality follows fees; owner–company conflicts start and end."""
    dyn = model.cfg.dynamics
    c = model.community
    hh = model.households
    co = model.companies
    cmp = model.compounds
    s_ = _scratch(model)
    size = s_.compound_size_nonzero
    sat_c = np.bincount(c.compound, weights=hh.satisfaction, minlength=c.n_compounds) / size
    exp_c = np.bincount(c.compound, weights=hh.expectation, minlength=c.n_compounds) / size
    managed = s_.managed_compounds
    if c.n_companies:
        company = s_.company_of_managed
        served_sat = np.bincount(company, weights=sat_c[managed], minlength=c.n_companies)
        fee = dyn.fee_base + dyn.fee_sensitivity * (served_sat / s_.compounds_served - 0.5)
        co.fee_collection[:] = _clip01(fee)
        co.quality += dyn.quality_adjustment * (co.fee_collection - dyn.fee_break_even)
        co.quality += dyn.quality_reversion * (c.company_quality - co.quality)
        _clip01(co.quality, 0.05, 1.0)

    gap = np.zeros(c.n_compounds)
    if c.n_companies:
        gap[managed] = exp_c[managed] - co.quality[company]
    logit = (
        dyn.conflict_intercept
        + dyn.conflict_gap * gap
        - model.cfg.levers.integration.conflict_reduction * chi
    )
    p_start = np.where(managed, 1.0 / (1.0 + np.exp(-logit)), 0.0)
    started = model.rng.random(c.n_compounds) < p_start
    resolved = model.rng.binomial(cmp.open_conflicts, mediation)
    cmp.open_conflicts += started.astype(cmp.open_conflicts.dtype) - resolved
    model.flow.conflicts_started = float(np.count_nonzero(started))
    model.flow.conflicts_resolved = float(resolved.sum())

    # open conflicts breed disputes in their compound (adding zero elsewhere changes nothing)
    open_compounds = cmp.open_conflicts > 0
    if open_compounds.any():
        in_conflict = open_compounds[c.compound]
        dispute = hh.needs[:, DISPUTE]
        hh.needs[:, DISPUTE] = np.minimum(1.0, dispute + dyn.conflict_dispute_need * in_conflict)


def _clip01(x: np.ndarray, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """In-place clip without ``np.clip``'s per-call overhead (same values, NaN included)."""
    np.maximum(x, lo, out=x)
    return np.minimum(x, hi, out=x)


def update_attitudes(model: CommunityModel) -> None:
    """Satisfaction (expectancy–disconfirmation), expectations (asymmetric) and trust."""
    dyn = model.cfg.dynamics
    hh = model.households
    s_ = _scratch(model)
    q = hh.performance
    e_old = s_.e_old
    np.copyto(e_old, hh.expectation)
    surprise = np.subtract(q, e_old, out=s_.surprise)  # Q − E
    # S ← S + λ_S (clip(s₀ + a_Q Q + a_D (Q − E)) − S)
    target = np.multiply(q, dyn.satisfaction_performance, out=s_.target)
    target += dyn.satisfaction_base
    tmp = np.multiply(surprise, dyn.satisfaction_disconfirmation, out=s_.tmp)
    target += tmp
    _clip01(target)
    target -= hh.satisfaction
    target *= dyn.satisfaction_rate
    hh.satisfaction += target

    # E ← clip(max(E_norm, E + η± (Q − E))), η⁻ where Q < E
    rate = np.where(q >= e_old, dyn.expectation_up, dyn.expectation_up * dyn.expectation_down_ratio)
    rate *= surprise
    rate += e_old
    np.maximum(rate, dyn.expectation_floor, out=rate)
    hh.expectation[:] = _clip01(rate)

    # T ← clip(T + α⁺(S − T)⁺ − α⁻(T − S)⁺ + μ(T̄ − T) − shock)
    t_old = s_.t_old
    np.copyto(t_old, hh.trust)
    s = hh.satisfaction
    up = dyn.trust_up
    down = dyn.trust_up * dyn.trust_down_ratio
    neighbours = model.neighbour_mean(t_old)
    new = hh.trust  # already equal to t_old
    gain = np.subtract(s, t_old, out=s_.tmp)
    np.maximum(gain, 0.0, out=gain)
    gain *= up
    new += gain
    loss = np.subtract(t_old, s, out=s_.tmp)
    np.maximum(loss, 0.0, out=loss)
    loss *= down
    new -= loss
    neighbours -= t_old
    neighbours *= dyn.trust_neighbour
    new += neighbours
    open_conflicts = model.compounds.open_conflicts
    if open_conflicts.any():  # subtracting a zero shock would change nothing
        open_c = open_conflicts[model.community.compound]
        new -= dyn.conflict_trust_shock * np.minimum(open_c, 3)
    _clip01(new)


def participate(model: CommunityModel, rho: float) -> None:
    """P_i = [f_i + ρ·ask_i + β_T (T_i − ½) ≥ θ_i], f_i = share of neighbours who took part."""
    dyn = model.cfg.dynamics
    hh = model.households
    s_ = _scratch(model)
    push = model.neighbour_mean(hh.participating.astype(np.float64))
    push += np.multiply(hh.asked, rho, out=s_.tmp)
    trust_push = np.subtract(hh.trust, 0.5, out=s_.target)
    trust_push *= dyn.trust_effect
    push += trust_push
    np.greater_equal(push, hh.threshold, out=hh.participating)
    c = model.community
    np.divide(
        np.bincount(c.building, weights=hh.participating, minlength=c.n_buildings),
        s_.building_size,
        out=model.buildings.participation,
    )
