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
    arrivals = _scratch(model).arrivals
    model.rng.standard_exponential(out=arrivals)  # the same draws as exponential(1.0, size)
    keep = 1.0 - model.cfg.dynamics.need_decay
    kernels.arrive_needs(model.households.needs, arrivals, need_rates(model), keep)


def need_rates(model: CommunityModel) -> np.ndarray:
    """This week's need arrival rates ν_ik: residents' conventions (immersion) slow disputes.

    Without conventions (``levers.immersion.conventions`` · k = 0) the household rates as set
    up, the same array every week.
    """
    factor = immersion.dispute_factor(model)
    if factor == 1.0:
        return model.household_need_rates
    cached = model.caches.get("need_rates")
    if cached is None or cached[0] != factor:
        rates = model.household_need_rates.copy()
        rates[:, DISPUTE] *= factor
        cached = model.caches["need_rates"] = (factor, rates)
    return cached[1]


def form_need_information(model: CommunityModel, added: np.ndarray | float) -> None:
    """A_b = clip(A₀ + what reporting, consultation and coordination add)."""
    a = model.buildings.need_information
    a[:] = model.cfg.dynamics.base_need_information + added
    np.clip(a, 0.0, 1.0, out=a)


class _Scratch:
    """Static indices and reusable buffers of one model, made on first use.

    The community never changes during a run, so its indices are gathered once, and the
    buffers are reused so that a step does not allocate full-size arrays.
    """

    def __init__(self, model: CommunityModel) -> None:
        c = model.community
        n, k = model.households.needs.shape
        self.n, self.k = n, k
        self.building = c.building.astype(np.intp)
        self.compound = c.compound.astype(np.intp)
        self.compound_size = np.bincount(c.compound, minlength=c.n_compounds).astype(float)
        self.household_company = c.compound_company[c.compound].astype(np.intp)
        # the row-normalised network and who has no neighbours, as the kernels read them
        weights = model._network_weights
        self.network = (weights.data, weights.indptr, weights.indices, model._isolated)
        self.demand = np.empty(k)
        self.compound_demand = np.empty((c.n_compounds, k))
        self.market_capacity = np.zeros(n)
        self.compound_market_capacity = np.empty(c.n_compounds)
        self.weight_sums = np.empty(k)
        self.compound_weight_sums = np.empty((c.n_compounds, k))
        self.served_by_category = np.empty(k)
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


def supply_and_allocate(model: CommunityModel, overlap: float, capacity_factor: float) -> None:
    """Channels supply services by category; services reach households; needs fall; Q forms.

    A household's share of category-k supply mixes need-proportional targeting (weight A_b)
    with an even spread (1 − A_b). Nobody is served more than they need; supply that finds
    no need is lost (the price of poor information).
    """
    dyn = model.cfg.dynamics
    hh = model.households
    flow = model.flow
    s = _scratch(model)
    n = s.n
    effort = (1.0 - overlap) * capacity_factor
    flow.overlap = overlap

    # market capacity per household: its compound's company, if any (quality × responsiveness)
    company_capacity = dyn.market_capacity * (model.companies.quality * model.companies.responsiveness)
    company_capacity *= effort
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
    demand = s.demand  # (K,)
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

    # market: each compound's company spends by competence × the compound's demand
    m_pref = COMPETENCE[3] * s.compound_demand
    m_tot = m_pref.sum(axis=1, keepdims=True)
    m_share = _safe_divide(m_pref, m_tot, np.empty_like(m_pref))
    m_supply = s.compound_market_capacity[:, None] * m_share * COMPETENCE[3]  # (C, K)

    kernels.allocate(
        hh.needs,
        model.buildings.need_information,
        s.building,
        s.compound,
        s.compound_size,
        demand,
        supply.sum(axis=0),
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
    offered = np.concatenate([supply, m_supply.sum(axis=0, keepdims=True)])  # (4, K)
    offered_total = offered.sum(axis=0)
    served_k = s.served_by_category
    fraction = _safe_divide(served_k, offered_total, np.empty_like(served_k))
    flow.capacity[:3] = capacity[:3]
    flow.capacity[3] = s.market_capacity.sum()
    flow.served_by_channel[:] = (offered * fraction).sum(axis=1) / n
    flow.served_by_category[:] = served_k / n
    np.multiply(offered, fraction / n, out=flow.served_matrix)


def property_and_conflicts(model: CommunityModel, chi: float, mediation: float | np.ndarray) -> None:
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
    dyn = model.cfg.dynamics
    c = model.community
    hh = model.households
    co = model.companies
    cmp = model.compounds
    s_ = _scratch(model)
    size = s_.compound_size_nonzero
    sat_c = np.bincount(c.compound, weights=hh.satisfaction, minlength=c.n_compounds) / size
    exp_c = np.bincount(c.compound, weights=hh.expectation, minlength=c.n_compounds) / size
    unrepaired = np.bincount(c.compound, weights=hh.needs[:, PROPERTY], minlength=c.n_compounds) / size
    managed = s_.managed_compounds
    committee = c.compound_owners_committee
    company = s_.company_of_managed
    patience_used = np.minimum(cmp.weeks_dissatisfied / dyn.replacement_patience, 1.0) * committee
    if c.n_companies:
        per_company = s_.compounds_served

        def company_mean(values: np.ndarray) -> np.ndarray:
            return np.bincount(company, weights=values[managed], minlength=c.n_companies) / per_company

        served_sat = company_mean(sat_c)
        fee = dyn.fee_base + c_shift(model) + dyn.fee_sensitivity * (served_sat - 0.5)
        co.fee_collection[:] = _clip01(fee)
        pressure = company_mean(unrepaired * (1.0 + dyn.owners_committee_pressure * committee))
        red = model.orgs.has_branch[c.company_org]
        co.quality += dyn.quality_adjustment * (co.fee_collection - dyn.fee_break_even)
        co.quality += dyn.quality_reversion * (co.standard - co.quality)
        co.quality += dyn.quality_response * co.fee_collection * pressure  # repairs cost money
        co.quality += dyn.replacement_risk_response * company_mean(patience_used)
        co.quality += dyn.red_property_weight * red * np.maximum(0.5 - served_sat, 0.0)
        _clip01(co.quality, max(dyn.service_floor, 0.05), 1.0)

    gap = np.zeros(c.n_compounds)
    arrears = np.zeros(c.n_compounds)
    if c.n_companies:
        gap[managed] = exp_c[managed] - co.quality[company]
        arrears[managed] = 1.0 - co.fee_collection[company]
    logit = (
        dyn.conflict_intercept
        + dyn.conflict_gap * gap
        + dyn.conflict_repairs * unrepaired
        + dyn.conflict_arrears * arrears
        - model.cfg.levers.integration.conflict_reduction * chi
    )
    organised = integration.organised_compounds(model, model.flow.intensities.get("integration", 0.0))
    if organised is not None:  # compound-level Party organisation (docs/ODD.md §7.16)
        icfg = model.cfg.levers.integration
        logit = logit - icfg.compound_conflict_reduction * organised
        mediation = np.minimum(1.0, mediation + icfg.compound_mediation * organised)
    p_start = np.where(managed, 1.0 / (1.0 + np.exp(-logit)), 0.0)
    started = model.rng.random(c.n_compounds) < p_start
    street = (cmp.conflict_weeks >= dyn.street_after_weeks) * dyn.resolution_street
    negotiation = dyn.resolution_owners_committee * committee
    legal = immersion.legal_rate(model)  # dyn.resolution_legal unless immersion's legal aid acts
    stays = (1.0 - mediation) * (1.0 - negotiation)
    stays = stays * (1.0 - legal) * (1.0 - street)
    resolved = model.rng.binomial(cmp.open_conflicts, np.clip(1.0 - stays, 0.0, 1.0))
    _attribute_settlements(model, resolved, (mediation, negotiation, legal, street))
    cmp.open_conflicts += started.astype(cmp.open_conflicts.dtype) - resolved
    model.flow.conflicts_started = float(np.count_nonzero(started))
    model.flow.conflicts_resolved = float(resolved.sum())

    # exit: owners' committees replace a company after sustained dissatisfaction
    below = managed & committee & (sat_c < dyn.replacement_threshold)
    cmp.weeks_dissatisfied[:] = np.where(below, cmp.weeks_dissatisfied + 1, 0)
    ready = below & (cmp.weeks_dissatisfied >= dyn.replacement_patience)
    vote = model.rng.random(c.n_compounds) < dyn.replacement_rate
    model.flow.company_replacements = 0.0
    if c.n_companies and (ready & vote).any():
        replaced = np.unique(c.compound_company[ready & vote])
        co.replacements[replaced] += 1
        co.standard[replaced] = model.cfg.community.company_quality
        co.quality[replaced] = model.cfg.community.company_quality
        of_replaced = np.isin(c.compound_company, replaced)
        model.flow.conflicts_resolved += float(cmp.open_conflicts[of_replaced].sum())
        model.tallies.settled[SETTLED_BY.index("replacement")] += float(cmp.open_conflicts[of_replaced].sum())
        cmp.open_conflicts[of_replaced] = 0
        cmp.weeks_dissatisfied[of_replaced] = 0
        model.flow.company_replacements = float(replaced.size)
    cmp.conflict_weeks[:] = np.where(cmp.open_conflicts > 0, cmp.conflict_weeks + 1, 0)

    # open conflicts breed disputes in proportion to what they are about
    open_compounds = cmp.open_conflicts > 0
    if open_compounds.any():
        grievance = np.clip(np.maximum(gap, 0.0) + unrepaired, 0.0, 1.0) * open_compounds
        dispute = hh.needs[:, DISPUTE]
        hh.needs[:, DISPUTE] = np.minimum(1.0, dispute + dyn.conflict_dispute_need * grievance[c.compound])


#: the channels an owner–company conflict ends through (docs/ODD.md §7.5.4, §7.13)
SETTLED_BY = ("mediation", "owners_committee", "legal", "street", "replacement")


def _attribute_settlements(model: CommunityModel, resolved: np.ndarray, rates: tuple) -> None:
    """Credit each compound's settled conflicts to the channels in proportion to their rates.

    An attribution, not a draw: which channel settled a conflict is not simulated, so the
    expected shares are kept (used only by the metrics ``settled_share_*``).
    """
    if not resolved.any():
        return
    n = resolved.size
    weights = np.stack([np.broadcast_to(np.asarray(r, dtype=np.float64), n) for r in rates])
    total = weights.sum(axis=0)
    share = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
    model.tallies.settled[: len(rates)] += share @ resolved


def c_shift(model: CommunityModel) -> float:
    """The community type's shift of fee collection (payment habits, e.g. resettled villagers)."""
    return model.cfg.community.fee_payment_shift


def _clip01(x: np.ndarray, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
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
    dyn = model.cfg.dynamics
    hh = model.households
    s_ = _scratch(model)
    open_conflicts = model.compounds.open_conflicts
    if open_conflicts.any():
        shock = dyn.conflict_trust_shock * np.minimum(open_conflicts, 3)
    else:
        shock = s_.no_conflict_shock
    constants = np.array(
        [
            dyn.satisfaction_base,
            dyn.satisfaction_performance,
            dyn.satisfaction_disconfirmation,
            dyn.satisfaction_rate,
            dyn.expectation_up,
            dyn.expectation_up * dyn.expectation_down_ratio,
            dyn.expectation_floor,
            dyn.trust_up,
            dyn.trust_up * dyn.trust_down_ratio,
            dyn.trust_neighbour,
        ]
    )
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
        constants,
    )


def participate(model: CommunityModel, rho: float) -> None:
    """P_i = [f_i + ρ·ask_i + β_T (T_i − ½) ≥ θ_i], f_i = share of neighbours who took part."""
    hh = model.households
    s_ = _scratch(model)
    kernels.participate(
        hh.participating,
        hh.asked,
        hh.trust,
        hh.threshold,
        s_.network,
        rho,
        model.cfg.dynamics.trust_effect,
        s_.was_participating,
        s_.neighbours,
        s_.building,
        s_.building_count,
    )
    np.divide(s_.building_count, s_.building_size, out=model.buildings.participation)
