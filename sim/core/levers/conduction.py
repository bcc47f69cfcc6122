"""导入 Conduction: money and tasks travel city → district → street → community.

Hand-offs. Three hand-offs ℓ = 1, 2, 3 (city → district, district → street, street →
community) each keep a share τ_ℓ of the resources passed down and add a share φ_ℓ of extra
tasks (执行衰减 and 层层加码: 李辉 2022; O'Brien & Li 1999). The share of city funds that
arrives is Π_ℓ τ_ℓ, so the funds that reach services are

    F = (F_city + k · F_special) · Π_ℓ τ_ℓ                       [need units / household / week]

and the task load relative to what the work team can carry is B/B_max = B₀ Π_ℓ (1 + φ_ℓ).
The community's effective work capacity, as a share of a full-strength workforce W, is

    W_eff = (1 + k · W_sw) · (1 − B/B_max)⁺,

W_sw being the professional social-worker posts (社工岗) the lever adds. W_eff multiplies the
government channel's capacity and caps what linking (链入) can deliver.

Sub-mechanisms at effective intensity k:

- Branch standardisation (支部标准化建设) closes a share ``standardisation`` · k of every
  hand-off's gap to τ_max: τ_ℓ = τ_ℓ⁰ + k s (τ_max − τ_ℓ⁰).
- Special funds (专项经费) add F_special at the top; they travel down the same hand-offs.
- Burden reduction (减负) removes a share ``burden_cut`` · k of φ_ℓ every week it acts; φ is
  a state that always drifts back toward its original level at rate ω (``rebound``):
  φ_ℓ ← φ_ℓ − k c φ_ℓ + ω (φ_ℓ⁰ − φ_ℓ). A one-off campaign (``duration_weeks``) therefore
  lowers φ, which then drifts back, and W_eff with it (pattern 9).
- Social-worker posts (社工岗) add W_sw · k to the workforce.

Because τ multiplies, the money lost in transit is largest when τ is low; then raising τ
(standardisation) delivers more than spending the same budget on special funds at the top
(pattern 3). Growing tasks (higher φ) crowd out services through W_eff.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.core.levers import converging
from sim.core.params import ConfigError, LeverConfig, lever_cost, param

if TYPE_CHECKING:
    from sim.core.model import CommunityModel


@dataclass
class ConductionConfig(LeverConfig):
    """导入: hand-offs of funds and tasks down the hierarchy, and the community's capacity."""

    cost_per_unit: float = lever_cost(2.5)
    retention: list[float] = param(
        [0.75, 0.8, 0.85],
        0.0,
        1.0,
        "τ_ℓ⁰, share of resources kept at each hand-off (city→district, district→street, street→community)",
        per="hand-off",
    )
    task_growth: list[float] = param(
        [0.1, 0.1, 0.1], 0.0, 1.0, "φ_ℓ⁰, share of extra tasks added at each hand-off", per="hand-off"
    )
    retention_max: float = param(0.95, 0.0, 1.0, "τ_max, retention of a fully standardised hand-off")
    standardisation: float = param(
        0.6, 0.0, 1.0, "share of each hand-off's gap to τ_max that standardisation closes at intensity 1"
    )
    special_funds: float = param(
        0.01,
        0.0,
        1.0,
        "F_special, need units per household per week of special funds sent from the top at intensity 1",
    )
    burden_cut: float = param(0.1, 0.0, 1.0, "share of φ removed per week at intensity 1 (减负)")
    rebound: float = param(0.05, 0.0, 1.0, "ω, weekly share of φ's gap to φ⁰ that drifts back")
    city_funds: float = param(
        0.06, 0.0, 1.0, "F_city, need units per household per week of funds the city sends down"
    )
    base_burden: float = param(
        0.45, 0.0, 1.0, "B₀/B_max, tasks from above before any growth, as a share of what W can carry"
    )
    social_worker_posts: float = param(
        0.4, 0.0, 5.0, "W_sw, social-worker posts at intensity 1, as a share of the community workforce W"
    )
    # 上下双向用力 (docs/ODD.md §7.12): needs go up a level, which answers within a time
    escalation: float = param(
        0.0,
        0.0,
        1.0,
        "share of pending reported need sent up to the street each week at intensity 1 (0 = off)",
    )
    upper_response_weeks: float = param(
        3.0, 0.5, 52.0, "mean weeks the level above takes to answer a need sent up (吹哨报到: within a time)"
    )
    upper_capacity: float = param(
        0.02, 0.0, 1.0, "need units per household per week the levels above can answer at most"
    )
    # 社区工作者职业体系、报酬待遇; 社区楷模 (docs/ODD.md §7.14): turnover costs experience
    turnover: float = param(
        0.0,
        0.0,
        0.1,
        "q₀, weekly share of community workers who leave without career measures (status quo; 0 = off)",
    )
    career: float = param(
        0.0, 0.0, 1.0, "share of turnover that pay, standards and promotion remove at intensity 1 (职业体系)"
    )
    exemplars: float = param(
        0.0, 0.0, 1.0, "share of the remaining turnover that recognising exemplars removes at intensity 1"
    )
    learning_weeks: float = param(
        104.0, 1.0, 1000.0, "L, weeks a new worker takes to gain the experience of a seasoned one"
    )
    experience_weight: float = param(
        0.5, 0.0, 1.0, "ε_X, share of a seasoned worker's capacity a newcomer lacks"
    )

    def check(self, prefix: str) -> None:
        for i, tau in enumerate(self.retention):
            if tau > self.retention_max:
                raise ConfigError(
                    f"{prefix}.retention[{i}]={tau:g} exceeds {prefix}.retention_max="
                    f"{self.retention_max:g}; allowed: retention ≤ retention_max"
                )


def retention(cfg: ConductionConfig, k: float) -> np.ndarray:
    """τ_ℓ at effective intensity ``k``: standardisation closes part of the gap to τ_max."""
    base = np.asarray(cfg.retention, dtype=np.float64)
    return base + k * cfg.standardisation * (cfg.retention_max - base)


def _column(value: float | np.ndarray) -> float | np.ndarray:
    """A per-member value as a column (one row per member), a scalar as it is."""
    return value[:, None] if isinstance(value, np.ndarray) else value


def apply(model: CommunityModel, k: np.ndarray) -> None:
    """Hand funds and tasks down; set funds delivered and effective capacity W_eff (per member)."""
    par = model.par
    inst = model.institutions
    base_phi = model.derived(
        "task_growth",
        lambda: np.array([cfg.levers.conduction.task_growth for cfg in model.configs], dtype=float),
    )
    base_tau = model.derived(
        "retention", lambda: np.array([cfg.levers.conduction.retention for cfg in model.configs], dtype=float)
    )
    # τ at effective intensity k: standardisation closes part of the gap to τ_max (see retention)
    inst.retention[:] = base_tau + (k * par("levers.conduction.standardisation"))[:, None] * (
        _column(par("levers.conduction.retention_max")) - base_tau
    )
    # φ is a state: cut while the lever acts, always drifting back toward its origin.
    inst.task_growth[:] = np.clip(
        inst.task_growth
        - (k * par("levers.conduction.burden_cut"))[:, None] * inst.task_growth
        + _column(par("levers.conduction.rebound")) * (base_phi - inst.task_growth),
        0.0,
        1.0,
    )
    delivered = np.prod(inst.retention, axis=1)
    burden = par("levers.conduction.base_burden") * np.prod(1.0 + inst.task_growth, axis=1)
    effective = (1.0 + k * par("levers.conduction.social_worker_posts")) * np.maximum(0.0, 1.0 - burden)

    if model.positive(
        "levers.conduction.turnover"
    ):  # the community workers' career: turnover costs experience
        effective = _career(model, k, effective)
    flow = model.flows
    flow.funds_delivered_share[:] = delivered
    flow.funds_service[:] = (
        par("levers.conduction.city_funds") + k * par("levers.conduction.special_funds")
    ) * delivered
    flow.burden[:] = burden
    flow.task_growth[:] = inst.task_growth.mean(axis=1)
    flow.effective_capacity[:] = effective


def experience_at_rest(quits: float, learning_weeks: float) -> float:
    """X* where X = (1 − q)(X + (1 − X)/L) holds: the workforce's experience at a steady turnover."""
    keep = 1.0 - quits
    return keep / learning_weeks / (1.0 - keep * (1.0 - 1.0 / learning_weeks))


def _career(model: CommunityModel, k: np.ndarray, effective: np.ndarray) -> np.ndarray:
    """Quits, experience, and the factor 1 − ε_X (1 − X) on effective capacity (stage 1), for
    the members with turnover; the others' are left as they are."""
    par = model.par
    on = model.vec("levers.conduction.turnover") > 0
    quits = (
        par("levers.conduction.turnover")
        * (1.0 - k * par("levers.conduction.career"))
        * (1.0 - k * par("levers.conduction.exemplars"))
    )
    weeks = par("levers.conduction.learning_weeks")
    experience = model.institutions.experience
    new = experience * (1.0 - 1.0 / weeks)
    new = new + 1.0 / weeks
    new = new * (1.0 - quits)  # leavers take their experience; newcomers start with none
    experience[:] = np.where(on, new, experience)
    flow = model.flows
    flow.worker_turnover[:] = np.where(on, quits, flow.worker_turnover)
    flow.worker_experience[:] = np.where(on, experience, flow.worker_experience)
    factor = 1.0 - par("levers.conduction.experience_weight") * (1.0 - experience)
    return np.where(on, effective * factor, effective)


def escalate(model: CommunityModel, k: np.ndarray, need: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stage 7b: send part of the unanswered reported need up; the level above answers some.

    Returns what the level above answered and what lapsed there (per household, need units).
    A member without escalation sends nothing up: nothing is answered or lapses above.
    """
    par, at, n = model.par, model.at, model.N
    book = model.ledger
    escalation = par("levers.conduction.escalation")
    if not model.positive(
        "levers.conduction.escalation"
    ):  # nothing goes up: nothing is answered or lapses above
        none = np.zeros_like(need)
        return none, none
    hh = model.households
    up = book.escalated
    sent = model.at(escalation * k, n) * book.pending
    book.pending -= sent
    up += sent
    np.minimum(up, need, out=up)  # a need the household settled itself is no longer up there
    # the community's say over street departments (converging, §7.15) speeds their answers
    weeks = par("levers.conduction.upper_response_weeks") / converging.street_speed(model)
    answer = up / model.at(np.maximum(weeks, 1.0), n)  # at most all of it in a week
    total = model.sums(answer)
    cap = par("levers.conduction.upper_capacity") * n
    over = total > cap
    if over.any():
        answer *= model.at(np.divide(cap, total, out=np.ones_like(total), where=over), n)
    up -= answer
    lapsed = up / at(par("trust.answer_weeks"), n)
    up -= lapsed
    # the level above serves the needs it answers, across categories in proportion
    keep = np.divide(need - answer, need, out=np.ones_like(need), where=need > 0)
    hh.needs *= keep[:, None]
    tally = model.tallies
    answered = model.sums(answer)
    lapsed_sum = model.sums(lapsed)
    tally.escalated_answered += answered
    tally.escalated_lapsed += lapsed_sum
    done = tally.escalated_answered + tally.escalated_lapsed
    flow = model.flows
    flow.escalated[:] = model.means(sent)
    flow.escalation_answered[:] = model.means(answer)
    with np.errstate(divide="ignore", invalid="ignore"):
        flow.escalation_answered_share[:] = np.where(done > 0, tally.escalated_answered / done, np.nan)
        leaving = answered + lapsed_sum
        # mean weeks a need waits above (Little's law: stock over what leaves it each week)
        flow.escalation_wait_weeks[:] = np.where(leaving > 0, (model.sums(up) + leaving) / leaving, np.nan)
    return answer, lapsed
