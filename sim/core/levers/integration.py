"""融入 Integration: cross-appointment and four-in-one coordination.

At effective intensity k:

- Cross-appointment (交叉任职): the Party committee recommends leaders who, "through due
  procedure", serve on owners' committees and property companies; their share is
  χ = χ₀ + k (χ_max − χ₀). χ lowers the odds that a managed compound starts an owner–company
  conflict (the term −γ₂ χ of docs/ODD.md §7.5.3, beside the service gap, repairs left undone
  and arrears), and community mediation, one of the four resolution channels of §7.5.4, ends an
  open conflict in a week with probability min(1, m₀ + m_χ χ + m_J k_conv), m₀ the base
  mediation rate and k_conv the joint meeting's (converging) intensity: cross-appointed leaders
  and the joint meeting both speed mediation.
- Four-in-one coordination (四位一体: government, social, volunteer and market services):
  the channels share information, which raises the precision of matching (need information
  A_b gains p k everywhere), and they divide the work instead of duplicating it: without
  coordination a share o (``dynamics.channel_overlap``) of every channel's effort is lost to
  overlapping service, with it o (1 − g k). The effort no longer duplicated goes to the
  needs other channels leave uncovered (it joins the common allocation by need).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.core.params import ConfigError, LeverConfig, lever_cost, param

if TYPE_CHECKING:
    from sim.core.model import CommunityModel


@dataclass
class IntegrationConfig(LeverConfig):
    """融入: cross-appointed leaders and four-in-one service coordination."""

    cost_per_unit: float = lever_cost(1.0)
    cross_appointment_base: float = param(
        0.0, 0.0, 1.0, "χ₀, share of company and owners' committee leaders cross-appointed before the lever"
    )
    cross_appointment_max: float = param(0.8, 0.0, 1.0, "χ_max, that share at intensity 1")
    conflict_reduction: float = param(4.0, 0.0, 20.0, "γ₂, log-odds of conflict removed per unit of χ")
    mediation_gain: float = param(0.25, 0.0, 1.0, "m_χ, weekly resolution chance added per unit of χ")
    joint_mediation: float = param(
        0.1, 0.0, 1.0, "m_J, weekly resolution chance added by the joint meeting (converging) at intensity 1"
    )
    precision: float = param(
        0.3, 0.0, 1.0, "p, need information A added everywhere at intensity 1 by coordination"
    )
    gap_cover: float = param(
        1.0, 0.0, 1.0, "g, share of the channels' overlap turned to uncovered needs at intensity 1"
    )
    # 把党组织向居民小区（楼院）延伸 (docs/ODD.md §7.16); 0 = not in use
    compound_organisation: float = param(
        0.0, 0.0, 1.0, "share of compounds given a compound-level Party organisation at intensity 1"
    )
    compound_conflict_reduction: float = param(
        1.0, 0.0, 20.0, "γ_P, log-odds of an owner–company conflict removed in an organised compound"
    )
    compound_mediation: float = param(
        0.1, 0.0, 1.0, "m_P, weekly resolution chance added to mediation in an organised compound"
    )

    def check(self, prefix: str) -> None:
        if self.cross_appointment_max < self.cross_appointment_base:
            raise ConfigError(
                f"{prefix}.cross_appointment_max={self.cross_appointment_max:g} is below "
                f"{prefix}.cross_appointment_base={self.cross_appointment_base:g}; "
                "allowed: max ≥ base"
            )


def cross_appointment(model: CommunityModel, k: np.ndarray) -> np.ndarray:
    """χ this week, per member; the share of companies and owners' committees with
    cross-appointed leaders."""
    par = model.par
    base = par("levers.integration.cross_appointment_base")
    chi = base + k * (par("levers.integration.cross_appointment_max") - base)
    model.companies.cross_appointed[:] = model.at(chi, model.P)
    model.flows.cross_appointment[:] = chi
    return chi


def precision(model: CommunityModel, k: np.ndarray) -> np.ndarray:
    """Need information added everywhere by four-in-one coordination (per building)."""
    return model.at(model.par("levers.integration.precision") * k, model.B)


def overlap(model: CommunityModel, k: np.ndarray) -> np.ndarray:
    """Share of every channel's effort lost to duplicated service this week, per member."""
    par = model.par
    return par("dynamics.channel_overlap") * (1.0 - par("levers.integration.gap_cover") * k)


def mediation_rate(model: CommunityModel, chi: np.ndarray, k_converging: np.ndarray) -> np.ndarray:
    """Weekly chance that an open conflict is resolved, per member."""
    par = model.par
    rate = (
        par("dynamics.mediation_rate")
        + par("levers.integration.mediation_gain") * chi
        + par("levers.integration.joint_mediation") * k_converging
    )
    return np.minimum(1.0, rate)


def organised_compounds(model: CommunityModel, k: np.ndarray) -> np.ndarray | None:
    """Compounds with a compound-level Party organisation this week (None while none has one).

    The first ⌊share · k · C + ½⌋ compounds of each member in compound order (the order the
    structure seed placed them in) are organised: a higher intensity organises a superset.
    """
    share = model.par("levers.integration.compound_organisation") * k
    n = model.C
    count = np.floor(share * n + 0.5).astype(np.int64)
    model.flows.compounds_organised[:] = count / n if n else 0.0
    if not count.any():
        return None
    return (np.arange(n)[None, :] < count[:, None]).ravel()
