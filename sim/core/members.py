"""Party members who act (党员带动): activity that responds to recognition and burden, leaders
who emerge or step down, and visible conduct (先锋模范) that moves neighbours.

Once a week, after participation (stage 11), on whole arrays:

1. Activity. Each member household's activity e_i (the embedding lever's ``member_activity``
   is its starting level e⁰_i) moves with recognition and burden:

       e_i ← clip(e_i + r⁺ P_b e_i (1 − e_i) − r⁻ overload_b e_i + r⁰ (e⁰_i − e_i)),

   P_b the share of the building's households taking part this week (residents answering
   members' work is the recognition they see; it comes to those who act, hence the e_i: a
   member who does nothing is not recognised, so coverage on paper stays on paper),
   overload_b = clip(load_b − 1, 0, 1) with
   load_b = |H_b| (1 + B) / (Σ_{m∈b} e_m · capacity): households per unit of active member
   above what a member can look after, swollen by the tasks from above B (conduction's burden).
   r⁰ pulls e back to the member's own disposition. All three rates 0: activity stays at e⁰
   (the behaviour before members acted).
2. Leaders (楼栋长). A building without a leader gets one: its most active member, appointed
   where a Party branch covers the building (embedding's point level), or emerging elsewhere
   once her activity reaches ``leader_emergence``; a leader whose activity falls below
   ``leader_exit`` steps down. The structure seed places the first leaders.
3. Role models. A household's exposure to visible service is
   x_i = clip(c Σ_{m∈b} v_m e_m / |H_b| + λ ē_N(i)), v_m = ``leader_visibility`` for leaders
   and 1 for other members, ē_N(i) the mean activity among its network neighbours (members
   count, others are 0) and λ < 1 ``beyond_building``: conduct is seen most within the
   building. Exposure lowers the household's participation threshold by β_M x_i (observational
   learning, Bandura 1977) and raises its trust by κ x_i (1 − T_i) each week.

Every rate here is a stated assumption (docs/ODD.md §7.10); none is calibrated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.core import kernels
from sim.core.params import param

if TYPE_CHECKING:
    from sim.core.model import CommunityModel


@dataclass
class MembersConfig:
    """Party members' behaviour (config node ``members``); every rate 0 turns it off."""

    recognition_rate: float = param(
        0.05, 0.0, 1.0, "r⁺, weekly rise of activity per unit of participation × e(1 − e)"
    )
    burnout_rate: float = param(0.02, 0.0, 1.0, "r⁻, weekly fall of activity per unit of overload")
    reversion_rate: float = param(0.05, 0.0, 1.0, "r⁰, weekly pull of activity back to its start")
    capacity: float = param(20.0, 1.0, 1000.0, "households one fully active member can look after in a week")
    leader_emergence: float = param(
        0.6, 0.0, 1.0, "activity at which the most active member of an uncovered building becomes its leader"
    )
    leader_exit: float = param(0.1, 0.0, 1.0, "activity below which a leader steps down")
    contacts: float = param(
        3.0, 0.0, 50.0, "c, households that see one fully active member's service in a week"
    )
    leader_visibility: float = param(2.0, 1.0, 10.0, "v, how much more a leader's conduct is seen")
    beyond_building: float = param(
        0.5, 0.0, 1.0, "λ, weight of members among network ties relative to the own building"
    )
    threshold_effect: float = param(
        0.1, 0.0, 2.0, "β_M, participation threshold lowered per unit of role-model exposure"
    )
    trust_effect: float = param(
        0.005, 0.0, 0.2, "κ, weekly trust gained per unit of exposure (times 1 − trust)"
    )


def act(model: CommunityModel) -> None:
    """Members' activity, leaders and role-model exposure for next week (stage 11b)."""
    par, at, n, n_b = model.par, model.at, model.N, model.B
    hh = model.households
    c = model.community
    members = c.is_member
    building = c.building
    sizes = np.maximum(c.building_size, 1).astype(np.float64)
    activity = hh.activity

    active = np.bincount(building, weights=activity, minlength=c.n_buildings)
    load = (
        sizes
        * model.at(1.0 + model.flows.burden, n_b)
        / np.maximum(active * at(par("members.capacity"), n_b), 1e-9)
    )
    overload = np.clip(load - 1.0, 0.0, 1.0)
    participation = model.buildings.participation
    change = at(par("members.recognition_rate"), n) * participation[building] * activity * (1.0 - activity)
    change -= at(par("members.burnout_rate"), n) * overload[building] * activity
    change += at(par("members.reversion_rate"), n) * (model.member_activity_start - activity)
    activity += np.where(members, change, 0.0)
    np.clip(activity, 0.0, 1.0, out=activity)

    leaders = hh.is_leader
    leaders &= activity >= at(par("members.leader_exit"), n)
    has_leader = np.bincount(building, weights=leaders, minlength=c.n_buildings) > 0
    best = np.full(c.n_buildings, -1.0)
    np.maximum.at(best, building[members], activity[members])
    # appointed where a branch covers the building, emerging elsewhere among the most active
    eligible = model.buildings.covered[building] | (activity >= at(par("members.leader_emergence"), n))
    emerging = members & ~has_leader[building] & eligible & (activity > 0.0)
    emerging &= activity == best[building]
    # one new leader per building: the first of the most active
    first = np.zeros(c.n_buildings, dtype=bool)
    rows = np.flatnonzero(emerging)
    _, keep = np.unique(building[rows], return_index=True)
    leaders[rows[keep]] = True
    first[building[rows[keep]]] = True

    visible = activity * np.where(leaders, at(par("members.leader_visibility"), n), 1.0)
    seen = (
        np.bincount(building, weights=visible, minlength=c.n_buildings)
        * at(par("members.contacts"), n_b)
        / sizes
    )
    around = np.empty(c.n_households)
    kernels.neighbour_means(activity, model_network(model), around)
    exposure = hh.role_model
    np.clip(seen[building] + at(par("members.beyond_building"), n) * around, 0.0, 1.0, out=exposure)
    # trust's conduct channel (§7.11)
    conduct = at(par("members.trust_effect"), n) * exposure * (1.0 - hh.trust)
    hh.trust += conduct
    np.clip(hh.trust, 0.0, 1.0, out=hh.trust)
    model.update_thresholds()
    flow = model.flows
    count = model.count(members)
    np.divide(model.count(members & (activity >= 0.5)), count, out=flow.members_active, where=count > 0)
    flow.member_activity[:] = np.where(count > 0, model.subset_mean(activity, members, "members"), 0.0)
    if n_b:
        flow.leaders[:] = model.count(has_leader) / n_b + model.count(first) / n_b
    flow.role_model_reach[:] = model.means(exposure)
    flow.member_overload[:] = model.means(overload)
    flow.trust_conduct[:] = model.means(conduct)


def model_network(model: CommunityModel) -> tuple:
    from sim.core import dynamics

    return dynamics.network_arrays(model)
