"""The model as Mesa's own tools use it: batch_run, SolaraViz plot components, flat keywords."""

from __future__ import annotations

import warnings

import ipyvuetify as v
import mesa
import numpy as np
import pandas as pd
import pytest
import solara
from mesa.experimental.scenarios import Scenario
from mesa.visualization import SolaraViz, make_plot_component

import sim
from sim.core.config import ConfigError, from_dict
from sim.core.keywords import keyword_keys
from sim.core.metrics import METRICS
from sim.core.model import CommunityModel
from sim.experiment.simulate import replicate_seeds, run_replicate


def batch_run(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Mesa deprecates `iterations`
        return mesa.batch_run(CommunityModel, display_progress=False, **kwargs)


def test_the_model_is_exported_and_builds_the_default_community_without_arguments() -> None:
    assert sim.CommunityModel is CommunityModel
    model = CommunityModel()
    assert model.cfg == from_dict({})
    assert model.cfg.community.preset == "community"
    assert model.community.n_households == CommunityModel(from_dict({})).community.n_households
    assert isinstance(model.datacollector, mesa.DataCollector)


def test_batch_run_sweeps_a_lever_and_returns_every_metric() -> None:
    rows = batch_run(parameters={"converging": [0, 1]}, iterations=2, max_steps=5)
    assert len(rows) == 4
    for row in rows:
        assert row["Step"] == 5
        assert set(METRICS) <= set(row)
        assert row["intensity_converging"] == row["converging"]
        assert 0.0 <= row["satisfaction"] <= 1.0
    # iterations are independent draws (rng=None is fresh entropy, as in Mesa)
    off = [r["satisfaction"] for r in rows if r["converging"] == 0]
    assert off[0] != off[1]


def test_batch_run_with_seeds_is_reproducible_and_stops_at_the_horizon() -> None:
    params = {"preset": "workshop", "steps": 3, "linking": [0.0, 1.0]}
    first = batch_run(parameters=params, rng=[1, 2], max_steps=1000, data_collection_period=1)
    again = batch_run(parameters=params, rng=[1, 2], max_steps=1000, data_collection_period=1)
    pd.testing.assert_frame_equal(pd.DataFrame(first), pd.DataFrame(again))  # NaN-aware
    assert sorted({r["Step"] for r in first}) == [1, 2, 3]  # `running` is false after `steps` weeks
    assert len(first) == 2 * 2 * 3


def test_the_datacollector_is_the_recorder_at_no_cost_per_step() -> None:
    model = CommunityModel(preset="workshop", steps=4, seed=5)
    dc = model.datacollector
    assert dc.model_vars["satisfaction"] == [] and dc._collection_steps == []
    model.run(2)
    dc.collect(model)  # a no-op: the recorder has recorded the week already
    assert dc._collection_steps == [1.0, 2.0] == [float(s) for s in range(1, model.steps + 1)]
    frame = dc.get_model_vars_dataframe()
    np.testing.assert_array_equal(frame.to_numpy(), model.recorder.values[:2])
    assert list(frame.columns) == list(METRICS) and list(frame.index) == [1, 2]
    assert dc.model_vars["trust"] == list(model.recorder.values[:2, list(METRICS).index("trust")])


def test_keywords_and_cfg_give_bit_identical_runs_and_match_sim_runs_replicate_zero() -> None:
    cfg = from_dict(
        {
            "community": {"preset": "workshop"},
            "levers": {"converging": {"intensity": 1.0}},
            "seed": 3,
            "steps": 6,
        }
    )
    by_cfg = CommunityModel(cfg)
    by_keywords = CommunityModel(converging=1.0, preset="workshop", seed=3, steps=6)
    assert by_keywords.cfg == cfg
    by_cfg.run()
    by_keywords.run()
    np.testing.assert_array_equal(by_cfg.recorder.values, by_keywords.recorder.values)
    metrics, _ = run_replicate(cfg, 0, replicate_seeds(cfg.seed, cfg.replicates)[0])
    np.testing.assert_array_equal(metrics[list(METRICS)].to_numpy(), by_keywords.recorder.values)
    # an explicit seed still wins over the config's, as before
    other = CommunityModel(cfg, rng=4)
    other.run()
    assert not np.array_equal(other.recorder.values, by_cfg.recorder.values)


def test_keywords_apply_on_top_of_a_cfg_and_a_preset_brings_its_sizes() -> None:
    base = from_dict({"levers": {"linking": {"intensity": 0.5}}, "steps": 3})
    model = CommunityModel(base, preset="workshop", **{"levers.linking.start_week": 2})
    assert model.cfg.levers.linking.intensity == 0.5 and model.cfg.levers.linking.start_week == 2
    workshop = from_dict({"community": {"preset": "workshop"}}).community
    assert model.cfg.community.n_compounds == workshop.n_compounds
    assert model.cfg.steps == 3


def test_a_preset_named_in_a_dict_applies_its_sizes() -> None:
    workshop = from_dict({"community": {"preset": "workshop"}}).community
    sizes = (workshop.n_compounds, workshop.buildings_per_compound, workshop.households_per_building)
    assert sizes == (2, 5, 40)
    bigger = from_dict({"community": {"preset": "workshop", "n_compounds": 3}}).community
    assert bigger.n_compounds == 3 and bigger.buildings_per_compound == 5
    allowed = r"community.preset='nope' .* allowed: community, metro, street, workshop"
    with pytest.raises(ConfigError, match=allowed):
        from_dict({"community": {"preset": "nope"}})


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        (
            {"convergng": 1.0},
            r"convergng=1.0\): no such keyword \(did you mean converging[,?].*; allowed: .*,",
        ),
        ({"levers.linking.speed": 1}, r"levers.linking.speed=1\): no such keyword"),
        ({"converging": 1.5}, r"levers.converging.intensity=1.5 is out of range; allowed: a number"),
        ({"steps": 3, "levers.converging.intensity": 1, "converging": 0}, r"given twice"),
    ],
)
def test_bad_keywords_are_refused_in_one_line(keywords, message) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        CommunityModel(**keywords)
    assert "\n" not in str(info.value)


def test_every_keyword_names_one_config_key() -> None:
    keys = keyword_keys()
    assert keys["converging"] == "levers.converging.intensity"
    assert keys["preset"] == "community.preset" and keys["seed"] == "seed"
    assert "intensity" not in keys and "start_week" not in keys  # shared by every lever: ambiguous
    for name, key in keys.items():
        assert key.rsplit(".", 1)[-1] == name or key == f"levers.{name}.intensity"


def test_a_mesa_scenario_seeds_and_sets_the_model() -> None:
    by_scenario = CommunityModel(scenario=Scenario(rng=5, converging=1.0, preset="workshop", steps=2))
    by_keywords = CommunityModel(rng=5, converging=1.0, preset="workshop", steps=2)
    by_scenario.run()
    by_keywords.run()
    np.testing.assert_array_equal(by_scenario.recorder.values, by_keywords.recorder.values)
    assert by_scenario.scenario.model is by_scenario
    with pytest.raises(ConfigError, match=r"scenario='all_six'.*compose_config"):
        CommunityModel(scenario="all_six")


def test_stock_solara_viz_plot_components_render_the_recorded_metrics() -> None:
    model = CommunityModel(preset="workshop", steps=3)
    model.run(2)
    components = [
        make_plot_component("satisfaction"),
        make_plot_component({"participation": "tab:blue", "trust": "tab:red"}),
        make_plot_component("satisfaction", backend="altair"),
    ]
    page = SolaraViz(model, components=components, model_params={"preset": "workshop", "steps": 3})
    _box, rc = solara.render(solara.AppLayout(children=[page]), handle_error=False)
    try:
        # Mesa's Reset rebuilds type(model)(**model_params, scenario=Scenario()); Step steps it
        rc.find(v.Btn, children=["Reset"]).widget.click()
        rc.find(v.Btn, children=["Step"]).widget.click()
    finally:
        rc.close()
