"""Fault injection through real ``sim-run`` processes: SIGTERM/SIGINT keep finished replicates in a
run marked incomplete; SIGKILL at random moments never leaves a run that looks complete but is
not; a full disk (a real, small tmpfs) fails in one line with no half-written file."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BIN

from sim.experiment.compose import compose_config
from sim.experiment.simulate import simulate
from sim.results import INCOMPLETE, MARKER, check_run, incomplete_info, load

# A run long enough to be interrupted part-way, short enough to redo. Replicates run as ensembles
# (docs/design.md §9), so 240 of them take ~7 s after a ~5 s start-up (80 had taken 2 s, and the
# signal could arrive after the last week, while the complete run was being written).
SLOW = ["community=workshop", "steps=60", "replicates=240"]


def popen(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "sim-run"), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a SIGKILL of the group leaves no worker behind
    )


def sim_run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "sim-run"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240
    )


def wait_for(predicate, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, f"sim-run ended before the fault could be injected: {proc.stderr.read()}"
        assert time.monotonic() < deadline, "timed out waiting to inject the fault"
        time.sleep(0.002)


def composed(overrides: list[str]):
    """The validated Config that ``sim-run overrides`` runs."""
    return compose_config(overrides)


# ------------------------------------------------------------------------------ SIGTERM / SIGINT
def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_replicate_cpu(env: dict[str, str], cwd: Path) -> float:
    """CPU seconds of a whole one-replicate run (start-up, kernels loaded, one replicate):
    a run that has used that much more than it has at least one replicate done."""
    before = os.times()
    done = sim_run([*SLOW[:-1], "replicates=1", f"hydra.run.dir={cwd / 'one'}"], cwd, env)
    after = os.times()
    assert done.returncode == 0, done.stderr
    return (after.children_user - before.children_user) + (after.children_system - before.children_system)


def interrupt_single_run(
    run: Path, signum: int, env: dict[str, str], cpu_needed: float
) -> subprocess.CompletedProcess:
    """Start a single run, let it finish some replicates, then signal it. Some replicates are
    done once it has used the CPU of a one-replicate run and half a second more: waiting on its
    CPU rather than on the clock keeps this true on a loaded machine (or one that is compiling
    the kernels for the first time)."""
    proc = popen([*SLOW, f"hydra.run.dir={run}"], run.parent, env)
    wait_for(lambda: (run / ".hydra" / "config.yaml").exists(), proc)
    wait_for(lambda: cpu_seconds(proc.pid) >= cpu_needed + 0.5, proc, timeout=240)
    assert proc.poll() is None, "the run finished before the signal"
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_sigterm_and_sigint_keep_finished_replicates_marked_incomplete(tmp_path, cli_env) -> None:
    runs = {signal.SIGTERM: tmp_path / "term", signal.SIGINT: tmp_path / "int"}
    needed = one_replicate_cpu(cli_env, tmp_path)
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = dict(
            zip(
                runs,
                pool.map(lambda s: interrupt_single_run(runs[s], s, cli_env, needed), runs),
                strict=True,
            )
        )
    cfg = composed(SLOW)
    for signum, run in runs.items():
        proc = done[signum]
        name = signal.Signals(signum).name
        assert proc.returncode == 128 + signum, (name, proc.stderr)
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and name in lines[0] and INCOMPLETE in lines[0], proc.stderr
        assert not (run / MARKER).exists()
        info = incomplete_info(run)
        assert info is not None and info["reason"] == f"interrupted by {name}"
        kept, missing = info["replicates_done"], info["replicates_missing"]
        assert kept == list(range(len(kept))) and 1 <= len(kept) < cfg.replicates, info
        assert missing == list(range(len(kept), cfg.replicates))
        problem = check_run(run).problem
        assert problem is not None and "incomplete run" in problem and name in problem
        # a reader never takes it for a run: load() refuses it and says why ...
        with pytest.raises(FileNotFoundError, match="incomplete run"):
            load(run)
        # ... but the finished replicates are the real ones, bit for bit
        partial = load(run, incomplete=True)
        expected = simulate(cfg, replicates=range(len(kept))).metrics
        pd.testing.assert_frame_equal(partial, expected)

    # sim-collect flags it with the message
    collected = subprocess.run(
        [str(BIN / "sim-collect"), str(tmp_path)], env=cli_env, capture_output=True, text=True, timeout=120
    )
    assert collected.returncode == 1
    assert "incomplete run (interrupted by SIGTERM)" in collected.stderr
    assert not (tmp_path / "collected.parquet").exists()

    # a rerun into the same directory redoes it and leaves a complete run only
    again = sim_run([*SLOW, f"hydra.run.dir={runs[signal.SIGTERM]}"], tmp_path, cli_env)
    assert again.returncode == 0, again.stderr
    run = runs[signal.SIGTERM]
    assert check_run(run).complete and not (run / INCOMPLETE).exists()
    assert sorted(load(run)["replicate"].unique()) == list(range(cfg.replicates))


def test_a_stop_swallowed_by_a_callback_is_raised_at_the_next_week() -> None:
    """A signal handled inside a callback from compiled code (where the JIT compiler's object
    cache had once swallowed a SIGTERM, letting a signalled sweep finish with exit 0) still stops
    the run: the swallowed Interrupt is raised again at the end of the next week."""
    import ctypes

    from sim.experiment.simulate import RunInterrupted
    from sim.experiment.stopping import stop_on_signals

    @ctypes.CFUNCTYPE(None)
    def callback() -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(10_000):  # the handler runs here, where its exception cannot pass on
            pass

    cfg = composed(["community=workshop", "steps=30", "replicates=2"])
    with stop_on_signals():
        callback()  # prints "Exception ignored" without the hook, and the run below would finish
        with pytest.raises(RunInterrupted) as stopped:
            simulate(cfg)
    assert stopped.value.signum == signal.SIGTERM
    assert stopped.value.done == [] and stopped.value.missing == [0, 1]


def test_sigterm_in_a_design_sweep_is_redone_on_resume(tmp_path, cli_env) -> None:
    sweep = tmp_path / "sweep"
    args = [
        "-m",
        "hydra/sweeper=design",
        "hydra/launcher=basic",
        "hydra.sweeper.batch_size=1",
        "hydra.sweeper.progress=false",
        "levers.linking.intensity=0,1",
        SLOW[0],
        "steps=400",  # long enough that the first point is still running when the signal comes
        "replicates=30",
        f"hydra.sweep.dir={sweep}",
    ]
    needed = one_replicate_cpu(cli_env, tmp_path)
    proc = popen(args, tmp_path, cli_env)
    wait_for(lambda: (sweep / "0" / ".hydra" / "config.yaml").exists(), proc)
    # a start-up's CPU and a second more: the first point (~5 s) is running, whatever the machine's
    # speed or load (a fixed sleep had signalled it while the kernels were still loading)
    wait_for(lambda: cpu_seconds(proc.pid) >= needed + 1.0, proc, timeout=240)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    point = sweep / "0" / "point-000000"
    assert (point / INCOMPLETE).exists() and not (point / MARKER).exists(), err
    assert f"in {point}, marked incomplete" in err, err

    collected = subprocess.run(
        [str(BIN / "sim-collect"), str(sweep)], env=cli_env, capture_output=True, text=True, timeout=120
    )
    assert collected.returncode == 1 and "incomplete run (interrupted by SIGTERM)" in collected.stderr

    resumed = sim_run([*args, "resume=true"], tmp_path, cli_env)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "skipped 0, ran 2, failed 0" in resumed.stdout
    runs = sorted(sweep.glob("*/point-*"))
    assert [r.name for r in runs] == ["point-000000", "point-000001"]  # the partial one was replaced
    assert all(check_run(r).complete and not (r / INCOMPLETE).exists() for r in runs)


# ------------------------------------------------------------------------------ SIGKILL
QUICK = ["community=workshop", "steps=60", "replicates=3"]


def test_sigkill_at_random_moments_never_leaves_a_run_that_looks_complete_but_is_not(
    tmp_path, cli_env
) -> None:
    reference = tmp_path / "reference"
    proc = popen([*QUICK, f"hydra.run.dir={reference}"], tmp_path, cli_env)
    wait_for(lambda: (reference / ".hydra" / "config.yaml").exists(), proc)
    job_started = time.monotonic()
    _, err = proc.communicate(timeout=120)
    job = time.monotonic() - job_started  # from Hydra starting the job to the process exit
    assert proc.returncode == 0, err
    expected = {t: load(reference, t) for t in ("metrics", "buildings")}

    # moments: random times over the job (several seeds), and two while files are being written
    moments: list[tuple[str, float | str]] = [
        (f"seed{seed}", float(np.random.default_rng(seed).uniform(0.0, 1.1 * job))) for seed in range(4)
    ]
    moments += [("temp-file", "tmp"), ("data-before-marker", "metrics")]

    def kill(case: tuple[str, float | str]) -> tuple[str, Path, int | None]:
        name, when = case
        run = tmp_path / name
        proc = popen([*QUICK, f"hydra.run.dir={run}"], tmp_path, cli_env)
        try:
            if isinstance(when, float):
                wait_for(lambda: (run / ".hydra" / "config.yaml").exists(), proc)
                time.sleep(when)
            else:

                def landed() -> bool:
                    if not run.is_dir():
                        return False
                    names = os.listdir(run)
                    if when == "tmp":
                        return any(n.endswith(".tmp") for n in names)
                    return "metrics.parquet" in names

                deadline = time.monotonic() + 120
                while proc.poll() is None and not landed() and time.monotonic() < deadline:
                    time.sleep(0.0005)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=60)
        return name, run, proc.returncode

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(kill, moments))

    killed_complete, unfinished = 0, []
    for name, run, _code in outcomes:
        assert run.is_dir(), f"{name}: killed before the job started"
        if check_run(run).complete:  # looks complete: then it is, bit for bit
            killed_complete += 1
            for table, frame in expected.items():
                pd.testing.assert_frame_equal(load(run, table), frame, obj=f"{name} {table}")
        else:
            # a marker never lands before the files it vouches for
            assert not (run / MARKER).exists(), f"{name}: a marker on an incomplete run"
            with pytest.raises(FileNotFoundError):
                load(run, verbose=False)
            unfinished.append(run)
    assert unfinished, "no kill landed before the run was complete; the test proves nothing"

    # a rerun into the same directory redoes an unfinished run and gives the uninterrupted result
    redo = unfinished[0]
    again = sim_run([*QUICK, f"hydra.run.dir={redo}"], tmp_path, cli_env)
    assert again.returncode == 0, again.stderr
    assert check_run(redo).complete
    pd.testing.assert_frame_equal(load(redo), expected["metrics"])
    print(f"{len(moments)} kills: {killed_complete} after completion, {len(unfinished)} unfinished (redone)")


# ------------------------------------------------------------------------------ full disk
@pytest.fixture
def small_tmpfs():
    """A real 256 kB tmpfs; skipped only where mounting is not permitted."""
    if shutil.which("mount") is None:
        pytest.skip("no mount command on this machine: cannot create a small file system")
    mount_point = Path(tempfile.mkdtemp(prefix="sim-full-disk-"))
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if done.returncode != 0:
        mount_point.rmdir()
        pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)
        shutil.rmtree(mount_point, ignore_errors=True)


def test_full_disk_fails_in_one_line_with_no_half_written_file(small_tmpfs, tmp_path, cli_env) -> None:
    run = small_tmpfs / "run"
    free_before = shutil.disk_usage(small_tmpfs).free
    # ~100 weeks × 3 replicates with per-building series: more than 256 kB of results
    done = sim_run(
        ["community=workshop", "steps=100", "replicates=3", f"hydra.run.dir={run}"], tmp_path, cli_env
    )
    assert done.returncode == 74, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert f"cannot write {run}/" in lines[0] and "No space left on device" in lines[0], lines[0]
    left = sorted(p.name for p in run.iterdir())
    # the writer's lock file names who writes; it is not a result
    assert set(left) <= {".hydra", "run.log", ".writer.lock"}, f"half a result left behind: {left}"
    assert not list(run.rglob("*.tmp")) and not (run / MARKER).exists()
    assert not check_run(run)
    # what the failed run wrote was given back (only Hydra's small config record remains)
    assert free_before - shutil.disk_usage(small_tmpfs).free <= 32 * 1024
