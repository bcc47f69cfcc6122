"""sim-collect: a tidy table and a summary per sweep; missing and broken runs reported, none half-written."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import BIN

from sim.analysis import stats
from sim.results import collected_constants

STEPS, REPS = 5, 2


def run(cmd: str, args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / cmd), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240
    )


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    import os

    out = dict(os.environ)
    out.pop("HYDRA_FULL_ERROR", None)
    return out


@pytest.fixture(scope="module")
def design_sweep(tmp_path_factory, env) -> Path:
    """Three points of a design sweep, one per job (basic launcher: in-process, quick)."""
    tmp = tmp_path_factory.mktemp("design")
    sweep = tmp / "sweep"
    done = run(
        "sim-run",
        [
            "-m",
            "hydra/sweeper=design",
            "hydra/launcher=basic",
            "hydra.sweeper.batch_size=1",
            "levers.linking.intensity=0,0.5,1",
            "community=workshop",
            f"steps={STEPS}",
            f"replicates={REPS}",
            f"hydra.sweep.dir={sweep}",
        ],
        tmp,
        env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return sweep


@pytest.fixture
def sweep(design_sweep, tmp_path) -> Path:
    copy = tmp_path / "sweep"
    shutil.copytree(design_sweep, copy)
    return copy


def test_collected_and_summary_tables(sweep, env):
    done = run("sim-collect", [str(sweep)], sweep, env)
    assert done.returncode == 0, done.stderr
    df = pd.read_parquet(sweep / "collected.parquet")
    assert len(df) == 3 * REPS * STEPS
    assert not df.duplicated(["point", "replicate", "step"]).any()
    assert list(df.columns[:5]) == ["point", "replicate", "step", "seed", "community.preset"]
    assert sorted(df["levers.linking.intensity"].unique()) == [0.0, 0.5, 1.0]
    for lever in ("embedding", "converging", "immersion", "conduction", "integration"):
        assert f"levers.{lever}.intensity" in df.columns  # kept although constant
    assert "scenario.name" in df.columns
    # constant parameters leave the columns but stay in the file's metadata
    assert "dynamics.synergy" not in df.columns
    constants = collected_constants(sweep)
    assert constants["dynamics.synergy"] == 1.5 and constants["steps"] == STEPS
    # streamed: one row group per run
    assert pq.ParquetFile(sweep / "collected.parquet").num_row_groups == 3

    summary = pd.read_parquet(sweep / "summary.parquet")
    assert list(summary["point"]) == [0, 1, 2]
    assert (summary["replicates"] == REPS).all()
    final = df[df["step"] == STEPS]
    for pid, row in summary.set_index("point").iterrows():
        values = final.loc[final["point"] == pid, "satisfaction"].to_numpy()
        iv = stats.mean_interval(values, (0.0, 1.0))
        pred = stats.prediction_interval(values, (0.0, 1.0))
        assert row["satisfaction_mean"] == pytest.approx(values.mean())
        assert row["satisfaction_sd"] == pytest.approx(values.std(ddof=1))
        assert (row["satisfaction_low"], row["satisfaction_high"]) == pytest.approx((iv.low, iv.high))
        assert (row["satisfaction_prediction_low"], row["satisfaction_prediction_high"]) == pytest.approx(
            (pred.low, pred.high)
        )


def test_missing_job_and_corrupt_file_write_nothing(sweep, env):
    (sweep / "1" / "point-000001").rename(sweep / "gone")
    shutil.rmtree(sweep / "gone")
    metrics = sweep / "2" / "point-000002" / "metrics.parquet"
    data = bytearray(metrics.read_bytes())
    data[len(data) // 2] ^= 0xFF
    metrics.write_bytes(bytes(data))
    before = sorted(p.name for p in sweep.iterdir())

    done = run("sim-collect", [str(sweep)], sweep, env)
    assert done.returncode == 1
    assert "missing point 1" in done.stderr
    assert "failed" in done.stderr and "corrupt file" in done.stderr and "point-000002" in done.stderr
    assert "nothing written" in done.stderr
    assert sorted(p.name for p in sweep.iterdir()) == before  # no tables, no temporary files

    allowed = run("sim-collect", [str(sweep), "--allow-missing"], sweep, env)
    assert allowed.returncode == 0, allowed.stderr
    assert "missing point 1" in allowed.stderr and "corrupt file" in allowed.stderr
    df = pd.read_parquet(sweep / "collected.parquet")
    assert sorted(df["point"].unique()) == [0]
    assert not [p for p in sweep.iterdir() if p.name.endswith(".tmp")]


def test_failed_point_reports_its_error(sweep, env):
    point = sweep / "0" / "point-000000"
    (point / "_COMPLETE.json").unlink()
    (point / "_FAILED.json").write_text(json.dumps({"point": 0, "error": "ValueError: out of cheese"}))
    done = run("sim-collect", [str(sweep)], sweep, env)
    assert done.returncode == 1
    assert "out of cheese" in done.stderr


@pytest.mark.slow
def test_plain_hydra_sweep_and_its_missing_job(tmp_path, env):
    sweep = tmp_path / "plain"
    args = ["-m", "levers.immersion.intensity=0,1", "community=workshop", "steps=3", "replicates=1"]
    done = run("sim-run", [*args, f"hydra.sweep.dir={sweep}"], tmp_path, env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert run("sim-collect", [str(sweep)], tmp_path, env).returncode == 0
    df = pd.read_parquet(sweep / "collected.parquet")
    assert sorted(df["point"].unique()) == [0, 1]
    assert np.array_equal(df.groupby("point")["levers.immersion.intensity"].first().to_numpy(), [0.0, 1.0])

    shutil.rmtree(sweep / "1")
    (sweep / "collected.parquet").unlink()
    (sweep / "summary.parquet").unlink()
    done = run("sim-collect", [str(sweep)], tmp_path, env)
    assert done.returncode == 1
    assert "missing job 1" in done.stderr
    assert not (sweep / "collected.parquet").exists()


def test_not_a_directory(tmp_path, env):
    done = run("sim-collect", [str(tmp_path / "nope")], tmp_path, env)
    assert done.returncode == 2
    assert "is not a directory" in done.stderr


@pytest.mark.slow
def test_a_plain_sweeps_partial_table_is_stale_once_the_sweep_is_completed(tmp_path, env):
    """`sim-run -m steps=2,3,4`, one job unfinished, `sim-collect --allow-missing`, the sweep rerun
    to completion: the 2-point table is refused as stale, even with allow_missing."""
    from sim.results import load
    from sim.results.integrity import CollectionError

    sweep = tmp_path / "ps"
    args = ["-m", "community=workshop", "steps=2,3,4", "replicates=1", "-o", str(sweep)]
    assert run("sim-run", args, tmp_path, env).returncode == 0
    (sweep / "1" / "_COMPLETE.json").unlink()
    assert run("sim-collect", ["--allow-missing", str(sweep)], tmp_path, env).returncode == 0
    assert sorted(load(sweep, allow_missing=True)["point"].unique()) == [0, 2]
    rerun = run("sim-run", args, tmp_path, env)
    assert rerun.returncode == 0 and rerun.stdout.count("skipped (already complete)") == 2
    with pytest.raises(CollectionError, match=r"completed since it was collected"):
        load(sweep, allow_missing=True)
    done = run("sim-analyse", ["--allow-missing", str(sweep)], tmp_path, env)
    assert done.returncode == 2 and "stale" in done.stderr
