"""sim-run end to end: outputs on success; one clear line, exit 2 and nothing written on bad input."""

from __future__ import annotations

import json
import subprocess

import pandas as pd
import pytest
from conftest import BIN, ROOT

from sim.results import MARKER, check_run, load


def sim_run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([BIN / "sim-run", *args], cwd=ROOT, env=env, capture_output=True, text=True)


def test_sim_run_writes_metrics_summary_and_config_record(tmp_path, cli_env) -> None:
    out = tmp_path / "run"
    done = sim_run("community=workshop", "steps=12", "replicates=3", f"hydra.run.dir={out}", env=cli_env)
    assert done.returncode == 0, done.stderr
    assert "satisfaction" in done.stdout
    assert check_run(out) is None and (out / MARKER).exists()
    metrics = pd.read_parquet(out / "metrics.parquet")
    assert len(metrics) == 12 * 3
    assert {"replicate", "step", "participation", "satisfaction", "trust", "unmet_need"} <= set(
        metrics.columns
    )
    assert {"levers.embedding.intensity", "community.preset", "seed"} <= set(metrics.columns)
    summary = json.loads((out / "summary.json").read_text())
    sat = summary["final"]["satisfaction"]
    assert sat["ci95_low"] <= sat["mean"] <= sat["ci95_high"]
    assert (out / ".hydra" / "config.yaml").exists() and (out / "config.yaml").exists()
    # a notebook loads the run in one call
    pd.testing.assert_frame_equal(load(out), metrics)


BAD_INPUTS = [
    ("levers.embedding.intensity=1.5", "levers.embedding.intensity"),
    ("community=nonexistent", "community"),
    ("steps=-3", "steps"),
    ("steps=abc", "steps"),
    ("levers.embedding.intensityx=1", "intensityx"),
    ("dynamics.satisfaction_rate=0.9", "dynamics.satisfaction_rate"),
    ("community.elderly_share=0.8", "community.elderly_share"),
    ("community.ring_degree=3", "community.ring_degree"),
    ("levers.conduction.retention=[0.9,0.9]", "levers.conduction.retention"),
    ("budget=-1", "budget"),
]


@pytest.mark.parametrize(("override", "key"), BAD_INPUTS)
def test_bad_input_fails_cleanly(tmp_path, cli_env, override: str, key: str) -> None:
    out = tmp_path / "run"
    done = sim_run(override, f"hydra.run.dir={out}", env=cli_env)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert key in lines[0]
    assert not out.exists(), "nothing is written"
