"""Sweeps end to end: the same lever_ablation through joblib, a real Ray instance and submitit;
common random numbers; a sweep killed with SIGKILL and resumed."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BIN

from hydra_plugins.design_sweeper.design_sweeper import MARKER, find_point_dirs
from sim.experiment.simulate import replicate_seeds
from sim.results import check_run

SMALL = ["community=workshop", "steps=20", "replicates=2"]
ABLATION = ["-m", "experiment=lever_ablation", *SMALL]
ARMS = 14  # baseline, six alone, all six, six "all but one"


def sim_run(
    args: list[str], cwd: Path, env: dict[str, str], timeout: float = 240
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "sim-run"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def collect(sweep: Path, env: dict[str, str]) -> pd.DataFrame:
    done = subprocess.run(
        [str(BIN / "sim-collect"), str(sweep)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return pd.read_parquet(sweep / "collected.parquet")


@pytest.fixture(scope="module")
def ray_address():
    """One real local Ray instance for the module (2 CPUs); sweeps attach to it by address."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def joblib_table(tmp_path_factory, cli_env_module) -> pd.DataFrame:
    tmp = tmp_path_factory.mktemp("joblib")
    done = sim_run([*ABLATION, f"hydra.sweep.dir={tmp / 'sweep'}"], tmp, cli_env_module)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "skipped 0, ran 14, failed 0" in done.stdout
    return collect(tmp / "sweep", cli_env_module)


@pytest.fixture(scope="module")
def cli_env_module() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("HYDRA_FULL_ERROR", None)
    return env


def test_lever_ablation_table_shape(joblib_table):
    df = joblib_table
    assert df["point"].nunique() == ARMS
    assert len(df) == ARMS * 2 * 20
    assert not df.duplicated(["point", "replicate", "step"]).any()
    assert list(dict.fromkeys(df["arm"]))[:2] == ["baseline", "only_embedding"]
    intensities = df.filter(like=".intensity").groupby(df["arm"]).first()
    assert (intensities.loc["baseline"] == 0).all()
    assert (intensities.loc["all_six"] == 1).all()
    assert intensities.loc["without_linking", "levers.linking.intensity"] == 0
    assert (intensities.loc["without_linking"].drop("levers.linking.intensity") == 1).all()
    # common random numbers: one root seed for every point
    assert df["seed"].nunique() == 1


def test_ray_and_submitit_give_the_joblib_table(tmp_path, ray_address, joblib_table, cli_env):
    ray_dir, sub_dir = tmp_path / "ray", tmp_path / "submitit"
    done = sim_run(
        [
            *ABLATION,
            f"hydra.sweep.dir={ray_dir}",
            "hydra/launcher=ray_cluster",
            f"hydra.launcher.ray.init.address={ray_address}",
        ],
        tmp_path,
        cli_env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # Few, larger jobs: every submitit job is a fresh Python process.
    done = sim_run(
        [
            *ABLATION,
            f"hydra.sweep.dir={sub_dir}",
            "hydra/launcher=submitit_local",
            "hydra.sweeper.batch_size=7",
        ],
        tmp_path,
        cli_env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert len([p for p in sub_dir.iterdir() if p.name.isdigit()]) == 2
    pd.testing.assert_frame_equal(collect(ray_dir, cli_env), joblib_table)
    pd.testing.assert_frame_equal(collect(sub_dir, cli_env), joblib_table)


def test_replicate_seeds_are_common_random_numbers():
    a, b = replicate_seeds(7, 3), replicate_seeds(7, 5)
    for r in range(3):  # replicate r's stream does not depend on how many replicates a point has
        assert np.array_equal(a[r].generate_state(4), b[r].generate_state(4))
    assert not np.array_equal(a[0].generate_state(4), a[1].generate_state(4))


def test_points_share_replicate_seeds(tmp_path, cli_env):
    """Two points that differ only in a label get identical series replicate by replicate."""
    sweep = tmp_path / "sweep"
    done = sim_run(
        ["-m", "hydra/sweeper=design", "scenario.title_en=A,B", *SMALL, f"hydra.sweep.dir={sweep}"],
        tmp_path,
        cli_env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    df = collect(sweep, cli_env)
    assert sorted(df["point"].unique()) == [0, 1]
    series = {p: g.set_index(["replicate", "step"])["satisfaction"] for p, g in df.groupby("point")}
    pd.testing.assert_series_equal(series[0], series[1])
    by_rep = series[0].unstack("step")
    assert not np.allclose(by_rep.iloc[0], by_rep.iloc[1])  # replicates are independent draws


def test_sweep_killed_and_resumed_matches_uninterrupted(tmp_path, cli_env):
    """SIGKILL the whole process group mid-sweep, resume with resume=true, compare the tables."""
    args = [*ABLATION[:2], "community=workshop", "steps=60", "replicates=2", "hydra.sweeper.batch_size=1"]
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.Popen(
        [str(BIN / "sim-run"), *args],
        cwd=work,
        env=cli_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    parent = work / "results" / "sweeps" / "lever_ablation"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            done = list(parent.glob(f"*/*/point-*/{MARKER}")) if parent.exists() else []
            if len(done) >= 3:
                break
            assert proc.poll() is None, "the sweep ended before it could be interrupted"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    (sweep,) = parent.iterdir()
    complete_at_kill = {
        pid for pid, dirs in find_point_dirs(sweep).items() if any(check_run(d).complete for d in dirs)
    }
    assert 3 <= len(complete_at_kill) < ARMS, "the kill should land part-way"

    resumed = sim_run([*args, "resume=true"], work, cli_env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming" in resumed.stdout and sweep.name in resumed.stdout
    expected = f"skipped {len(complete_at_kill)}, ran {ARMS - len(complete_at_kill)}, failed 0"
    assert expected in resumed.stdout
    assert list(parent.iterdir()) == [sweep]  # resumed in place, no second sweep directory

    dirs = find_point_dirs(sweep)
    assert sorted(dirs) == list(range(ARMS))
    assert all(len(d) == 1 and check_run(d[0]).complete for d in dirs.values()), "every point exactly once"

    again = sim_run([*args, "resume=true"], work, cli_env)  # nothing left to do
    assert f"skipped {ARMS}, ran 0, failed 0" in again.stdout

    reference = tmp_path / "reference"
    done = sim_run([*args, f"hydra.sweep.dir={reference}"], tmp_path, cli_env)
    assert done.returncode == 0, done.stderr[-3000:]
    resumed_table = collect(sweep, cli_env)
    assert not resumed_table.duplicated(["point", "replicate", "step"]).any()
    pd.testing.assert_frame_equal(resumed_table, collect(reference, cli_env))


def test_plain_hydra_sweep_skips_complete_jobs(tmp_path, cli_env):
    """Without the design sweeper, re-running into the same directory skips finished jobs."""
    sweep = tmp_path / "sweep"
    args = ["-m", "levers.linking.intensity=0,1", *SMALL, f"hydra.sweep.dir={sweep}"]
    first = sim_run(args, tmp_path, cli_env)
    assert first.returncode == 0, first.stderr[-3000:]
    stamp = (sweep / "0" / "metrics.parquet").stat().st_mtime_ns
    second = sim_run(args, tmp_path, cli_env)
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.stdout.count("skipped (already complete)") == 2
    assert (sweep / "0" / "metrics.parquet").stat().st_mtime_ns == stamp


def test_bad_sweep_value_exits_2_before_running(tmp_path, cli_env):
    done = sim_run([*ABLATION, "steps=-3", f"hydra.sweep.dir={tmp_path / 's'}"], tmp_path, cli_env)
    assert done.returncode == 2
    assert "steps" in done.stderr and "-3" in done.stderr
    assert not (tmp_path / "s").exists()
