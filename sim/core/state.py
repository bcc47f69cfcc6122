"""The model's mutable state, one struct of arrays per kind of entity.

Mesa agents (:mod:`sim.core.agents`) are thin views onto a row of these arrays; the step works on
whole arrays at once. In an ensemble of M members (docs/design.md, "The ensemble") every array
holds the members one after another: member m's households are rows m·N … (m+1)·N − 1, its
buildings m·B … and so on; per-member quantities are arrays over members. ``Flows`` holds what
one week produced (capacities, coverage, costs), which the metrics read and the next stages of
the same step use.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from sim.core.config import NEED_CATEGORIES


@dataclass
class HouseholdState:
    needs: np.ndarray  # (N, K) unmet need by category, in [0, 1]
    expectation: np.ndarray  # E
    satisfaction: np.ndarray  # S
    trust: np.ndarray  # T, in the community Party organisation
    civic_resources: np.ndarray  # r
    threshold: np.ndarray  # θ = θ̃ − β_R r
    activity: np.ndarray  # e, Party members' recruiting activity (0 for others)
    is_leader: np.ndarray  # bool, member acting as building leader (楼栋长) this week
    role_model: np.ndarray  # x, exposure to members' visible service (lowers θ, raises T)
    participating: np.ndarray  # bool, took part this week
    asked: np.ndarray  # bool, asked by a Party member this week
    performance: np.ndarray  # Q, perceived performance this week
    served: np.ndarray  # (N, K) served this week

    def arrays(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass
class BuildingState:
    covered: np.ndarray  # bool, a Party branch covers the building (embedding, point)
    reach: np.ndarray  # chance a household is contacted by an active member this week
    need_information: np.ndarray  # A_b in [0, 1]
    participation: np.ndarray  # share of households that took part last week


@dataclass
class CompoundState:
    open_conflicts: np.ndarray  # int, owner–company conflicts not yet resolved
    conflict_weeks: np.ndarray  # int, weeks the compound has had an open conflict without a break
    weeks_dissatisfied: np.ndarray  # int, weeks in a row below the replacement threshold


@dataclass
class CompanyState:
    quality: np.ndarray  # Q_c, service quality in [0, 1]
    fee_collection: np.ndarray  # share of fees collected
    responsiveness: np.ndarray  # share of its compounds' property need it answers
    cross_appointed: np.ndarray  # χ, share of leaders cross-appointed (integration)
    standard: np.ndarray  # the quality its contract holds it to (a new company brings its own)
    replacements: np.ndarray  # int, times it was replaced through an owners' committee


@dataclass
class OrgState:
    propensity: np.ndarray  # x_j, chance to contribute
    cooperated: np.ndarray  # bool, contributed this week
    payoff: np.ndarray  # this week's payoff in the joint game
    has_branch: np.ndarray  # bool, covered by a Party branch (embedding, line/surface)
    tie: np.ndarray  # strength of the Party committee's tie (brokerage)
    depth: np.ndarray  # depth of the Party's reach: 1 with a branch, less through regional or hub (§7.19)


@dataclass
class Institutions:
    """State of the hierarchy above the community (conduction)."""

    retention: np.ndarray  # (M, 3) τ_ℓ this week
    task_growth: np.ndarray  # (M, 3) φ_ℓ, a state that the burden cut lowers and that drifts back
    experience: np.ndarray  # (M,) X, community workers' mean experience in [0, 1] (career, §7.14)


@dataclass
class NeedLedger:
    """Reported needs followed until answered or left unanswered (docs/ODD.md §7.11, §7.12).

    Zero and untouched unless trust's responsiveness channel or conduction's escalation is on.
    """

    pending: np.ndarray  # reported need the community has not answered yet (need units)
    escalated: np.ndarray  # need sent up a level and not yet answered there
    answered: np.ndarray  # answered in time this week (by the community or the level above)
    unanswered: np.ndarray  # left unanswered beyond the waiting time this week


class Tallies:
    """Running totals since week 0 for the shares the metrics report, one entry per member."""

    def __init__(self, members: int = 1) -> None:
        self.escalated_answered = np.zeros(members)  # need units answered by the level above
        self.escalated_lapsed = np.zeros(members)  # need units sent up that lapsed unanswered
        # owner–company conflicts settled by each channel, attributed in proportion to its rate
        self.settled = np.zeros((members, 5))


#: what one week produced, per member: the scalar flows (their value before any stage sets
#: them: 0, or NaN for a share with nothing to divide, or 1 for the workers' experience)
FLOW_SCALARS: dict[str, float] = {
    # conduction
    "funds_delivered_share": 0.0,
    "funds_service": 0.0,
    "burden": 0.0,
    "task_growth": 0.0,
    "effective_capacity": 0.0,
    # converging
    "joint_capacity": 0.0,
    "joint_service": 0.0,
    "contribution_rate": 0.0,
    "contribution_vertical": 0.0,
    "contribution_horizontal": 0.0,
    "contribution_outward": 0.0,
    # linking
    "linked_resources": 0.0,
    "linked_capacity": 0.0,
    # embedding
    "coverage_point": 0.0,
    "coverage_line": 0.0,
    "coverage_surface": 0.0,
    "coverage_body": 0.0,
    "asks": 0.0,
    # integration and property
    "cross_appointment": 0.0,
    "overlap": 0.0,
    "conflicts_started": 0.0,
    "conflicts_resolved": 0.0,
    "company_replacements": 0.0,
    # Party members
    "members_active": 0.0,
    "member_activity": 0.0,
    "leaders": 0.0,
    "role_model_reach": 0.0,
    "member_overload": 0.0,
    # trust's own channels: mean weekly change of trust from each (docs/ODD.md §7.11)
    "trust_responsiveness": 0.0,
    "trust_fairness": 0.0,
    "trust_conduct": 0.0,
    "trust_promises": 0.0,
    "reports_answered_share": float("nan"),
    "reports_pending": 0.0,
    "linked_announced": 0.0,
    "promises_broken_share": 0.0,
    # conduction: needs sent up a level (docs/ODD.md §7.12)
    "escalated": 0.0,
    "escalation_answered": 0.0,
    "escalation_answered_share": float("nan"),
    "escalation_wait_weeks": float("nan"),
    # conduction: community workers' career (docs/ODD.md §7.14)
    "worker_turnover": 0.0,
    "worker_experience": 1.0,
    # converging: the community fund (docs/ODD.md §7.15)
    "fund_spent": 0.0,
    # integration: compound-level Party organisation (docs/ODD.md §7.16)
    "compounds_organised": 0.0,
    # embedding: density of the branch network (docs/ODD.md §7.17)
    "branch_network_density": 0.0,
    # embedding: units nobody covers, and those the community takes on (docs/ODD.md §7.18)
    "uncovered_units": 0.0,
    "duty_units": 0.0,
    # embedding: line units reached by each kind of organisation (docs/ODD.md §7.19)
    "line_stationed": 0.0,
    "line_regional": 0.0,
    "line_hub": 0.0,
    # budget
    "cost": 0.0,
    "budget_bound": 0.0,
}
_FLOW_STARTS = np.array(list(FLOW_SCALARS.values()))[:, None]
_FLOW_VECTORS = ("capacity", "served_by_channel", "served_by_category", "served_matrix")


class Flows:
    """What one week produced, one entry per member of the ensemble; reset every step.

    Every scalar flow of :data:`FLOW_SCALARS` is an array over members (shape ``(M,)``);
    ``capacity`` and ``served_by_channel`` are ``(M, 4)``, ``served_by_category`` ``(M, K)``,
    ``served_matrix`` ``(M, 4, K)`` (channel × category, each channel credited pro rata with
    what it offered in the category), ``intensities`` maps each lever to its effective
    intensities ``(M,)``. :meth:`member` gives one member's flows as plain values.
    """

    def __init__(self, members: int = 1) -> None:
        self.members = members
        # one block, a row per scalar flow (in the order of FLOW_SCALARS): a step starts with one
        # allocation, not fifty, and the recorder reads the flows it reports in one gather
        self.block = np.repeat(_FLOW_STARTS, members, axis=1)
        self.__dict__.update(zip(FLOW_SCALARS, self.block, strict=True))
        k = len(NEED_CATEGORIES)
        self.capacity = np.zeros((members, 4))
        self.served_by_channel = np.zeros((members, 4))
        self.served_by_category = np.zeros((members, k))
        self.served_matrix = np.zeros((members, 4, k))
        self.intensities: dict[str, np.ndarray] = {}

    def __getattr__(self, name: str) -> np.ndarray:  # the scalar flows, for type checkers
        raise AttributeError(name)

    def member(self, m: int = 0) -> SimpleNamespace:
        """Member ``m``'s flows: floats for the scalar flows, arrays for the others."""
        out: dict[str, Any] = {name: float(getattr(self, name)[m]) for name in FLOW_SCALARS}
        out.update({name: getattr(self, name)[m] for name in _FLOW_VECTORS})
        out["intensities"] = {name: float(v[m]) for name, v in self.intensities.items()}
        return SimpleNamespace(**out)
