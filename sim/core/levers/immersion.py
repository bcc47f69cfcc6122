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

from sim.core.params import LeverConfig, param

if TYPE_CHECKING:
    from sim.core.model import CommunityModel


@dataclass
class ImmersionConfig(LeverConfig):
    """浸入: consultation, education and mobilisation."""

    cost_per_unit: float = param(1.5, 0.0, 1e6, "budget units per 1,000 households per week at intensity 1")
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


def consultation(model: CommunityModel, k: float) -> np.ndarray:
    """Need information each building gains from consultation (per building)."""
    represented = model.buildings.participation
    return model.cfg.levers.immersion.consultation * k * represented


def educate(model: CommunityModel, k: float) -> None:
    """Community education: civic resources rise toward 1; thresholds fall with them."""
    rate = model.cfg.levers.immersion.education * k
    if rate <= 0:
        return
    hh = model.households
    hh.civic_resources += rate * (1.0 - hh.civic_resources)
    model.update_thresholds()


def recruitment_effect(model: CommunityModel, k: float) -> float:
    """ρ this week: the push of being asked, raised by publicity and example."""
    return model.cfg.dynamics.recruitment_effect * (1.0 + model.cfg.levers.immersion.mobilisation * k)
