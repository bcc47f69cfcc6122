"""The residents' submodels and service supply (docs/design.md §2–3), on whole arrays.

Each function updates whole arrays from the values its stage started with (docs/ODD.md §3
says which of those earlier stages of the same week wrote): there is no Python loop over
households anywhere in a step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core import kernels
from sim.core.levers import immersion, integration

if TYPE_CHECKING:
    from sim.core.model import CommunityModel

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
    s = _scratch(model)
    arrivals = s.arrivals
    if model.n_members == 1:
        model.rng.standard_exponential(out=arrivals)  # the same draws as exponential(1.0, size)
    else:  # each member from its own generator, as alone
        n = model.N
        for m, rng in enumerate(model.rngs):
            rng.standard_exponential(out=arrivals[m * n : (m + 1) * n])
    keep = model.derived("keep", lambda: 1.0 - model.vec("dynamics.need_decay"))
    kernels.arrive_needs(model.households.needs, arrivals, need_rates(model), keep)


def need_rates(model: CommunityModel) -> np.ndarray:
    """This week's need arrival rates ν_ik: residents' conventions (immersion) slow disputes.

    Without conventions (``levers.immersion.conventions`` · k = 0) the household rates as set
    up, the same array every week.
    """
    factor = immersion.dispute_factor(model)
    if (factor == 1.0).all():
        return model.household_need_rates
    cached = model.caches.get("need_rates")
    if cached is None or not np.array_equal(cached[0], factor):
        rates = model.household_need_rates.copy()
        rates[:, DISPUTE] *= model.at(factor, model.N)
        cached = model.caches["need_rates"] = (factor, rates)
    return cached[1]


def form_need_information(model: CommunityModel, added: np.ndarray | float) -> None:
    """A_b = clip(A₀ + what reporting, consultation and coordination add)."""
    a = model.buildings.need_information
    a[:] = model.at(model.par("dynamics.base_need_information"), model.B) + added
    np.clip(a, 0.0, 1.0, out=a)


class _Scratch:
    """Static indices and reusable buffers of one model, made on first use.

    The community never changes during a run, so its indices are gathered once, and the
    buffers are reused so that a step does not allocate full-size arrays. Indices run over the
    whole ensemble; per-member sums have a row per member.
    """

    def __init__(self, model: CommunityModel) -> None:
        c = model.community
        n, k = model.households.needs.shape
        members = model.n_members
        self.n, self.k = model.N, k
        self.building = c.building.astype(np.intp)
        self.compound = c.compound.astype(np.intp)
        self.compound_size = np.bincount(c.compound, minlength=c.n_compounds).astype(float)
        self.household_company = c.compound_company[c.compound].astype(np.intp)
        # the row-normalised network and who has no neighbours, as the kernels read them
        weights = model._network_weights
        self.network = (weights.data, weights.indptr, weights.indices, model._isolated)
        self.demand = np.empty((members, k))
        self.compound_demand = np.empty((c.n_compounds, k))
        self.market_capacity = np.zeros(n)
        self.compound_market_capacity = np.empty(c.n_compounds)
        self.weight_sums = np.empty((members, k))
        self.compound_weight_sums = np.empty((c.n_compounds, k))
        self.served_by_category = np.empty((members, k))
        self.old_trust = np.empty(n)
        self.neighbours = np.empty(n)
        self.was_participating = np.empty(n)
        self.building_count = np.empty(c.n_buildings)
        self.no_conflict_shock = np.zeros(c.n_compounds)
        self.arrivals = np.empty((n, k))
        self.building_size = np.maximum(c.building_size, 1).astype(float)
        self.compound_size_nonzero = np.maximum(self.compound_size, 1.0)
        self.managed_compounds = c.compound_company >= 0
        self.company_of_managed = c.compound_company[self.managed_compounds]
        self.compounds_served = np.maximum(
            np.bincount(self.company_of_managed, minlength=c.n_companies), 1
        ).astype(float)


def _attitude_constants(model: CommunityModel) -> np.ndarray:
    """(M, 10): each member's (s₀, a_Q, a_D, λ_S, η⁺, η⁻, E_norm, α⁺, α⁻, μ)."""
    vec = model.vec
    return np.ascontiguousarray(
        np.stack(
            [
                vec("dynamics.satisfaction_base"),
                vec("dynamics.satisfaction_performance"),
                vec("dynamics.satisfaction_disconfirmation"),
                vec("dynamics.satisfaction_rate"),
                vec("dynamics.expectation_up"),
                vec("dynamics.expectation_up") * vec("dynamics.expectation_down_ratio"),
                vec("dynamics.expectation_floor"),
                vec("dynamics.trust_up"),
                vec("dynamics.trust_up") * vec("dynamics.trust_down_ratio"),
                vec("dynamics.trust_neighbour"),
            ],
            axis=1,
        )
    )


def network_arrays(model: CommunityModel) -> tuple:
    """The row-normalised network as the kernels read it: (data, indptr, indices, isolated)."""
    return _scratch(model).network


def _scratch(model: CommunityModel) -> _Scratch:
    scratch = model.caches.get("supply_scratch")
    if scratch is None:
        scratch = model.caches["supply_scratch"] = _Scratch(model)
    return scratch


def _safe_divide(num: np.ndarray, den: np.ndarray, out: np.ndarray) -> np.ndarray:
    """num / den where den > 0, else 0 (the masked path only when some den is not positive)."""
    positive = den > 0
    if positive.all():
        return np.divide(num, den, out=out)
    out.fill(0.0)
    return np.divide(num, den, out=out, where=positive)


def uniforms(model: CommunityModel, per: int) -> np.ndarray:
    """``per`` uniform draws of each member from its own generator, members one after another."""
    if model.n_members == 1:
        return model.rng.random(per)
    out = np.empty(model.n_members * per)
    for m, rng in enumerate(model.rngs):
        rng.random(out=out[m * per : (m + 1) * per])  # the same draws as rng.random(per)
    return out


def supply_and_allocate(model: CommunityModel, overlap: np.ndarray, capacity_factor: np.ndarray) -> None:
    """Channels supply services by category; services reach households; needs fall; Q forms.

    A household's share of category-k supply mixes need-proportional targeting (weight A_b)
    with an even spread (1 − A_b). Nobody is served more than they need; supply that finds
    no need is lost (the price of poor information).
    """
    par = model.par
    hh = model.households
    flow = model.flows
    s = _scratch(model)
    n = s.n
    effort = model.each((1.0 - overlap) * capacity_factor)  # per member
    flow.overlap[:] = overlap

    # market capacity per household: its compound's company, if any (quality × responsiveness)
    company_capacity = model.at(par("dynamics.market_capacity"), model.P) * (
        model.companies.quality * model.companies.responsiveness
    )
    company_capacity *= model.at(effort, model.P)
    kernels.need_totals(
        hh.needs,
        s.compound,
        s.household_company,
        company_capacity,
        s.demand,
        s.compound_demand,
        s.market_capacity,
        s.compound_market_capacity,
    )
    demand = s.demand  # (M, K)
    participants = model.count(hh.participating).astype(np.float64)
    capacity = np.empty((model.n_members, 4))
    capacity[:, 0] = (
        par("dynamics.government_capacity") * flow.effective_capacity
        + flow.funds_service
        + flow.linked_capacity
    ) * n
    capacity[:, 1] = (par("dynamics.social_capacity") + flow.joint_service) * n
    capacity[:, 2] = par("dynamics.volunteer_capacity") * participants
    capacity[:, 3] = 0.0  # market, per compound below
    capacity *= effort[:, None]
    # community-wide channels: spend by competence × demand, deliver competence × effort
    preference = COMPETENCE[:3] * demand[:, None, :]  # (M, 3, K)
    totals = preference.sum(axis=2, keepdims=True)
    share = _safe_divide(preference, totals, np.empty_like(preference))
    supply = capacity[:, :3, None] * share * COMPETENCE[:3]  # (M, 3, K)

    # market: each compound's company spends by competence × the compound's demand
    m_pref = COMPETENCE[3] * s.compound_demand
    m_tot = m_pref.sum(axis=1, keepdims=True)
    m_share = _safe_divide(m_pref, m_tot, np.empty_like(m_pref))
    m_supply = s.compound_market_capacity[:, None] * m_share * COMPETENCE[3]  # (C, K), all members

    kernels.allocate(
        hh.needs,
        model.buildings.need_information,
        s.building,
        s.compound,
        s.compound_size,
        demand,
        supply.sum(axis=1),
        s.compound_demand,
        m_supply,
        model.need_weights,
        hh.served,
        hh.performance,
        s.weight_sums,
        s.served_by_category,
        s.compound_weight_sums,
    )

    # bookkeeping: what each channel delivered, pro rata within each category
    market = m_supply.reshape(model.n_members, -1, s.k).sum(axis=1, keepdims=True)
    offered = np.concatenate([supply, market], axis=1)  # (M, 4, K)
    offered_total = offered.sum(axis=1)
    served_k = s.served_by_category
    fraction = _safe_divide(served_k, offered_total, np.empty_like(served_k))[:, None, :]
    flow.capacity[:, :3] = capacity[:, :3]
    flow.capacity[:, 3] = model.sums(s.market_capacity)
    flow.served_by_channel[:] = (offered * fraction).sum(axis=2) / n
    flow.served_by_category[:] = served_k / n
    np.multiply(offered, fraction / n, out=flow.served_matrix)


def property_and_conflicts(model: CommunityModel, chi: np.ndarray, mediation: np.ndarray) -> None:
    """Companies and owners act on this week's service: fees, quality, conflicts, replacement.

    Reads this week's satisfaction of last week's update (stage 9 comes later), this week's
    unrepaired property need (after stage 7) and expectations.

    1. Fees: collection = fee_base + fee_payment_shift + fee_sensitivity (S̄_company − ½).
    2. Quality: Q ← clip(Q + q_F (fees − break-even) + q_R (standard − Q) + q_C pressure +
       q_X risk + q_P (½ − S̄)⁺·[Party branch], floor, 1); pressure = fees × unrepaired property
       need of its compounds × (1 + owners' committee pressure where one exists) (answering
       complaints costs money), risk = the share of its compounds' replacement patience used up.
    3. Conflicts start with probability σ(γ₀ + γ₁ (Ē − Q) + γ_R unrepaired + γ_A arrears − γ₂ χ)
       and each open one ends with 1 − Π(1 − channel rate) over mediation (with integration's
       cross-appointed leaders and the joint meeting), the owners' committee, the legal channel
       and, once it has lasted ``street_after_weeks``, the street.
    4. Exit (Hirschman 1970): where an owners' committee exists and the compound's
       satisfaction has stayed below the threshold for the patience, the company is replaced
       with a weekly chance; the newcomer brings the type's standard quality and the old
       company's conflicts end.
    5. An open conflict adds dispute need in proportion to its grievance (the service gap and
       unrepaired need), so a dispute whose cause is gone stops feeding need.
    """
    par, at = model.par, model.at
    chi, mediation = model.each(chi), model.each(mediation)
    c = model.community
    hh = model.households
    co = model.companies
    cmp = model.compounds
    flow = model.flows
    members, n_c, n_p = model.n_members, model.C, model.P
    s_ = _scratch(model)
    size = s_.compound_size_nonzero
    sat_c = np.bincount(c.compound, weights=hh.satisfaction, minlength=c.n_compounds) / size
    exp_c = np.bincount(c.compound, weights=hh.expectation, minlength=c.n_compounds) / size
    unrepaired = np.bincount(c.compound, weights=hh.needs[:, PROPERTY], minlength=c.n_compounds) / size
    managed = s_.managed_compounds
    committee = c.compound_owners_committee
    company = s_.company_of_managed
    patience = at(par("dynamics.replacement_patience"), n_c)
    patience_used = np.minimum(cmp.weeks_dissatisfied / patience, 1.0) * committee
    if c.n_companies:
        per_company = s_.compounds_served

        def company_mean(values: np.ndarray) -> np.ndarray:
            return np.bincount(company, weights=values[managed], minlength=c.n_companies) / per_company

        served_sat = company_mean(sat_c)
        fee = at(par("dynamics.fee_base") + c_shift(model), n_p) + at(
            par("dynamics.fee_sensitivity"), n_p
        ) * (served_sat - 0.5)
        co.fee_collection[:] = _clip01(fee)
        pressure = company_mean(
            unrepaired * (1.0 + at(par("dynamics.owners_committee_pressure"), n_c) * committee)
        )
        red = model.orgs.has_branch[c.company_org]
        co.quality += at(par("dynamics.quality_adjustment"), n_p) * (
            co.fee_collection - at(par("dynamics.fee_break_even"), n_p)
        )
        co.quality += at(par("dynamics.quality_reversion"), n_p) * (co.standard - co.quality)
        # repairs cost money
        co.quality += at(par("dynamics.quality_response"), n_p) * co.fee_collection * pressure
        co.quality += at(par("dynamics.replacement_risk_response"), n_p) * company_mean(patience_used)
        co.quality += at(par("dynamics.red_property_weight"), n_p) * red * np.maximum(0.5 - served_sat, 0.0)
        _clip01(co.quality, at(np.maximum(par("dynamics.service_floor"), 0.05), n_p), 1.0)

    gap = np.zeros(c.n_compounds)
    arrears = np.zeros(c.n_compounds)
    if c.n_companies:
        gap[managed] = exp_c[managed] - co.quality[company]
        arrears[managed] = 1.0 - co.fee_collection[company]
    logit = (
        at(par("dynamics.conflict_intercept"), n_c)
        + at(par("dynamics.conflict_gap"), n_c) * gap
        + at(par("dynamics.conflict_repairs"), n_c) * unrepaired
        + at(par("dynamics.conflict_arrears"), n_c) * arrears
        - model.at(par("levers.integration.conflict_reduction") * chi, n_c)
    )
    mediation = model.at(mediation, n_c)
    organised = integration.organised_compounds(model, model.intensity("integration"))
    if organised is not None:  # compound-level Party organisation (docs/ODD.md §7.16)
        logit = logit - at(par("levers.integration.compound_conflict_reduction"), n_c) * organised
        mediation = np.minimum(
            1.0, mediation + at(par("levers.integration.compound_mediation"), n_c) * organised
        )
    p_start = np.where(managed, 1.0 / (1.0 + np.exp(-logit)), 0.0)
    started = uniforms(model, n_c) < p_start
    street = (cmp.conflict_weeks >= at(par("dynamics.street_after_weeks"), n_c)) * at(
        par("dynamics.resolution_street"), n_c
    )
    negotiation = at(par("dynamics.resolution_owners_committee"), n_c) * committee
    legal = model.at(immersion.legal_rate(model), n_c)  # resolution_legal unless legal aid acts
    stays = (1.0 - mediation) * (1.0 - negotiation)
    stays = stays * (1.0 - legal) * (1.0 - street)
    chance = np.clip(1.0 - stays, 0.0, 1.0)
    if members == 1:
        resolved = model.rng.binomial(cmp.open_conflicts, chance)
    else:
        resolved = np.empty(c.n_compounds, dtype=np.int64)
        for m, rng in enumerate(model.rngs):
            part = slice(m * n_c, (m + 1) * n_c)
            resolved[part] = rng.binomial(cmp.open_conflicts[part], chance[part])
    _attribute_settlements(model, resolved, (mediation, negotiation, legal, street))
    cmp.open_conflicts += started.astype(cmp.open_conflicts.dtype) - resolved
    flow.conflicts_started[:] = model.count(started)
    flow.conflicts_resolved[:] = model.sums(resolved)

    # exit: owners' committees replace a company after sustained dissatisfaction
    below = managed & committee & (sat_c < at(par("dynamics.replacement_threshold"), n_c))
    cmp.weeks_dissatisfied[:] = np.where(below, cmp.weeks_dissatisfied + 1, 0)
    ready = below & (cmp.weeks_dissatisfied >= patience)
    vote = uniforms(model, n_c) < at(par("dynamics.replacement_rate"), n_c)
    if c.n_companies and (ready & vote).any():
        replaced = np.unique(c.compound_company[ready & vote])
        co.replacements[replaced] += 1
        quality = at(par("community.company_quality"), n_p)
        co.standard[replaced] = quality[replaced] if isinstance(quality, np.ndarray) else quality
        co.quality[replaced] = co.standard[replaced]
        of_replaced = np.isin(c.compound_company, replaced)
        ended = model.sums(np.where(of_replaced, cmp.open_conflicts, 0)).astype(np.float64)
        flow.conflicts_resolved[:] += ended
        model.tallies.settled[:, SETTLED_BY.index("replacement")] += ended
        cmp.open_conflicts[of_replaced] = 0
        cmp.weeks_dissatisfied[of_replaced] = 0
        flow.company_replacements[:] = np.bincount(replaced // n_p, minlength=members)
    cmp.conflict_weeks[:] = np.where(cmp.open_conflicts > 0, cmp.conflict_weeks + 1, 0)

    # open conflicts breed disputes in proportion to what they are about
    open_compounds = cmp.open_conflicts > 0
    if open_compounds.any():
        grievance = np.clip(np.maximum(gap, 0.0) + unrepaired, 0.0, 1.0) * open_compounds
        dispute = hh.needs[:, DISPUTE]
        hh.needs[:, DISPUTE] = np.minimum(
            1.0, dispute + at(par("dynamics.conflict_dispute_need"), model.N) * grievance[c.compound]
        )


#: the channels an owner–company conflict ends through (docs/ODD.md §7.5.4, §7.13)
SETTLED_BY = ("mediation", "owners_committee", "legal", "street", "replacement")


def _attribute_settlements(model: CommunityModel, resolved: np.ndarray, rates: tuple) -> None:
    """Credit each compound's settled conflicts to the channels in proportion to their rates.

    An attribution, not a draw: which channel settled a conflict is not simulated, so the
    expected shares are kept (used only by the metrics ``settled_share_*``). ``rates``: one
    value per compound of the ensemble each (or one for all).
    """
    if not resolved.any():
        return
    n = resolved.size
    weights = np.stack([np.broadcast_to(np.asarray(r, dtype=np.float64), n) for r in rates])
    total = weights.sum(axis=0)
    share = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
    per = model.C
    if model.n_members == 1:
        model.tallies.settled[0, : len(rates)] += share @ resolved
        return
    for m in np.flatnonzero(model.rows(resolved).any(axis=1)):  # a product per member, as alone
        part = slice(m * per, (m + 1) * per)  # (BLAS's order of sums)
        model.tallies.settled[m, : len(rates)] += share[:, part] @ resolved[part]


def c_shift(model: CommunityModel) -> float | np.ndarray:
    """The community type's shift of fee collection (payment habits, e.g. resettled villagers)."""
    return model.par("community.fee_payment_shift")


def _clip01(x: np.ndarray, lo: float | np.ndarray = 0.0, hi: float = 1.0) -> np.ndarray:
    """In-place clip without ``np.clip``'s per-call overhead (same values, NaN included)."""
    np.maximum(x, lo, out=x)
    return np.minimum(x, hi, out=x)


def update_attitudes(model: CommunityModel) -> None:
    """Satisfaction (expectancy–disconfirmation), expectations (asymmetric) and trust.

    S ← S + λ_S (clip(s₀ + a_Q Q + a_D (Q − E)) − S);
    E ← clip(max(E_norm, E + η± (Q − E))), η⁻ where Q < E;
    T ← clip(T + α⁺(S − T)⁺ − α⁻(T − S)⁺ + μ(T̄ − T) − shock), T̄ the neighbours' mean trust
    last week and the shock c_T · min(open conflicts of the compound, 3) · T, a share of the
    household's trust (so a long conflict lowers trust toward a fraction of S, not to zero).
    """
    hh = model.households
    s_ = _scratch(model)
    open_conflicts = model.compounds.open_conflicts
    if open_conflicts.any():
        shock = model.at(model.par("dynamics.conflict_trust_shock"), model.C) * np.minimum(open_conflicts, 3)
    else:
        shock = s_.no_conflict_shock
    kernels.update_attitudes(
        hh.performance,
        hh.satisfaction,
        hh.expectation,
        hh.trust,
        s_.old_trust,
        s_.network,
        s_.neighbours,
        shock,
        s_.compound,
        model.derived("attitude_constants", lambda: _attitude_constants(model)),
    )


def participate(model: CommunityModel, rho: np.ndarray) -> None:
    """P_i = [f_i + ρ·ask_i + β_T (T_i − ½) ≥ θ_i], f_i = share of neighbours who took part."""
    hh = model.households
    s_ = _scratch(model)
    kernels.participate(
        hh.participating,
        hh.asked,
        hh.trust,
        hh.threshold,
        s_.network,
        np.ascontiguousarray(model.each(rho)),
        model.vec("dynamics.trust_effect"),
        s_.was_participating,
        s_.neighbours,
        s_.building,
        s_.building_count,
    )
    np.divide(s_.building_count, s_.building_size, out=model.buildings.participation)
