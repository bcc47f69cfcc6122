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
from sim.core.params import LeverConfig, lever_cost, param

if TYPE_CHECKING:
    from sim.core.model import CommunityModel


@dataclass
class ConvergingConfig(LeverConfig):
    """汇入: the Party-led joint meeting (联席会议) of the community's organisations."""

    cost_per_unit: float = lever_cost(2.0)
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


def play(model: CommunityModel, k: np.ndarray) -> None:
    """Organisations choose whether to contribute; joint capacity J forms (per member)."""
    from sim.core import dynamics

    par, n_o = model.par, model.O
    orgs = model.orgs
    players = _players(model)
    resources = model.community.org_resources * np.where(
        players.street, model.at(1.0 + par("levers.converging.vertical_sinking") * k, n_o), 1.0
    )
    draw = dynamics.uniforms(model, n_o)
    orgs.cooperated[:] = players.mask & (draw < orgs.propensity)
    contributed = np.where(orgs.cooperated, resources, 0.0)
    coordination = par("dynamics.coordination_cost") * (1.0 - par("levers.converging.coordination_cut") * k)
    density = embedding_density(model)
    model.flows.branch_network_density[:] = density
    weight = par("levers.embedding.network_coordination")
    if model.positive(
        "levers.embedding.network_coordination"
    ):  # a dense network among branches cuts the cost of working together (§7.17)
        coordination = np.where(weight > 0, coordination * (1.0 - weight * density), coordination)
    joint = par("dynamics.synergy") * model.sums(contributed) * (1.0 - coordination)
    # a branch of the unit's own, or the depth of a regional or hub organisation's reach (§7.19)
    forms = model.caches["coverage"].forms_on
    reach = np.where(model.at(forms, n_o), orgs.depth, orgs.has_branch) if forms.any() else orgs.has_branch
    recognition = (
        model.at(par("levers.embedding.recognition") + par("levers.converging.pooled_recognition") * k, n_o)
        * reach
    )
    reputation = immersion.reputation(model)  # 德治: every contributor earns it (docs/ODD.md §7.13)
    if (reputation > 0).any():
        recognition = recognition + model.at(reputation, n_o)
    orgs.payoff[:] = np.where(
        players.mask, model.at(joint / players.count, n_o) - contributed + recognition * contributed, 0.0
    )

    flow = model.flows
    if model.positive("levers.converging.community_fund") and k.any():
        _spend_fund(model, k)
    flow.joint_capacity[:] = joint
    per_thousand = model.N / 1000.0
    flow.joint_service[:] = par("dynamics.joint_capacity_scale") * joint / per_thousand
    # shares of the players, and of each group's, who contributed (0 where there are none)
    contributing = np.add.reduce(
        (orgs.cooperated & players.all_groups).reshape(len(GROUPS) + 1, model.n_members, n_o), axis=2
    )
    shares = np.divide(
        contributing, players.all_counts, out=np.zeros(players.all_counts.shape), where=players.all_counts > 0
    )
    flow.contribution_rate[:] = shares[0]
    for i, name in enumerate(GROUPS, start=1):
        getattr(flow, f"contribution_{name}")[:] = shares[i]


def embedding_density(model: CommunityModel) -> np.ndarray:
    from sim.core.levers import embedding

    return embedding.network_density(model)


def players_mask(model: CommunityModel) -> np.ndarray:
    """Which organisations play the joint game (every one but the Party committee)."""
    return _players(model).mask


def _spend_fund(model: CommunityModel, k: np.ndarray) -> None:
    """The community fund (participatory budgeting): what residents allocate joins services.

    Allocated = F_P k min(1, P̄ / p_Q), P̄ last week's participation: the fund is spent on what
    those taking part propose and decide in consultation; with few taking part, part of it lies
    idle. It joins the government channel's capacity (stage 6). For the members where the fund
    exists and the lever acts.
    """
    n_b = model.B
    fund = model.vec("levers.converging.community_fund")
    quorum = model.vec("levers.converging.fund_quorum")
    participation = model.buildings.participation
    sizes = model.community.building_size
    flow = model.flows
    for m in np.flatnonzero((fund > 0) & (k > 0)):
        part = slice(m * n_b, (m + 1) * n_b)
        taking_part = float(participation[part] @ sizes[part])
        taking_part /= max(model.N, 1)
        spent = fund[m] * k[m] * min(1.0, taking_part / quorum[m])
        flow.funds_service[m] += spent
        flow.fund_spent[m] = spent


def street_speed(model: CommunityModel) -> np.ndarray:
    """How much faster street departments answer needs sent up: 1 + σ_S k (赋权, §7.15)."""
    k = model.intensity("converging")
    return 1.0 + model.par("levers.converging.street_say") * k


@dataclass(frozen=True)
class _Players:
    """Who plays the contribution game, fixed for a community (every organisation but the committee)."""

    mask: np.ndarray
    count: np.ndarray  # per member, at least 1, a divisor
    street: np.ndarray  # street departments, whose resources vertical sinking raises
    groups: tuple[np.ndarray, ...]  # players of each of GROUPS
    all_groups: np.ndarray  # (1 + groups, organisations): the players, then each group's
    all_counts: np.ndarray  # (1 + groups, members): how many of each there are


def _players(model: CommunityModel) -> _Players:
    cached = model.caches.get("converging_players")
    if cached is None:
        from sim.core.community import ORG_GROUP, OrgKind

        kind = model.community.org_kind
        mask = kind != OrgKind.PARTY_COMMITTEE
        # group of each organisation, by kind (a lookup over the nine kinds, not the organisations)
        group = np.array([GROUPS.index(ORG_GROUP[k]) for k in OrgKind])[kind]
        groups = tuple(mask & (group == g) for g in range(len(GROUPS)))
        counts = model.count(mask)
        cached = model.caches["converging_players"] = _Players(
            mask=mask,
            count=np.maximum(counts, 1),
            street=kind == OrgKind.STREET_DEPARTMENT,
            groups=groups,
            all_groups=np.stack([mask, *groups]),
            all_counts=np.array([counts, *(model.count(g) for g in groups)]),
        )
    return cached


def learn(model: CommunityModel) -> None:
    """Bush–Mosteller update of every player's contribution propensity from its payoff."""
    par, n_o = model.par, model.O
    orgs = model.orgs
    players = _players(model).mask
    excess = orgs.payoff - model.at(par("dynamics.aspiration"), n_o)
    scale = (
        model.rows(np.where(players, np.abs(excess), 0.0)).max(axis=1) if n_o else np.zeros(model.n_members)
    )
    on = scale > 0
    if not on.any():
        return
    with np.errstate(divide="ignore", invalid="ignore"):
        stimulus = np.where(players, excess / model.at(scale, n_o), 0.0)
    # probability of the action actually taken
    p_taken = np.where(orgs.cooperated, orgs.propensity, 1.0 - orgs.propensity)
    lr = model.at(par("dynamics.learning_rate"), n_o)
    p_new = np.where(
        stimulus >= 0, p_taken + lr * stimulus * (1.0 - p_taken), p_taken + lr * stimulus * p_taken
    )
    update = players if on.all() else players & model.at(on, n_o)
    orgs.propensity[:] = np.where(update, np.where(orgs.cooperated, p_new, 1.0 - p_new), orgs.propensity)
