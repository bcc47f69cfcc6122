"""Results that cannot fool anyone (issue 13): stale, partial or edited collections refused by every
reader; config-group options that are paths refused; one writer per run directory and sweep; every
failure to read or write one line with its exit code; the dashboard not exposed by accident; and
the smaller points (a key given twice, orphan temporary files, counts, bit-identical summaries,
no empty job folders)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import BIN

from hydra_plugins.design_sweeper.design_sweeper import DESIGN_FILE, point_dirname
from sim.cli.collect import main as collect_main
from sim.core.config import ConfigError
from sim.experiment.precheck import precheck
from sim.results import (
    MARKER,
    RunStatus,
    check_run,
    collect,
    load,
    write_run,
)
from sim.results.integrity import COLLECTION_RECORD, CollectionError, read_table_record, verify_collection
from sim.results.lock import holder_of, is_locked, writer_lock


def run(cmd: str, args: list[str], cwd: Path, env: dict[str, str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / cmd), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, **kw
    )


def one_line(done: subprocess.CompletedProcess) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


# ------------------------------------------------------------------------------ a sweep on disk
def fake_sweep(root: Path, n: int = 4, satisfaction: float = 0.8) -> Path:
    """A design sweep as the sweeper and its jobs write it: design.json and one run per point."""
    points = [{"point": i, "cell": 0, "sample": i, "overrides": {"budget": float(i)}} for i in range(n)]
    design = {"version": 1, "method": "factorial", "params": [], "points": points, "fingerprint": "f" * 64}
    root.mkdir(parents=True)
    (root / DESIGN_FILE).write_text(json.dumps(design))
    for i in range(n):
        metrics = pd.DataFrame(
            {
                "point": i,
                "replicate": np.repeat([0, 1], 3),
                "step": np.tile([1, 2, 3], 2),
                "seed": 1,
                "budget": float(i),
                "satisfaction": satisfaction + 0.01 * i,
            }
        )
        write_run(root / "0" / point_dirname(i), metrics, pd.DataFrame(), {"final": {}}, f"budget: {i}\n")
    return root


def test_check_run_returns_a_status_truthy_only_when_complete(tmp_path) -> None:
    sweep = fake_sweep(tmp_path / "s", n=1)
    run_dir = sweep / "0" / point_dirname(0)
    status = check_run(run_dir)
    assert isinstance(status, RunStatus) and status and status.complete and status.problem is None
    (run_dir / MARKER).unlink()
    status = check_run(run_dir)
    assert not status and "no completion marker" in status.problem and str(status) == status.problem


def test_stale_partial_and_edited_collections_are_refused_by_every_reader(tmp_path, capsys) -> None:
    sweep = fake_sweep(tmp_path / "sweep")
    kept = tmp_path / "kept"
    shutil.move(sweep / "0" / point_dirname(3), kept)  # a point that has not run yet
    # partial: refused unless asked for, and then marked PARTIAL everywhere
    assert not collect(sweep).written
    report = collect(sweep, allow_missing=True)
    assert report.written and report.partial_note.startswith("PARTIAL: collected from 3 of 4 points")
    assert read_table_record(sweep / "collected.parquet")["partial"] is True
    assert read_table_record(sweep / "summary.parquet")["missing"] == [3]
    with pytest.raises(CollectionError, match="is partial: 3 of 4 points"):
        load(sweep)
    df = load(sweep, allow_missing=True)
    assert df.attrs["partial"].startswith("PARTIAL") and set(df["point"]) == {0, 1, 2}
    from sim.cli.analyse import analyse

    with pytest.raises(CollectionError, match="partial"):
        analyse(sweep)
    from sim.present.report import read_source

    with pytest.raises(CollectionError, match="partial"):
        read_source(sweep)
    assert read_source(sweep, allow_missing=True).partial.startswith("PARTIAL")
    # the sweep is resumed and completes: the old table is stale
    shutil.move(kept, sweep / "0" / point_dirname(3))
    for reader in (lambda: load(sweep, allow_missing=True), lambda: analyse(sweep, allow_missing=True)):
        with pytest.raises(CollectionError, match=r"1 point\(s\) completed since it was collected"):
            reader()
    assert collect(sweep).written and len(load(sweep)["point"].unique()) == 4
    # a point rerun after collecting (its marker changed): stale
    run3 = sweep / "0" / point_dirname(3)
    metrics = pd.read_parquet(run3 / "metrics.parquet")
    write_run(run3, metrics.assign(satisfaction=0.5), pd.DataFrame(), {"final": {}}, "budget: 3\n")
    with pytest.raises(CollectionError, match=r"point 3 .* has changed or gone since it was collected"):
        load(sweep)
    assert collect(sweep).written
    # an edited table: one arm's satisfaction set to 0.111
    import pyarrow as pa

    table = pd.read_parquet(sweep / "collected.parquet")
    table.loc[table["point"] == 1, "satisfaction"] = 0.111
    schema = pq.read_schema(sweep / "collected.parquet")  # metadata and all: only the numbers differ
    pq.write_table(pa.Table.from_pandas(table, schema=schema), sweep / "collected.parquet")
    with pytest.raises(CollectionError, match="was changed after it was collected"):
        load(sweep)
    with pytest.raises(CollectionError, match="was changed after it was collected"):
        load(sweep / "collected.parquet")
    with pytest.raises(CollectionError, match="changed after"):
        read_source(sweep / "collected.parquet")
    # a table without its record (older version, or copied alone) is not trusted either
    (sweep / COLLECTION_RECORD).unlink()
    with pytest.raises(CollectionError, match=f"has no {COLLECTION_RECORD}"):
        verify_collection(sweep)
    # the command-line reader: one line, exit 2
    assert collect_main([str(sweep)]) == 0
    capsys.readouterr()
    (sweep / "summary.parquet").write_bytes((sweep / "summary.parquet").read_bytes() + b"\0")
    from sim.cli.analyse import cli as analyse_cli

    assert analyse_cli([str(sweep)]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line]
    assert len(err) == 1 and "summary.parquet was changed after it was collected" in err[0]


def test_collect_counts_each_point_once_and_a_point_being_written_as_running(tmp_path, capsys) -> None:
    sweep = fake_sweep(tmp_path / "sweep", n=4)
    shutil.rmtree(sweep / "0" / point_dirname(0))
    busy = sweep / "0" / point_dirname(1)
    shutil.rmtree(busy)
    with writer_lock(busy):  # this point is being written right now
        assert is_locked(busy)
        report = collect(sweep)
        assert (len(report.missing), len(report.failed), len(report.running)) == (1, 0, 1)
        assert report.expected == 4 and report.points == 2 and not report.written
        assert collect_main([str(sweep)]) == 1
    err = capsys.readouterr().err
    assert "2 complete of 4 point(s): 1 missing, 0 failed, 1 running; nothing written" in err
    # nothing complete at all: as many missing as the design has points, not one more
    empty = fake_sweep(tmp_path / "empty", n=3)
    shutil.rmtree(empty / "0")
    report = collect(empty, allow_missing=True)
    assert len(report.missing) == 3 and not report.written


# ------------------------------------------------------------------------------ config groups
@pytest.mark.parametrize(
    ("args", "multirun", "key"),
    [
        (["community=../scenario/all_six"], False, "community"),
        (["community=../../../../tmp/x/evil"], False, "community"),
        (["experiment=../scenario/all_six"], False, "experiment"),
        (["experiment=../scenario/all_six"], True, "experiment"),
        (["community=workshop,../scenario/all_six"], True, "community"),
        (["community@community=../scenario/all_six"], False, "community"),
        (["scenario=/etc/hostname"], False, "scenario"),
    ],
)
def test_config_group_options_are_names_not_paths(args, multirun, key) -> None:
    with pytest.raises(ConfigError) as err:
        precheck(args, multirun)
    text = str(err.value)
    assert "\n" not in text and text.startswith(f"{key}=") and "allowed: " in text
    allowed = {"community": "workshop", "experiment": "lever_ablation", "scenario": "all_six"}[key]
    assert allowed in text.partition("allowed: ")[2]  # the names that are allowed are listed


@pytest.mark.slow
def test_a_group_path_is_refused_by_the_real_command(tmp_path, cli_env) -> None:
    evil = tmp_path / "x" / "evil.yaml"
    evil.parent.mkdir()
    evil.write_text("levers: {linking: {intensity: 1}}\n")
    group = Path(__file__).parent.parent / "sim" / "configs" / "community"
    rel = os.path.relpath(evil.with_suffix(""), group)
    for args in (
        [f"community={rel}", f"hydra.run.dir={tmp_path / 'run'}"],
        ["community=../scenario/all_six", f"hydra.run.dir={tmp_path / 'run'}"],
        ["-m", "experiment=../scenario/all_six", f"hydra.sweep.dir={tmp_path / 'sweep'}"],
    ):
        done = run("sim-run", args, tmp_path, cli_env)
        assert done.returncode == 2 and "allowed: " in one_line(done), args
    assert not (tmp_path / "run").exists() and not (tmp_path / "sweep").exists()


def test_a_key_given_twice_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"steps is given twice \(steps=3 and steps=4\)"):
        precheck(["steps=3", "steps=4"])


# ------------------------------------------------------------------------------ one writer
def test_writer_lock_refuses_a_second_writer_naming_the_holder(tmp_path) -> None:
    target = tmp_path / "run"
    with writer_lock(target):
        with writer_lock(target):  # re-entrant in the holding process
            pass
        holder = holder_of(target)
        assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname()
        code = (
            "import sys; from sim.results.lock import writer_lock\n"
            f"with writer_lock({str(target)!r}): sys.exit(0)\n"
        )
        done = subprocess.run(
            [str(BIN / "python"), "-c", code], capture_output=True, text=True, timeout=120, env=os.environ
        )
        assert done.returncode != 0 and "DirectoryLocked" in done.stderr
        assert f"process {os.getpid()} on {socket.gethostname()}" in done.stderr
    assert not is_locked(target)
    with writer_lock(target):  # released when the holder is done: the next writer gets it
        pass


def test_marker_covers_the_hydra_record_and_orphan_temporaries_are_removed(tmp_path) -> None:
    out = tmp_path / "run"
    (out / ".hydra").mkdir(parents=True)
    (out / ".hydra" / "config.yaml").write_text("seed: 1\n")
    orphan = out / ".metrics.parquet.abc123.tmp"
    orphan.write_bytes(b"half a file")
    metrics = pd.DataFrame({"replicate": [0], "step": [1], "x": [0.5]})
    write_run(out, metrics, pd.DataFrame(), {"final": {}}, "seed: 1\n")
    assert not orphan.exists(), "a killed writer's temporary file is removed by the next run"
    files = json.loads((out / MARKER).read_text())["files"]
    assert ".hydra/config.yaml" in files and check_run(out)
    (out / ".hydra" / "config.yaml").write_text("seed: 2\n")  # another writer's record
    assert "corrupt file" in check_run(out).problem
    (out / ".hydra" / "config.yaml").write_text("seed: 1\n")
    (out / ".hydra" / "overrides.yaml").write_text("- seed=2\n")
    assert "not covered by _COMPLETE.json" in check_run(out).problem


def test_summary_json_is_bit_identical_between_identical_runs(tmp_path, cli_env) -> None:
    from sim.experiment.compose import compose_config
    from sim.experiment.simulate import simulate

    cfg = compose_config(["community=workshop", "steps=3", "replicates=1"])
    for name in ("a", "b"):
        result = simulate(cfg)
        assert result.elapsed_seconds > 0 and "elapsed_seconds" not in result.summary
        write_run(tmp_path / name, result.metrics, result.buildings, result.summary, "x: 1\n")
    for file in ("summary.json", "metrics.parquet", MARKER):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file
    # two real sim-run commands into different folders: the output location is not recorded
    small = ["community=workshop", "steps=3", "replicates=2"]
    for name in ("b1", "b2"):
        done = run("sim-run", [*small, "-o", name], tmp_path, cli_env)
        assert done.returncode == 0, done.stderr[-2000:]
    for file in ("summary.json", "metrics.parquet", "buildings.parquet", "config.yaml"):
        assert (tmp_path / "b1" / file).read_bytes() == (tmp_path / "b2" / file).read_bytes(), file
    recorded = json.loads((tmp_path / "b1" / "summary.json").read_text())["provenance"]["command_line"]
    assert recorded == ["sim-run", *small]


# ------------------------------------------------------------------------------ the dashboard
def test_dashboard_binding_host_and_origin_checks() -> None:
    import anyio

    from sim.cli.app import _parse
    from sim.present import serve

    with pytest.raises(SystemExit) as stop:
        _parse(["--host", "0.0.0.0"])
    assert stop.value.code == 2
    with pytest.raises(serve.BindRefused, match=r"--host=0.0.0.0 .* add --allow-remote"):
        serve.check_bind("0.0.0.0", allow_remote=False)
    assert serve.check_bind("127.0.0.1", False) is None and serve.check_bind("localhost", False) is None
    assert "WARNING" in serve.check_bind("0.0.0.0", allow_remote=True)
    assert _parse(["--host", "0.0.0.0", "--allow-remote"]).warning.startswith("sim-app: WARNING")

    seen: list[str] = []

    async def app(scope, receive, send):
        seen.append(scope["path"])
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
        else:
            await send({"type": "websocket.accept"})

    guard = serve.Guard(app, serve.allowed_hosts("127.0.0.1", ["workshop.lan"]), 8765)

    def call(kind: str, path: str, headers: dict[str, str]) -> list[dict]:
        sent: list[dict] = []

        async def receive():
            return {"type": "websocket.connect"} if kind == "websocket" else {"type": "http.request"}

        async def send(message):
            sent.append(message)

        raw = [(k.encode(), v.encode()) for k, v in headers.items()]
        scope = {"type": kind, "path": path, "headers": raw}
        anyio.run(guard, scope, receive, send)
        return sent

    ok = {"host": "127.0.0.1:8765"}
    assert call("http", "/", ok)[0]["status"] == 200
    assert call("http", "/", {"host": "localhost:8765"})[0]["status"] == 200
    assert call("http", "/", {"host": "workshop.lan:8765"})[0]["status"] == 200  # the allow-list
    assert call("http", "/", {"host": "evil.example:8765"})[0]["status"] == 403  # DNS rebinding
    assert call("http", "/", {"host": "127.0.0.1:9999"})[0]["status"] == 403
    assert call("http", "/resourcez", ok)[0]["status"] == 404
    ws = "/jupyter/api/kernels/x/channels"
    assert call("websocket", ws, {**ok, "origin": "http://127.0.0.1:8765"}) == [{"type": "websocket.accept"}]
    refused = call("websocket", ws, {**ok, "origin": "http://evil.example"})
    assert refused == [{"type": "websocket.close", "code": 1008}]
    assert "/resourcez" not in seen and seen.count("/") == 3


# ------------------------------------------------------------------------------ real commands
@pytest.mark.slow
def test_commands_end_in_one_line_with_their_exit_code(tmp_path, cli_env) -> None:
    """Unwritable places, a second writer, a garbage or different design: one line each."""
    small = ["community=workshop", "steps=2", "replicates=1"]
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    # output under something that is not a folder (root ignores permission bits; ENOTDIR it cannot)
    done = run("sim-run", [*small, f"hydra.run.dir={blocker}/run"], tmp_path, cli_env)
    assert done.returncode == 74 and f"{blocker}" in one_line(done)
    done = run("sim-run", ["-m", *small, "seed=1,2", f"hydra.sweep.dir={blocker}/sweep"], tmp_path, cli_env)
    assert done.returncode == 74 and f"{blocker}" in one_line(done)
    # a second writer into one run directory: refused before anything is written, holder named
    shared = tmp_path / "shared"
    with writer_lock(shared):
        done = run("sim-run", [*small, f"hydra.run.dir={shared}"], tmp_path, cli_env)
        line = one_line(done)
        assert done.returncode == 75 and f"process {os.getpid()}" in line
        assert not (shared / ".hydra").exists()
        done = run("sim-run", ["-m", *small, "seed=1,2", f"hydra.sweep.dir={shared}"], tmp_path, cli_env)
        assert done.returncode == 75 and "being written by" in one_line(done)
    # a garbage design.json, and a directory holding a different design
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / DESIGN_FILE).write_text("garbage")
    design_cmd = ["-m", "hydra/sweeper=design", "hydra/launcher=basic", *small, "seed=1,2"]
    done = run("sim-run", [*design_cmd, f"hydra.sweep.dir={sweep}"], tmp_path, cli_env)
    assert done.returncode == 74 and f"{sweep / DESIGN_FILE} is not a design record" in one_line(done)
    done = run("sim-collect", [str(sweep)], tmp_path, cli_env)
    assert done.returncode == 74 and f"{sweep / DESIGN_FILE}" in one_line(done)
    (sweep / DESIGN_FILE).unlink()
    done = run("sim-run", [*design_cmd, f"hydra.sweep.dir={sweep}"], tmp_path, cli_env)
    assert done.returncode == 0, done.stderr
    (sweep / "7" / ".hydra").mkdir(parents=True)  # a job killed before its first point
    done = run("sim-run", [*design_cmd, f"hydra.sweep.dir={sweep}"], tmp_path, cli_env)
    assert done.returncode == 0 and "2 already complete" in done.stdout
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == ["0", "1"], "no empty job folders"
    done = run("sim-run", [*design_cmd[:-1], "seed=1,3", f"hydra.sweep.dir={sweep}"], tmp_path, cli_env)
    assert done.returncode == 2 and "holds a different sweep" in one_line(done)
    # readers into places they cannot write
    assert run("sim-collect", [str(sweep)], tmp_path, cli_env).returncode == 0
    done = run("sim-report", [str(sweep), "-o", f"{blocker}/report.html"], tmp_path, cli_env)
    assert done.returncode == 74 and f"{blocker}" in one_line(done)
    # read-only folders (a read-only bind mount: root ignores permission bits, not a read-only mount)
    (sweep / "collected.parquet").unlink()
    (sweep / "summary.parquet").unlink()
    view = tmp_path / "read-only"
    view.mkdir()
    with read_only_view(sweep, view):
        done = run("sim-analyse", [str(view)], tmp_path, cli_env)
        assert done.returncode == 74 and "Read-only file system" in one_line(done)
        done = run("sim-run", [*small, f"hydra.run.dir={view}/run"], tmp_path, cli_env)
        assert done.returncode == 74 and f"{view}" in one_line(done)
        done = run("sim-run", [*design_cmd, f"hydra.sweep.dir={view}/new"], tmp_path, cli_env)
        assert done.returncode == 74 and f"{view}" in one_line(done)
        point = str(sweep / "0" / point_dirname(0))
        done = run("sim-report", [point, "-o", f"{view}/r.html"], tmp_path, cli_env)
        assert done.returncode == 74 and f"{view}" in one_line(done)


@contextlib.contextmanager
def read_only_view(source: Path, view: Path):
    """``source`` mounted read-only at ``view`` (skips the test where mounting is not permitted)."""
    bind = subprocess.run(["mount", "--bind", str(source), str(view)], capture_output=True, text=True)
    if bind.returncode != 0:
        pytest.skip(f"read-only cases need a bind mount, not permitted here: {bind.stderr.strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(view)], check=True, capture_output=True)
        yield view
    finally:
        subprocess.run(["umount", str(view)], capture_output=True)


# ------------------------------------------------------------------------------ review: copies, plain sweeps
def _rewrite(table: Path, target: Path, change, keep_content_checksum: bool = True) -> None:
    """``table`` with one value changed, written to ``target`` with its metadata (and, if asked,
    the content checksum it carries) kept: only the numbers differ."""
    import pyarrow as pa

    df = change(pd.read_parquet(table))
    meta = dict(pq.read_metadata(table).metadata)
    meta.pop(b"ARROW:schema", None)
    if not keep_content_checksum:
        meta.pop(b"sim.content", None)
    schema = pq.read_schema(table).with_metadata(meta)
    pq.write_table(pa.Table.from_pandas(df, schema=schema, preserve_index=False), target)


def _edit(df: pd.DataFrame) -> pd.DataFrame:
    df.loc[df["point"] == 1, "satisfaction"] = 0.111
    return df


def test_a_collected_table_saved_under_another_name_is_verified(tmp_path) -> None:
    """`cp SWEEP/collected.parquet lone.parquet && sim-report lone.parquet` goes through every check."""
    from sim.cli.report import main as report_main

    sweep = fake_sweep(tmp_path / "sweep")
    assert collect(sweep).written
    away = tmp_path / "away"
    away.mkdir()
    for name in ("collected.parquet", "summary.parquet"):
        shutil.copy(sweep / name, away / f"lone-{name}")
    # an untouched copy away from its sweep is checked against the checksum of its own content
    pd.testing.assert_frame_equal(load(away / "lone-collected.parquet"), load(sweep))
    assert len(load(away / "lone-summary.parquet")) == 4
    # edited with every piece of metadata kept: the content no longer matches its checksum
    _rewrite(away / "lone-collected.parquet", away / "edited.parquet", _edit)
    with pytest.raises(CollectionError, match=r"edited.parquet was changed after it was collected"):
        load(away / "edited.parquet")
    assert report_main([str(away / "edited.parquet"), "-o", str(tmp_path / "r.html")]) == 2
    assert not (tmp_path / "r.html").exists()
    # without that checksum (edited with the schema's metadata only, or an older version's table)
    _rewrite(away / "lone-summary.parquet", away / "old.parquet", lambda d: d, keep_content_checksum=False)
    with pytest.raises(CollectionError, match=r"old.parquet cannot be verified: .*no checksum"):
        load(away / "old.parquet")
    # a copy beside its _COLLECTED.json must be one of the tables it records, and still current
    shutil.copy(sweep / "collected.parquet", sweep / "lone.parquet")
    assert len(load(sweep / "lone.parquet")) == len(load(sweep))
    _rewrite(sweep / "collected.parquet", sweep / "edited.parquet", _edit)
    with pytest.raises(CollectionError, match=f"is not a table that .*{COLLECTION_RECORD} records"):
        load(sweep / "edited.parquet")
    run1 = sweep / "0" / point_dirname(1)
    write_run(run1, pd.read_parquet(run1 / "metrics.parquet"), pd.DataFrame(), {"final": {}}, "x\n")
    with pytest.raises(CollectionError, match=r"point 1 .* has changed or gone"):
        load(sweep / "lone.parquet")
    # a copy in a sweep folder that has no _COLLECTED.json cannot be checked against the sweep
    (sweep / COLLECTION_RECORD).unlink()
    with pytest.raises(CollectionError, match=f"in a sweep folder without {COLLECTION_RECORD}"):
        load(sweep / "lone.parquet")
    # an ordinary Parquet file (no collection record) is read as it is
    pd.DataFrame({"x": [1.0]}).to_parquet(away / "mine.parquet")
    assert load(away / "mine.parquet")["x"].tolist() == [1.0]


def test_a_partial_table_copied_under_another_name_stays_partial(tmp_path, capsys) -> None:
    from sim.cli.report import main as report_main

    sweep = fake_sweep(tmp_path / "sweep")
    shutil.rmtree(sweep / "0" / point_dirname(2))
    assert collect(sweep, allow_missing=True).written
    lone = tmp_path / "lone.parquet"
    shutil.copy(sweep / "collected.parquet", lone)
    with pytest.raises(CollectionError, match=r"lone.parquet is partial: 3 of 4 points \(missing 2\)"):
        load(lone)
    df = load(lone, allow_missing=True)
    assert df.attrs["partial"].startswith("PARTIAL: collected from 3 of 4 points")
    capsys.readouterr()
    assert report_main([str(lone), "-o", str(tmp_path / "r.html")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line]
    assert len(err) == 1 and "is partial" in err[0]
    from sim.present.report import read_source

    assert read_source(lone, allow_missing=True).partial.startswith("PARTIAL")  # the report's box


def fake_plain_sweep(root: Path, n: int = 3) -> Path:
    """A plain Hydra sweep as `sim-run -m steps=...` writes it: multirun.yaml and job folders 0..n-1."""
    root.mkdir(parents=True)
    values = ",".join(str(2 + i) for i in range(n))
    (root / "multirun.yaml").write_text(f"hydra:\n  overrides:\n    task:\n    - steps={values}\n")
    for i in range(n):
        plain_job(root, i)
    return root


def plain_job(root: Path, i: int) -> Path:
    job = root / str(i)
    (job / ".hydra").mkdir(parents=True, exist_ok=True)
    (job / ".hydra" / "overrides.yaml").write_text(f"- steps={2 + i}\n")
    metrics = pd.DataFrame(
        {"replicate": [0, 0], "step": [1, 2], "steps": 2 + i, "satisfaction": 0.5 + i / 10}
    )
    return write_run(job, metrics, pd.DataFrame(), {"final": {}}, f"steps: {2 + i}\n")


def test_a_plain_sweeps_partial_collection_goes_stale_when_its_missing_jobs_complete(tmp_path) -> None:
    # a failed job (its marker gone), collected partial, then rerun to completion
    sweep = fake_plain_sweep(tmp_path / "ps")
    (sweep / "1" / MARKER).unlink()
    assert collect(sweep, allow_missing=True).written
    assert json.loads((sweep / COLLECTION_RECORD).read_text())["pending"] == ["1"]
    assert set(load(sweep, allow_missing=True)["point"]) == {0, 2}
    plain_job(sweep, 1)
    with pytest.raises(CollectionError, match=r"1 run\(s\) completed since it was collected"):
        load(sweep, allow_missing=True)
    assert collect(sweep).written and set(load(sweep)["point"]) == {0, 1, 2}
    # a job with no folder at all when collected: recorded where Hydra will write it
    sweep = fake_plain_sweep(tmp_path / "ps2")
    shutil.rmtree(sweep / "2")
    report = collect(sweep, allow_missing=True)
    assert report.written and "missing: job 2" in " ".join(report.problems)
    assert json.loads((sweep / COLLECTION_RECORD).read_text())["pending"] == ["2"]
    plain_job(sweep, 2)
    with pytest.raises(CollectionError, match=r"completed since it was collected"):
        load(sweep, allow_missing=True)
    # a run folder the record does not list (the sweep grew, or runs were added): stale
    assert collect(sweep).written
    plain_job(sweep, 3)
    with pytest.raises(CollectionError, match=r"1 run folder\(s\) that were not there"):
        load(sweep)
    # a record of an older version does not list pending folders: a partial one cannot be checked
    (sweep / "3" / MARKER).unlink()
    assert collect(sweep, allow_missing=True).written
    record = json.loads((sweep / COLLECTION_RECORD).read_text())
    del record["pending"]
    (sweep / COLLECTION_RECORD).write_text(json.dumps(record))
    with pytest.raises(CollectionError, match="collected by an older version"):
        load(sweep, allow_missing=True)


def test_a_key_given_with_one_of_its_dotted_parents_is_refused() -> None:
    for args in (
        ["levers.linking={intensity:1.0}", "levers.linking.intensity=0"],
        ["levers.linking.intensity=0", "levers.linking={intensity:1.0}"],
        ["+levers.linking={intensity:1.0}", "levers.linking.intensity=0"],
    ):
        with pytest.raises(
            ConfigError, match=r"levers.linking.intensity is given together with levers.linking"
        ):
            precheck(args)
    with pytest.raises(ConfigError, match="given together with levers"):
        precheck(["levers.linking.intensity=0,1", "levers={linking:{intensity:1.0}}"], multirun=True)
    # a group choice and keys of the file it picks are not a repetition
    precheck(["community=workshop", "community.n_compounds=3"])
    precheck(["levers.linking.intensity=0.5", "levers.embedding.intensity=1"])


def _owned_tmp(folder: Path, name: str, pid: int) -> Path:
    from sim.results import _host_tag

    path = folder / f".{name}.{pid}-{_host_tag()}.a1b2c3d4.tmp"
    path.write_bytes(b"half a file")
    return path


def _dead_pid() -> int:
    done = subprocess.run(
        [str(BIN / "python"), "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(done.stdout)


def test_orphaned_temporaries_are_removed_by_collect_analyse_and_report_and_live_ones_kept(tmp_path) -> None:
    from sim.cli.analyse import analyse
    from sim.results import UNOWNED_TEMPORARY_AGE, remove_orphan_temporaries

    sweep = fake_sweep(tmp_path / "sweep")
    analysis = sweep / "analysis"
    analysis.mkdir()
    live = subprocess.Popen(["sleep", "60"])
    try:
        dead = _dead_pid()
        killed = [
            _owned_tmp(sweep, "collected.parquet", dead),
            _owned_tmp(sweep, "summary.parquet", dead),
            _owned_tmp(analysis, "comparison.parquet", dead),
        ]
        writing = [
            _owned_tmp(sweep, "collected.parquet", live.pid),
            _owned_tmp(analysis, "tipping.parquet", live.pid),
        ]
        old = sweep / ".collected.parquet.x1y2z3.tmp"  # an older version's name: no writer named
        old.write_bytes(b"")
        hour_ago = os.path.getmtime(old) - UNOWNED_TEMPORARY_AGE - 60
        os.utime(old, (hour_ago, hour_ago))
        fresh = sweep / ".design.json.q1w2e3.tmp"  # unnamed and recent: may be written right now
        fresh.write_bytes(b"")
        assert collect(sweep).written
        analyse(sweep)
        assert not any(p.exists() for p in [*killed, old])
        assert all(p.exists() for p in [*writing, fresh])
        # under the folder's writer lock (sim-run writing a run) an unnamed one is a leftover too
        with writer_lock(sweep):
            assert remove_orphan_temporaries(sweep, holding_lock=True) == [fresh]
        # the folder sim-report writes into (write_report calls the same helper before writing)
        report_tmp = _owned_tmp(sweep, "report.html", dead)
        assert remove_orphan_temporaries(sweep) == [report_tmp]
        # a run rewritten while another process writes into its folder leaves that file alone
        run_dir = sweep / "0" / point_dirname(0)
        beside = _owned_tmp(run_dir, "report.html", live.pid)
        write_run(run_dir, pd.read_parquet(run_dir / "metrics.parquet"), pd.DataFrame(), {"final": {}}, "x\n")
        assert beside.exists()
    finally:
        live.kill()
        live.wait()


def test_temporary_files_name_their_writer(tmp_path) -> None:
    from sim.results.files import _OWNED_TEMPORARY, atomic_write

    seen: list[str] = []
    atomic_write(tmp_path / "a.json", lambda tmp: (seen.append(tmp.name), tmp.write_text("{}")))
    found = _OWNED_TEMPORARY.match(seen[0])
    assert seen[0].startswith(".a.json.") and found and int(found.group(1)) == os.getpid()


def test_the_command_line_recorded_leaves_out_where_results_go() -> None:
    from sim.results.provenance import command_line

    argv = [
        "/venv/bin/sim-run", "-m", "steps=2,3", "hydra.sweep.dir=/tmp/b1", "+hydra.run.dir=/x",
        "-o", "b1", "--out", "b2", "--out=b3", "hydra.sweep.subdir=x", "seed=4",
    ]  # fmt: skip
    assert command_line(argv) == ["sim-run", "-m", "steps=2,3", "seed=4"]
    assert command_line([]) == []


def test_host_with_a_user_part_is_refused() -> None:
    from sim.present import serve

    hosts = serve.allowed_hosts("127.0.0.1")
    for host in ("evil.com@127.0.0.1:8765", "@127.0.0.1:8765", "u:p@localhost:8765", "127.0.0.1:8765/x"):
        assert serve.request_allowed({"host": host}, False, hosts, 8765) is not None, host
    assert serve.request_allowed({"host": "127.0.0.1:8765"}, False, hosts, 8765) is None
    origin = {"host": "127.0.0.1:8765", "origin": "http://evil.com@127.0.0.1:8765"}
    assert serve.request_allowed(origin, True, hosts, 8765) is not None


def _fake_multirun(sweep: Path, task: list[str]) -> None:
    sweep.mkdir(parents=True, exist_ok=True)
    lines = "".join(f"    - {t}\n" for t in task)
    (sweep / "multirun.yaml").write_text(
        "hydra:\n  sweeper:\n    params: null\n  job:\n    config_name: config\n"
        f"  overrides:\n    task:\n{lines}"
    )


def test_a_plain_sweep_into_a_folder_holding_another_sweep_is_refused(tmp_path) -> None:
    pl = tmp_path / "pl"
    _fake_multirun(pl, ["community=workshop", "steps=2,3"])
    where = f"hydra.sweep.dir={pl}"
    precheck(["community=workshop", "steps=2,3", where], True)  # the same sweep: it resumes
    precheck(["steps=2,3", "community=workshop", where], True)  # the same jobs, written otherwise
    for args, why in (
        (["community=workshop", "steps=4,5"], "its job 0 ran community=workshop steps=2"),
        (["community=workshop", "steps=2,3,4"], "it has 2 job"),
        (["community=workshop", "steps=3,2"], "its job 0 ran"),
    ):
        with pytest.raises(ConfigError, match=f"{pl} holds a different sweep \\({why}") as err:
            precheck([*args, where], True)
        assert "\n" not in str(err.value) and "a new directory (-o NEW_DIR)" in str(err.value)
    # a design sweep's folder takes no plain sweep, and a plain sweep's no design sweep
    (pl / DESIGN_FILE).write_text("{}")
    with pytest.raises(ConfigError, match="holds a design sweep"):
        precheck(["community=workshop", "steps=2,3", where], True)
    (pl / DESIGN_FILE).unlink()
    design = ["hydra/sweeper=design", "hydra/launcher=basic", "community=workshop", "steps=2,3"]
    with pytest.raises(ConfigError, match="holds a plain sweep"):
        precheck([*design, where], True)
    precheck(["community=workshop", "steps=4,5", f"hydra.sweep.dir={tmp_path / 'new'}"], True)


@pytest.mark.slow
def test_a_plain_sweep_with_other_values_into_an_existing_sweep_is_refused(tmp_path, cli_env) -> None:
    """`sim-run -m steps=2,3 -o pl` then `-m steps=4,5 -o pl`: exit 2, one line, nothing overwritten."""
    small = ["-m", "community=workshop", "replicates=1"]
    done = run("sim-run", [*small, "steps=2,3", "-o", "pl"], tmp_path, cli_env)
    assert done.returncode == 0, done.stderr[-2000:]
    again = run("sim-run", [*small, "steps=2,3", "-o", "pl"], tmp_path, cli_env)  # resumes: all done
    assert again.returncode == 0 and again.stdout.count("skipped (already complete)") == 2
    before = {p: p.read_bytes() for p in (tmp_path / "pl").rglob("*") if p.is_file()}
    other = run("sim-run", [*small, "steps=4,5", "-o", "pl"], tmp_path, cli_env)
    line = one_line(other)
    assert other.returncode == 2 and "holds a different sweep" in line and "-o NEW_DIR" in line
    # the same folder named by resume= instead of -o is checked the same way
    resumed = run("sim-run", [*small, "steps=4,5", f"resume={tmp_path / 'pl'}"], tmp_path, cli_env)
    assert resumed.returncode == 2 and "holds a different sweep" in one_line(resumed)
    after = {p: p.read_bytes() for p in (tmp_path / "pl").rglob("*") if p.is_file()}
    assert after == before, "nothing in the earlier sweep was touched"
