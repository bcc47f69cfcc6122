"""sim-run end to end: outputs on success; one clear line, exit 2 and nothing written on bad input."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor

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
    assert check_run(out).complete and (out / MARKER).exists()
    metrics = pd.read_parquet(out / "metrics.parquet")
    assert len(metrics) == 12 * 3
    assert {"replicate", "step", "participation", "satisfaction", "trust", "unmet_need"} <= set(
        metrics.columns
    )
    assert {"levers.embedding.intensity", "community.preset", "seed"} <= set(metrics.columns)
    summary = json.loads((out / "summary.json").read_text())
    sat = summary["final"]["satisfaction"]
    assert 0 <= sat["low"] <= sat["mean"] <= sat["high"] <= 1 and sat["kind"] == "mean"
    assert 0 <= sat["prediction"]["low"] <= sat["low"] and sat["high"] <= sat["prediction"]["high"] <= 1
    assert summary["replication"]["half_width"] == 0.02 and summary["replication"]["needed"] >= 2
    assert (out / ".hydra" / "config.yaml").exists() and (out / "config.yaml").exists()
    # a notebook loads the run in one call
    pd.testing.assert_frame_equal(load(out), metrics)


# (overrides, the key the one-line message must name): at least one case per kind of mistake
BAD_INPUTS = [
    (["levers.embedding.intensity=1.5"], "levers.embedding.intensity"),
    (["levers.linking.intensity=-0.1"], "levers.linking.intensity"),
    (["community=nonexistent"], "community"),
    (["scenario=nonexistent"], "scenario"),
    (["steps=-3"], "steps"),
    (["steps=abc"], "steps"),
    (["steps=1.5"], "steps"),
    (["replicates=0"], "replicates"),
    (["seed=-5"], "seed"),
    (["budget=-1"], "budget"),
    (["budget=abc"], "budget"),
    (["record_buildings=maybe"], "record_buildings"),
    (["levers.embedding.intensityx=1"], "intensityx"),
    (["unknownkey=1"], "unknownkey"),
    (["+foo=1"], "foo"),
    (["levers.embedding=3"], "levers.embedding"),
    (["dynamics.satisfaction_rate=0.9"], "dynamics.satisfaction_rate"),
    (["dynamics.threshold_sd=-0.1"], "dynamics.threshold_sd"),
    (["dynamics.expectation_down_ratio=0.5"], "dynamics.expectation_down_ratio"),
    (["dynamics.shock.depth=2"], "dynamics.shock.depth"),
    (["dynamics.need_rates_elderly=[0.1,0.1]"], "dynamics.need_rates_elderly"),
    (["dynamics.need_rates_worker=[0.1,0.1,0.1,0.1,2.0]"], "dynamics.need_rates_worker[4]"),
    (["dynamics.need_weights=[1,1,1,1]"], "dynamics.need_weights"),
    (["community.elderly_share=0.8"], "community.elderly_share"),
    (["community.party_share=1.2"], "community.party_share"),
    (["community.ring_degree=3"], "community.ring_degree"),
    (["community.n_compounds=0"], "community.n_compounds"),
    (["community.households_per_building=0"], "community.households_per_building"),
    (["community.building_size_spread=1.5"], "community.building_size_spread"),
    (["levers.conduction.retention=[0.9,0.9]"], "levers.conduction.retention"),
    (["levers.conduction.retention=[0.9,0.9,0.99]"], "levers.conduction.retention[2]"),
    (["levers.conduction.start_week=-1"], "levers.conduction.start_week"),
    (["levers.embedding.contacts=100"], "levers.embedding.contacts"),
    (["levers.immersion.mobilisation=nan"], "levers.immersion.mobilisation"),
    (
        ["levers.integration.cross_appointment_base=0.5", "levers.integration.cross_appointment_max=0.3"],
        "levers.integration.cross_appointment_max",
    ),
]


def test_bad_inputs_fail_cleanly(tmp_path, cli_env, monkeypatch, capsys) -> None:
    """Every bad input: exit 2, one line on stderr naming the key, and no directory created.

    Every case runs the command's entry point in this process (what a subprocess would add is
    only the interpreter's start, 30 times over), with Hydra's own main replaced by a failure:
    a bad input must be refused before Hydra writes anything. Two cases run as the real
    command, so the one-line stderr of a whole process is checked too."""
    from sim.cli import run as run_cli

    def hydra_reached() -> None:
        raise AssertionError("the bad input reached Hydra")

    monkeypatch.setattr(run_cli, "main", hydra_reached)
    assert len(BAD_INPUTS) >= 30
    for case, (overrides, key) in enumerate(BAD_INPUTS):
        out = tmp_path / f"run{case}"
        monkeypatch.setattr("sys.argv", ["sim-run", *overrides, f"hydra.run.dir={out}"])
        with pytest.raises(SystemExit) as stop:
            run_cli.cli()
        lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        assert stop.value.code == 2, (overrides, lines)
        assert len(lines) == 1, (overrides, lines)
        assert key in lines[0], (overrides, lines[0])
        assert not out.exists(), f"{overrides}: nothing may be written"

    def attempt(case: int) -> tuple[list[str], str, subprocess.CompletedProcess, bool]:
        overrides, key = BAD_INPUTS[case]
        out = tmp_path / f"process{case}"
        done = sim_run(*overrides, f"hydra.run.dir={out}", env=cli_env)
        return overrides, key, done, out.exists()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(attempt, (0, len(BAD_INPUTS) - 1)))
    for overrides, key, done, written in outcomes:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert done.returncode == 2, (overrides, done.stderr)
        assert len(lines) == 1, (overrides, done.stderr)
        assert key in lines[0], (overrides, lines[0])
        assert not written, f"{overrides}: nothing may be written"
