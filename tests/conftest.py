"""Shared fixtures: small validated configs and helpers that run real models."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import settings

from sim.core.config import Config, from_dict
from sim.core.model import CommunityModel

# CI explores the same examples every run (a landing must not depend on luck); local runs keep
# exploring new ones, and a failure they find is pinned as an explicit regression test.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

#: Whole modules of the slow tier (`make check`, CI): real browsers, executed notebooks,
#: launchers and process faults, patterns over many seeds, the packaged wheel. Single slow
#: tests elsewhere carry ``@pytest.mark.slow`` themselves. `make test` runs the rest.
SLOW_MODULES = {
    "test_app_browser",
    "test_bench_smoke",
    "test_bounds",
    "test_faults",
    "test_lever_patterns",
    "test_notebooks",
    "test_patterns_core",
    "test_scenarios",
    "test_sweeps",
    "test_wheel",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.module is not None and item.module.__name__.rpartition(".")[2] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge two nested override dicts (extra wins)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def config(preset: str = "workshop", **overrides: Any) -> Config:
    """A validated config of a size preset with nested overrides, as a notebook would build it."""
    from omegaconf import OmegaConf

    preset_values = OmegaConf.to_container(
        OmegaConf.load(ROOT / "sim" / "configs" / "community" / f"{preset}.yaml")
    )
    return from_dict(merge({"community": preset_values}, overrides))


def final_values(cfg: Config, seeds: list[int], metric: str) -> np.ndarray:
    """The final-week value of ``metric`` for each seed."""
    out = []
    for seed in seeds:
        model = CommunityModel(cfg, rng=seed)
        model.run()
        out.append(model.recorder.frame()[metric].iloc[-1])
    return np.array(out)


def trajectories(cfg: Config, seeds: list[int]) -> list[pd.DataFrame]:
    """The metrics frame (indexed by step) of one run per seed."""
    frames = []
    for seed in seeds:
        model = CommunityModel(cfg, rng=seed)
        model.run()
        frames.append(model.recorder.frame().set_index("step"))
    return frames


@pytest.fixture
def workshop() -> Config:
    return config("workshop")


@pytest.fixture
def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("HYDRA_FULL_ERROR", None)
    return env
