"""Every notebook in experiments/ runs top to bottom (nbclient, a real kernel, a small preset)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from sim.core.params import ConfigError

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EXPERIMENTS = ROOT / "experiments"
NOTEBOOKS = sorted(EXPERIMENTS.glob("*.ipynb"))
SMALL = {"SIM_PRESET": "workshop", "SIM_STEPS": "8", "SIM_REPLICATES": "2", "SIM_SOBOL_N": "4"}
SMALL |= {"SIM_OPT_BUDGETS": "2,4", "SIM_OPT_POPULATION": "4", "SIM_OPT_GENERATIONS": "1"}
SMALL |= {"SIM_OPT_DRAWS": "4", "SIM_OPT_REEVALUATE": "8"}
#: notebooks that import ema-workbench (about 10 s of CPU) and search: run in the slow tier
SLOW_NOTEBOOKS = {"06_portfolios"}


def test_the_five_notebooks_exist_and_are_stored_without_outputs():
    names = [p.stem for p in NOTEBOOKS]
    for expected in ("01_quickstart", "02_scenarios", "03_lever_ablation", "04_sensitivity", "05_tipping"):
        assert expected in names
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path.name} has outputs"


@pytest.fixture
def small(monkeypatch, tmp_path):
    """Small sizes and a private results folder, inherited by the kernel's environment."""
    for key, value in SMALL.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SIM_RESULTS", str(tmp_path))
    monkeypatch.setenv("SIM_SWEEPS", str(tmp_path / "no_sweeps"))  # the notebooks run their own
    return tmp_path


def _execute(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(EXPERIMENTS)}},
    )
    client.execute()
    return nb


def _figures(nb: nbformat.NotebookNode) -> int:
    """Cells whose output is a Plotly figure."""
    return sum(
        any("application/vnd.plotly.v1+json" in out.get("data", {}) for out in cell.get("outputs", []))
        for cell in nb.cells
        if cell.cell_type == "code"
    )


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, marks=pytest.mark.slow) if p.stem in SLOW_NOTEBOOKS else p for p in NOTEBOOKS],
    ids=[p.stem for p in NOTEBOOKS],
)
def test_notebook_runs_top_to_bottom(path, small):
    nb = _execute(path)
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert errors == []
    assert _figures(nb) >= 2, "every notebook shows its figures"
    assert any(small.iterdir()), "results were written under SIM_RESULTS"
    if path.stem == "04_sensitivity":  # the small N of a notebook run is too small, and it says so
        assert "is too small for the Sobol indices" in _printed(nb)


def _common():
    sys.path.insert(0, str(EXPERIMENTS))
    try:
        import common
    finally:
        sys.path.remove(str(EXPERIMENTS))
    return common


def test_ablation_notebook_uses_a_collected_sweep_when_there_is_one(small, monkeypatch):
    """A lever_ablation sweep collected by sim-collect is read instead of running the arms."""
    from sim.experiment.simulate import simulate
    from sim.results import collect, write_run

    common = _common()
    s = common.settings("unused")
    base = common.quiet(
        common.experiment_config(s, "lever_ablation"), record_buildings=False, baseline_comparison=False
    )
    sweep = small / "sweeps" / "lever_ablation" / "2026-01-01_00-00-00"
    arms = common.experiment("lever_ablation")["hydra"]["sweeper"]["arms"]
    for i, (arm, values) in enumerate(arms.items()):
        result = simulate(common.with_values(base, values or {}))
        result.metrics.insert(0, "arm", arm)
        write_run(sweep / str(i), result.metrics, result.buildings, result.summary, f"arm: {arm}\n")
    assert collect(sweep).written
    monkeypatch.setenv("SIM_SWEEPS", str(small / "sweeps"))
    nb = _execute(EXPERIMENTS / "03_lever_ablation.ipynb")
    assert f"using the collected sweep {sweep / 'collected.parquet'}" in _printed(nb)
    assert not (small / "03_lever_ablation").exists()  # nothing was simulated again


def _printed(nb: nbformat.NotebookNode) -> str:
    return "".join(
        out.get("text", "") for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
    )


def test_sensitivity_notebook_analyses_a_collected_sobol_sweep(small, monkeypatch):
    """sim-run -m experiment=sobol (the design sweeper), sim-collect, then the notebook reads it."""
    sweep = small / "sweeps" / "sobol" / "2026-01-01_00-00-00"
    run = subprocess.run(
        [
            str(BIN / "sim-run"),
            "-m",
            "experiment=sobol",
            "community=workshop",
            "steps=2",
            "replicates=1",
            "hydra.sweeper.n=2",
            "hydra/launcher=basic",  # in-process: the launcher is not what is tested here
            f"hydra.sweep.dir={sweep}",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    collect = subprocess.run(
        [str(BIN / "sim-collect"), str(sweep)], capture_output=True, text=True, timeout=120
    )
    assert collect.returncode == 0, collect.stderr
    monkeypatch.setenv("SIM_SWEEPS", str(small / "sweeps"))
    nb = _execute(EXPERIMENTS / "04_sensitivity.ipynb")
    assert f"using the collected sweep {sweep}" in _printed(nb)
    assert "warning: N=2 is too small" in _printed(nb)
    assert not (small / "04_sensitivity" / "sobol_points.parquet").exists()  # no design of its own
    assert _figures(nb) == 3


def test_quickstart_reuses_its_results_and_reruns_on_change(small):
    common = _common()
    s = common.settings("cache")
    cfg = common.config(s, "scenario=baseline")
    first, _ = common.run_or_load(cfg, s.results / "run")
    stamp = (s.results / "run" / "metrics.parquet").stat().st_mtime_ns
    again, buildings = common.run_or_load(cfg, s.results / "run")
    assert (s.results / "run" / "metrics.parquet").stat().st_mtime_ns == stamp  # loaded, not rerun
    assert again.equals(first) and buildings is not None and not buildings.empty
    longer = common.with_values(cfg, {"steps": 10})
    changed, _ = common.run_or_load(longer, s.results / "run")
    assert changed["step"].max() == 10  # a changed configuration is simulated again
    with pytest.raises(ConfigError, match=r"levers\.linking\.nope"):
        common.with_values(cfg, {"levers.linking.nope": 1})


def test_grid_is_simulated_once_then_loaded(small):
    common = _common()
    s = common.settings("grid")
    cfg = common.quiet(common.config(s), record_buildings=False, baseline_comparison=False)
    axes = {"levers.linking.intensity": [0.0, 1.0], "dynamics.threshold_sd": [0.2, 0.4]}
    first = common.grid_or_load(cfg, axes, s.results / "grid.parquet")
    assert first["point"].nunique() == 4
    assert set(first["levers.linking.intensity"]) == {0.0, 1.0}
    stamp = (s.results / "grid.parquet").stat().st_mtime_ns
    assert common.grid_or_load(cfg, axes, s.results / "grid.parquet").equals(first)
    assert (s.results / "grid.parquet").stat().st_mtime_ns == stamp
    smaller = common.grid_or_load(cfg, {"levers.linking.intensity": [0.5]}, s.results / "grid.parquet")
    assert smaller["point"].nunique() == 1 and set(smaller["levers.linking.intensity"]) == {0.5}


def test_results_go_to_a_user_folder_outside_the_repository_unless_sim_results_says(
    monkeypatch, tmp_path, capsys
):
    """By default the notebooks keep their runs in the per-user data folder, never in the
    repository, and say where; SIM_RESULTS chooses another folder."""
    common = _common()
    monkeypatch.delenv("SIM_RESULTS", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # platformdirs' base on Linux
    s = common.settings("demo")
    expected = common.default_results() / "demo"
    assert s.results == expected and ROOT not in s.results.parents
    if sys.platform.startswith("linux"):
        assert expected == tmp_path / "data" / "community-governance-sim" / "experiments" / "demo"
    assert f"results of demo are kept in {expected}" in capsys.readouterr().out
    monkeypatch.setenv("SIM_RESULTS", str(tmp_path / "mine"))
    assert common.settings("demo").results == tmp_path / "mine" / "demo"
    assert f"kept in {tmp_path / 'mine' / 'demo'} (SIM_RESULTS)" in capsys.readouterr().out
