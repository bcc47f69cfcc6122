"""浸入 Immersion: consultation, education and mobilisation.

- Consultation meetings (民主协商) raise each building's need information A_b in proportion
  to the share of the building represented, i.e. of its households that took part last week.
- Community education raises civic resources r toward 1, which lowers thresholds
  θ_i = θ̃_i − β_R r_i.
- Publicity and Party members' example raise the recruitment effect ρ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.params import LeverConfig, param

if TYPE_CHECKING:
    from sim.model import CommunityModel


@dataclass
class ImmersionConfig(LeverConfig):
    """浸入: consultation, education and mobilisation."""

    cost_per_unit: float = param(1.5, 0.0, 1e6, "weekly cost per 1,000 households at intensity 1")
    consultation: float = param(
        0.6, 0.0, 1.0, "need information added at intensity 1 where the whole building takes part"
    )
    education: float = param(
        0.01, 0.0, 1.0, "weekly share of the gap to full civic resources closed at intensity 1"
    )
    mobilisation: float = param(1.0, 0.0, 10.0, "relative rise of the recruitment effect ρ at intensity 1")


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
