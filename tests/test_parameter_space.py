"""The all-parameter sensitivity experiments cover every documented dynamics, members' and lever parameter."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from hydra_plugins.design_sweeper import designs
from sim.core.config import DynamicsConfig, LeversConfig, from_dict
from sim.core.members import MembersConfig
from sim.experiment import parameter_space as space
from sim.experiment.compose import CONFIG_DIR


def test_experiment_configs_are_what_the_generator_writes():
    """Regenerate with ``python -m sim.experiment.parameter_space sobol|morris`` when parameters change."""
    for method in ("sobol", "morris"):
        written = (CONFIG_DIR / "experiment" / f"{method}_all.yaml").read_text(encoding="utf-8")
        assert written == space.experiment_yaml(method), f"{method}_all.yaml is out of date"


def test_every_scalar_parameter_is_an_input_with_its_default_inside_its_range():
    entries = {e["key"]: e for e in space.parameter_space()}
    expected = [f"dynamics.{f.name}" for f in dataclasses.fields(DynamicsConfig) if f.name != "shock"]
    expected += [f"members.{f.name}" for f in dataclasses.fields(MembersConfig)]
    levers = LeversConfig()
    for lever in levers.names():
        expected += [f"levers.{lever}.{f.name}" for f in dataclasses.fields(getattr(levers, lever))]
    defaults = from_dict({})
    for key in expected:
        name = key.rsplit(".", 1)[1]
        default = functools.reduce(getattr, key.split("."), defaults)
        if name in space.LEFT_OUT or isinstance(default, list | bool | int):
            continue
        assert key in entries, f"{key} has no place in the sensitivity design"
        e = entries[key]
        assert e["lo"] < e["hi"] and e["lo"] <= default <= e["hi"], e
    groups = {e["group"] for e in entries.values()}
    assert set(levers.names()) <= groups and "other dynamics" not in groups
    members = [e for e in entries.values() if e["key"].startswith("members.")]
    assert len(members) == len(dataclasses.fields(MembersConfig)) == 11
    assert {e["group"] for e in members} == {space.MEMBERS_GROUP}
    assert len({e["name"] for e in entries.values()}) == len(entries)  # names are unique


def test_every_point_of_the_grouped_design_is_a_valid_config():
    params = designs.parse_params({e["name"]: e for e in space.parameter_space()})
    x = designs.draw("sobol", params, 2, seed=1)
    n_groups = len({p.group for p in params})
    assert x.shape == (2 * (n_groups + 2), len(params))
    for row in np.vstack([x, [[p.lo for p in params], [p.hi for p in params]]]):
        data: dict = {}
        for p, value in zip(params, row, strict=True):
            node = data
            *path, leaf = p.key.split(".")
            for part in path:
                node = node.setdefault(part, {})
            node[leaf] = float(value)
        from_dict(data)  # raises ConfigError if a cross-field rule is broken
