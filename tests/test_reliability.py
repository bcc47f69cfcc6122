"""Reliability guarantees that are not faults: sweeps refused whole before anything is written,
no configuration that runs code, results readable and shareable, a damaged file named by its
path, the dashboard on 127.0.0.1 only. (Faults: tests/test_faults.py; single-run inputs:
tests/test_cli.py; numerical safety: tests/test_bounds.py.)"""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import stat
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BIN, ROOT, sim_app
from omegaconf import OmegaConf

from sim.core.config import ConfigError, from_dict
from sim.experiment.precheck import check_no_code, precheck
from sim.experiment.simulate import RunInterrupted, RunResult
from sim.results import (
    INCOMPLETE,
    MARKER,
    CorruptResultError,
    atomic_write,
    check_run,
    collect,
    load,
    write_incomplete,
    write_parquet,
    write_run,
)


def sim_run(args: list[str], cwd: Path, env: dict[str, str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "sim-run"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240, **kw
    )


# ------------------------------------------------------------------------------ whole sweeps refused
SMALL = ["community=workshop", "steps=3", "replicates=1"]
# (arguments, the key the one-line message must name): sweeps, designs and cross-field rules
BAD_COMMANDS = [
    (["-m", "experiment=nonexistent"], "experiment"),
    (["-m", "steps=range(5,5)"], "steps"),  # an empty sweep
    (["-m", "levers.linking.intensity="], "levers.linking.intensity"),
    (["-m", "levers.linking.intensity=0,1.5"], "levers.linking.intensity"),  # 2nd value bad
    (["-m", "community=workshop,nonexistent"], "community"),
    (["-m", "hydra/sweeper=design", "levers.linking.intensity=0,1.5"], "levers.linking.intensity"),
    (["-m", "hydra/sweeper=design", "steps=range(3,3)"], "steps"),  # a design with zero points
    (["-m", "experiment=lever_grid", "hydra.sweeper.params.x.values=[]"], "hydra.sweeper.params.x"),
    (["-m", "experiment=lever_grid", "hydra.sweeper.params.y.values=[0,2]"], "levers.immersion.intensity"),
    (  # only one combination breaks a cross-field rule
        [
            "-m",
            "levers.integration.cross_appointment_base=0.2,0.6",
            "levers.integration.cross_appointment_max=0.5",
        ],
        "levers.integration.cross_appointment_max",
    ),
    (
        ["-m", "community.households_per_building=50,2000", "community.n_compounds=2000"],
        "community.n_compounds",
    ),
    (  # each share allowed alone, one design point breaks "elderly + family ≤ 1"
        ["-m", "hydra/sweeper=design", "community.elderly_share=0.3,0.6", "community.family_share=0.35,0.45"],
        "community.elderly_share",
    ),
    (["-m", "experiment=sobol", "hydra.sweeper.params.linking.hi=1.5"], "levers.linking.intensity=1.5"),
    (["steps=2,3"], "steps"),  # a sweep without -m
]


def sim_run_in_process(args: list[str], capsys, monkeypatch) -> tuple[int, list[str]]:
    """``sim-run ARGS`` through its console entry point in this process: exit code, stderr lines."""
    from sim.cli.run import cli

    capsys.readouterr()
    monkeypatch.setattr("sys.argv", ["sim-run", *args])
    with pytest.raises(SystemExit) as stopped:
        cli()
    return stopped.value.code, [line for line in capsys.readouterr().err.splitlines() if line.strip()]


@pytest.mark.parametrize(("args", "key"), BAD_COMMANDS, ids=[" ".join(a) for a, _ in BAD_COMMANDS])
def test_bad_sweeps_fail_whole_before_anything_is_written(args, key, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    outputs = [f"hydra.sweep.dir={tmp_path / 'sweep'}", f"hydra.run.dir={tmp_path / 'run'}"]
    code, lines = sim_run_in_process([*args, *SMALL, *outputs], capsys, monkeypatch)
    assert code == 2, lines
    assert len(lines) == 1 and key in lines[0], lines
    assert list(tmp_path.iterdir()) == [], "nothing may be written"


def test_a_design_without_points_fails_through_the_real_command(tmp_path, cli_env) -> None:
    done = sim_run(["-m", "hydra/sweeper=design", "steps=range(3,3)", *SMALL[:1]], tmp_path, cli_env)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "steps" in done.stderr, done.stderr
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------ no code from configs
def test_configs_cannot_run_code(tmp_path, cli_env, capsys, monkeypatch) -> None:
    """Hydra callbacks, _target_ in a user's YAML, YAML Python tags, sweeper hooks: all refused."""
    pwned = tmp_path / "pwned"
    user = tmp_path / "user_configs" / "scenario"
    user.mkdir(parents=True)
    (user / "targeted.yaml").write_text(f"name: targeted\n_target_: os.mkdir\npath: {pwned}\n")
    (user / "tagged.yaml").write_text(f"name: !!python/object/apply:os.mkdir ['{pwned}']\n")
    (user / "fine.yaml").write_text("name: fine\ntitle_en: A user's own scenario\n")
    cases = [
        # Hydra instantiates callbacks from the config: this one would create the directory
        (
            ["+hydra.callbacks.evil._target_=os.mkdir", f"+hydra.callbacks.evil.path={pwned}"],
            "hydra.callbacks",
        ),
        (["--config-dir", str(user.parent), "scenario=targeted"], "_target_"),
        (["--config-dir", str(user.parent), "scenario=tagged"], "python/object"),
        (["-m", "hydra/sweeper=design", "hydra.sweeper.check=os:system"], "hydra.sweeper.check"),
        (["-m", "hydra/sweeper=design", "hydra.sweeper.validate=shutil:rmtree"], "hydra.sweeper.validate"),
        (["--experimental-rerun", str(tmp_path / "config.pickle")], "--experimental-rerun"),
    ]

    for args, key in cases[1:]:  # in this process: quick, and the same entry point
        code, lines = sim_run_in_process(
            [*args, *SMALL, f"hydra.run.dir={tmp_path / 'run'}"], capsys, monkeypatch
        )
        assert code == 2 and len(lines) == 1 and key in lines[0], (args, lines)
    # the real command too, for the one setting Hydra itself would have acted on
    args, key = cases[0]
    done = sim_run([*args, *SMALL, f"hydra.run.dir={tmp_path / 'run'}"], tmp_path, cli_env)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1 and key in lines[0], done.stderr[-2000:]
    assert not pwned.exists(), "a configuration ran code"
    assert not (tmp_path / "run").exists()
    # a user's own config directory is fine as long as it holds data only
    precheck(["scenario=fine", *SMALL], config_dir=str(user.parent))


@pytest.mark.parametrize(
    ("setting", "where"),
    [
        ({"hydra": {"job_logging": {"handlers": {"h": {"class": "os.system"}}}}}, "class"),
        ({"hydra": {"job_logging": {"filters": {"f": {"()": "os.system"}}}}}, "()"),
        ({"hydra": {"hydra_logging": {"handlers": {"h": {"stream": "ext://os.environ"}}}}}, "ext://"),
        ({"hydra": {"launcher": {"_target_": "os.system"}}}, "hydra.launcher._target_"),
        ({"hydra": {"sweeper": {"_target_": "subprocess.Popen"}}}, "hydra.sweeper._target_"),
        ({"hydra": {"sweeper": {"check": "builtins:exec"}}}, "hydra.sweeper.check"),
        ({"community": {"_target_": "os.system"}}, "community._target_"),
    ],
)
def test_check_no_code_refuses_every_way_of_naming_code(setting, where) -> None:
    with pytest.raises(ConfigError, match=where.replace("(", r"\(").replace(")", r"\)")):
        check_no_code(OmegaConf.create(setting))


def test_the_configs_shipped_name_no_code_and_the_model_schema_refuses_target() -> None:
    from sim.experiment.compose import compose, group_options

    for experiment in group_options("experiment"):
        check_no_code(compose([f"experiment={experiment}"], with_hydra=True))
    with pytest.raises(ConfigError, match="_target_"):
        from_dict({"scenario": {"_target_": "os.system", "name": "x"}})


# Calls that turn text into code or objects. The only dynamic import is the design sweeper's
# hook loader, whose settings sim-run restricts to sim.* (check_no_code).
ALLOWED = {
    ("hydra_plugins/design_sweeper/design_sweeper.py", "import_module"),
}


def test_no_source_evaluates_input_as_code() -> None:
    """No eval/exec/compile, no hydra.utils.instantiate, no pickle or unsafe YAML anywhere in the package."""
    found = []
    for path in sorted([*(ROOT / "sim").rglob("*.py"), *(ROOT / "hydra_plugins").rglob("*.py")]):
        rel = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if any(n.split(".")[0] in ("pickle", "dill", "cloudpickle", "marshal") for n in names):
                    found.append(f"{rel}:{node.lineno} imports a pickle module")
                if any(n == "instantiate" for n in names):
                    found.append(f"{rel}:{node.lineno} imports hydra's instantiate")
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = (
                func.id
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute)
                else ""
            )
            owner = (
                func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
            )
            if name in ("eval", "exec", "compile", "__import__") and owner in ("", "builtins"):
                found.append(f"{rel}:{node.lineno} {name}()")
            # yaml.load is safe only with a safe loader, named as such at the call
            safe = name == "load" and any(
                k.arg == "Loader" and ast.unparse(k.value).endswith("SafeLoader") for k in node.keywords
            )
            if name == "instantiate" or (
                owner == "yaml" and name in ("load", "unsafe_load", "full_load") and not safe
            ):
                found.append(f"{rel}:{node.lineno} {owner}.{name}()")
            if name == "import_module" and (rel, name) not in ALLOWED:
                found.append(f"{rel}:{node.lineno} import_module()")
    assert found == []


# ------------------------------------------------------------------------------ the dashboard
def _listening(port: int) -> list[str]:
    """Local addresses of sockets listening on ``port`` (IPv4 and IPv6), from /proc/net."""
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            for line in fh.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.rsplit(":", 1)
                if state == "0A" and int(hex_port, 16) == port:
                    out.append(address)
    return out


@pytest.mark.slow  # starts the real server: make check
def test_dashboard_listens_on_loopback_only(tmp_path) -> None:
    if not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp on this system to read listening sockets from")
    with sim_app(tmp_path / "sim-app.log", ready=lambda port: bool(_listening(port)), timeout=90) as port:
        time.sleep(0.5)  # let every listener of the server come up
        addresses = _listening(port)
    loopback_v4 = "0100007F"  # 127.0.0.1, little-endian hex as /proc prints it
    assert addresses and all(a == loopback_v4 for a in addresses), addresses


# ------------------------------------------------------------------------------ results on disk
def tiny_run(tmp: Path, replicates: int = 2) -> tuple[Path, pd.DataFrame]:
    metrics = pd.DataFrame(
        {"replicate": np.repeat(np.arange(replicates), 3), "step": np.tile([1, 2, 3], replicates), "x": 0.5}
    )
    return write_run(tmp, metrics, pd.DataFrame(), {"final": {}}, "seed: 1\n"), metrics


def test_results_get_umask_permissions_and_sim_run_exposes_check_finite(tmp_path, cli_env) -> None:
    old = os.umask(0o022)
    try:
        write_parquet(tmp_path / "a.parquet", pd.DataFrame({"x": [1]}))
        os.umask(0o077)
        atomic_write(tmp_path / "b.txt", lambda p: p.write_text("b"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.parquet").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "b.txt").stat().st_mode) == 0o600
    # through the real command, with a group-readable umask; check_finite=true is a sim-run key
    run = tmp_path / "run"
    done = sim_run(
        ["check_finite=true", *SMALL, f"hydra.run.dir={run}"],
        tmp_path,
        cli_env,
        preexec_fn=lambda: os.umask(0o027),
    )
    assert done.returncode == 0, done.stderr
    for name in ("metrics.parquet", "buildings.parquet", "summary.json", "config.yaml", MARKER):
        assert stat.S_IMODE((run / name).stat().st_mode) == 0o640, name
    assert OmegaConf.load(run / "config.yaml").check_finite is True


def test_a_damaged_parquet_is_reported_with_its_path(tmp_path, capsys) -> None:
    run, metrics = tiny_run(tmp_path / "run")
    pd.testing.assert_frame_equal(load(run), metrics)
    (run / "metrics.parquet").write_bytes(b"PAR1 this is not a parquet file")
    with pytest.raises(FileNotFoundError, match=r"corrupt file .*metrics\.parquet"):
        load(run)
    # a file read directly (a collected table) is named too, not a raw pyarrow traceback
    with pytest.raises(CorruptResultError, match=re.escape(str(run / "metrics.parquet"))):
        load(run / "metrics.parquet")
    (tmp_path / "collected.parquet").write_bytes(b"\x00" * 64)
    with pytest.raises(CorruptResultError, match=r"collected\.parquet"):
        load(tmp_path)
    done = subprocess.run(
        [str(BIN / "sim-collect"), str(run.parent)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and str(run / "metrics.parquet") in done.stderr


def test_incomplete_marker_is_never_taken_for_a_complete_run(tmp_path, capsys) -> None:
    _, metrics = tiny_run(tmp_path / "seed")
    partial = RunResult(metrics=metrics, buildings=pd.DataFrame(), summary={"final": {}})
    stop = RunInterrupted(signal.SIGTERM, partial, done=[0, 1], missing=[2, 3, 4])
    run = tmp_path / "sweep" / "0"
    write_incomplete(run, stop, "seed: 1\n")
    assert not (run / MARKER).exists()
    info = json.loads((run / INCOMPLETE).read_text())
    assert info["replicates_missing"] == [2, 3, 4] and "metrics.parquet" in info["files"]
    assert check_run(run).problem == (
        "incomplete run (interrupted by SIGTERM): 2 of 5 replicates finished, missing 2-4; "
        "rerun it, or resume its sweep, to redo it"
    )
    with pytest.raises(FileNotFoundError, match="incomplete run"):
        load(tmp_path / "sweep")
    pd.testing.assert_frame_equal(load(run, incomplete=True), metrics)
    report = collect(tmp_path / "sweep")
    assert not report.written and "incomplete run" in report.failed[0]
    # a damaged partial file is not read even on request
    (run / "metrics.parquet").write_bytes(b"garbage")
    with pytest.raises(FileNotFoundError, match="corrupt file"):
        load(run, incomplete=True)
    # nothing stopped: a zero-replicate stop still says so
    empty = tmp_path / "empty"
    write_incomplete(empty, RunInterrupted(signal.SIGINT, None, done=[], missing=[0, 1]), "seed: 1\n")
    assert "0 of 2 replicates finished" in check_run(empty).problem
    # a rewrite of the run replaces the incomplete marker by a complete one
    write_run(run, metrics, pd.DataFrame(), {"final": {}}, "seed: 1\n")
    assert check_run(run).complete and not (run / INCOMPLETE).exists()
