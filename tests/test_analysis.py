"""sim.analysis and sim-analyse: a real Sobol sweep of the model, the Ishigami function with known
indices through the same path, Morris screening, paired arm comparisons and tipping points."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BIN

from hydra_plugins.design_sweeper import designs
from sim import analysis
from sim.cli.analyse import analyse
from sim.cli.analyse import cli as analyse_cli
from sim.core.levers import LEVERS
from sim.results.integrity import build_record, write_record


def write_design_sweep(root: Path, method: str, spec: dict, n: int, response, seed: int = 1) -> None:
    """A sweep directory as the design sweeper and sim-collect leave it: design.json and summary.parquet.

    ``response`` maps the design matrix to the output, standing in for the model.
    """
    params = designs.parse_params(spec)
    x = designs.draw(method, params, n, seed)
    points = [
        {
            "point": i,
            "cell": 0,
            "sample": i,
            "overrides": {p.key: float(v) for p, v in zip(params, row, strict=True)},
        }
        for i, row in enumerate(x)
    ]
    design = {
        "method": method,
        "n": n,
        "seed": seed,
        "calc_second_order": False,
        "num_levels": 4,
        "params": [p.as_dict() for p in params],
        "arms": [],
        "fixed": [],
        "cells": [[]],
        "points": points,
    }
    root.mkdir(parents=True)
    (root / "design.json").write_text(json.dumps(design))
    y = response(x.astype(float))
    pd.DataFrame({"point": np.arange(len(x)), "y_mean": y, "final_step": 1}).to_parquet(
        root / "summary.parquet"
    )
    # the record sim-collect leaves beside its tables (here for points without run directories)
    ids = [p["point"] for p in points]
    record = build_record(root, {i: root / f"point-{i}" for i in ids}, ids, None)
    write_record(root, record, [root / "summary.parquet"])


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_ishigami_indices_recovered_through_sim_analyse(tmp_path, capsys):
    sweep = tmp_path / "ishigami"
    spec = {name: {"lo": -math.pi, "hi": math.pi} for name in ("x1", "x2", "x3")}
    write_design_sweep(sweep, "sobol", spec, 2048, ishigami)
    assert analyse_cli([str(sweep), "--resamples", "200"]) == 0
    assert "Sobol indices of y" in capsys.readouterr().out
    table = pd.read_parquet(sweep / "analysis" / "sobol.parquet").set_index("input")
    known_s1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
    known_st = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}
    for name in known_s1:
        assert table.loc[name, "S1"] == pytest.approx(known_s1[name], abs=0.05)
        assert table.loc[name, "ST"] == pytest.approx(known_st[name], abs=0.05)
        assert table.loc[name, "S1_low"] < table.loc[name, "S1"] < table.loc[name, "S1_high"]


def test_morris_ranks_a_linear_response(tmp_path):
    sweep = tmp_path / "morris"
    spec = {name: {"lo": 0.0, "hi": 1.0} for name in ("strong", "weak", "inert")}
    write_design_sweep(sweep, "morris", spec, 30, lambda x: 3 * x[:, 0] + 0.5 * x[:, 1] + 0 * x[:, 2])
    table = analyse(sweep, num_resamples=100)["morris"].set_index("input")
    assert table.loc["strong", "mu_star"] == pytest.approx(3.0)
    assert table.loc["weak", "mu_star"] == pytest.approx(0.5)
    assert table.loc["inert", "mu_star"] == pytest.approx(0.0)
    assert (sweep / "analysis" / "morris.parquet").exists()


@pytest.mark.slow
def test_small_sobol_sweep_of_the_model(tmp_path, cli_env):
    """sim-run -m experiment=sobol → sim-analyse: first- and total-order indices of every input."""
    sweep = tmp_path / "sobol"
    done = subprocess.run(
        [
            str(BIN / "sim-run"),
            "-m",
            "experiment=sobol",
            "hydra.sweeper.n=4",
            "hydra.sweeper.batch_size=24",
            "community=workshop",
            "steps=6",
            "replicates=2",
            f"hydra.sweep.dir={sweep}",
        ],
        cwd=tmp_path,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    done = subprocess.run(
        [sys.executable, "-m", "sim.cli.analyse", str(sweep), "--resamples", "100"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (sweep / "collected.parquet").exists()  # collected on the way
    table = pd.read_parquet(sweep / "analysis" / "sobol.parquet")
    inputs = [*LEVERS, "member_activity", "threshold_sd", "recruitment_effect", "synergy"]
    for output in ("participation", "satisfaction", "trust"):
        rows = table[table["output"] == output].set_index("input")
        assert sorted(rows.index) == sorted(inputs)
        for col in ("S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"):
            assert np.isfinite(rows[col]).all(), (output, col)
        assert (rows["S1_low"] <= rows["S1"]).all() and (rows["S1"] <= rows["S1_high"]).all()
        assert (rows["ST_low"] <= rows["ST_high"]).all()
    assert "Sobol indices of satisfaction" in done.stdout
    for lever in LEVERS:
        assert lever in done.stdout


def synthetic_arms(effect: float, reps: int = 20, seed: int = 3) -> pd.DataFrame:
    """Replicate noise shared across arms (common random numbers) plus a fixed arm effect."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(0.5, 0.2, reps)
    rows = []
    for arm, shift in (("baseline", 0.0), ("treated", effect), ("same", 0.0)):
        own = rng.normal(0, 0.01, reps)
        rows += [
            {"arm": arm, "replicate": r, "step": 10, "satisfaction": shared[r] + shift + own[r]}
            for r in range(reps)
        ]
    return pd.DataFrame(rows)


def test_paired_comparison_uses_common_random_numbers():
    table = analysis.compare_arms(synthetic_arms(0.05), "satisfaction").set_index("arm")
    treated, same = table.loc["treated"], table.loc["same"]
    assert treated["low"] > 0 and treated["mean"] == pytest.approx(0.05, abs=0.01)
    assert same["low"] < 0 < same["high"]
    assert treated["kind"] == "mean" and treated["level"] == 0.95
    # pairing removes the shared noise: the paired variance is a small part of the unpaired one
    assert treated["variance_reduction"] > 0.9
    assert treated["p_value"] < 0.001
    with pytest.raises(ValueError, match="reference='nope'"):
        analysis.compare_arms(synthetic_arms(0.05), "satisfaction", reference="nope")


def test_replicate_stats():
    df = synthetic_arms(0.1)
    table = analysis.replicate_stats(df, ["satisfaction"], by="arm").set_index("arm")
    base = df[df["arm"] == "baseline"]["satisfaction"]
    assert table.loc["baseline", "mean"] == pytest.approx(base.mean())
    assert table.loc["baseline", "n"] == 20
    assert table.loc["baseline", "low"] < base.mean() < table.loc["baseline", "high"]
    # one community varies more than the mean: the prediction interval holds the interval for the mean
    assert table.loc["baseline", "prediction_low"] < table.loc["baseline", "low"]
    assert table.loc["baseline", "high"] < table.loc["baseline", "prediction_high"]


def test_tipping_point_found_where_the_curve_jumps():
    x = np.round(np.linspace(0, 1, 11), 2)
    rows = []
    for spread, centre in ((0.2, 0.45), (0.6, 0.75)):
        y = 0.1 + 0.6 / (1 + np.exp(-(x - centre) / 0.01))
        rows += [
            {"spread": spread, "activity": a, "p_mean": v, "p_low": v - 0.01, "p_high": v + 0.01}
            for a, v in zip(x, y, strict=True)
        ]
    summary = pd.DataFrame(rows)
    found = analysis.tipping_points(summary, "activity", "p", by=["spread"]).set_index("spread")
    assert found.loc[0.2, "tipping_x"] == pytest.approx(0.45)
    assert found.loc[0.6, "tipping_x"] == pytest.approx(0.75)
    assert found["abrupt"].all()
    linear = pd.DataFrame({"activity": x, "p_mean": x * 0.5})
    assert not analysis.tipping_points(linear, "activity", "p")["abrupt"].any()


def test_comparison_within_levels_of_another_input():
    low, high = synthetic_arms(0.02, seed=4), synthetic_arms(0.08, seed=5)
    low["budget"], high["budget"] = 1.0, 4.0
    table = analysis.compare_arms(pd.concat([low, high]), "satisfaction", within=["budget"])
    treated = table[table["arm"] == "treated"].set_index("budget")["mean"]
    assert treated.loc[1.0] == pytest.approx(0.02, abs=0.01)
    assert treated.loc[4.0] == pytest.approx(0.08, abs=0.01)
