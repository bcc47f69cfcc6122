"""Shared fixtures: small validated configs and helpers that run real models."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
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

#: The overrides of the calibration tests' community (tests/test_calibrate.py, test_reports.py): a
#: managed compound of 40 households over 5 weeks, so each simulation takes a few hundredths of a second
TINY_CALIBRATION = [
    "community=workshop",
    "community.n_compounds=1",
    "community.buildings_per_compound=2",
    "community.households_per_building=20",
    "community.property_managed_share=1",
    "steps=5",
]

#: Whole modules of the slow tier (`make check`, CI): real browsers, executed notebooks,
#: launchers and process faults, patterns over many seeds, the packaged wheel. Single slow
#: tests elsewhere carry ``@pytest.mark.slow`` themselves. `make test` runs the rest.
SLOW_MODULES = {
    "test_app_browser",
    "test_bench_smoke",
    "test_bounds",
    "test_faults",
    "test_lever_patterns",
    "test_mechanisms",
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


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers(url: str) -> bool:
    """Whether ``url`` answers 200 now."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def sim_app(
    log_path: Path, ready: Callable[[int], bool] | None = None, timeout: float = 240
) -> Iterator[int]:
    """The real `sim-app` on a free loopback port, started as a facilitator starts it; yields the
    port once ``ready(port)`` holds (default: the page answers 200), stops it afterwards."""
    port = free_port()
    ready = ready or (lambda p: answers(f"http://127.0.0.1:{p}/"))
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [BIN / "sim-app", "--port", str(port)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + timeout  # a shared, loaded machine starts slowly
            while not ready(port):
                if proc.poll() is not None:
                    tail = log_path.read_text()[-2000:]
                    raise RuntimeError(f"sim-app exited with {proc.returncode}: {tail}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"sim-app was not ready on port {port} within {timeout:g} s")
                time.sleep(0.3)
            yield port
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
