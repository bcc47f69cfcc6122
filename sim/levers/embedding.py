"""嵌入 Embedding: Party organisation set up "like cells" at four levels.

- point (点): buildings with a Party branch or building leader;
- line (线): social organisations, non-public firms, property companies and stationed units
  with a branch;
- surface (面): commercial areas and new business forms covered by the community;
- body (体): links among branches, the strength of the Party committee's ties.

Effects. In a covered building each Party member recruits with her own activity e_m; a
household is contacted with probability 1 − (1 − c/|H_b|)^(Σ_m e_m), which is MODEL.md's
1 − (1 − c/|H_b|)^(M_b · C_b · e) with the members' activities summed. Contacted households
are asked to take part, and what members learn is reported upward, raising need information
A_b. Covered organisations earn recognition in the joint game (see converging). Coverage
without member activity (e ≈ 0) moves nothing: that is the "coverage on paper" finding.

Coverage grows with intensity from its status-quo level toward full coverage, in a fixed
random order of buildings and organisations, so higher intensity always covers a superset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.params import LeverConfig, param

if TYPE_CHECKING:
    from sim.model import CommunityModel


@dataclass
class EmbeddingConfig(LeverConfig):
    """嵌入: organisational coverage and the recruiting, reporting members it brings."""

    cost_per_unit: float = param(3.0, 0.0, 1e6, "weekly cost per 1,000 households at intensity 1")
    point_base: float = param(0.3, 0.0, 1.0, "share of buildings covered before the lever (point)")
    line_base: float = param(0.2, 0.0, 1.0, "share of organisations with a branch before the lever (line)")
    surface_base: float = param(0.1, 0.0, 1.0, "share of new business forms covered before the lever")
    body_base: float = param(0.3, 0.0, 1.0, "strength of ties among branches before the lever (body)")
    contacts: float = param(3.0, 0.0, 50.0, "c, households an active member contacts per week")
    member_activity: float = param(
        0.3, 0.0, 1.0, "e, mean activity of Party members (Beta-distributed across members)"
    )
    reporting: float = param(
        0.3, 0.0, 1.0, "need information added where every household is in a member's reach"
    )
    recognition: float = param(
        0.2,
        0.0,
        5.0,
        "payoff per unit contributed that a covered organisation earns by recognition",
    )
    targeting: float = param(
        0.0,
        0.0,
        1.0,
        "how far asks go to resource-rich, likely participants (0 even, 1 proportional)",
    )


LINE_KINDS = ("SOCIAL_ORG", "ENTERPRISE", "PROPERTY_COMPANY", "STATIONED_UNIT")


def update_coverage(model: CommunityModel, k: float) -> None:
    """Set which buildings and organisations are covered at effective intensity ``k``."""
    from sim.community import OrgKind

    cfg = model.cfg.levers.embedding
    point = _grow(cfg.point_base, k)
    line = _grow(cfg.line_base, k)
    surface = _grow(cfg.surface_base, k)
    body = _grow(cfg.body_base, k)
    c = model.community
    model.buildings.covered[:] = c.building_rank < point

    kind = c.org_kind
    level = np.full(kind.size, point)  # owners' committees follow the buildings
    for name in LINE_KINDS:
        level[kind == OrgKind[name]] = line
    level[kind == OrgKind.NEW_BUSINESS] = surface
    always = (
        (kind == OrgKind.PARTY_COMMITTEE)
        | (kind == OrgKind.RESIDENTS_COMMITTEE)
        | (kind == OrgKind.STREET_DEPARTMENT)
    )
    model.orgs.has_branch[:] = always | (c.org_rank < level)
    # The committee's tie to an organisation: strong through a branch, weak otherwise.
    model.orgs.tie[:] = np.where(model.orgs.has_branch, body, 0.5 * body * (1.0 - body))

    flow = model.flow
    flow.coverage_point = float(model.buildings.covered.mean()) if c.n_buildings else 0.0
    lines = np.isin(kind, [OrgKind[name] for name in LINE_KINDS])
    flow.coverage_line = float(model.orgs.has_branch[lines].mean()) if lines.any() else line
    surf = kind == OrgKind.NEW_BUSINESS
    flow.coverage_surface = float(model.orgs.has_branch[surf].mean()) if surf.any() else surface
    flow.coverage_body = body


def reach(model: CommunityModel) -> np.ndarray:
    """Per building: chance that a household is contacted by an active member this week."""
    cfg = model.cfg.levers.embedding
    c = model.community
    recruiters = np.bincount(c.building, weights=model.households.activity, minlength=c.n_buildings)
    recruiters *= model.buildings.covered
    share = np.minimum(1.0, cfg.contacts / np.maximum(c.building_size, 1))
    return 1.0 - (1.0 - share) ** recruiters


def reporting(model: CommunityModel) -> np.ndarray:
    """Need information each building gains from members' reports (uses this week's reach)."""
    return model.cfg.levers.embedding.reporting * model.buildings.reach


def recruit(model: CommunityModel) -> None:
    """Members in covered buildings ask neighbours to take part; sets ``households.asked``."""
    cfg = model.cfg.levers.embedding
    hh = model.households
    b = model.community.building
    p = model.buildings.reach[b]
    if cfg.targeting > 0:
        r = hh.civic_resources
        building_mean = np.bincount(b, weights=r, minlength=model.community.n_buildings)
        building_mean /= np.maximum(model.community.building_size, 1)
        weight = (1.0 - cfg.targeting) + cfg.targeting * r / np.maximum(building_mean[b], 1e-9)
        p = np.minimum(1.0, p * weight)
    hh.asked[:] = model.rng.random(p.size) < p
    model.flow.asks = float(hh.asked.mean())


def _grow(base: float, k: float) -> float:
    return base + k * (1.0 - base)
