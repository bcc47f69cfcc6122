"""The model's mutable state, one struct of arrays per kind of entity.

Mesa agents (:mod:`sim.core.agents`) are thin views onto a row of these arrays; the step works on
whole arrays at once. ``Flows`` holds what one week produced (capacities, coverage, costs),
which the metrics read and the next stages of the same step use.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

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

    retention: np.ndarray  # τ_ℓ this week
    task_growth: np.ndarray  # φ_ℓ, a state that the burden cut lowers and that drifts back
    experience: np.ndarray  # (1,) X, community workers' mean experience in [0, 1] (career, §7.14)


@dataclass
class NeedLedger:
    """Reported needs followed until answered or left unanswered (docs/ODD.md §7.11, §7.12).

    Zero and untouched unless trust's responsiveness channel or conduction's escalation is on.
    """

    pending: np.ndarray  # reported need the community has not answered yet (need units)
    escalated: np.ndarray  # need sent up a level and not yet answered there
    answered: np.ndarray  # answered in time this week (by the community or the level above)
    unanswered: np.ndarray  # left unanswered beyond the waiting time this week


@dataclass
class Tallies:
    """Running totals since week 0 for the shares the metrics report."""

    escalated_answered: float = 0.0  # need units answered by the level above
    escalated_lapsed: float = 0.0  # need units sent up that lapsed unanswered
    # owner–company conflicts settled by each channel, attributed in proportion to its rate
    settled: np.ndarray = field(default_factory=lambda: np.zeros(5))


@dataclass
class Flows:
    """What one week produced; reset at the start of every step."""

    # conduction
    funds_delivered_share: float = 0.0
    funds_service: float = 0.0
    burden: float = 0.0
    task_growth: float = 0.0
    effective_capacity: float = 0.0
    # converging
    joint_capacity: float = 0.0
    joint_service: float = 0.0
    contribution_rate: float = 0.0
    contribution_vertical: float = 0.0
    contribution_horizontal: float = 0.0
    contribution_outward: float = 0.0
    # linking
    linked_resources: float = 0.0
    linked_capacity: float = 0.0
    # embedding
    coverage_point: float = 0.0
    coverage_line: float = 0.0
    coverage_surface: float = 0.0
    coverage_body: float = 0.0
    asks: float = 0.0
    # integration and property
    cross_appointment: float = 0.0
    overlap: float = 0.0
    conflicts_started: float = 0.0
    conflicts_resolved: float = 0.0
    company_replacements: float = 0.0
    # Party members
    members_active: float = 0.0
    member_activity: float = 0.0
    leaders: float = 0.0
    role_model_reach: float = 0.0
    member_overload: float = 0.0
    # trust's own channels: mean weekly change of trust from each (docs/ODD.md §7.11)
    trust_responsiveness: float = 0.0
    trust_fairness: float = 0.0
    trust_conduct: float = 0.0
    trust_promises: float = 0.0
    reports_answered_share: float = float("nan")
    reports_pending: float = 0.0
    linked_announced: float = 0.0
    promises_broken_share: float = 0.0
    # conduction: needs sent up a level (docs/ODD.md §7.12)
    escalated: float = 0.0
    escalation_answered: float = 0.0
    escalation_answered_share: float = float("nan")
    escalation_wait_weeks: float = float("nan")
    # conduction: community workers' career (docs/ODD.md §7.14)
    worker_turnover: float = 0.0
    worker_experience: float = 1.0
    # converging: the community fund (docs/ODD.md §7.15)
    fund_spent: float = 0.0
    # integration: compound-level Party organisation (docs/ODD.md §7.16)
    compounds_organised: float = 0.0
    # embedding: density of the branch network (docs/ODD.md §7.17)
    branch_network_density: float = 0.0
    # embedding: units nobody covers, and those the community takes on (docs/ODD.md §7.18)
    uncovered_units: float = 0.0
    duty_units: float = 0.0
    # embedding: line units reached by each kind of organisation (docs/ODD.md §7.19)
    line_stationed: float = 0.0
    line_regional: float = 0.0
    line_hub: float = 0.0
    # supply
    capacity: np.ndarray = field(default_factory=lambda: np.zeros(4))
    served_by_channel: np.ndarray = field(default_factory=lambda: np.zeros(4))
    served_by_category: np.ndarray = field(default_factory=lambda: np.zeros(len(NEED_CATEGORIES)))
    # channel × category: each channel credited pro rata with what it offered in the category
    served_matrix: np.ndarray = field(default_factory=lambda: np.zeros((4, len(NEED_CATEGORIES))))
    # budget
    cost: float = 0.0
    budget_bound: float = 0.0
    intensities: dict[str, float] = field(default_factory=dict)
