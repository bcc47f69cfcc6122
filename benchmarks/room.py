"""The room load test: how many participants one two-core machine serves with ``sim-app``.

``python -m benchmarks room --sessions 1,10,30`` starts one server and serves the room sizes in
turn (after a one-session warm-up, so that a room's memory is counted from a warmed, idle server):

1. ``sim-app`` on a free loopback port, pinned to one CPU (``os.sched_setaffinity`` in the
   child before it starts), its output in ``results/bench/room-server.log``;
2. N participants' sessions (:mod:`benchmarks.room_client`) in separate processes (at most
   ``--per-client`` sessions each) pinned to the other CPU, so that the clients do not starve
   the server: the last ``--browsers`` (default 1) are headless Chromium pages driven by
   Playwright, the others lightweight clients that speak the page's own WebSocket protocol
   and draw nothing (in a real room each participant's computer draws its own page).
   Participants arrive ``--stagger`` seconds apart (default 0.5). Every session loads the page
   and waits for its first render, switches to 中文, picks a scenario and moves a lever one
   step; when all N are ready they press ▶ together and each waits until its week counter
   reaches week 52, then pauses (``--leave-playing``, default a fifth of the protocol clients,
   leave it playing). All N stay open until the last has finished, then every page goes at
   once (as a participant closing the laptop: the page disconnects, the server culls it);
3. while this goes on, the server's CPU time (``/proc/PID/stat``, user + system, the process
   and any children) and resident memory every 0.25 s; after the last session closed, for
   another 60 s, with the sessions still open (``sim-app`` logs the count);
4. the server log's exceptions (``Traceback`` and ``ERROR`` lines).

It also times the model's own week in a separate process on the server's CPU: one
``Workshop.step()`` of the played scenario (setting A and the baseline reference, what a
session steps each week), so that the server's CPU per session-week can be stated as a
multiple of it. ``--profile`` samples the server with py-spy during each room's setup and play.

Figures go to ``results/bench/room.json`` (atomically) and a table is printed, each figure
beside its target: first render ≤ 5 s, 52 weeks ≤ 30 s (slowest session), the session's
memory released within 60 s of closing, no exception in the server log. The capacity stated is
the largest room measured that met every target (a lower bound: larger rooms were not tried,
or missed a target). Every wait has a timeout and the run ends by itself.

Why one module of this length: one load test, read top to bottom: the server, the clients,
the room's script, the measurements and the judgement against the targets.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import platform
import queue
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "results" / "bench"
BIN = Path(sys.executable).parent

# The targets of the room issue.
RENDER_TARGET_S = 5.0  # first render of a session's page
WEEKS_TARGET_S = 30.0  # ▶ pressed → week 52 shown
WEEKS = 52
RELEASE_WINDOW_S = 60.0  # a closed session's memory released within a minute
# Memory counts as released when, 60 s after the last session closed, the server holds at most
# this share of what the room added at its peak (what stays is first-use imports and caches,
# which the first session of a fresh server pays once), or at most RELEASE_SLACK_MB.
RELEASE_KEEP_SHARE = 0.2
RELEASE_SLACK_MB = 40.0

SAMPLE_S = 0.25
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
WORD_LANGUAGE = "中文"


# ------------------------------------------------------------------------------ /proc
def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants that are alive now."""
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo += _children(p)
    return tree


def _stat_fields(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()  # after "pid (comm) "


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its descendants (alive and reaped)."""
    total = 0.0
    for p in process_tree(pid):
        with contextlib.suppress(OSError, ValueError, IndexError):
            f = _stat_fields(p)
            # fields 14-17 of proc(5): utime stime cutime cstime (here 0-based from field 3)
            total += sum(int(x) for x in f[11:15]) / CLK_TCK
    return total


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants, MB."""
    total = 0
    for p in process_tree(pid):
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE_SIZE
    return total / 2**20


def cpu_times() -> dict[int, tuple[float, float]]:
    """Per CPU: (busy, total) jiffies since boot, from /proc/stat."""
    out = {}
    for line in Path("/proc/stat").read_text().splitlines():
        m = re.match(r"cpu(\d+) (.*)", line)
        if m:
            v = [int(x) for x in m.group(2).split()]
            idle = v[3] + (v[4] if len(v) > 4 else 0)
            out[int(m.group(1))] = (float(sum(v) - idle), float(sum(v)))
    return out


def busy_share(a: dict[int, tuple[float, float]], b: dict[int, tuple[float, float]], cpu: int) -> float:
    """Share of time CPU ``cpu`` was busy (anyone's work) between two :func:`cpu_times`."""
    busy, total = b[cpu][0] - a[cpu][0], b[cpu][1] - a[cpu][1]
    return busy / total if total > 0 else math.nan


class Sampler(threading.Thread):
    """The server's CPU seconds and RSS every :data:`SAMPLE_S`, until stopped."""

    def __init__(self, pid: int, t0: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.t0 = pid, t0
        self.samples: list[tuple[float, float, float]] = []  # (s since t0, cpu s, rss MB)
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            self.samples.append(
                (
                    round(time.monotonic() - self.t0, 3),
                    round(cpu_seconds(self.pid), 3),
                    round(rss_mb(self.pid), 1),
                )
            )
            self.halt.wait(SAMPLE_S)

    def peak_rss(self) -> float:
        return max((s[2] for s in self.samples), default=math.nan)


# ------------------------------------------------------------------------------ helpers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pin(cpu: int):
    """A ``preexec_fn`` that pins the child (and all it starts) to ``cpu``."""

    def _pin() -> None:
        os.sched_setaffinity(0, {cpu})

    return _pin


def choose_cpus() -> tuple[int, int]:
    """(server CPU, client CPU): two different CPUs of this process's affinity when there are two."""
    cpus = sorted(os.sched_getaffinity(0))
    return (cpus[0], cpus[1]) if len(cpus) > 1 else (cpus[0], cpus[0])


def wait_http(url: str, proc: subprocess.Popen, timeout: float) -> float:
    started = time.monotonic()
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"sim-app exited with {proc.returncode} before answering")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"sim-app did not answer on {url} within {timeout:.0f} s")
        time.sleep(0.3)


def log_exceptions(text: str) -> list[str]:
    """Lines of the server log that report an exception: tracebacks and ERROR records."""
    out = []
    for line in text.splitlines():
        if line.startswith("Traceback") or re.search(r"\bERROR\b|Exception in|exception:", line):
            out.append(line[:300])
    return out


MODEL_STEP_SNIPPET = """
import json, sys, time
from sim.present.app import Arm, Settings, Workshop
scenario, preset, weeks = sys.argv[1], sys.argv[2], int(sys.argv[3])
w = Workshop(Settings(a=Arm(scenario), preset=preset))
w.step()  # first week: loads the compiled kernels
times = []
for _ in range(weeks):
    t = time.perf_counter(); w.step(); times.append(time.perf_counter() - t)
t = time.perf_counter(); snap = w.snapshot(); snap_s = time.perf_counter() - t
times.sort()
print(json.dumps({"median_s": times[len(times) // 2], "mean_s": sum(times) / len(times),
                  "snapshot_s": snap_s, "weeks": weeks}))
"""


def model_step(scenario: str, preset: str, cpu: int) -> dict[str, float]:
    """The model's own week of a session (setting A and the baseline), timed on ``cpu``."""
    proc = subprocess.run(
        [sys.executable, "-c", MODEL_STEP_SNIPPET, scenario, preset, str(WEEKS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        preexec_fn=pin(cpu),
    )
    if proc.returncode != 0:
        raise RuntimeError(f"timing the model's step failed: {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def session_plans(
    n: int,
    scenario: str,
    preset: str,
    stagger: float,
    timeout: float,
    weeks: int,
    draw_charts: bool,
    browsers: int,
    leave_playing: float = 0.0,
) -> list[dict]:
    """What each session does, in the page's words (the client imports none of the model)."""
    from sim.core.levers import LEVERS
    from sim.present import app, live

    catalogue = app.scenario_catalogue(preset)
    if scenario not in catalogue:
        raise SystemExit(f"--scenario={scenario!r} is not known; allowed: {', '.join(catalogue)}")
    cfg = catalogue[scenario]
    lang = "zh"
    # the first lever that can move right one step, else the first lever one step left
    intensities = [float(getattr(cfg.levers, name).intensity) for name in LEVERS]
    i = next((k for k, x in enumerate(intensities) if x <= 1.0 - app.INTENSITY_STEP), 0)
    right = intensities[i] <= 1.0 - app.INTENSITY_STEP
    after = round(intensities[i] + (app.INTENSITY_STEP if right else -app.INTENSITY_STEP), 4)
    label = app.lever_label(LEVERS[i], lang)
    plan = {
        "scenario": scenario,
        "scenario_title": cfg.scenario.title_zh,
        "language_button": WORD_LANGUAGE,
        "week0": app.text("week", lang, n=0),
        "lever_label": label,
        "lever_key": "ArrowRight" if right else "ArrowLeft",
        "lever_before": f"{label} {live.percent(intensities[i])}",
        "lever_after": f"{label} {live.percent(after)}",
        "lever_value": after,
        "play_label": app.text("play", lang),
        "pause_label": app.text("pause", lang),
        "weeks": weeks,
        "timeout_s": timeout,
        "draw_charts": draw_charts,
    }
    # the browsers arrive last, when the rest of the room is there; the first socket sessions
    # are the ones that will close their page while it still plays
    n_socket = max(0, n - browsers)
    leave = round(n_socket * leave_playing)
    return [
        {
            **plan,
            "index": k,
            "kind": "socket" if k < n_socket else "browser",
            "pause": k >= leave,
            "start_delay_s": round(k * stagger, 3),
        }
        for k in range(n)
    ]


class Client:
    """One client process and the JSON lines it prints (read in a thread)."""

    def __init__(self, plan_file: Path, cpu: int, log_file: Path) -> None:
        self.log = log_file.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.room_client", str(plan_file)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            preexec_fn=pin(cpu),
        )
        self.events: queue.Queue[dict] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with contextlib.suppress(json.JSONDecodeError):
                self.events.put(json.loads(line))
        self.events.put({"event": "exit"})

    def expect(self, event: str, deadline: float) -> dict:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"client gave no {event!r} in time")
            got = self.events.get(timeout=left)
            if got["event"] == event:
                return got
            if got["event"] == "exit":
                raise RuntimeError(f"client exited ({self.proc.poll()}) before {event!r}")

    def say(self, word: str) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.proc.stdin.write(word + "\n")
            self.proc.stdin.flush()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_profiler(pid: int, path: Path, cpu: int) -> subprocess.Popen:
    """py-spy sampling ``pid`` (without stopping it) into ``path``, collapsed stacks, on ``cpu``."""
    proc = subprocess.Popen(
        [
            str(BIN / "py-spy"),
            "record",
            "--pid",
            str(pid),
            "--rate",
            "50",
            "--nonblocking",
            "--threads",
            "--format",
            "raw",
            "--output",
            str(path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=pin(cpu),
    )
    time.sleep(1.0)
    return proc


def _cpu_between(samples: list[tuple[float, float, float]], start: float, end: float) -> float:
    """Server CPU seconds between two times (seconds since the room began), from the samples."""
    inside = [s for s in samples if start <= s[0] <= end]
    return inside[-1][1] - inside[0][1] if len(inside) > 1 else math.nan


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0, "median": math.nan, "p90": math.nan, "max": math.nan, "min": math.nan}
    ordered = sorted(values)
    return {
        "n": len(values),
        "min": ordered[0],
        "median": statistics.median(ordered),
        "p90": ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)],
        "max": ordered[-1],
    }


# ------------------------------------------------------------------------------ one room
class Server:
    """``sim-app`` on a free loopback port, pinned to ``cpu``, its output in ``log_path``."""

    def __init__(self, log_path: Path, cpu: int, timeout: float = 240.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = log_path
        self.cpu = cpu
        with log_path.open("w") as log:
            self.proc = subprocess.Popen(
                [str(BIN / "sim-app"), "--port", str(self.port)],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=pin(cpu),
            )
        self.pid = self.proc.pid
        try:
            self.startup_seconds = wait_http(self.url, self.proc, timeout)
        except Exception:
            self.stop()
            raise
        time.sleep(2.0)  # let the server settle after its first answer

    def log_text(self, start: int = 0) -> str:
        with self.log_path.open("rb") as fh:
            fh.seek(start)
            return fh.read().decode("utf-8", errors="replace")

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        stop(self.proc)


def gather(clients: list[Client], event: str, deadline: float, results: dict[int, dict]) -> None:
    """Wait for ``event`` from every client and keep each session's result it reports."""
    for c in clients:
        for r in c.expect(event, deadline)["sessions"]:
            results[r["session"]] = r


def run_room(
    server: Server, n: int, args: argparse.Namespace, log, weeks: int = WEEKS, tag: str = ""
) -> dict[str, Any]:
    """Drive a room of ``n`` sessions on ``server``, then watch its memory for a minute."""
    _, client_cpu = choose_cpus()
    out_dir: Path = args.out
    name = tag or str(n)
    log(f"room of {n}{' (' + tag + ')' if tag else ''} on {server.url}, clients on CPU {client_cpu} …")
    deadline = time.monotonic() + args.budget
    log_start = server.log_size()
    clients: list[Client] = []
    profiler = None
    t0 = time.monotonic()
    sampler = Sampler(server.pid, t0)
    marks: dict[str, float] = {}
    cpu_at: dict[str, float] = {}
    load_at: dict[str, float] = {}
    cores_at: dict[str, dict] = {}
    results: dict[int, dict] = {}
    failure = None
    rss_before = rss_after = math.nan

    def mark(key: str) -> None:
        marks[key] = round(time.monotonic() - t0, 3)
        cpu_at[key] = cpu_seconds(server.pid)
        load_at[key] = round(os.getloadavg()[0], 2)
        cores_at[key] = cpu_times()

    def profile(stage: str) -> subprocess.Popen | None:
        if not args.profile or tag:
            return None
        return start_profiler(server.pid, out_dir / f"room-profile-{n}-{stage}.txt", client_cpu)

    try:
        sampler.start()
        rss_before = rss_mb(server.pid)
        profiler = profile("setup")
        mark("before")
        plans = session_plans(
            n,
            args.scenario,
            args.preset,
            args.stagger,
            args.timeout,
            weeks,
            args.draw_charts,
            args.browsers,
            args.leave_playing,
        )
        # browsers in processes of their own, the socket clients in others; at most --per-client each
        groups = []
        for kind in ("browser", "socket"):
            of_kind = [p for p in plans if p["kind"] == kind]
            groups += [of_kind[k : k + args.per_client] for k in range(0, len(of_kind), args.per_client)]
        with tempfile.TemporaryDirectory(prefix=".room-", dir=out_dir) as tmp:
            for k, group in enumerate(groups):
                plan_file = Path(tmp) / f"plan-{k}.json"
                plan_file.write_text(
                    json.dumps({"url": server.url, "sessions": group}, ensure_ascii=False), encoding="utf-8"
                )
                clients.append(Client(plan_file, client_cpu, out_dir / f"room-client-{name}-{k}.log"))
            setup_deadline = min(deadline, time.monotonic() + args.timeout + n * args.stagger + 120)
            gather(clients, "ready", setup_deadline, results)
            mark("ready")
            if profiler is not None:
                stop(profiler, signal.SIGINT, timeout=60)
                profiler = profile("play")
                mark("ready")  # the profiler's start is not the room's
            for c in clients:
                c.say("go")
            mark("go")
            play_deadline = min(deadline, time.monotonic() + args.timeout + 60)
            gather(clients, "played", play_deadline, results)
            mark("played")
            if profiler is not None:
                stop(profiler, signal.SIGINT, timeout=60)
            for c in clients:
                c.say("close")
            close_deadline = min(deadline, time.monotonic() + 120)
            for c in clients:
                for r in c.expect("closed", close_deadline)["sessions"]:
                    results[r["session"]] = r
            mark("closed")
            for c in clients:
                c.stop()
            clients = []
    except Exception as exc:  # reported in room.json; the run goes on with the release window
        failure = f"{type(exc).__name__}: {exc}"
        log(f"  room of {n} failed: {failure}")
        if "closed" not in marks:
            mark("closed")
    finally:
        for c in clients:
            c.stop()
        if profiler is not None:
            stop(profiler, signal.SIGINT, timeout=30)
    # memory for a minute after the last session closed
    release_end = t0 + marks["closed"] + RELEASE_WINDOW_S
    while time.monotonic() < release_end and server.alive():
        time.sleep(min(1.0, max(0.0, release_end - time.monotonic())))
    mark("released")
    rss_after = rss_mb(server.pid) if server.alive() else math.nan
    sampler.halt.set()
    sampler.join(timeout=5)

    room_log = server.log_text(log_start)
    exceptions = log_exceptions(room_log)
    open_counts = re.findall(r"\((\d+) open\)", room_log)
    sessions = [results[k] for k in sorted(results)]
    errors = [s for s in sessions if s.get("error")]
    renders = [s["first_render_s"] for s in sessions if "first_render_s" in s]
    weeks_s = [s["weeks_s"] for s in sessions if "weeks_s" in s]
    session_weeks = sum(s.get("paused_at_week") or 0 for s in sessions)

    def between(a: str, b: str) -> float:
        return cpu_at[b] - cpu_at[a] if a in cpu_at and b in cpu_at else math.nan

    def share(a: str, b: str, cpu: int) -> float:
        return busy_share(cores_at[a], cores_at[b], cpu) if a in cores_at and b in cores_at else math.nan

    play_cpu = between("go", "played")
    play_wall = marks["played"] - marks["go"] if "played" in marks else math.nan
    setup_cpu = between("before", "ready")
    peak = sampler.peak_rss()
    after_close = [s for s in sampler.samples if s[0] >= marks["closed"]]
    grown = peak - rss_before
    kept = rss_after - rss_before
    return {
        "sessions": n,
        "tag": tag,
        "weeks": weeks,
        "url": server.url,
        "server_cpu": server.cpu,
        "client_cpu": client_cpu,
        "browser_sessions": sum(1 for s in sessions if s.get("kind") == "browser"),
        "client_processes": len(groups) if "groups" in locals() else 0,
        "charts_drawn_by_clients": args.draw_charts,
        "failure": failure,
        "server_alive_at_end": server.alive(),
        "session_errors": [s["error"] for s in errors],
        "page_errors": sum(len(s.get("page_errors") or []) for s in sessions),
        "first_render_s": _stats(renders),
        "weeks_52_s": _stats(weeks_s),
        "by_kind": {
            kind: {
                "sessions": sum(1 for s in sessions if s.get("kind") == kind),
                "first_render_s": _stats(
                    [s["first_render_s"] for s in sessions if s.get("kind") == kind and "first_render_s" in s]
                ),
                "weeks_52_s": _stats(
                    [s["weeks_s"] for s in sessions if s.get("kind") == kind and "weeks_s" in s]
                ),
            }
            for kind in ("browser", "socket")
        },
        "language_s": _stats([s["language_s"] for s in sessions if "language_s" in s]),
        "scenario_s": _stats([s["scenario_s"] for s in sessions if "scenario_s" in s]),
        "slider_s": _stats([s["slider_s"] for s in sessions if "slider_s" in s]),
        "session_weeks": session_weeks,
        "play_wall_s": play_wall,
        "play_cpu_s": play_cpu,
        "cpu_per_session_week_s": play_cpu / session_weeks if session_weeks else math.nan,
        "setup_cpu_s": setup_cpu,
        "setup_cpu_per_session_s": setup_cpu / n,
        "server_cpu_busy_share_setup": share("before", "ready", server.cpu),
        "server_cpu_busy_share_play": share("go", "played", server.cpu),
        "client_cpu_busy_share_setup": share("before", "ready", client_cpu),
        "client_cpu_busy_share_play": share("go", "played", client_cpu),
        "load_average": load_at,
        "rss_before_mb": rss_before,
        "rss_peak_mb": peak,
        "rss_after_60s_mb": rss_after,
        "rss_kept_mb": kept,
        "rss_grown_mb": grown,
        "rss_released_share": (peak - rss_after) / grown if grown > 0 else math.nan,
        "sessions_open_at_end": int(open_counts[-1]) if open_counts else None,
        "sessions_left_playing": sum(1 for s in sessions if s.get("left_playing")),
        "cpu_after_close_s": between("closed", "released"),
        "cpu_last_15s_of_release_s": _cpu_between(
            sampler.samples, marks["closed"] + RELEASE_WINDOW_S - 15, marks["released"]
        ),
        "rss_after_close_series": [(round(t - marks["closed"], 1), r) for t, _, r in after_close[::4]],
        "marks_s": marks,
        "exceptions": sum(1 for e in exceptions if e.startswith("Traceback") or "ERROR" in e),
        "exception_lines": exceptions[:20],
        "per_session": sessions,
    }


# ------------------------------------------------------------------------------ reporting
def judge(room: dict[str, Any]) -> dict[str, dict[str, Any]]:
    def row(value: float, target: float, met: bool) -> dict[str, Any]:
        return {"value": value, "target": target, "met": bool(met)}

    ok = room["failure"] is None and not room["session_errors"]
    render = room["first_render_s"]["max"]
    weeks = room["weeks_52_s"]["max"]
    return {
        "first_render_s": row(render, RENDER_TARGET_S, ok and render <= RENDER_TARGET_S),
        "weeks_52_s": row(weeks, WEEKS_TARGET_S, ok and weeks <= WEEKS_TARGET_S),
        "memory_released": row(
            room["rss_kept_mb"],
            max(RELEASE_KEEP_SHARE * room["rss_grown_mb"], RELEASE_SLACK_MB)
            if math.isfinite(room["rss_grown_mb"])
            else math.nan,
            ok
            and math.isfinite(room["rss_kept_mb"])
            and room["rss_kept_mb"] <= max(RELEASE_KEEP_SHARE * room["rss_grown_mb"], RELEASE_SLACK_MB),
        ),
        "no_exception": row(room["exceptions"], 0, room["exceptions"] == 0 and room["server_alive_at_end"]),
    }


def report(doc: dict[str, Any]) -> str:
    lines = [
        f"{'sessions':>8}{'render med':>11}{'render max':>11}{'52 wk med':>10}{'52 wk max':>10}"
        f"{'ms CPU/ses-wk':>14}{'× model':>8}{'RSS MB before/peak/+60s':>25}{'exc':>5}{'errors':>7}",
    ]
    step_ms = doc["model_step"]["median_s"] * 1e3
    for room in doc["rooms"]:
        cpu_ms = room["cpu_per_session_week_s"] * 1e3
        lines.append(
            f"{room['sessions']:>8}{room['first_render_s']['median']:>10.2f}s{room['first_render_s']['max']:>10.2f}s"
            f"{room['weeks_52_s']['median']:>9.1f}s{room['weeks_52_s']['max']:>9.1f}s"
            f"{cpu_ms:>14.1f}{cpu_ms / step_ms:>7.0f}×"
            f"{room['rss_before_mb']:>11.0f}/{room['rss_peak_mb']:.0f}/{room['rss_after_60s_mb']:.0f}"
            f"{room['exceptions']:>5}{len(room['session_errors']):>7}"
        )
    lines.append(
        f"model's own week (setting A + baseline, {doc['scenario']}, {doc['preset']}): {step_ms:.2f} ms"
    )
    lines.append("")
    lines.append(f"{'room':<6}{'figure':<34}{'measured':>12}{'target':>12}  status")
    titles = {
        "first_render_s": ("first render, slowest session", "{:.2f} s", "≤ {:g} s"),
        "weeks_52_s": ("▶ to week 52, slowest session", "{:.1f} s", "≤ {:g} s"),
        "memory_released": ("RSS kept 60 s after closing", "{:.0f} MB", "≤ {:.0f} MB"),
        "no_exception": ("exceptions in the server log", "{:d}", "{:d}"),
    }
    for room in doc["rooms"]:
        for key, t in room["targets"].items():
            title, fmt, tfmt = titles[key]
            value = (
                fmt.format(t["value"]) if isinstance(t["value"], int) or math.isfinite(t["value"]) else "–"
            )
            lines.append(
                f"{room['sessions']:<6}{title:<34}{value:>12}{tfmt.format(t['target']):>12}"
                f"  {'met' if t['met'] else 'NOT MET'}"
            )
        if room["failure"] or room["session_errors"]:
            lines.append(f"      failure: {room['failure']}; session errors: {room['session_errors'][:3]}")
        busy = room["client_cpu_busy_share_play"]
        if math.isfinite(busy) and busy > 0.9:
            lines.append(
                f"      note: the clients' CPU was {busy:.0%} busy while playing; times may be the clients'"
            )
    cap = doc["capacity"]
    lines.append("")
    lines.append(
        f"capacity: this machine served {cap} participants within every target"
        if cap
        else "capacity: no room measured met every target"
    )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "affinity": sorted(os.sched_getaffinity(0)),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "memory_mb": os.sysconf("SC_PHYS_PAGES") * PAGE_SIZE / 2**20,
        "load_average_at_start": list(os.getloadavg()),
    }


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--sessions={text!r}; allowed: comma-separated counts, e.g. 1,10,30"
        ) from None
    if not sizes or any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"--sessions={text!r}; allowed: counts of at least 1")
    return sizes


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks room", description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=parse_sizes, default=[1, 10, 30], help="room sizes (default 1,10,30)")
    p.add_argument("--scenario", default="all_six", help="the scenario every session picks (default all_six)")
    p.add_argument("--preset", default="community", help="community size preset (the page's default)")
    p.add_argument(
        "--browsers",
        type=int,
        default=1,
        help="sessions of a room that are real Chromium pages (default 1); the others are socket clients",
    )
    p.add_argument(
        "--leave-playing",
        type=float,
        default=0.2,
        help="share of the socket sessions that close their page while still playing (default 0.2)",
    )
    p.add_argument("--per-client", type=int, default=10, help="sessions per client process (default 10)")
    p.add_argument(
        "--stagger",
        type=float,
        default=0.5,
        help="seconds between two sessions' arrivals (default 0.5: a room of 30 joins within 15 s)",
    )
    p.add_argument(
        "--timeout", type=float, default=240.0, help="seconds any one stage may take (default 240)"
    )
    p.add_argument("--budget", type=float, default=600.0, help="seconds one room may take (default 600)")
    p.add_argument("--profile", action="store_true", help="sample the server with py-spy (setup, play)")
    p.add_argument(
        "--draw-charts",
        action="store_true",
        help="let every client draw the charts with plotly.js (by default the clients receive every "
        "figure but do not draw it: in a room each participant's own computer draws)",
    )
    p.add_argument(
        "--no-warm-up", dest="warm_up", action="store_false", help="no one-session warm-up before the rooms"
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory for room.json")
    return p


def run(args: argparse.Namespace, log=print) -> dict[str, Any]:
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    info = machine()
    server_cpu, client_cpu = choose_cpus()
    log(f"timing the model's own week ({args.scenario}, {args.preset}) on CPU {server_cpu} …")
    step = model_step(args.scenario, args.preset, server_cpu)
    server_log = args.out / "room-server.log"
    log(f"starting sim-app on CPU {server_cpu} …")
    server = Server(server_log, server_cpu)
    rooms = []
    warm_up = None
    try:
        rss_started = rss_mb(server.pid)
        if args.warm_up:
            # one short session first: the first page of a fresh server imports and compiles what
            # every later page reuses; a room's memory is counted from the warmed, idle server
            warm_up = run_room(server, 1, args, log, weeks=4, tag="warm-up")
        for n in args.sessions:
            if not server.alive():
                break
            room = run_room(server, n, args, log)
            room["targets"] = judge(room)
            room["cpu_per_session_week_over_model_step"] = room["cpu_per_session_week_s"] / step["median_s"]
            rooms.append(room)
    finally:
        alive = server.alive()
        server.stop()
    exceptions = log_exceptions(server.log_text())
    met = [r["sessions"] for r in rooms if all(t["met"] for t in r["targets"].values())]
    return {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python -m benchmarks room --sessions "
        + ",".join(str(n) for n in args.sessions)
        + (" --draw-charts" if args.draw_charts else ""),
        "machine": info,
        "server_cpu": server_cpu,
        "client_cpu": client_cpu,
        "server_log": str(server_log),
        "server_startup_seconds": server.startup_seconds,
        "server_rss_at_start_mb": rss_started,
        "server_alive_at_end": alive,
        "server_exceptions": sum(1 for e in exceptions if e.startswith("Traceback") or "ERROR" in e),
        "scenario": args.scenario,
        "preset": args.preset,
        "weeks": WEEKS,
        "per_client": args.per_client,
        "stagger_s": args.stagger,
        "charts_drawn_by_clients": args.draw_charts,
        "model_step": step,
        "targets": {
            "first_render_s": RENDER_TARGET_S,
            "weeks_52_s": WEEKS_TARGET_S,
            "release_window_s": RELEASE_WINDOW_S,
            "release_keep_share": RELEASE_KEEP_SHARE,
            "release_slack_mb": RELEASE_SLACK_MB,
        },
        "warm_up": warm_up,
        "rooms": rooms,
        "capacity": max(met) if met else 0,
        "elapsed_seconds": time.perf_counter() - started,
        "load_average_at_end": list(os.getloadavg()),
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks room [--sessions 1,10,30] ...``: measure, print, write room.json."""
    from sim.results import write_json

    args = parser().parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    doc = run(args, log)
    path = args.out / "room.json"
    write_json(path, doc)
    print(report(doc))
    print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
