"""融入 Integration: cross-appointment and four-in-one coordination.

- Cross-appointment (交叉任职): the Party committee recommends leaders who serve on owners'
  committees and property companies, a share χ. Conflict per managed compound per week has
  probability σ(γ₀ + γ₁(E_property − Q_company) − γ₂ χ); open conflicts are mediated with a
  weekly chance that rises with χ and with the joint meeting (converging).
- Four-in-one coordination (四位一体): government, social, volunteer and market services
  coordinate, which raises the precision of matching (need information A) and lets the
  channels cover each other's gaps instead of overlapping (the overlap loss shrinks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.params import ConfigError, LeverConfig, param

if TYPE_CHECKING:
    from sim.model import CommunityModel


@dataclass
class IntegrationConfig(LeverConfig):
    """融入: cross-appointed leaders and four-in-one service coordination."""

    cost_per_unit: float = param(1.0, 0.0, 1e6, "weekly cost per 1,000 households at intensity 1")
    cross_appointment_base: float = param(0.0, 0.0, 1.0, "χ before the lever")
    cross_appointment_max: float = param(0.8, 0.0, 1.0, "χ at intensity 1")
    conflict_reduction: float = param(4.0, 0.0, 20.0, "γ₂, log-odds of conflict removed per unit of χ")
    mediation_gain: float = param(0.25, 0.0, 1.0, "weekly resolution chance added per unit of χ")
    joint_mediation: float = param(
        0.1, 0.0, 1.0, "weekly resolution chance added by the joint meeting at full intensity"
    )
    precision: float = param(0.3, 0.0, 1.0, "need information added at intensity 1 by coordination")
    gap_cover: float = param(1.0, 0.0, 1.0, "share of the channels' overlap removed at intensity 1")

    def check(self, prefix: str) -> None:
        if self.cross_appointment_max < self.cross_appointment_base:
            raise ConfigError(
                f"{prefix}.cross_appointment_max={self.cross_appointment_max:g} is below "
                f"{prefix}.cross_appointment_base={self.cross_appointment_base:g}; "
                "allowed: max ≥ base"
            )


def cross_appointment(model: CommunityModel, k: float) -> float:
    """χ this week; the share of companies and owners' committees with cross-appointed leaders."""
    cfg = model.cfg.levers.integration
    chi = cfg.cross_appointment_base + k * (cfg.cross_appointment_max - cfg.cross_appointment_base)
    model.companies.cross_appointed[:] = chi
    model.flow.cross_appointment = chi
    return chi


def precision(model: CommunityModel, k: float) -> float:
    """Need information added everywhere by four-in-one coordination."""
    return model.cfg.levers.integration.precision * k


def overlap(model: CommunityModel, k: float) -> float:
    """Share of every channel's effort lost to duplicated service this week."""
    return model.cfg.dynamics.channel_overlap * (1.0 - model.cfg.levers.integration.gap_cover * k)


def mediation_rate(model: CommunityModel, chi: float, k_converging: float) -> float:
    """Weekly chance that an open conflict is resolved."""
    cfg = model.cfg.levers.integration
    rate = model.cfg.dynamics.mediation_rate + cfg.mediation_gain * chi + cfg.joint_mediation * k_converging
    return min(1.0, rate)
