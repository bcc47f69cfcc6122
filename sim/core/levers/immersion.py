"""浸入 Immersion: consultation, education and mobilisation.

At effective intensity k:

- Consultation meetings (民主协商) raise each building's need information in proportion to the
  share of the building represented, i.e. of its households that took part last week:
  ΔA_b = a_c k P̄_b. Participation therefore feeds back into better-targeted services.
- Community education (社区教育) closes a share e k of every household's gap to full civic
  resources each week, r_i ← r_i + e k (1 − r_i), which lowers thresholds
  θ_i = θ̃_i − β_R r_i (Brady, Verba & Schlozman 1995: resources make participation cheaper).
- Publicity and Party members' example (宣传发动、党员带动) raise the recruitment effect,
  ρ = ρ₀ (1 + m k): the same ask moves a household further toward its threshold. This acts
  only through asks, which come from embedding's members, so the two levers complement each
  other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.core.params import LeverConfig, lever_cost, param

if TYPE_CHECKING:
    from sim.core.model import CommunityModel


@dataclass
class ImmersionConfig(LeverConfig):
    """浸入: consultation, education and mobilisation."""

    cost_per_unit: float = lever_cost(1.5)
    consultation: float = param(
        0.6, 0.0, 1.0, "a_c, need information A added at intensity 1 where the whole building takes part"
    )
    education: float = param(
        0.01,
        0.0,
        1.0,
        "e, weekly share of each household's gap to full civic resources closed at intensity 1",
    )
    mobilisation: float = param(
        1.0, 0.0, 10.0, "m, relative rise of the recruitment effect ρ at intensity 1 (1 = doubled)"
    )
    # 居民自治、德治、法治相融合; 群团带动 (docs/ODD.md §7.13); each 0 = not in use
    conventions: float = param(
        0.0, 0.0, 1.0, "c_v, share of dispute need arrival that residents' conventions prevent at intensity 1"
    )
    legal_aid: float = param(
        0.0, 0.0, 1.0, "r_A, weekly settlement chance the legal channel gains at intensity 1 (法律进社区)"
    )
    moral_recognition: float = param(
        0.0,
        0.0,
        5.0,
        "δ_M, payoff per unit contributed that every contributor earns by reputation at intensity 1",
    )
    trade_union: float = param(
        0.0, 0.0, 1.0, "g_U, participation threshold lowered for worker households at intensity 1 (工会)"
    )
    youth_league: float = param(
        0.0, 0.0, 1.0, "g_Y, participation threshold lowered for young households at intensity 1 (共青团)"
    )
    womens_federation: float = param(
        0.0, 0.0, 1.0, "g_W, participation threshold lowered for families with children at intensity 1 (妇联)"
    )


def consultation(model: CommunityModel, k: np.ndarray) -> np.ndarray:
    """Need information each building gains from consultation (per building)."""
    represented = model.buildings.participation
    return model.at(model.par("levers.immersion.consultation") * k, model.B) * represented


def educate(model: CommunityModel, k: np.ndarray) -> None:
    """Community education: civic resources rise toward 1; thresholds fall with them."""
    rate = model.par("levers.immersion.education") * k
    if not (rate > 0).any():
        return
    hh = model.households
    hh.civic_resources += model.at(rate, model.N) * (1.0 - hh.civic_resources)
    model.update_thresholds()


def recruitment_effect(model: CommunityModel, k: np.ndarray) -> np.ndarray:
    """ρ this week, per member: the push of being asked, raised by publicity and example."""
    par = model.par
    return par("dynamics.recruitment_effect") * (1.0 + par("levers.immersion.mobilisation") * k)


def dispute_factor(model: CommunityModel) -> np.ndarray:
    """Share of dispute need that still arrives this week: 1 − c_v k (residents' conventions)."""
    k = model.intensity("immersion")
    return 1.0 - model.par("levers.immersion.conventions") * k


def legal_rate(model: CommunityModel) -> np.ndarray:
    """The legal channel's weekly settlement chance: r_L + r_A k (legal aid in the community)."""
    k = model.intensity("immersion")
    par = model.par
    return np.minimum(1.0, par("dynamics.resolution_legal") + par("levers.immersion.legal_aid") * k)


def reputation(model: CommunityModel) -> np.ndarray:
    """Payoff per unit contributed that every contributor earns by recognition (德治): δ_M k."""
    return model.par("levers.immersion.moral_recognition") * model.intensity("immersion")


def mobilise_groups(model: CommunityModel, k: np.ndarray) -> None:
    """Mass organisations (群团带动) lower thresholds in their constituencies (stage 10).

    pull_i = k (g_U [worker] + g_Y [young] + g_W [family]); θ_i = θ̃_i − β_R r_i − β_M x_i − pull_i.
    Kept in ``model.caches["group_pull"]`` while it acts in any member (the members where it
    does not act have no pull), so every threshold update includes it.
    """
    par, n = model.par, model.N
    union, youth, women = (
        par("levers.immersion.trade_union"),
        par("levers.immersion.youth_league"),
        par("levers.immersion.womens_federation"),
    )
    weighted = model.derived(
        "group_weights", lambda: (np.asarray(union) > 0) | (np.asarray(youth) > 0) | (np.asarray(women) > 0)
    )
    cached = model.caches.get("group_pull")
    if cached is None and not weighted.any():
        return
    acting = (k > 0) & weighted
    if not acting.any():
        if cached is not None:  # the lever's window has closed: thresholds return
            del model.caches["group_pull"]
            model.update_thresholds()
        return
    k = np.where(acting, k, 0.0)
    if cached is not None and np.array_equal(cached[0], k):
        return
    c = model.community
    from sim.core.config import PROFILES

    assert c.young is not None  # build_community always places the young households
    pull = model.at(k, n) * (
        model.at(union, n) * (c.profile == PROFILES.index("worker"))
        + model.at(youth, n) * c.young
        + model.at(women, n) * (c.profile == PROFILES.index("family"))
    )
    model.caches["group_pull"] = (k, pull)
    model.update_thresholds()
