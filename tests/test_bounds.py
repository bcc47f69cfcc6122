"""Over random valid configs, every state stays bounded and finite, and counts add up."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.config import from_dict
from sim.levers import LEVERS
from sim.model import CommunityModel

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
    # counts are consistent: opened minus resolved is what is open
    opened = frame.conflicts_started.sum() + model.cfg.dynamics.shock.conflicts
    assert frame.conflicts_open.iloc[-1] == opened - frame.conflicts_resolved.sum()
    assert ((frame.participation >= 0) & (frame.participation <= 1)).all()
    assert (frame.cost <= max(cfg.budget, 0) + 1e-9).all() or np.isinf(cfg.budget)
    assert np.isfinite(frame.drop(columns=["company_quality"]).to_numpy()).all()


ALL_ON = {name: {"intensity": 1.0} for name in LEVERS}
EXTREMES = {
    "no Party members": {"community": {"party_share": 0.0}},
    "every lever at full intensity": {"levers": ALL_ON},
    "zero budget": {"levers": ALL_ON, "budget": 0.0},
    "one household per building": {"community": {"households_per_building": 1, "building_size_spread": 0.0}},
    "no network": {"community": {"ring_degree": 0, "cross_building_ties": 0.0, "cross_compound_ties": 0.0}},
    "no property management": {"community": {"property_managed_share": 0.0}},
    "everyone a Party member": {"community": {"party_share": 1.0}, "levers": ALL_ON},
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
