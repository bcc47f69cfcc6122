"""链入 Linking: the Party committee brokers outside funds, projects and resources.

Mobilised resources L (budget units per 1,000 households per week) grow with the lever's
intensity k and with the committee's ties to the organisations (brokerage, Burt 1992):

    L = k · L_max · Σ_j tie_j R_j / Σ_j R_j,

tie_j in [0, 1] coming from embedding's body level (strong through a branch, weak without).
Added service capacity (need units per household per week) has diminishing returns, and
weekly delivery is capped both by the Party–mass service venues (党群服务阵地) and by what the
community work team can handle, which is proportional to effective capacity W_eff from
conduction (导入):

    Q_L = min(Q_max (1 − exp(−L / L_half)),  Q_venue,  Q_team · W_eff).

Q_L is added to the government channel. Diminishing returns come from the exponential and
from the caps; in a community where supply is already short, well-informed targeting (high
need information A) makes each added unit count for more (pattern 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.core.params import LeverConfig, lever_cost, param

if TYPE_CHECKING:
    from sim.core.model import CommunityModel


@dataclass
class LinkingConfig(LeverConfig):
    """链入: brokerage of outside resources by the community Party committee."""

    cost_per_unit: float = lever_cost(2.0)
    max_resources: float = param(
        10.0, 0.0, 1e4, "L_max, budget units per 1,000 households per week brokered at full ties"
    )
    half_saturation: float = param(
        4.0, 1e-6, 1e4, "L_half, brokered resources (same unit as L) at which capacity is 63% of Q_max"
    )
    max_capacity: float = param(
        0.03, 0.0, 1.0, "Q_max, need units per household per week that brokered resources can add"
    )
    venue_capacity: float = param(
        0.025, 0.0, 1.0, "need units per household per week the service venues can deliver"
    )
    team_capacity: float = param(
        0.03, 0.0, 1.0, "need units per household per week a full-strength work team can deliver"
    )


def broker(model: CommunityModel, k: np.ndarray) -> None:
    """Resources L brokered this week and the service capacity they add (per member)."""
    par = model.par
    resources = model.community.org_resources
    total = model.derived("org_resources", lambda: model.sums(resources))  # fixed for a community
    ties = np.divide(model.sums(model.orgs.tie * resources), total, out=np.zeros(total.size), where=total > 0)
    linked = k * par("levers.linking.max_resources") * ties
    capacity = par("levers.linking.max_capacity") * (
        1.0 - np.exp(-linked / par("levers.linking.half_saturation"))
    )
    flow = model.flows
    cap = np.minimum(
        par("levers.linking.venue_capacity"), par("levers.linking.team_capacity") * flow.effective_capacity
    )
    flow.linked_resources[:] = linked
    flow.linked_capacity[:] = np.minimum(capacity, cap)
    # announced but not delivered: what the caps hold back (broken promises, docs/ODD.md §7.11)
    flow.linked_announced[:] = capacity
    broken = capacity > cap
    if broken.any():
        flow.promises_broken_share[:] = np.where(
            broken, 1.0 - np.divide(cap, capacity, where=broken, out=np.ones_like(capacity)), 0.0
        )
