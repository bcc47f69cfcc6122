"""导入 Conduction: money and tasks travel city → district → street → community.

Three hand-offs ℓ each keep a share τ_ℓ of the resources passed down and add a share φ_ℓ of
extra tasks (执行衰减 and 层层加码: 李辉 2022; O'Brien & Li 1999). The share of city funds
that arrives is Π_ℓ τ_ℓ; the task load is B = B₀ Π_ℓ (1 + φ_ℓ). The community's effective
work capacity is W_eff = (W + W_sw)(1 − B / B_max)⁺ with W_sw the professional social-worker
posts (社工岗) the lever adds.

- Branch standardisation (支部标准化) raises every τ_ℓ toward τ_max.
- Burden reduction (减负) removes a share of φ_ℓ each week while the lever acts; without it,
  φ drifts back toward its original level at rate ω (the rebound).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.params import ConfigError, LeverConfig, param

if TYPE_CHECKING:
    from sim.model import CommunityModel


@dataclass
class ConductionConfig(LeverConfig):
    """导入: hand-offs of funds and tasks down the hierarchy, and the community's capacity."""

    cost_per_unit: float = param(2.5, 0.0, 1e6, "weekly cost per 1,000 households at intensity 1")
    retention: list[float] = param(
        [0.75, 0.8, 0.85], 0.0, 1.0, "τ_ℓ, share kept at each hand-off", per="hand-off"
    )
    task_growth: list[float] = param(
        [0.1, 0.1, 0.1], 0.0, 1.0, "φ_ℓ, extra tasks added at each hand-off", per="hand-off"
    )
    retention_max: float = param(0.95, 0.0, 1.0, "τ_max, retention of a fully standardised hand-off")
    standardisation: float = param(
        0.6, 0.0, 1.0, "share of the gap to τ_max that standardisation closes at intensity 1"
    )
    burden_cut: float = param(0.1, 0.0, 1.0, "weekly share of φ removed at intensity 1 (减负)")
    rebound: float = param(0.05, 0.0, 1.0, "ω, weekly drift of φ back to its original level")
    city_funds: float = param(
        0.06, 0.0, 1.0, "need units per household per week of funds sent down from the city"
    )
    base_burden: float = param(0.45, 0.0, 1.0, "B₀/B_max, tasks from above before any growth")
    social_worker_posts: float = param(
        0.4, 0.0, 5.0, "W_sw at intensity 1, as a share of the community workforce W"
    )

    def check(self, prefix: str) -> None:
        for i, tau in enumerate(self.retention):
            if tau > self.retention_max:
                raise ConfigError(
                    f"{prefix}.retention[{i}]={tau:g} exceeds {prefix}.retention_max="
                    f"{self.retention_max:g}; allowed: retention ≤ retention_max"
                )


def apply(model: CommunityModel, k: float) -> None:
    """Hand funds and tasks down; set funds delivered and effective capacity W_eff."""
    cfg = model.cfg.levers.conduction
    inst = model.institutions
    base_tau = np.asarray(cfg.retention)
    base_phi = np.asarray(cfg.task_growth)
    inst.retention[:] = base_tau + k * cfg.standardisation * (cfg.retention_max - base_tau)
    # φ is a state: cut while the lever acts, always drifting back toward its origin.
    inst.task_growth[:] = np.clip(
        inst.task_growth
        - k * cfg.burden_cut * inst.task_growth
        + cfg.rebound * (base_phi - inst.task_growth),
        0.0,
        1.0,
    )
    delivered = float(np.prod(inst.retention))
    burden = cfg.base_burden * float(np.prod(1.0 + inst.task_growth))
    effective = (1.0 + k * cfg.social_worker_posts) * max(0.0, 1.0 - burden)

    flow = model.flow
    flow.funds_delivered_share = delivered
    flow.funds_service = cfg.city_funds * delivered
    flow.burden = burden
    flow.task_growth = float(inst.task_growth.mean())
    flow.effective_capacity = effective
