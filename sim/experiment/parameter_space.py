"""Every documented dynamics, members', trust and lever parameter as an input of a grouped sensitivity design.

:func:`parameter_space` walks :class:`~sim.core.config.DynamicsConfig`,
:class:`~sim.core.members.MembersConfig` (Party members' activity, leaders and role models),
:class:`~sim.core.trust.TrustConfig` (trust's own channels) and the six lever configs and
returns one design parameter per numeric scalar, with a range and a SALib group: one group
per lever (its intensity and its own parameters), one for the members (``members``) and one
per submodel (trust's channels join the ``trust`` submodel) of the residents and organisations
(:data:`SUBMODELS`). The experiment configs
``sim/configs/experiment/sobol_all.yaml`` and ``morris_all.yaml`` are written from it::

    python -m sim.experiment.parameter_space sobol > sim/configs/experiment/sobol_all.yaml
    python -m sim.experiment.parameter_space morris > sim/configs/experiment/morris_all.yaml

Ranges (an assumption, stated in docs/sweeps.md): a lever's intensity spans [0, 1]; any other
parameter spans its default ± 50% (a default of 0 spans the lowest quarter of its documented
range), clipped to the documented range, except where a cross-field rule of the config needs a
narrower range (:data:`RANGE_RULES`). Left out: time windows and costs (``start_week``,
``duration_weeks``, ``cost_per_unit``: the budget is unbounded by default, so cost changes no
dynamics), the shock (a scenario, not a parameter), and per-category lists (need rates, need
weights, retentions and task growth per hand-off), which a design cannot set one value at a time.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from typing import Any

from sim.core.config import DynamicsConfig, LeversConfig
from sim.core.members import MembersConfig
from sim.core.trust import TrustConfig

LEFT_OUT = ("start_week", "duration_weeks", "cost_per_unit")

#: submodel of each dynamics parameter (docs/ODD.md §7.2–7.7); first matching prefix wins
SUBMODELS: tuple[tuple[str, str], ...] = (
    ("need_", "needs"),
    ("no_management_property_need", "needs"),
    ("government_capacity", "supply"),
    ("social_capacity", "supply"),
    ("volunteer_capacity", "supply"),
    ("market_capacity", "supply"),
    ("channel_overlap", "supply"),
    ("base_need_information", "supply"),
    ("satisfaction_", "satisfaction"),
    ("expectation_", "expectation"),
    ("trust_effect", "participation"),
    ("trust_", "trust"),
    ("conflict_trust_shock", "trust"),
    ("threshold_", "participation"),
    ("resource_effect", "participation"),
    ("recruitment_effect", "participation"),
    ("fee_", "property"),
    ("quality_", "property"),
    ("conflict_", "property"),
    ("mediation_rate", "property"),
    ("service_floor", "property"),
    ("owners_committee_", "property"),
    ("replacement_", "property"),
    ("red_property_", "property"),
    ("resolution_", "property"),
    ("street_after_", "property"),
    ("synergy", "organisations"),
    ("coordination_cost", "organisations"),
    ("joint_capacity_scale", "organisations"),
    ("learning_rate", "organisations"),
    ("aspiration", "organisations"),
    ("initial_propensity", "organisations"),
)

#: the SALib group of the ``members.*`` parameters (sim/core/members.py)
MEMBERS_GROUP = "members"
#: the SALib group of trust's own channels, ``trust.*`` (sim/core/trust.py, docs/ODD.md §7.11):
#: the same group as the trust dynamics (``dynamics.trust_*``)
TRUST_GROUP = "trust"

#: ranges narrowed by a cross-field rule: retention ≤ retention_max for the default retentions
RANGE_RULES: dict[str, tuple[float, float]] = {"levers.conduction.retention_max": (0.85, 1.0)}


def submodel(name: str) -> str:
    """The submodel group of a dynamics parameter (``other dynamics`` if none is known)."""
    for prefix, group in SUBMODELS:
        if name.startswith(prefix):
            return group
    return "other dynamics"


def _range(key: str, default: float, lo: float | None, hi: float | None) -> tuple[float, float]:
    if key in RANGE_RULES:
        return RANGE_RULES[key]
    lo = -math.inf if lo is None else float(lo)
    hi = math.inf if hi is None else float(hi)
    if key.endswith(".intensity"):
        return (0.0, 1.0)
    if default > 0:
        a, b = default / 2, default * 1.5
    elif default < 0:
        a, b = default * 1.5, default / 2
    else:
        top = hi if math.isfinite(hi) else 1.0
        a, b = lo if math.isfinite(lo) else 0.0, (lo if math.isfinite(lo) else 0.0) + (top - max(lo, 0.0)) / 4
    return (max(lo, a), min(hi, b))


def _scalars(obj: Any, prefix: str) -> list[tuple[str, float, dataclasses.Field]]:
    out = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value) or isinstance(value, list | tuple | bool | str):
            continue
        # whole numbers (weeks of patience, weeks before the street steps in) are left out: a
        # Sobol or Morris design draws real values, which an integer key refuses
        if f.name in LEFT_OUT or not isinstance(value, float):
            continue
        out.append((f"{prefix}{f.name}", float(value), f))
    return out


def parameter_space() -> list[dict[str, Any]]:
    """One entry per parameter: ``name``, ``key``, ``lo``, ``hi``, ``group`` (and ``integer``)."""
    entries: list[dict[str, Any]] = []
    for key, default, f in _scalars(DynamicsConfig(), "dynamics."):
        lo, hi = _range(key, default, f.metadata.get("lo"), f.metadata.get("hi"))
        entries.append({"key": key, "lo": lo, "hi": hi, "group": submodel(f.name), "default": default})
    for key, default, f in _scalars(MembersConfig(), "members."):
        lo, hi = _range(key, default, f.metadata.get("lo"), f.metadata.get("hi"))
        entries.append({"key": key, "lo": lo, "hi": hi, "group": MEMBERS_GROUP, "default": default})
    for key, default, f in _scalars(TrustConfig(), "trust."):
        lo, hi = _range(key, default, f.metadata.get("lo"), f.metadata.get("hi"))
        entries.append({"key": key, "lo": lo, "hi": hi, "group": TRUST_GROUP, "default": default})
    levers = LeversConfig()
    for lever in levers.names():
        for key, default, f in _scalars(getattr(levers, lever), f"levers.{lever}."):
            lo, hi = _range(key, default, f.metadata.get("lo"), f.metadata.get("hi"))
            entries.append({"key": key, "lo": lo, "hi": hi, "group": lever, "default": default})
    for e in entries:
        # members.* and trust.* keep their prefix: members_trust_effect is not dynamics.trust_effect
        e["name"] = e["key"].replace("levers.", "").replace("dynamics.", "").replace(".", "_")
    return entries


_HEADER = {
    "sobol": (
        "# Grouped Sobol (Saltelli) sensitivity over every documented dynamics, members' and lever\n"
        "# parameter ({n_params} inputs in {n_groups} SALib groups: one per lever, one for the members,\n"
        "# one per submodel), so that N·(G + 2) = {rows} points for N = {n}. Written by\n"
        "#   python -m sim.experiment.parameter_space sobol > sim/configs/experiment/sobol_all.yaml\n"
        "# (ranges: docs/sweeps.md). sim-analyse checks convergence and recommends N:\n"
        "#   sim-run -m experiment=sobol_all community=workshop\n"
        "#   sim-analyse results/sweeps/sobol_all/<timestamp>\n"
    ),
    "morris": (
        "# Grouped Morris screening over every documented dynamics, members' and lever parameter\n"
        "# ({n_params} inputs in {n_groups} SALib groups), N·(G + 1) = {rows} points for N = {n}.\n"
        "# Written by\n"
        "#   python -m sim.experiment.parameter_space morris > sim/configs/experiment/morris_all.yaml\n"
        "#   sim-run -m experiment=morris_all community=workshop\n"
    ),
}


def _fmt(x: float) -> str:
    return repr(round(float(x), 10))


def experiment_yaml(method: str, n: int | None = None) -> str:
    """The experiment config (``sobol`` or ``morris``) over :func:`parameter_space`."""
    if method not in _HEADER:
        raise ValueError(f"method={method!r}; allowed: sobol or morris")
    n = n or (64 if method == "sobol" else 20)
    space = parameter_space()
    groups = len({e["group"] for e in space})
    rows = n * (groups + (2 if method == "sobol" else 1))
    lines = [
        "# @package _global_",
        _HEADER[method].format(n_params=len(space), n_groups=groups, rows=rows, n=n).rstrip("\n"),
        "defaults:",
        "  - override /hydra/sweeper: design",
        "  - override /hydra/launcher: joblib",
        "",
        f"experiment: {method}_all",
        "replicates: 4",
        "record_buildings: false",
        "baseline_comparison: false",
        "",
        "hydra:",
        "  sweeper:",
        f"    method: {method}",
        f"    n: {n}",
    ]
    lines += ["    calc_second_order: false"] if method == "sobol" else ["    num_levels: 4"]
    lines.append("    params:")
    for e in space:
        lines.append(
            f"      {e['name']}: {{key: {e['key']}, lo: {_fmt(e['lo'])}, hi: {_fmt(e['hi'])}, "
            f"group: {e['group']}}}"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(experiment_yaml(sys.argv[1] if len(sys.argv) > 1 else "sobol"))
