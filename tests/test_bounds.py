"""Over random valid configs, every state stays bounded and finite, and counts add up.

Two property-based tests: one over hand-picked community and dynamics ranges, one over the whole
valid config space (every declared parameter across its declared range, drawn from the schema
itself) on small communities. Both run with ``check_finite`` on, the debug mode that checks every
state array for NaN/inf after each step and raises on the first one.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.core.config import Config, from_dict
from sim.core.levers import LEVERS
from sim.core.metrics import COMPOUND_KINDS, UNDEFINED_WHEN_OFF
from sim.core.model import CommunityModel, NonFiniteStateError

unit = st.floats(0.0, 1.0, allow_nan=False)

configs = st.fixed_dictionaries(
    {
        "community": st.fixed_dictionaries(
            {
                "n_compounds": st.integers(1, 3),
                "buildings_per_compound": st.integers(1, 4),
                "households_per_building": st.integers(1, 30),
                "party_share": unit,
                "property_managed_share": unit,
                "owners_committee_share": unit,
                "ring_degree": st.sampled_from([0, 2, 4, 6]),
                "initial_trust": unit,
                "initial_satisfaction": unit,
            }
        ),
        "dynamics": st.fixed_dictionaries(
            {
                "threshold_mean": st.floats(-1.0, 2.0),
                "threshold_sd": st.floats(0.0, 2.0),
                "satisfaction_rate": st.floats(0.1, 0.3),
                "trust_down_ratio": st.floats(1.0, 10.0),
                "need_decay": unit,
                "channel_overlap": st.floats(0.0, 0.9),
            }
        ),
        "levers": st.fixed_dictionaries(
            {name: st.fixed_dictionaries({"intensity": unit}) for name in LEVERS}
        ),
        "budget": st.one_of(st.just(float("inf")), st.floats(0.0, 20.0)),
        "steps": st.integers(1, 25),
        "seed": st.integers(0, 2**32),
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs)
def test_state_stays_bounded_and_finite(overrides) -> None:
    cfg = from_dict({**overrides, "check_finite": True})
    model = CommunityModel(cfg, rng=overrides["seed"])
    model.run()  # check_finite raises on the first NaN or inf
    assert_bounded(model)


def assert_bounded(model: CommunityModel) -> None:
    """Every state in its range, counts consistent, every recorded metric finite."""
    cfg = model.cfg
    hh = model.households
    for name in ("satisfaction", "expectation", "trust", "civic_resources", "performance"):
        values = getattr(hh, name)
        assert ((values >= 0) & (values <= 1)).all(), name
    assert ((hh.needs >= 0) & (hh.needs <= 1)).all()
    assert ((model.buildings.need_information >= 0) & (model.buildings.need_information <= 1)).all()
    assert ((model.companies.quality >= 0) & (model.companies.quality <= 1)).all()
    assert ((model.orgs.propensity >= 0) & (model.orgs.propensity <= 1)).all()
    assert (model.compounds.open_conflicts >= 0).all()
    frame = model.recorder.frame()
    assert len(frame) == cfg.steps
    # counts are consistent: opened (by residents and by an imposed failure) minus resolved is open
    shock = cfg.dynamics.shock
    imposed = shock.conflicts * cfg.community.n_compounds if 0 <= shock.week < cfg.steps else 0
    opened = frame.conflicts_started.sum() + imposed
    assert frame.conflicts_open.iloc[-1] == opened - frame.conflicts_resolved.sum()
    assert ((frame.participation >= 0) & (frame.participation <= 1)).all()
    assert (frame.cost <= max(cfg.budget, 0) + 1e-9).all() or np.isinf(cfg.budget)
    # NaN by design: company metrics without companies, outcomes of compound kinds a community lacks
    by_kind = [c for c in frame.columns if c.endswith(tuple(f"_{k}" for k in COMPOUND_KINDS))]
    undefined = ["company_quality", "fee_collection", *by_kind, *UNDEFINED_WHEN_OFF]
    assert np.isfinite(frame.drop(columns=undefined).to_numpy()).all()


# ------------------------------------------------------------------------------ the whole space
#: sizes kept small (the workshop preset and smaller) so that each example takes milliseconds
SMALL = {
    "community.n_compounds": st.integers(1, 3),
    "community.buildings_per_compound": st.integers(1, 5),
    "community.households_per_building": st.integers(1, 40),
    "community.ring_degree": st.integers(0, 20).map(lambda k: 2 * k),  # even, as validated
    "steps": st.integers(1, 20),
    "seed": st.integers(0, 2**32),
}
#: not model inputs (output switches, labels, replicate count)
NOT_DRAWN = {"replicates", "check_finite", "report", "experiment", "community.preset"}


def _leaf(key: str, f: dataclasses.Field, default: Any) -> st.SearchStrategy | None:
    """A strategy over the declared range of one parameter, or None to keep its default."""
    if key in SMALL:
        return SMALL[key]
    if key in NOT_DRAWN or isinstance(default, str):
        return None
    if isinstance(default, bool):
        return st.booleans()
    lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
    if isinstance(default, int):
        return st.integers(int(lo), int(hi))
    if isinstance(default, list):
        item = st.floats(lo, hi, allow_nan=False)
        return st.lists(item, min_size=len(default), max_size=len(default))
    if math.isinf(hi):
        return st.one_of(st.just(math.inf), st.floats(lo, 1e3, allow_nan=False))
    return st.floats(lo, hi, allow_nan=False)


def _tree(obj: Any, prefix: str = "") -> st.SearchStrategy:
    """Nested dicts of strategies for every parameter of a config dataclass instance."""
    parts = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        key = f"{prefix}{f.name}"
        strategy = _tree(value, key + ".") if dataclasses.is_dataclass(value) else _leaf(key, f, value)
        if strategy is not None:
            parts[f.name] = strategy
    return st.fixed_dictionaries(parts)


def _consistent(d: dict[str, Any]) -> dict[str, Any]:
    """Bring a draw inside the cross-field rules of sim.core.config.validate (each rule's boundary stays)."""
    c = d["community"]
    c["family_share"] = min(c["family_share"], 1.0 - c["elderly_share"])
    conduction = d["levers"]["conduction"]
    conduction["retention"] = [min(r, conduction["retention_max"]) for r in conduction["retention"]]
    integration = d["levers"]["integration"]
    lo, hi = sorted((integration["cross_appointment_base"], integration["cross_appointment_max"]))
    integration["cross_appointment_base"], integration["cross_appointment_max"] = lo, hi
    return d


whole_space = _tree(Config()).map(_consistent)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(whole_space)
def test_whole_valid_config_space_stays_bounded_and_finite(overrides) -> None:
    """Every parameter anywhere in its declared range, on small communities: runs to the end,
    no NaN or inf enters any state array (checked every step), every state stays in range."""
    cfg = from_dict({**overrides, "check_finite": True})  # a draw outside the rules fails here
    model = CommunityModel(cfg, rng=overrides["seed"])
    model.run()
    assert_bounded(model)


def test_check_finite_catches_a_nan_in_the_state() -> None:
    """The debug mode the property tests rely on does detect NaN and inf (so they can fail)."""
    for bad in (np.nan, np.inf):
        model = CommunityModel(from_dict({"community": {"n_compounds": 1}, "check_finite": True}), rng=1)
        model.step()
        model.households.trust[0] = bad
        with pytest.raises(NonFiniteStateError, match="trust"), np.errstate(invalid="ignore"):
            model.step()
    unchecked = CommunityModel(from_dict({"community": {"n_compounds": 1}}), rng=1)
    unchecked.households.trust[0] = np.nan
    with np.errstate(invalid="ignore"):
        unchecked.step()  # without the debug mode nothing is checked (and nothing is slowed down)


ALL_ON = {name: {"intensity": 1.0} for name in LEVERS}
EXTREMES = {
    "no Party members": {"community": {"party_share": 0.0}},
    "every lever at full intensity": {"levers": ALL_ON},
    "zero budget": {"levers": ALL_ON, "budget": 0.0},
    "one household per building": {"community": {"households_per_building": 1, "building_size_spread": 0.0}},
    "no network": {"community": {"ring_degree": 0, "cross_building_ties": 0.0, "cross_compound_ties": 0.0}},
    "no property management": {"community": {"property_managed_share": 0.0}},
    "everyone a Party member": {"community": {"party_share": 1.0}, "levers": ALL_ON},
    "perfect information and no needs": {
        "dynamics": {
            "base_need_information": 1.0,
            **{f"need_rates_{p}": [0.0] * 5 for p in ("elderly", "family", "worker")},
        }
    },
    "total service failure": {
        "dynamics": {"shock": {"week": 0, "duration": 30, "depth": 1.0, "conflicts": 5}}
    },
}


@pytest.mark.parametrize("case", list(EXTREMES))
def test_extreme_but_valid_configs_run_to_the_end(case: str) -> None:
    cfg = from_dict({**EXTREMES[case], "steps": 30, "check_finite": True})
    model = CommunityModel(cfg, rng=5)
    model.run()
    frame = model.recorder.frame()
    assert len(frame) == 30
    assert np.isfinite(frame[["participation", "satisfaction", "trust", "unmet_need"]].to_numpy()).all()
    if cfg.budget == 0.0:
        assert (frame.cost == 0).all() and (frame.budget_bound == 1).all()
