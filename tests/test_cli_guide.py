"""The command line explains itself: sim-run --help, "did you mean", -o/--out, quiet sweeps, and
the analysis a design calls for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sim.cli import guide

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EXPERIMENTS = ROOT / "sim" / "configs" / "experiment"


@pytest.mark.parametrize(
    ("message", "overrides", "expected"),
    [
        (
            "levers.embeding: Key 'embeding' not in 'LeversConfig'",
            ["levers.embeding.intensity=1"],
            ["allowed at levers: conduction, converging, embedding", "did you mean 'levers.embedding'?"],
        ),
        (
            "levers.embedding.intensty=1: Key 'intensty' not in 'EmbeddingConfig'",
            ["community=workshop", "levers.embedding.intensty=1"],
            ["cost_per_unit", "did you mean 'levers.embedding.intensity'?"],
        ),
        (
            "stepz=3: Key 'stepz' not in 'Config'",
            ["stepz=3"],
            ["allowed at the top level:", "replicates", "did you mean 'steps'?"],
        ),
        (
            "comunity=workshop: Key 'comunity' not in 'Config'",
            ["comunity=workshop"],
            ["did you mean 'community'?"],
        ),
        (
            "community=worksop is not a known community; allowed: community, metro, street, workshop",
            ["community=worksop"],
            ["did you mean 'workshop'?"],
        ),
    ],
)
def test_typos_get_the_allowed_names_and_the_closest(message, overrides, expected) -> None:
    out = guide.did_you_mean(message, overrides)
    assert out.startswith(message) and "\n" not in out
    for part in expected:
        assert part in out, out


def test_other_messages_are_left_alone() -> None:
    message = "levers.linking.intensity=2.0: must be in 0 to 1"
    assert guide.did_you_mean(message, ["levers.linking.intensity=2.0"]) == message
    far = "community=zzzz is not a known community; allowed: community, metro, street, workshop"
    assert guide.did_you_mean(far, ["community=zzzz"]) == far  # nothing close: no guess


def test_out_flag_becomes_the_run_or_sweep_directory(tmp_path: Path) -> None:
    rest, extra = guide.pop_out(["-o", str(tmp_path), "steps=2"], multirun=False)
    assert rest == ["steps=2"] and extra == [f"hydra.run.dir={tmp_path}"]
    rest, extra = guide.pop_out(["-m", f"--out={tmp_path}"], multirun=True)
    assert rest == ["-m"] and extra == [f"hydra.sweep.dir={tmp_path}"]
    with pytest.raises(ValueError, match="-o: a directory must follow"):
        guide.pop_out(["-o"], multirun=False)
    assert guide.pop_verbose(["-v", "steps=2"]) == (["steps=2"], True)


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([BIN / "sim-run", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_sim_run_help_explains_the_tool_before_hydras_help() -> None:
    proc = run("--help")
    assert proc.returncode == 0, proc.stderr[-2000:]
    ours = proc.stdout.index("sim-run: simulate urban communities")
    hydras = proc.stdout.index("== Config ==")
    assert ours < hydras
    for part in ("community=", "scenario=", "levers.NAME.intensity", "experiment=", "Examples:", "-o DIR"):
        assert part in proc.stdout[:hydras], part


def test_sim_run_typo_says_did_you_mean_and_writes_nothing(tmp_path: Path) -> None:
    proc = run("levers.embeding.intensity=1", "community=workshop", "-o", str(tmp_path / "x"), cwd=tmp_path)
    assert proc.returncode == 2
    line = proc.stderr.strip()
    assert "\n" not in line and "did you mean 'levers.embedding'?" in line, line
    assert not (tmp_path / "x").exists()


def test_sim_run_out_flag_and_quiet_sweep(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    proc = run(
        "-m", "-o", str(out), "community=workshop", "steps=2", "replicates=1",
        "levers.linking.intensity=0,1", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["0", "1"]
    done = [line for line in proc.stdout.splitlines() if line.startswith("done: ")]
    assert len(done) == 2 and "95% interval" not in proc.stdout  # one line per job, no tables
    assert "\x1b[" not in proc.stdout + proc.stderr  # no terminal colour codes


def _design_of(name: str) -> dict:
    """The design record's method, inputs and arms as the experiment file declares them."""
    sweeper = yaml.safe_load((EXPERIMENTS / f"{name}.yaml").read_text())["hydra"]["sweeper"]
    params = [{"name": k, **v} for k, v in (sweeper.get("params") or {}).items()]
    return {
        "method": sweeper.get("method", "factorial"),
        "params": params,
        "arms": list(sweeper.get("arms") or []),
    }


@pytest.mark.parametrize(
    ("experiment", "analysis"),
    [
        ("lever_grid", "main_effects"),
        ("lever_ablation", "compare_arms"),
        ("budget_frontier", "budget_frontier"),
        ("tipping", "tipping"),
        ("sobol", "sensitivity"),
        ("morris", "sensitivity"),
    ],
)
def test_each_experiment_gets_the_analysis_its_design_calls_for(experiment: str, analysis: str) -> None:
    assert guide.analysis_for(_design_of(experiment), experiment) == analysis
    assert guide.analysis_for(None) == "compare_arms"  # a command-line sweep has no design record


def test_plain_help_has_no_markup() -> None:
    assert guide.plain("``sim-run`` reads :mod:`sim.core.config` and :func:`~sim.x.y`.") == (
        "sim-run reads sim.core.config and sim.x.y."
    )


def test_out_option_is_the_out_key() -> None:
    assert guide.key_value_argv(["a=1", "-o", "d1", "--out=d2", "--out", "d3"], "") == [
        "a=1",
        "out=d1",
        "out=d2",
        "out=d3",
    ]


@pytest.mark.parametrize(
    "command",
    [
        "sim.cli.calibrate:main",
        "sim.cli.optimise:cli",
        "sim.cli.discover:cli",
        "sim.cli.validate:cli",
        "sim.cli.analyse:cli",
    ],
)
def test_every_command_explains_itself_in_plain_text(command: str, capsys: pytest.CaptureFixture) -> None:
    import importlib

    module, _, name = command.partition(":")
    entry = getattr(importlib.import_module(module), name)
    try:
        code = entry(["--help"])
    except SystemExit as stop:  # argparse ends --help with exit 0
        code = stop.code
    assert code in (0, None)
    shown = capsys.readouterr().out
    assert len(shown.splitlines()) >= 3
    assert "``" not in shown and ":mod:" not in shown and ":func:" not in shown
    assert "-o" in shown or "out=" in shown, "every command that writes says where (-o/--out or out=)"


def test_out_flag_given_twice_is_refused(tmp_path: Path) -> None:
    for args in (["-o", "a", "-o", "b"], ["--out=a", "-o", "b"], ["-o", "a", "--out", "b"]):
        with pytest.raises(ValueError, match=r"-o/--out is given twice"):
            guide.pop_out(args, multirun=False)
    proc = run("community=workshop", "-o", str(tmp_path / "a"), "-o", str(tmp_path / "b"), cwd=tmp_path)
    assert proc.returncode == 2
    line = proc.stderr.strip()
    assert "\n" not in line and "given twice" in line, line
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
