"""汇入 Converging: organisations pool resources in a repeated public-goods game.

Players are every organisation but the Party committee, which convenes: vertical actors
(street departments sinking down), horizontal ones (residents' committee, owners'
committees, property companies, stationed units) and outward ones (non-public firms, social
organisations, new business forms).

Each week organisation j contributes its resources R_j (budget units per week) with
probability x_j. Joint capacity is

    J = r · Σ_j c_j R_j · (1 − κ(1 − ζ k)),      c_j ∈ {0, 1} contributed this week,

with synergy r ∈ [1, 2] and coordination cost κ (``dynamics.synergy``,
``dynamics.coordination_cost``). Every player receives an equal share of J, a contributor
pays R_j and, if covered by a Party branch (C_j = 1, from embedding), earns recognition:

    π_j = J / n − c_j R_j + (ρ_emb + δ k) C_j c_j R_j,

where ρ_emb is embedding's ``recognition`` and δ the joint meeting's pooled recognition.
The Party-led joint meeting (联席会议), run at intensity k, thus adds pooled recognition
δ k C_j, cuts the coordination cost by a share ζ k, and brings street departments' extra
resources down (vertical sinking: R_j × (1 + v k) for street departments). J becomes service
capacity of the social channel, ``dynamics.joint_capacity_scale`` · J per 1,000 households.
Each organisation then updates x_j by Bush–Mosteller reinforcement learning (Macy & Flache
2002; Sigmund et al. 2010): with stimulus s_j = (π_j − A) / max_j |π_j − A| (A the
aspiration), the probability p of the action taken moves to p + l s_j (1 − p) if s_j ≥ 0 and
to p + l s_j p otherwise (learning rate l). Without the meeting, contributing is dominated
(r(1 − κ)/n < 1), so propensities decay toward free riding; with it, recognition makes
contributing pay for covered organisations and their propensities climb.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.core.levers import immersion
from sim.core.params import LeverConfig, param

if TYPE_CHECKING:
    from sim.core.model import CommunityModel


@dataclass
class ConvergingConfig(LeverConfig):
    """汇入: the Party-led joint meeting (联席会议) of the community's organisations."""

    cost_per_unit: float = param(2.0, 0.0, 1e6, "budget units per 1,000 households per week at intensity 1")
    pooled_recognition: float = param(
        2.0, 0.0, 5.0, "δ, payoff per unit contributed that covered contributors earn at intensity 1"
    )
    coordination_cut: float = param(
        0.6, 0.0, 1.0, "ζ, share of the coordination cost κ removed at intensity 1"
    )
    vertical_sinking: float = param(
        0.5, 0.0, 5.0, "v, extra resources street departments bring down at intensity 1 (× their own)"
    )
    # 赋权、扩能 (docs/ODD.md §7.15): rights and capacity, not only fewer tasks; 0 = not in use
    community_fund: float = param(
        0.0,
        0.0,
        1.0,
        "F_P, need units per household per week of a community fund residents allocate in consultation",
    )
    fund_quorum: float = param(
        0.3, 0.01, 1.0, "p_Q, participation at which residents' consultation allocates the whole fund"
    )
    street_say: float = param(
        0.0,
        0.0,
        5.0,
        "σ_S, relative speed-up of street departments answering needs sent up, at intensity 1 (0 = none)",
    )


GROUPS = ("vertical", "horizontal", "outward")


def play(model: CommunityModel, k: float) -> None:
    """Organisations choose whether to contribute; joint capacity J forms."""
    dyn = model.cfg.dynamics
    cfg = model.cfg.levers.converging
    orgs = model.orgs
    players = _players(model)
    resources = model.community.org_resources * np.where(players.street, 1.0 + cfg.vertical_sinking * k, 1.0)
    draw = model.rng.random(orgs.propensity.size)
    orgs.cooperated[:] = players.mask & (draw < orgs.propensity)
    contributed = np.where(orgs.cooperated, resources, 0.0)
    coordination = dyn.coordination_cost * (1.0 - cfg.coordination_cut * k)
    density = embedding_density(model)
    model.flow.branch_network_density = density
    weight = model.cfg.levers.embedding.network_coordination
    if weight > 0:  # a dense network among branches cuts the cost of working together (§7.17)
        coordination *= 1.0 - weight * density
    joint = dyn.synergy * contributed.sum() * (1.0 - coordination)
    emb = model.cfg.levers.embedding
    # a branch of the unit's own, or the depth of a regional or hub organisation's reach (§7.19)
    reach = orgs.depth if model.caches["coverage"].forms is not None else orgs.has_branch
    recognition = (emb.recognition + cfg.pooled_recognition * k) * reach
    reputation = immersion.reputation(model)  # 德治: every contributor earns it (docs/ODD.md §7.13)
    if reputation > 0:
        recognition = recognition + reputation
    orgs.payoff[:] = np.where(
        players.mask, joint / players.count - contributed + recognition * contributed, 0.0
    )

    flow = model.flow
    if cfg.community_fund > 0 and k > 0:
        _spend_fund(model, k)
    flow.joint_capacity = joint
    per_thousand = model.community.n_households / 1000.0
    flow.joint_service = dyn.joint_capacity_scale * joint / per_thousand
    flow.contribution_rate = _share(orgs.cooperated, players.mask)
    for name, members in zip(GROUPS, players.groups, strict=True):
        setattr(flow, f"contribution_{name}", _share(orgs.cooperated, members))


def embedding_density(model: CommunityModel) -> float:
    from sim.core.levers import embedding

    return embedding.network_density(model)


def players_mask(model: CommunityModel) -> np.ndarray:
    """Which organisations play the joint game (every one but the Party committee)."""
    return _players(model).mask


def _spend_fund(model: CommunityModel, k: float) -> None:
    """The community fund (participatory budgeting): what residents allocate joins services.

    Allocated = F_P k min(1, P̄ / p_Q), P̄ last week's participation: the fund is spent on what
    those taking part propose and decide in consultation; with few taking part, part of it lies
    idle. It joins the government channel's capacity (stage 6).
    """
    cfg = model.cfg.levers.converging
    taking_part = float(model.buildings.participation @ model.community.building_size)
    taking_part /= max(model.community.n_households, 1)
    spent = cfg.community_fund * k * min(1.0, taking_part / cfg.fund_quorum)
    model.flow.funds_service += spent
    model.flow.fund_spent = spent


def street_speed(model: CommunityModel) -> float:
    """How much faster street departments answer needs sent up: 1 + σ_S k (赋权, §7.15)."""
    k = model.flow.intensities.get("converging", 0.0)
    return 1.0 + model.cfg.levers.converging.street_say * k


@dataclass(frozen=True)
class _Players:
    """Who plays the contribution game, fixed for a community (every organisation but the committee)."""

    mask: np.ndarray
    count: int  # at least 1, a divisor
    street: np.ndarray  # street departments, whose resources vertical sinking raises
    groups: tuple[np.ndarray, ...]  # players of each of GROUPS


def _players(model: CommunityModel) -> _Players:
    cached = model.caches.get("converging_players")
    if cached is None:
        from sim.core.community import ORG_GROUP, OrgKind

        kind = model.community.org_kind
        mask = kind != OrgKind.PARTY_COMMITTEE
        # group of each organisation, by kind (a lookup over the nine kinds, not the organisations)
        group = np.array([GROUPS.index(ORG_GROUP[k]) for k in OrgKind])[kind]
        cached = model.caches["converging_players"] = _Players(
            mask=mask,
            count=max(int(mask.sum()), 1),
            street=kind == OrgKind.STREET_DEPARTMENT,
            groups=tuple(mask & (group == g) for g in range(len(GROUPS))),
        )
    return cached


def _share(flags: np.ndarray, members: np.ndarray) -> float:
    """Share of ``members`` whose flag is set (0 when there are none)."""
    return float(flags[members].mean()) if members.any() else 0.0


def learn(model: CommunityModel) -> None:
    """Bush–Mosteller update of every player's contribution propensity from its payoff."""
    dyn = model.cfg.dynamics
    orgs = model.orgs
    players = _players(model).mask
    excess = orgs.payoff - dyn.aspiration
    scale = np.abs(excess[players]).max() if players.any() else 0.0
    if scale <= 0:
        return
    stimulus = np.where(players, excess / scale, 0.0)
    # probability of the action actually taken
    p_taken = np.where(orgs.cooperated, orgs.propensity, 1.0 - orgs.propensity)
    lr = dyn.learning_rate
    p_new = np.where(
        stimulus >= 0, p_taken + lr * stimulus * (1.0 - p_taken), p_taken + lr * stimulus * p_taken
    )
    orgs.propensity[:] = np.where(players, np.where(orgs.cooperated, p_new, 1.0 - p_new), orgs.propensity)
