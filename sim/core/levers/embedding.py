"""嵌入 Embedding: Party organisation set up "like cells" at four levels (点、线、面、体).

Coverage (what the lever builds)
    - point (点): share of buildings a Party branch covers (by building rank; a building
      leader 楼栋长 is appointed where one covers it, docs/ODD.md §7.10);
    - line (线): share of social organisations, non-public firms, property companies and
      stationed units with a branch;
    - surface (面): share of commercial areas and new business forms (新业态) covered;
    - body (体): strength of the links among branches, which is also the strength of the
      Party committee's tie to a covered organisation (used by linking's brokerage).

    Each level grows from its status-quo share toward full coverage, level = base + k(1 − base)
    at effective intensity k, in a fixed random order of buildings and organisations, so a
    higher intensity always covers a superset of what a lower one covers.

What coverage does
    1. Recruitment. In a covered building each Party member recruits with her own activity
       e_m (Beta-distributed with mean ``member_activity``, kept free: Read 2012 found members
       no more active than others). A household of building b is asked with probability
       Pr(ask) = 1 − (1 − c/|H_b|)^(Σ_m e_m), docs/design.md's 1 − (1 − c/|H_b|)^(M_b·C_b·e) with the
       members' activities summed. The lever can steer its recruitment drive toward
       "prospects" (``targeting``): households not yet taking part who would say yes, weighted
       by their civic resources. That raises participation but widens the gap between
       resource-rich and resource-poor households (pattern 6; Brady, Schlozman & Verba 1999).
    2. Need reporting. What members learn is reported upward: a building gains need
       information ``reporting`` × Pr(ask), so A_b rises only where members are active.
    3. Recognition. Covered organisations earn ``recognition`` per unit they contribute in the
       joint game of converging (汇入).

Coverage without member activity (e ≈ 0) moves nothing: no asks, no reports, only the small
recognition effect. That is the "coverage on paper" finding (pattern 7).

The ``*_base`` shares, ``contacts``, ``member_activity``, ``reporting`` and ``recognition``
describe the status quo too (the branches that already exist work the same way), so they
change the baseline; ``targeting`` (with ``prospect_judgement``) is a policy of the lever's
drive and acts in proportion to the intensity, so at intensity 0 it changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.core.levers import immersion
from sim.core.params import LeverConfig, lever_cost, param

if TYPE_CHECKING:
    from sim.core.community import Community
    from sim.core.model import CommunityModel


@dataclass
class EmbeddingConfig(LeverConfig):
    """嵌入: organisational coverage and the recruiting, reporting members it brings."""

    cost_per_unit: float = lever_cost(3.0)
    point_base: float = param(0.3, 0.0, 1.0, "share of buildings covered before the lever (point, 点)")
    line_base: float = param(
        0.2, 0.0, 1.0, "share of firms, social organisations, companies, units with a branch (line, 线)"
    )
    surface_base: float = param(
        0.1, 0.0, 1.0, "share of new business forms covered before the lever (surface, 面)"
    )
    body_base: float = param(
        0.3, 0.0, 1.0, "strength in [0, 1] of the links among branches before the lever (body, 体)"
    )
    weak_tie: float = param(
        0.3, 0.0, 1.0, "committee's tie to an organisation without a branch, relative to one with a branch"
    )
    contacts: float = param(3.0, 0.0, 50.0, "c, households an active member contacts per week")
    member_activity: float = param(
        0.3,
        0.0,
        1.0,
        "ē, mean starting activity e⁰ in [0, 1] of Party members "
        "(Beta-distributed across members; §7.10 moves e from there)",
    )
    reporting: float = param(
        0.3, 0.0, 1.0, "need information A added where every household is in a member's weekly reach"
    )
    recognition: float = param(
        0.2,
        0.0,
        5.0,
        "payoff per unit of resources contributed that a covered organisation earns by recognition",
    )
    targeting: float = param(
        0.0,
        0.0,
        1.0,
        "share in [0, 1] of the drive's asks steered to resource-rich likely participants (0: even)",
    )
    prospect_judgement: float = param(
        0.05,
        0.001,
        1.0,
        "s, spread (threshold units) of members' judgement of who would say yes when targeting",
    )
    # 派驻型、区域型、枢纽型 (docs/ODD.md §7.19): three ways to reach the line's units; 0 = not in use
    stationed: float = param(
        0.0, 0.0, 1.0, "share of line units without a branch given a stationed organisation at intensity 1"
    )
    regional: float = param(
        0.0,
        0.0,
        1.0,
        "share of the line units still without one reached by a regional organisation at intensity 1",
    )
    hub: float = param(
        0.0,
        0.0,
        1.0,
        "share of the line units still without one reached through a hub organisation at intensity 1",
    )
    regional_depth: float = param(
        0.6, 0.0, 1.0, "depth of a regional organisation's reach relative to a unit's own branch"
    )
    hub_depth: float = param(
        0.3, 0.0, 1.0, "depth of a hub organisation's reach relative to a unit's own branch"
    )
    unit_members: float = param(
        0.5,
        0.0,
        1.0,
        "share of the own members regional and hub work needs that a unit has (stationed needs none)",
    )
    stationed_cost: float = param(
        0.05, 0.0, 1.0, "share of the work team W one stationed organisation costs, per 1,000 households"
    )
    regional_cost: float = param(
        0.02, 0.0, 1.0, "share of the work team W one unit reached regionally costs, per 1,000 households"
    )
    hub_cost: float = param(
        0.005, 0.0, 1.0, "share of the work team W one unit reached through a hub costs, per 1,000 households"
    )
    # 社区兜底管理 (docs/ODD.md §7.18); 0 = not in use
    duty: float = param(
        0.0, 0.0, 1.0, "share of the units no branch covers that the community takes on at intensity 1"
    )
    duty_cost: float = param(
        0.05, 0.0, 1.0, "share of the work team W a unit taken on costs, per 1,000 households"
    )
    # 织密组织网络 (docs/ODD.md §7.17); status quo like recognition; 0 = not in use
    network_coordination: float = param(
        0.0,
        0.0,
        1.0,
        "w_D, share of the joint game's coordination cost removed per unit of branch-network density",
    )


LINE_KINDS = ("SOCIAL_ORG", "ENTERPRISE", "PROPERTY_COMPANY", "STATIONED_UNIT")


def coverage_levels(cfg: EmbeddingConfig, k: float) -> tuple[float, float, float, float]:
    """Point, line, surface and body coverage at effective intensity ``k``."""
    return (
        _grow(cfg.point_base, k),
        _grow(cfg.line_base, k),
        _grow(cfg.surface_base, k),
        _grow(cfg.body_base, k),
    )


def update_coverage(model: CommunityModel, k: np.ndarray) -> None:
    """Set which buildings and organisations are covered at effective intensity ``k``.

    Coverage depends on nothing but ``k`` and the fixed community, and ``k`` rarely changes
    from week to week, so each member's last result is kept and copied in again while its
    ``k`` stays (``caches["coverage"]``, an :class:`_EnsembleCoverage`).
    """
    cached = model.caches.get("coverage")
    if cached is None or not (cached.intensity == k).all():
        cached = model.caches["coverage"] = _EnsembleCoverage.update(model, k, cached)
    model.buildings.covered[:] = cached.covered
    model.orgs.has_branch[:] = cached.has_branch
    model.orgs.tie[:] = cached.tie
    flow = model.flows
    flow.coverage_point[:] = cached.levels[:, 0]
    flow.coverage_line[:] = cached.levels[:, 1]
    flow.coverage_surface[:] = cached.levels[:, 2]
    flow.coverage_body[:] = cached.levels[:, 3]
    flow.uncovered_units[:] = cached.uncovered
    per_thousand = model.N / 1000.0
    forms = cached.forms_on
    if forms.any():  # 派驻型、区域型、枢纽型 (§7.19): reach and its cost
        model.orgs.depth[:] = cached.depth
        counts = cached.counts
        flow.line_stationed[:] = counts[:, 0]
        flow.line_regional[:] = counts[:, 1]
        flow.line_hub[:] = counts[:, 2]
        par = model.par
        costs = (
            par("levers.embedding.stationed_cost"),
            par("levers.embedding.regional_cost"),
            par("levers.embedding.hub_cost"),
        )
        cost = sum(c * counts[:, i] for i, c in enumerate(costs)) / per_thousand
        flow.effective_capacity[:] = np.where(
            forms, np.maximum(0.0, flow.effective_capacity - cost), flow.effective_capacity
        )
    flow.duty_units[:] = cached.duty
    duty = cached.duty != 0
    if duty.any():  # the units taken on cost the work team's capacity (§7.18)
        cost = model.par("levers.embedding.duty_cost") * cached.duty / per_thousand
        flow.effective_capacity[:] = np.where(
            duty, np.maximum(0.0, flow.effective_capacity - cost), flow.effective_capacity
        )


@dataclass(frozen=True)
class _EnsembleCoverage:
    """Every member's coverage at its intensity, and the ensemble's arrays put together."""

    intensity: np.ndarray  # per member
    each: list[_Coverage]
    covered: np.ndarray  # per building of the ensemble
    has_branch: np.ndarray  # per organisation of the ensemble
    tie: np.ndarray
    depth: np.ndarray  # 0 for the members without the line's forms
    levels: np.ndarray  # (M, 4)
    uncovered: np.ndarray  # (M,)
    duty: np.ndarray  # (M,)
    forms_on: np.ndarray  # (M,) bool: stationed, regional or hub organisations reach units
    counts: np.ndarray  # (M, 3) line units reached by each of them

    @staticmethod
    def update(model: CommunityModel, k: np.ndarray, last: _EnsembleCoverage | None) -> _EnsembleCoverage:
        """Recompute the members whose intensity changed; keep the others' coverage."""
        k = k.copy()
        each = [
            last.each[m]
            if last is not None and last.intensity[m] == k[m]
            else _coverage(model.configs[m].levers.embedding, model.communities[m], float(k[m]))
            for m in range(model.n_members)
        ]
        depth = [
            c.depth if c.depth is not None else np.zeros(c.has_branch.size, dtype=np.float64) for c in each
        ]
        return _EnsembleCoverage(
            intensity=k,
            each=each,
            covered=np.concatenate([c.covered for c in each]),
            has_branch=np.concatenate([c.has_branch for c in each]),
            tie=np.concatenate([c.tie for c in each]),
            depth=np.concatenate(depth),
            levels=np.array([c.levels for c in each], dtype=np.float64),
            uncovered=np.array([c.uncovered for c in each], dtype=np.float64),
            duty=np.array([c.duty for c in each], dtype=np.float64),
            forms_on=np.array([c.forms is not None for c in each]),
            counts=np.array([c.forms.counts() if c.forms else (0, 0, 0) for c in each], dtype=np.float64),
        )


@dataclass(frozen=True)
class _Coverage:
    intensity: float
    covered: np.ndarray  # per building
    has_branch: np.ndarray  # per organisation
    tie: np.ndarray  # per organisation
    levels: tuple[float, float, float, float]  # point, line, surface, body shares reached
    uncovered: int  # firms, social organisations, companies, units and new business forms without a branch
    duty: int  # of them, units the community took on itself (社区兜底管理)
    forms: _LineForms | None  # line units reached by stationed, regional and hub organisations
    depth: np.ndarray | None  # per organisation, depth of the Party's reach (None: has_branch)


def _coverage(cfg: EmbeddingConfig, c: Community, k: float) -> _Coverage:
    """One member's coverage at effective intensity ``k`` (its own community's indices)."""
    from sim.core.community import OrgKind

    point, line, surface, body = coverage_levels(cfg, k)
    covered = c.building_rank < point

    kind = c.org_kind
    level = np.full(kind.size, point)  # owners' committees follow the buildings
    for name in LINE_KINDS:
        level[kind == OrgKind[name]] = line
    level[kind == OrgKind.NEW_BUSINESS] = surface
    # The committee itself, the residents' committee and street departments always have one.
    always = (
        (kind == OrgKind.PARTY_COMMITTEE)
        | (kind == OrgKind.RESIDENTS_COMMITTEE)
        | (kind == OrgKind.STREET_DEPARTMENT)
    )
    has_branch = always | (c.org_rank < level)
    lines = np.isin(kind, [OrgKind[name] for name in LINE_KINDS])
    surf = kind == OrgKind.NEW_BUSINESS
    forms = _line_forms(cfg, k, lines & ~has_branch, c.org_rank)
    if forms is not None:
        has_branch = has_branch | forms.stationed
    # 社区兜底管理 (§7.18): the community takes on part of the units nobody else covers
    taken = np.zeros(kind.size, dtype=bool)
    if cfg.duty > 0 and k > 0:
        unowned = np.flatnonzero((lines | surf) & ~has_branch & ~_reached(forms))
        unowned = unowned[np.argsort(c.org_rank[unowned], kind="stable")]
        from sim.core.community import count_of

        taken[unowned[: count_of(cfg.duty * k, unowned.size)]] = True
        has_branch = has_branch | taken
    # The committee's tie to an organisation: the body level through a branch, weaker without.
    tie = body * np.where(has_branch, 1.0, cfg.weak_tie)
    depth = None
    if forms is not None:  # regional and hub reach: shallower than a branch of the unit's own
        depth = has_branch.astype(np.float64)
        depth[forms.regional] = cfg.regional_depth * cfg.unit_members
        depth[forms.hub] = cfg.hub_depth * cfg.unit_members
        tie = body * np.maximum(depth, cfg.weak_tie)

    coverage_point = float(covered.mean()) if c.n_buildings else 0.0
    coverage_line = float(has_branch[lines].mean()) if lines.any() else line
    coverage_surface = float(has_branch[surf].mean()) if surf.any() else surface
    uncovered = int(np.count_nonzero((lines | surf) & ~has_branch & ~_reached(forms)))
    return _Coverage(
        k,
        covered,
        has_branch,
        tie,
        (coverage_point, coverage_line, coverage_surface, body),
        uncovered,
        int(np.count_nonzero(taken)),
        forms,
        depth,
    )


@dataclass(frozen=True)
class _LineForms:
    """Line units reached by each kind of organisation (派驻型、区域型、枢纽型)."""

    stationed: np.ndarray  # bool per organisation: a stationed organisation, as deep as a branch
    regional: np.ndarray  # bool: one regional organisation for several small units
    hub: np.ndarray  # bool: through an umbrella association

    def counts(self) -> tuple[int, int, int]:
        return (
            int(np.count_nonzero(self.stationed)),
            int(np.count_nonzero(self.regional)),
            int(np.count_nonzero(self.hub)),
        )


def _line_forms(
    cfg: EmbeddingConfig, k: float, open_units: np.ndarray, rank: np.ndarray
) -> _LineForms | None:
    """Stationed first, then regional, then hub, each a share of the line units still open."""
    if k <= 0 or not (cfg.stationed or cfg.regional or cfg.hub):
        return None
    from sim.core.community import count_of

    left = np.flatnonzero(open_units)
    left = left[np.argsort(rank[left], kind="stable")]
    out = []
    for share in (cfg.stationed, cfg.regional, cfg.hub):
        reached = np.zeros(open_units.size, dtype=bool)
        n = count_of(share * k, left.size)
        reached[left[:n]] = True
        left = left[n:]
        out.append(reached)
    return _LineForms(*out)


def _reached(forms: _LineForms | None) -> np.ndarray | np.bool_:
    """Units the regional or hub forms reach (they have no branch of their own)."""
    return np.False_ if forms is None else forms.regional | forms.hub


def reach(model: CommunityModel) -> np.ndarray:
    """Per building: Pr(a household is contacted by an active member this week)."""
    c = model.community
    recruiters = np.bincount(c.building, weights=model.households.activity, minlength=c.n_buildings)
    recruiters *= model.buildings.covered
    share = np.minimum(
        1.0, model.at(model.par("levers.embedding.contacts"), model.B) / np.maximum(c.building_size, 1)
    )
    return 1.0 - (1.0 - share) ** recruiters


def reporting(model: CommunityModel) -> np.ndarray:
    """Need information each building gains from members' reports (uses this week's reach)."""
    return model.at(model.par("levers.embedding.reporting"), model.B) * model.buildings.reach


def recruit(model: CommunityModel) -> None:
    """Members in covered buildings ask neighbours to take part; sets ``households.asked``.

    Untargeted, every household of building b is asked with Pr(ask_b). With targeting t at
    intensity k the chance is scaled by (1 − kt) + kt · w_i / w̄_b, which keeps the building's
    expected asks (up to the cap at 1) and moves them to "prospects" (Brady, Schlozman & Verba
    1999): households not yet taking part who would say yes if asked, weighted by the civic
    resources that make them effective. w_i = (1 − P_i) · σ((f_i + ρ + β_T(T_i − ½) − θ_i)/s) · r_i,
    from last week's state, s being ``prospect_judgement``.
    """
    from sim.core import dynamics

    hh = model.households
    c = model.community
    n = model.N
    b = c.building
    p = model.buildings.reach[b]
    t = model.par("levers.embedding.targeting") * model.intensity("embedding")
    targeting = t > 0
    if targeting.any():
        spread = model.at(t, n)
        weight = (1.0 - spread) + spread * _relative_to_building(model, _prospect_score(model))
        targeted = np.minimum(1.0, p * weight)
        p = targeted if targeting.all() else np.where(model.at(targeting, n), targeted, p)
    hh.asked[:] = dynamics.uniforms(model, n) < p
    model.flows.asks[:] = model.count(hh.asked) / n


def _prospect_score(model: CommunityModel) -> np.ndarray:
    """How good a prospect each household is for a member who knows the building."""
    par, at, n = model.par, model.at, model.N
    hh = model.households
    rho = immersion.recruitment_effect(model, model.intensity("immersion"))
    neighbours = model.neighbour_mean(hh.participating.astype(np.float64))
    margin = (
        neighbours + model.at(rho, n) + at(par("dynamics.trust_effect"), n) * (hh.trust - 0.5) - hh.threshold
    )
    # logistic σ
    would_say_yes = 0.5 * (1.0 + np.tanh(0.5 * margin / at(par("levers.embedding.prospect_judgement"), n)))
    return (~hh.participating) * would_say_yes * hh.civic_resources


def _relative_to_building(model: CommunityModel, score: np.ndarray) -> np.ndarray:
    """Each household's score over its building's mean score (1 where the mean is 0)."""
    c = model.community
    mean = np.bincount(c.building, weights=score, minlength=c.n_buildings)
    mean /= np.maximum(c.building_size, 1)
    mean_hh = mean[c.building]
    return np.divide(score, mean_hh, out=np.ones_like(score), where=mean_hh > 1e-12)


def _grow(base: float, k: float) -> float:
    return base + k * (1.0 - base)


def network_density(model: CommunityModel) -> np.ndarray:
    """D = body · c², c the share of the joint game's players with a branch (织密组织网络), per member.

    The share of pairs of players that both have a branch, times the strength of the links
    among branches (the body level): how densely the organisations are tied through the Party.
    """
    from sim.core.levers import converging

    players = converging.players_mask(model)
    count = model.count(players)
    covered = np.divide(
        model.count(model.orgs.has_branch & players), count, out=np.zeros(count.size), where=count > 0
    )
    return model.flows.coverage_body * covered * covered
