"""The synthetic community: compounds → buildings → households, the social network,
property companies and organisations of every kind.

Everything here is built with vectorised numpy from one random generator (the structure seed,
``community.seed``), so a community is O(households + ties) to make and the same seed always
gives the same community. Counts come from the configuration by largest remainder; the
generator only places households, ties and members.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import scipy.sparse as sp

from sim.core.config import PROFILES, CommunityConfig


class OrgKind(IntEnum):
    """Kinds of organisation in the community (docs/design.md §1)."""

    PARTY_COMMITTEE = 0  # 社区党委, with its branches
    RESIDENTS_COMMITTEE = 1  # 居委会
    OWNERS_COMMITTEE = 2  # 业委会, one per compound where formed
    PROPERTY_COMPANY = 3  # 物业公司, also a PropertyCompany agent
    SOCIAL_ORG = 4  # 社会组织
    ENTERPRISE = 5  # 非公企业
    NEW_BUSINESS = 6  # 新业态: commercial areas, internet platforms
    STATIONED_UNIT = 7  # 驻区单位: public institutions stationed in the area
    STREET_DEPARTMENT = 8  # 街道部门 sinking down


# The converging lever's three directions (汇入: 纵向, 横向, 外向).
ORG_GROUP = {
    OrgKind.PARTY_COMMITTEE: "vertical",
    OrgKind.STREET_DEPARTMENT: "vertical",
    OrgKind.RESIDENTS_COMMITTEE: "horizontal",
    OrgKind.OWNERS_COMMITTEE: "horizontal",
    OrgKind.PROPERTY_COMPANY: "horizontal",
    OrgKind.STATIONED_UNIT: "horizontal",
    OrgKind.SOCIAL_ORG: "outward",
    OrgKind.ENTERPRISE: "outward",
    OrgKind.NEW_BUSINESS: "outward",
}

# Weekly resources an organisation of each kind can put into joint work (budget units).
ORG_RESOURCES = {
    OrgKind.PARTY_COMMITTEE: 0.0,  # it convenes; it does not play the contribution game
    OrgKind.RESIDENTS_COMMITTEE: 1.0,
    OrgKind.OWNERS_COMMITTEE: 0.3,
    OrgKind.PROPERTY_COMPANY: 1.0,
    OrgKind.SOCIAL_ORG: 0.8,
    OrgKind.ENTERPRISE: 1.2,
    OrgKind.NEW_BUSINESS: 0.6,
    OrgKind.STATIONED_UNIT: 1.5,
    OrgKind.STREET_DEPARTMENT: 2.0,
}


@dataclass
class Community:
    """The static make-up of one community plus the initial values of its state."""

    # households, one row each
    building: np.ndarray  # int32, building index
    compound: np.ndarray  # int32, compound index
    profile: np.ndarray  # int8, index into config.PROFILES
    is_member: np.ndarray  # bool, Party-member household (党员户)
    is_leader: np.ndarray  # bool, member acting as building leader (楼栋长)
    activity: np.ndarray  # float64, member's propensity to recruit and report (0 for non-members)
    civic_resources: np.ndarray  # float64 in [0, 1]
    threshold_base: np.ndarray  # float64, θ̃ ~ N(μ_θ, σ_θ) before resources
    threshold_draw: np.ndarray  # float64, the standard-normal draw behind θ̃ (for re-scaling σ)
    trust: np.ndarray
    satisfaction: np.ndarray
    expectation: np.ndarray
    network: sp.csr_matrix  # symmetric 0/1 adjacency, float64
    # buildings
    building_compound: np.ndarray  # int32
    building_size: np.ndarray  # int32 households
    building_rank: np.ndarray  # float64 in [0, 1): order in which levers reach buildings
    # compounds
    compound_company: np.ndarray  # int32 company index, -1 where unmanaged
    compound_owners_committee: np.ndarray  # bool
    # property companies
    company_quality: np.ndarray  # float64
    company_org: np.ndarray  # int32 row in the organisation table
    # organisations
    org_kind: np.ndarray  # int8 OrgKind
    org_resources: np.ndarray  # float64 weekly resources
    org_compound: np.ndarray  # int32 compound (-1 if community-wide)
    org_rank: np.ndarray  # float64 in [0, 1): order in which embedding reaches organisations
    # households whose head is young (under 35): the Youth League's constituency (immersion)
    young: np.ndarray | None = None  # bool; from a generator of its own (see _place_youth)

    @property
    def n_households(self) -> int:
        return int(self.building.size)

    @property
    def n_buildings(self) -> int:
        return int(self.building_compound.size)

    @property
    def n_compounds(self) -> int:
        return int(self.compound_company.size)

    @property
    def n_companies(self) -> int:
        return int(self.company_quality.size)

    @property
    def n_orgs(self) -> int:
        return int(self.org_kind.size)


def largest_remainder(shares: np.ndarray | list[float], total: int) -> np.ndarray:
    """Integer counts that sum to ``total`` in proportion to ``shares`` (Hamilton's method).

    Each part gets the floor of its quota; the units left over go to the largest remainders,
    ties to the earlier part. Deterministic: the structure of a community type does not depend
    on any random draw.
    """
    weights = np.clip(np.asarray(shares, dtype=np.float64), 0.0, None)
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(weights.size, dtype=np.int64)
    quota = weights / weights.sum() * total
    counts = np.floor(quota + 1e-9).astype(np.int64)
    left = int(total - counts.sum())
    if left > 0:
        order = np.argsort(-(quota - counts), kind="stable")
        counts[order[:left]] += 1
    return counts


def count_of(share: float, total: int) -> int:
    """How many of ``total`` items a ``share`` stands for, by largest remainder."""
    return int(largest_remainder([share, 1.0 - share], total)[0])


def build_community(
    cfg: CommunityConfig, threshold_mean: float, threshold_sd: float, rng: np.random.Generator
) -> Community:
    """Make a community of the given make-up; ``rng`` (the structure seed's) only places things.

    Every count is fixed by the configuration (largest remainder): building sizes, profiles,
    Party-member households and building leaders, managed compounds, owners' committees and
    organisations. The generator decides only where they are (which household, building or
    compound), the household traits (civic resources, thresholds, initial attitudes), the
    network's ties and the companies' and organisations' endowments.

    Thresholds are drawn from N(threshold_mean, threshold_sd) via a stored standard-normal
    draw, so that a sweep over σ_θ with the same seed rescales the same households' thresholds
    (common random numbers).
    """
    n_buildings = cfg.n_compounds * cfg.buildings_per_compound
    building_compound = np.repeat(np.arange(cfg.n_compounds, dtype=np.int32), cfg.buildings_per_compound)
    # sizes evenly spread over [lo, hi] (a fixed total), placed at random among the buildings
    building_size = rng.permutation(_building_sizes(cfg))
    building = np.repeat(np.arange(n_buildings, dtype=np.int32), building_size)
    compound = building_compound[building]
    n = building.size

    profile = _place_profiles(cfg, n, rng)
    is_member = np.zeros(n, dtype=bool)
    is_member[rng.permutation(n)[: count_of(cfg.party_share, n)]] = True
    members = np.flatnonzero(is_member)
    is_leader = np.zeros(n, dtype=bool)
    is_leader[rng.permutation(members)[: count_of(cfg.building_leader_share, members.size)]] = True
    activity_draw = rng.random(n)  # rescaled into activities by the model (member_activity)
    r_mean = cfg.civic_resources_mean
    concentration = 5.0
    civic = rng.beta(r_mean * concentration, (1 - r_mean) * concentration, size=n)
    threshold_draw = rng.standard_normal(n)
    threshold_base = threshold_mean + threshold_sd * threshold_draw

    def around(mean_value: float, spread: float = 0.1) -> np.ndarray:
        return np.clip(mean_value + spread * rng.standard_normal(n), 0.0, 1.0)

    trust = around(cfg.initial_trust)
    satisfaction = around(cfg.initial_satisfaction)
    expectation = around(cfg.initial_expectation)

    network = build_network(building, compound, building_size, cfg, rng)

    # Compounds: a fixed number managed and with owners' committees, placed at random. Owners'
    # committees form first where a company serves (they are owners' bodies facing a company).
    order = rng.permutation(cfg.n_compounds)
    managed = np.zeros(cfg.n_compounds, dtype=bool)
    managed[order[: count_of(cfg.property_managed_share, cfg.n_compounds)]] = True
    by_management = order[np.argsort(~managed[order], kind="stable")]
    owners_committee = np.zeros(cfg.n_compounds, dtype=bool)
    owners_committee[by_management[: count_of(cfg.owners_committee_share, cfg.n_compounds)]] = True
    managed_idx = np.flatnonzero(managed)
    company_of_managed = (np.arange(managed_idx.size) // cfg.compounds_per_company).astype(np.int32)
    compound_company = np.full(cfg.n_compounds, -1, dtype=np.int32)
    compound_company[managed_idx] = company_of_managed
    n_companies = int(company_of_managed.max()) + 1 if managed_idx.size else 0
    company_quality = np.clip(cfg.company_quality + 0.1 * rng.standard_normal(n_companies), 0.05, 1.0)

    org_kind, org_compound = _organisations(cfg, n, owners_committee, n_companies, compound_company)
    org_resources = np.array([ORG_RESOURCES[OrgKind(k)] for k in org_kind], dtype=np.float64)
    org_resources *= rng.uniform(0.5, 1.5, size=org_kind.size)
    org_resources[org_kind == OrgKind.PARTY_COMMITTEE] = 0.0
    company_org = np.flatnonzero(org_kind == OrgKind.PROPERTY_COMPANY).astype(np.int32)

    return Community(
        building=building,
        compound=compound,
        profile=profile,
        is_member=is_member,
        is_leader=is_leader,
        activity=np.where(is_member, activity_draw, 0.0),
        civic_resources=civic,
        threshold_base=threshold_base,
        threshold_draw=threshold_draw,
        trust=trust,
        satisfaction=satisfaction,
        expectation=expectation,
        network=network,
        building_compound=building_compound,
        building_size=building_size,
        building_rank=rng.random(n_buildings),
        compound_company=compound_company,
        compound_owners_committee=owners_committee,
        company_quality=company_quality,
        company_org=company_org,
        org_kind=org_kind,
        org_resources=org_resources,
        org_compound=org_compound,
        org_rank=rng.random(org_kind.size),
        young=_place_youth(cfg, profile),
    )


@dataclass(frozen=True)
class CommunityShape:
    """The sizes of a community's arrays, fixed by its configuration alone (no draw)."""

    households: int
    buildings: int
    compounds: int
    companies: int
    orgs: int


def community_shape(cfg: CommunityConfig) -> CommunityShape:
    """The shape :func:`build_community` gives ``cfg``, without building it.

    Every count in a community is fixed by its configuration (largest remainder), so members
    of an ensemble can be grouped by shape before anything is built (docs/design.md §9).
    """
    n = int(_building_sizes(cfg).sum())
    managed = count_of(cfg.property_managed_share, cfg.n_compounds)
    companies = -(-managed // cfg.compounds_per_company)
    committees = count_of(cfg.owners_committee_share, cfg.n_compounds)
    rates = (
        cfg.social_orgs_per_1000,
        cfg.enterprises_per_1000,
        cfg.new_business_per_1000,
        cfg.stationed_units_per_1000,
    )
    # the Party committee and the residents' committee, then the kinds _organisations adds
    orgs = 2 + committees + companies + sum(_org_count(r, n) for r in rates) + cfg.street_departments
    return CommunityShape(n, cfg.n_compounds * cfg.buildings_per_compound, cfg.n_compounds, companies, orgs)


def _building_sizes(cfg: CommunityConfig) -> np.ndarray:
    """Building sizes evenly spread over mean × (1 ± spread), in order (a fixed total)."""
    n_buildings = cfg.n_compounds * cfg.buildings_per_compound
    mean = cfg.households_per_building
    lo = max(1, round(mean * (1 - cfg.building_size_spread)))
    hi = max(lo, round(mean * (1 + cfg.building_size_spread)))
    evenly = lo + np.floor((hi - lo + 1) * (np.arange(n_buildings) + 0.5) / max(n_buildings, 1))
    return np.minimum(evenly, hi).astype(np.int32)


def _org_count(rate: float, n_households: int) -> int:
    """Organisations of a kind at ``rate`` per 1,000 households: at least one where the rate is positive."""
    return max(1, round(rate * (n_households / 1000.0))) if rate > 0 else 0


def _place_youth(cfg: CommunityConfig, profile: np.ndarray) -> np.ndarray:
    """Exactly ``young_share`` of the non-elderly households are young, placed at random.

    Drawn from a generator of its own, seeded from the structure seed with a fixed tag, so
    that adding the trait moved none of the structure generator's draws (docs/ODD.md §7.13).
    """
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, _YOUTH_TAG]))
    eligible = np.flatnonzero(profile != PROFILES.index("elderly"))
    young = np.zeros(profile.size, dtype=bool)
    young[rng.permutation(eligible)[: count_of(cfg.young_share, eligible.size)]] = True
    return young


_YOUTH_TAG = 0x594F555448  # "YOUTH": the youth trait's stream, apart from the structure's


def _place_profiles(cfg: CommunityConfig, n: int, rng: np.random.Generator) -> np.ndarray:
    """Exactly the type's number of elderly, family and worker households, placed at random."""
    shares = [cfg.elderly_share, cfg.family_share, 1.0 - cfg.elderly_share - cfg.family_share]
    counts = largest_remainder(shares, n)
    profile = np.repeat(np.arange(len(PROFILES), dtype=np.int8), counts)
    return rng.permutation(profile)


def build_network(
    building: np.ndarray,
    compound: np.ndarray,
    building_size: np.ndarray,
    cfg: CommunityConfig,
    rng: np.random.Generator,
) -> sp.csr_matrix:
    """A clustered small-world network (Watts & Strogatz 1998), built without Python loops.

    Inside each building, households sit on a ring and know their ``ring_degree`` nearest
    neighbours (dense, clustered ties). Each household also starts Poisson-many ties to
    random households of other buildings of its compound, and fewer to other compounds
    (the short cuts). Ties are symmetric; duplicates and self-ties are dropped.
    """
    n = building.size
    starts = np.concatenate(([0], np.cumsum(building_size)[:-1]))
    position = np.arange(n) - starts[building]
    size = building_size[building]
    rows, cols = [], []
    for offset in range(1, cfg.ring_degree // 2 + 1):
        # Only link when the building is big enough for this offset to be a distinct neighbour.
        ok = size > offset
        src = np.flatnonzero(ok)
        dst = starts[building[src]] + (position[src] + offset) % size[src]
        rows.append(src)
        cols.append(dst)

    # Same compound, other buildings (or anywhere in the compound: a few land in the own building).
    compound_sizes = np.bincount(compound, minlength=int(compound.max()) + 1)
    compound_starts = np.concatenate(([0], np.cumsum(compound_sizes)[:-1]))
    k_near = rng.poisson(cfg.cross_building_ties, size=n)
    src = np.repeat(np.arange(n), k_near)
    c = compound[src]
    dst = compound_starts[c] + (rng.random(src.size) * compound_sizes[c]).astype(np.int64)
    rows.append(src)
    cols.append(dst)

    k_far = rng.poisson(cfg.cross_compound_ties, size=n)
    src = np.repeat(np.arange(n), k_far)
    dst = rng.integers(0, n, size=src.size)
    rows.append(src)
    cols.append(dst)

    r = np.concatenate(rows)
    c = np.concatenate(cols)
    keep = r != c
    r, c = r[keep], c[keep]
    data = np.ones(2 * r.size)
    adj = sp.coo_matrix((data, (np.concatenate((r, c)), np.concatenate((c, r)))), shape=(n, n))
    adj = adj.tocsr()
    adj.sum_duplicates()
    adj.data[:] = 1.0  # duplicates summed to 2; a tie is a tie
    return adj


def _organisations(
    cfg: CommunityConfig,
    n_households: int,
    owners_committee: np.ndarray,
    n_companies: int,
    compound_company: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Kinds and compounds of every organisation, in a fixed order of kinds."""

    def count(rate: float) -> int:
        return _org_count(rate, n_households)

    kinds: list[np.ndarray] = []
    compounds: list[np.ndarray] = []

    def add(kind: OrgKind, number: int, where: np.ndarray | None = None) -> None:
        kinds.append(np.full(number, kind, dtype=np.int8))
        compounds.append(np.full(number, -1, dtype=np.int32) if where is None else where.astype(np.int32))

    add(OrgKind.PARTY_COMMITTEE, 1)
    add(OrgKind.RESIDENTS_COMMITTEE, 1)
    oc = np.flatnonzero(owners_committee)
    add(OrgKind.OWNERS_COMMITTEE, oc.size, oc)
    first_compound = np.full(n_companies, -1, dtype=np.int32)
    managed = np.flatnonzero(compound_company >= 0)
    # the first compound each company serves (for maps); companies are in compound order
    _, first = np.unique(compound_company[managed], return_index=True)
    first_compound[: first.size] = managed[first]
    add(OrgKind.PROPERTY_COMPANY, n_companies, first_compound)
    add(OrgKind.SOCIAL_ORG, count(cfg.social_orgs_per_1000))
    add(OrgKind.ENTERPRISE, count(cfg.enterprises_per_1000))
    add(OrgKind.NEW_BUSINESS, count(cfg.new_business_per_1000))
    add(OrgKind.STATIONED_UNIT, count(cfg.stationed_units_per_1000))
    add(OrgKind.STREET_DEPARTMENT, cfg.street_departments)
    return np.concatenate(kinds), np.concatenate(compounds)


def clustering_coefficient(adj: sp.csr_matrix) -> float:
    """Mean local clustering coefficient of a 0/1 symmetric adjacency matrix."""
    a = adj.astype(np.float64)
    triangles = np.asarray((a @ a).multiply(a).sum(axis=1)).ravel() / 2.0
    degree = np.asarray(a.sum(axis=1)).ravel()
    pairs = degree * (degree - 1) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        local = np.where(pairs > 0, triangles / pairs, 0.0)
    return float(local.mean())
