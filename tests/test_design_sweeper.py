"""The design sweeper: its designs are SALib's, its points land in batched jobs, bad designs are refused."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import BIN
from SALib.sample import latin, morris, sobol

from hydra_plugins.design_sweeper import designs
from hydra_plugins.design_sweeper.design_sweeper import find_point_dirs, load_design
from sim.results import check_run

TINY = ["community=workshop", "steps=2", "replicates=1"]


def sim_run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "sim-run"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240
    )


def experiment_problem(name: str) -> tuple[dict, list[str]]:
    """The SALib problem and config keys written in sim/configs/experiment/NAME.yaml."""
    from omegaconf import OmegaConf

    root = Path(__file__).resolve().parent.parent
    params = OmegaConf.to_container(OmegaConf.load(root / "sim" / "configs" / "experiment" / f"{name}.yaml"))
    params = params["hydra"]["sweeper"]["params"]
    problem = {
        "num_vars": len(params),
        "names": list(params),
        "bounds": [[p["lo"], p["hi"]] for p in params.values()],
    }
    return problem, [p["key"] for p in params.values()]


def design_matrix(design: dict, keys: list[str]) -> np.ndarray:
    points = sorted(design["points"], key=lambda p: p["sample"])
    return np.array([[p["overrides"][k] for k in keys] for p in points], dtype=float)


@pytest.mark.parametrize("second_order", [False, True])
def test_sobol_draw_is_saltelli(second_order):
    params = designs.parse_params(
        {"a": {"lo": 0, "hi": 1}, "b": {"lo": -2, "hi": 3}, "c": {"lo": 5, "hi": 6}}
    )
    x = designs.draw("sobol", params, 16, 3, calc_second_order=second_order)
    expected = sobol.sample(designs.salib_problem(params), 16, calc_second_order=second_order, seed=3)
    assert x.shape == (16 * (2 * 3 + 2 if second_order else 3 + 2), 3)
    np.testing.assert_array_equal(x, expected)


def test_morris_and_latin_draws_are_salib():
    params = designs.parse_params({"a": {"lo": 0, "hi": 1}, "b": {"lo": 10, "hi": 20}})
    problem = designs.salib_problem(params)
    np.testing.assert_array_equal(designs.draw("morris", params, 7, 1), morris.sample(problem, 7, seed=1))
    assert designs.draw("morris", params, 7, 1).shape == (7 * 3, 2)
    lhs = designs.draw("latin", params, 9, 2)
    np.testing.assert_array_equal(lhs, latin.sample(problem, 9, seed=2))
    assert lhs.shape == (9, 2)
    assert (lhs[:, 1] >= 10).all() and (lhs[:, 1] <= 20).all()


def test_factorial_is_every_combination():
    params = designs.parse_params({"x": [1, 2, 3], "y": {"lo": 0.0, "hi": 1.0}})
    grid = designs.draw("factorial", params, 0, 0, levels=3)
    assert grid.shape == (9, 2)
    assert {tuple(r) for r in grid} == {(a, b) for a in (1, 2, 3) for b in (0.0, 0.5, 1.0)}


@pytest.mark.parametrize(
    ("spec", "method", "n", "needle"),
    [
        ({"a": {"lo": 1, "hi": 0}}, "sobol", 8, "hydra.sweeper.params.a: lo=1 is not below hi=0"),
        ({"a": {"lo": 0}}, "latin", 8, "hydra.sweeper.params.a has no lo/hi"),
        ({"a": [0, 1]}, "sobol", 8, "hydra.sweeper.params.a gives values"),
        ({"a": {"lo": 0, "hi": 1}}, "sobol", 12, "hydra.sweeper.n=12"),
        ({"a": {"lo": 0, "hi": 1}}, "halton", 8, "hydra.sweeper.method='halton'"),
    ],
)
def test_bad_designs_name_the_key(spec, method, n, needle):
    with pytest.raises(designs.DesignError, match=None) as err:
        designs.draw(method, designs.parse_params(spec), n, 0)
    assert needle in str(err.value)
    assert "allowed" in str(err.value)


@pytest.mark.slow
def test_sobol_experiment_points_match_salib(tmp_path, cli_env):
    """A real `experiment=sobol` sweep: N·(D+2) points equal to SALib's sample, inside the bounds,
    batched into jobs with one run directory per point."""
    sweep = tmp_path / "sobol"
    done = sim_run(
        [
            "-m",
            "experiment=sobol",
            "hydra.sweeper.n=2",
            "hydra.sweeper.batch_size=6",
            *TINY,
            f"hydra.sweep.dir={sweep}",
        ],
        tmp_path,
        cli_env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    problem, keys = experiment_problem("sobol")
    design = load_design(sweep)
    d = problem["num_vars"]
    assert len(design["points"]) == 2 * (d + 2)
    x = design_matrix(design, keys)
    np.testing.assert_array_equal(x, sobol.sample(problem, 2, calc_second_order=False, seed=design["seed"]))
    lo, hi = np.array(problem["bounds"]).T
    assert (x >= lo).all() and (x <= hi).all()

    jobs = sorted(int(p.name) for p in sweep.iterdir() if p.name.isdigit())
    assert jobs == list(range(-(-2 * (d + 2) // 6)))
    dirs = find_point_dirs(sweep)
    assert sorted(dirs) == list(range(2 * (d + 2)))
    for pid, (run,) in dirs.items():
        assert check_run(run).complete
        assert int(run.parent.name) == pid // 6  # a job's points are consecutive
        cfg = (run / "config.yaml").read_text()
        point = design["points"][pid]
        assert f"intensity: {point['overrides']['levers.linking.intensity']}" in cfg
    assert "- hydra.sweeper.points=[0,1,2,3,4,5]" in (sweep / "0" / ".hydra" / "hydra.yaml").read_text()
    assert "design sweep finished: skipped 0, ran 24, failed 0" in done.stdout


@pytest.mark.slow
def test_morris_experiment_points_match_salib(tmp_path, cli_env):
    sweep = tmp_path / "morris"
    done = sim_run(
        [
            "-m",
            "experiment=morris",
            "hydra.sweeper.n=2",
            "hydra/launcher=basic",
            *TINY,
            f"hydra.sweep.dir={sweep}",
        ],
        tmp_path,
        cli_env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    problem, keys = experiment_problem("morris")
    design = load_design(sweep)
    assert len(design["points"]) == 2 * (problem["num_vars"] + 1)
    expected = morris.sample(problem, 2, num_levels=design["num_levels"], seed=design["seed"])
    np.testing.assert_array_equal(design_matrix(design, keys), expected)


def test_out_of_range_bound_is_refused_before_launch(tmp_path, cli_env):
    sweep = tmp_path / "s"
    done = sim_run(
        [
            "-m",
            "experiment=sobol",
            "hydra.sweeper.n=2",
            "hydra.sweeper.params.linking.hi=1.5",
            *TINY,
            f"hydra.sweep.dir={sweep}",
        ],
        tmp_path,
        cli_env,
    )
    assert done.returncode != 0
    assert "levers.linking.intensity" in done.stderr and "1.5" in done.stderr
    assert not list(sweep.glob("*/point-*"))


@pytest.mark.slow
def test_other_design_in_same_directory_is_refused(tmp_path, cli_env):
    sweep = tmp_path / "s"
    base = ["-m", "hydra/sweeper=design", "hydra/launcher=basic", *TINY, f"hydra.sweep.dir={sweep}"]
    assert sim_run([*base, "levers.linking.intensity=0,1"], tmp_path, cli_env).returncode == 0
    done = sim_run([*base, "levers.linking.intensity=0,0.5"], tmp_path, cli_env)
    assert done.returncode != 0
    assert "holds a different sweep" in done.stderr
    assert json.loads((sweep / "design.json").read_text())["points"][1]["overrides"] == {
        "levers.linking.intensity": 1
    }


@pytest.mark.slow
def test_group_sweep_splits_jobs_by_choice(tmp_path, cli_env):
    """A command-line sweep over a config group becomes job-level overrides (cells)."""
    sweep = tmp_path / "s"
    done = sim_run(
        [
            "-m",
            "hydra/sweeper=design",
            "hydra/launcher=basic",
            "hydra.sweeper.batch_size=10",
            "scenario=baseline",
            "community=workshop,community",
            "levers.linking.intensity=0,1",
            "steps=2",
            "replicates=1",
            f"hydra.sweep.dir={sweep}",
        ],
        tmp_path,
        cli_env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    design = load_design(sweep)
    assert design["cells"] == [["community=workshop"], ["community=community"]]
    presets = {}
    for pid, (run,) in find_point_dirs(sweep).items():
        presets[pid] = "preset: workshop" in (run / "config.yaml").read_text()
    assert presets == {0: True, 1: True, 2: False, 3: False}


def hydra_app(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The Hydra app without sim-run's up-front check of every point (which refuses bad points
    before launch): the way to make a point fail inside its job, as it can on other paths."""
    code = "from sim.cli.run import main; main()"
    return subprocess.run(
        [str(BIN / "python"), "-c", code, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.mark.slow
def test_failing_point_is_reported_and_only_it_is_retried(tmp_path, cli_env):
    """Each share is allowed alone, but 0.6 + 0.45 > 1: that one point fails inside its job."""
    sweep = tmp_path / "s"
    args = [
        "-m",
        "hydra/sweeper=design",
        "hydra/launcher=basic",
        "hydra.sweeper.batch_size=4",
        "community.elderly_share=0.3,0.6",
        "community.family_share=0.35,0.45",
        *TINY,
        f"hydra.sweep.dir={sweep}",
    ]
    assert sim_run(args, tmp_path, cli_env).returncode == 2  # sim-run refuses it up front
    done = hydra_app(args, tmp_path, cli_env)
    assert done.returncode != 0
    assert "skipped 0, ran 3, failed 1" in done.stdout
    assert "point 3 failed" in done.stderr and "elderly_share" in done.stderr
    (failed,) = find_point_dirs(sweep)[3]
    assert "allowed: at most 1" in json.loads((failed / "_FAILED.json").read_text())["error"]

    collected = subprocess.run(
        [str(BIN / "sim-collect"), str(sweep)], env=cli_env, capture_output=True, text=True, timeout=120
    )
    assert collected.returncode == 1 and "elderly_share" in collected.stderr

    again = hydra_app(args, tmp_path, cli_env)  # the same directory: only the failed point reruns
    assert "skipped 3, ran 0, failed 1" in again.stdout
