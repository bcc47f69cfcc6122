"""The workshop dashboard (``sim-app``): scenarios live in the browser, in Chinese and English.

A facilitator picks a named scenario, moves the six levers (六入) and the budget, and
watches the community change week by week. In A/B mode two settings run side by side on the
same random draw and their difference is plotted.

The page is built from Mesa's SolaraViz machinery: :func:`RunControls` does what Mesa's
``ModelController`` does (reset, play/pause and step with a play interval and a render
interval, steps per redraw) with labels in the page's language, and Mesa's
``update_counter`` tells every view to redraw after a rendered step. The cards are this
module's own rather than the ``SolaraViz`` page itself, because SolaraViz's cards carry fixed
English labels and here every label, title and description switches between 中文 and
English. Figures are :mod:`sim.present.plots` Plotly figures, drawn with plotly.js loaded once
(Mesa's own chart components are matplotlib/Altair only).

Every model is built as ``sim-run`` builds replicate 0 of a job (:func:`make_model`): the
scenario, the community preset and the changed levers are composed with Hydra's compose API
from ``sim/configs/``, validated, and seeded with ``replicate_seeds(seed, replicates)[0]``.
User input is never evaluated: scenario and preset names are checked against the files in
``sim/configs/``, and numbers reach Hydra only as numbers this module formats.

    sim-app                       # http://127.0.0.1:8765
    sim-app --port 9000           # another port
    sim-app --host 0.0.0.0        # reachable from the room's network (only when asked)
    sim-app --calibrated field    # every model starts from sim/configs/calibrated/field.yaml
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import json
import logging
import math
import os
import socket
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import ipyvuetify as v
import mesa
import plotly.graph_objects as go
import reacton.core
import solara
import solara.server.settings as solara_settings
import traitlets
from mesa.visualization.utils import force_update, update_counter

from sim.core.config import Config, ConfigError
from sim.core.levers import LEVER_TITLES, LEVERS
from sim.core.metrics import label
from sim.core.model import CommunityModel
from sim.experiment import compose
from sim.experiment.compose import CONFIG_DIR, group_options
from sim.experiment.compose import compose_config as compose_overrides
from sim.experiment.simulate import replicate_seeds
from sim.present import live
from sim.present.portfolios import SCENARIOS_ENV, check_scenario_dir, scenario_dir
from sim.vocab import LEVER_EXPLANATIONS, PRESET_WORDS, translate, word

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "SERIES_METRICS",
    "Arm",
    "Page",
    "Settings",
    "Workshop",
    "cli",
    "compose_config",
    "make_model",
    "presets",
    "scenario_catalogue",
    "scenario_names",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
SERIES_METRICS = ("participation", "satisfaction", "trust", "unmet_need")
DEFAULT_PRESET = "community"
BUDGET_STEP = 0.5
INTENSITY_STEP = 0.05
FIGURE_HEIGHT = 300
PRESENTER_HEIGHT = 460
MIN_REDRAW_S = 0.25  # at most four redraws a second while playing
# While playing, the redraws of every session in the room together take at most about this
# share of one CPU: with many sessions playing, each redraws less often (the weeks in between
# are still simulated, and every run's last week is drawn). A redraw's cost is measured as the
# CPU time of the thread that renders it, which leaves out about as much again spent sending
# its messages (Solara's event loop): 0.25 keeps the room's redraws to about half a CPU, the
# rest to the models' weeks and to new pages. See redraw_interval.
REDRAW_CPU_SHARE = 0.25
MAX_REDRAW_S = 2.0  # however full the room, a playing session is redrawn at least every 2 s
# A participant who closed the tab has their session (models, figures) freed after this long;
# Solara's default keeps it a day, which a room of 30 reloading browsers fills.
SESSION_CULL_TIMEOUT = "30s"

# Served pages: no framework badge over the charts, closed sessions freed, and no warning per
# page load that a plain-http address cannot set a SameSite=None cookie (the page is not embedded).
solara_settings.theme.show_banner = False
solara_settings.kernel.cull_timeout = SESSION_CULL_TIMEOUT
warnings.filterwarnings("ignore", message="Cookies with samesite=none require https", category=UserWarning)

_log = logging.getLogger(__name__)


class _Room:
    """The sessions of this server process: how many are open and how many are playing."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open = 0
        self.playing = 0
        self._release_due: float | None = None
        self._wake = threading.Condition(self.lock)

    def session_started(self) -> Callable[[], None]:
        """Solara calls this when a page's session starts; what it returns, when the session ends."""
        with self.lock:
            self.open += 1
            now_open = self.open
        print(f"sim-app: a session opened ({now_open} open)", flush=True)
        return self.session_closed

    def session_closed(self) -> None:
        # No thread is started here: a thread started inside a session would hold on to it.
        with self.lock:
            self.open -= 1
            now_open = self.open
            # one collection for a burst of closes (a room leaving at once), a little later
            self._release_due = time.monotonic() + RELEASE_DELAY_S
            self._wake.notify()
        print(f"sim-app: a session closed ({now_open} open)", flush=True)

    def start(self) -> None:
        """Start the thread that hands memory back after sessions close (call outside any session)."""
        threading.Thread(target=self._release_loop, name="sim-app-release", daemon=True).start()

    def _release_loop(self) -> None:
        while True:
            with self.lock:
                while self._release_due is None:
                    self._wake.wait()
                wait = self._release_due - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                self._release_due = None
            release_memory()


#: seconds after the last session closed before the freed memory is handed back (see release_memory)
RELEASE_DELAY_S = 2.0
ROOM = _Room()


def release_memory() -> None:
    """Collect what closed sessions left in reference cycles (widgets, render contexts and models
    refer to each other) and hand the freed heap back to the operating system, so that the
    server's resident memory falls when a room leaves (glibc keeps freed memory otherwise)."""
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to hand back this way
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def redraw_interval(playing: int, redraw_cpu_s: float) -> float:
    """Seconds between two redraws of a playing session: :data:`MIN_REDRAW_S`, or longer when
    ``playing`` sessions redrawing that often, each redraw costing ``redraw_cpu_s`` of CPU,
    would together take more than :data:`REDRAW_CPU_SHARE` of one CPU; never more than
    :data:`MAX_REDRAW_S`."""
    wanted = max(playing, 1) * redraw_cpu_s / REDRAW_CPU_SHARE
    return min(MAX_REDRAW_S, max(MIN_REDRAW_S, wanted))


# Every word the page shows, English first, Chinese second.
_TEXT: dict[str, tuple[str, str]] = {
    "title": ("Party-building-led community governance: the six levers", "党建引领社区治理：“六入”工作坊"),
    "language": ("Language", "语言"),
    "run": ("Run", "运行"),
    "week": ("Week {n}", "第 {n} 周"),
    "play_interval": ("Pause between steps while playing (ms)", "播放时每步间隔（毫秒）"),
    "render_interval": ("Weeks per step and redraw", "每次推进并刷新的周数"),
    "controls_help": (
        "Reset starts again at week 0; ▶ plays, ❚❚ pauses; Step advances.",
        "重置：从第 0 周重新开始；▶ 播放，❚❚ 暂停；单步：推进一步。",
    ),
    "reset": ("Reset", "重置"),
    "step": ("Step", "单步"),
    "play": ("▶ Play", "▶ 播放"),
    "pause": ("❚❚ Pause", "❚❚ 暂停"),
    "setting": ("Setting {arm}", "方案 {arm}"),
    "scenario": ("Scenario", "情景"),
    "levers": ("Lever intensity (0 = off, 1 = full)", "举措强度（0 为不启用，1 为全力）"),
    "budget_limit": ("Limit the weekly budget", "限制每周预算"),
    "budget": ("Weekly budget per 1,000 households", "每千户每周预算"),
    "budget_unbounded": ("Budget: unbounded", "预算：不设上限"),
    "community": ("Community and random draw", "社区与随机抽样"),
    "preset": ("Community size", "社区规模"),
    "seed": ("Random seed", "随机种子"),
    "ab": ("A/B: run two settings side by side (same seed)", "A/B 对比：两个方案并排运行（相同随机种子）"),
    "copy_a": ("Copy setting A into B", "将方案 A 复制到方案 B"),
    "map": ("Community map: compounds and buildings", "社区地图：小区与楼栋"),
    "map_metric": ("Colour buildings by", "楼栋着色指标"),
    "series": ("Over the weeks", "随时间变化"),
    "difference": ("Difference B − A", "差值 B − A"),
    "difference_of": ("Δ {metric} (B − A)", "{metric}之差（B − A）"),
    "not_started": (
        "Week 0: no week simulated yet. Press Step or ▶ Play.",
        "第 0 周：尚未开始模拟。请按“单步”或“▶ 播放”。",
    ),
    "restart_note": (
        "A new scenario, community or seed starts again at week 0; levers and budget change "
        "from the current week on.",
        "更换情景、社区或随机种子会从第 0 周重新开始；举措和预算的调整从当前周起生效。",
    ),
    "from_now": (
        "During a run, lever and budget changes apply from the current week (marked on the charts).",
        "运行中调整举措或预算，从当前周起生效（图中有标记）。",
    ),
    "reset_preset": ("Reset to preset", "恢复预设"),
    "preset_was": ("Preset (before your changes): {description}", "预设（修改前）：{description}"),
    "cost": ("Cost at 100%: {cost:g} per 1,000 households a week.", "100% 强度成本：每千户每周 {cost:g}。"),
    "branch": ("Branch at week {n}", "在第 {n} 周分支"),
    "branch_help": (
        "Branch: B continues from this week as a copy of A on the same random draw; change B's "
        "levers to see both futures.",
        "分支：方案 B 从本周起复制方案 A、沿用同一随机抽样；调整 B 的举措即可对照两种未来。",
    ),
    "handout": ("Handout (HTML, 中文/English)", "讲义（HTML，中文/English）"),
    "presenter_on": ("Presenter mode", "演示模式"),
    "presenter_off": ("Standard view", "标准视图"),
    "export_png": ("Save as PNG", "保存为 PNG"),
    "export_svg": ("Save as SVG", "保存为 SVG"),
    "export_full": ("Full screen", "全屏"),
    "ghost_note": (
        "Grey dashed line: the baseline (no levers) on the same random draw.",
        "灰色虚线：同一随机抽样下的基线（不启用举措）。",
    ),
    "map_key": (
        "Each block is a compound (its label says who manages it), each tile a building, coloured "
        "by the chosen measure; a white dot marks a building a Party branch covers.",
        "每个方块是一个小区（标签注明管理方式），每个小格是一栋楼，颜色表示所选指标；白点表示该楼栋已有党组织覆盖。",
    ),
    "households": ("{name} (≈{n:,} households)", "{name}（约 {n:,} 户）"),
    "now": ("This week", "本周"),
    "error": ("Setting not applied: {message}", "设置未生效：{message}"),
}
_PRESET_ORDER = tuple(PRESET_WORDS)


def text(key: str, lang: str = "en", **fields: object) -> str:
    """A page string in English (``en``) or Chinese (``zh``) with ``{fields}`` filled in."""
    return translate(_TEXT, key, lang, **fields)


def lever_label(name: str, lang: str = "en") -> str:
    """Name of a lever in the page's language (``Embedding`` / ``嵌入``)."""
    en, zh = LEVER_TITLES[name]
    return zh if lang == "zh" else en


# ------------------------------------------------------------------------ configs and models
def scenario_names() -> list[str]:
    """Named scenarios in ``sim/configs/scenario/`` (read at every call: files may be added live)."""
    return compose.scenario_names(scenario_dir())  # with sim-app --scenarios DIR, DIR's too


def presets() -> list[str]:
    """Community size presets in ``sim/configs/community/``, smallest first."""
    names = set(group_options("community"))
    known = [n for n in _PRESET_ORDER if n in names]
    return known + sorted(names - set(known))


def _check_choice(key: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ConfigError(f"{key}={value!r} is not known; allowed: {', '.join(allowed)}")


#: names the calibrated parameter set (``sim/configs/calibrated/NAME.yaml``) every model uses
CALIBRATED_ENV = "SIM_APP_CALIBRATED"


def compose_config(
    scenario: str = "baseline",
    overrides: Sequence[str] = (),
    seed: int | None = None,
    preset: str | None = None,
) -> Config:
    """The validated config ``sim-run scenario=NAME [community=PRESET] [seed=N] OVERRIDES`` runs.

    Raises ConfigError (one line naming the key, the value and what is allowed).
    """
    _check_choice("scenario", scenario, scenario_names())
    items = [f"scenario={scenario}"]
    calibrated = os.environ.get(CALIBRATED_ENV)
    if calibrated:  # a calibrated parameter set (sim-calibrate); it wins where it and the scenario overlap
        _check_choice("calibrated", calibrated, group_options("calibrated"))
        items.append(f"+calibrated={calibrated}")
    if preset is not None:
        _check_choice("community", preset, presets())
        items.append(f"community={preset}")
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ConfigError(f"seed={seed!r} is not an integer; allowed: an integer from 0 to 2^63-1")
        items.append(f"seed={seed}")
    folder = scenario_dir()
    # Composing takes Hydra about 0.3 s of CPU, and a page composes two configs for every new
    # setting (the arm and the baseline): the same overrides on the same files give a copy of
    # the config composed before.
    return copy.deepcopy(_composed((*items, *overrides), folder, _config_stamp(folder)))


def _config_stamp(folder: str | None) -> tuple[tuple[str, int], ...]:
    """Every YAML file composition may read, with its modification time: a file added, removed
    or edited while the dashboard runs gives another stamp (and so a fresh composition).
    Looked at again at most once a second (a room's pages compose in bursts)."""
    now = time.monotonic()
    seen = _STAMPS.get(folder)
    if seen is not None and now - seen[0] < 1.0:
        return seen[1]
    roots = [CONFIG_DIR, *([Path(folder)] if folder else [])]
    stamp = tuple(sorted((str(p), _mtime_ns(p)) for root in roots for p in root.rglob("*.yaml")))
    _STAMPS[folder] = (now, stamp)
    return stamp


_STAMPS: dict[str | None, tuple[float, tuple[tuple[str, int], ...]]] = {}


def _mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


@lru_cache(maxsize=512)
def _composed(items: tuple[str, ...], folder: str | None, _stamp: tuple) -> Config:
    return compose_overrides(list(items), config_dir=folder)


def make_model(
    scenario: str = "baseline",
    overrides: Sequence[str] = (),
    seed: int | None = None,
    preset: str | None = None,
) -> CommunityModel:
    """The model ``sim-run`` runs as replicate 0 for the same scenario, overrides and seed.

    Args:
        scenario: a name from :func:`scenario_names`.
        overrides: Hydra overrides as on the ``sim-run`` command line
            (``levers.linking.intensity=0.5``).
        seed: root seed (default: the config's); replicate 0 draws from
            ``replicate_seeds(seed, replicates)[0]`` exactly as :func:`sim.experiment.simulate.simulate`.
        preset: community size preset (default: the config's).
    """
    cfg = compose_config(scenario, overrides, seed, preset)
    return CommunityModel(cfg, rng=replicate_seeds(cfg.seed, cfg.replicates)[0])


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@lru_cache(maxsize=256)
def _scenario_config(scenario: str, preset: str | None, _mtime: float) -> Config:
    return compose_config(scenario, preset=preset)


def scenario_config(scenario: str, preset: str | None = None) -> Config:
    """The composed config of a scenario as its file says (cached until the file changes)."""
    return _scenario_config(scenario, preset, _mtime(CONFIG_DIR / "scenario" / f"{scenario}.yaml"))


def scenario_catalogue(preset: str | None = None) -> dict[str, Config]:
    """Every scenario that composes and validates, by name; broken files are logged and left out."""
    out = {}
    for name in scenario_names():
        try:
            out[name] = scenario_config(name, preset)
        except ConfigError as exc:
            _log.warning("scenario %s left out of the dashboard: %s", name, exc)
    return out


def _number(value: float) -> str:
    """A float as a Hydra override value (``inf`` for an unbounded budget)."""
    value = float(value)
    return "inf" if math.isinf(value) else repr(value)


@dataclass(frozen=True)
class Arm:
    """One setting: a scenario and the lever intensities and budget the facilitator chose.

    ``intensities`` (in :data:`sim.core.levers.LEVERS` order) and ``budget`` left as None keep
    the scenario's own values.
    """

    scenario: str = "baseline"
    intensities: tuple[float, ...] | None = None
    budget: float | None = None

    def overrides(self, preset: str | None = None) -> list[str]:
        """Hydra overrides for what differs from the scenario's own config."""
        base = scenario_config(self.scenario, preset)
        out = []
        if self.intensities is not None:
            if len(self.intensities) != len(LEVERS):
                raise ConfigError(
                    f"intensities has {len(self.intensities)} values; allowed: one per lever ({len(LEVERS)})"
                )
            for name, value in zip(LEVERS, self.intensities, strict=True):
                if float(value) != getattr(base.levers, name).intensity:
                    out.append(f"levers.{name}.intensity={_number(value)}")
        if self.budget is not None and float(self.budget) != base.budget:
            out.append(f"budget={_number(self.budget)}")
        return out

    def resolved(self, preset: str | None = None) -> tuple[tuple[float, ...], float]:
        """The intensities and budget in effect (the scenario's where not chosen)."""
        base = scenario_config(self.scenario, preset)
        intensities = self.intensities or tuple(getattr(base.levers, n).intensity for n in LEVERS)
        return tuple(float(v) for v in intensities), float(
            base.budget if self.budget is None else self.budget
        )


@dataclass(frozen=True)
class Settings:
    """Everything that defines what the dashboard runs: one or two arms, size and seed."""

    a: Arm = Arm()
    b: Arm | None = None
    preset: str = DEFAULT_PRESET
    seed: int | None = None

    def arms(self) -> dict[str, Arm]:
        return {"A": self.a} if self.b is None else {"A": self.a, "B": self.b}


class Workshop(mesa.Model):
    """What the dashboard steps: setting A, in A/B mode setting B, and the baseline, on one seed.

    Each arm is a :class:`CommunityModel` made by :func:`make_model`, so it is the model
    ``sim-run`` would run; one step of the workshop is one week of every arm and of the
    baseline reference (drawn as a grey ghost line). The play loop steps in a worker thread
    while the page reads the results: both hold :attr:`lock`, so a figure never sees a week
    half recorded (:meth:`snapshot`).

    Lever and budget changes during a run apply from the current week (:meth:`change`);
    :meth:`branch` copies A into B at the current week, so two futures run on from the same
    state and the same random stream.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        settings = settings or Settings()
        super().__init__(rng=settings.seed)
        self.settings = settings
        self.lock = threading.RLock()
        self.events: list[live.Event] = []
        self.arms: dict[str, CommunityModel] = {
            key: make_model(arm.scenario, arm.overrides(settings.preset), settings.seed, settings.preset)
            for key, arm in settings.arms().items()
        }
        self.reference = make_model("baseline", [], settings.seed, settings.preset)
        self._version = 0  # counts every write (step, change, branch): snapshots are reused until it moves
        self._snapshot: tuple[tuple, live.Snapshot] | None = None

    def step(self) -> None:
        """One week of every arm and of the baseline."""
        with self.lock:
            self._version += 1
            for model in self.arms.values():
                model.step()
            self.reference.step()

    @property
    def week(self) -> int:
        return self.arms["A"].week

    def change(self, key: str, arm: Arm) -> None:
        """Set arm ``key``'s levers and budget to ``arm``'s from the current week on.

        The arm keeps its community, its state and its random stream; only the intensities and
        the budget, which the model reads every week, change. The week is recorded as an event
        (a marker on the charts). Raises ConfigError for a refused setting (nothing changes) and
        ValueError when ``arm`` names another scenario (a new scenario starts a new run).
        """
        s = self.settings
        with self.lock:
            model = self.arms[key]
            if arm.scenario != model.cfg.scenario.name:
                raise ValueError(f"scenario={arm.scenario!r}; allowed mid-run: {model.cfg.scenario.name!r}")
            model.cfg = compose_config(arm.scenario, arm.overrides(s.preset), s.seed, s.preset)
            self._version += 1
            self.settings = dataclasses.replace(s, **{key.lower(): arm})
            event = live.Event(self.week, key, "change")
            # several nudges of a slider in one week are one intervention, one mark on the charts
            if self.week > 0 and event not in self.events:
                self.events.append(event)

    def branch(self) -> None:
        """B := a copy of A at this week (same state, same random stream); B's changes come next."""
        with self.lock:
            self._version += 1
            self.arms["B"] = copy.deepcopy(self.arms["A"])
            self.settings = dataclasses.replace(self.settings, b=self.settings.a)
            self.events.append(live.Event(self.week, "B", "branch"))

    def snapshot(self, metrics: Sequence[str] = SERIES_METRICS) -> live.Snapshot:
        """Copies of everything the page shows at the current week, taken under the lock.

        Every chart of a redraw asks for one; they share the copy taken first, until the next
        write (a snapshot is never changed once taken).
        """
        with self.lock:
            key = (
                self._version,
                tuple((k, id(m), m.week) for k, m in self.arms.items()),
                id(self.reference),
                self.reference.week,
                len(self.events),
                tuple(metrics),
            )
            if self._snapshot is not None and self._snapshot[0] == key:
                return self._snapshot[1]
            arms = {k: live.take_arm(k, model, metrics) for k, model in self.arms.items()}
            snap = live.Snapshot(
                week=self.week,
                steps=self.arms["A"].cfg.steps,
                arms=arms,
                baseline=live.take_series(self.reference, metrics),
                preset=self.settings.preset,
                seed=self.arms["A"].cfg.seed,
                events=tuple(self.events),
            )
            self._snapshot = (key, snap)
            return snap


# ------------------------------------------------------------------------------ figures
def series_figures(workshop: Workshop, lang: str = "en", presenter: bool = False) -> list[dict]:
    """Participation, satisfaction, trust and unmet need over the weeks: baseline ghost and arms."""
    snap = workshop.snapshot()
    return [live.series_figure(snap, m, lang, **_sizes(presenter)) for m in SERIES_METRICS]


def difference_figures(workshop: Workshop, lang: str = "en", presenter: bool = False) -> list[dict]:
    """B − A of the four series, week by week (same seed, so the difference is the settings')."""
    snap = workshop.snapshot()
    return [live.difference_figure(snap, m, lang, **_sizes(presenter)) for m in SERIES_METRICS]


def map_figures(workshop: Workshop, metric: str, lang: str = "en", presenter: bool = False) -> list[dict]:
    """The community map of every arm at the current week."""
    snap = workshop.snapshot()
    size = _sizes(presenter)
    return [
        live.map_figure(arm, metric, lang, size["height"] + 60, size["font"]) for arm in snap.arms.values()
    ]


def render_figures(
    workshop: Workshop | live.Snapshot, metric: str, lang: str = "en", presenter: bool = False
) -> list[dict]:
    """Every figure the page shows for the current week: maps, series, differences (none at week 0)."""
    snap = workshop.snapshot() if isinstance(workshop, Workshop) else workshop
    if snap.week == 0:
        return []
    size = _sizes(presenter)
    figs = [
        live.map_figure(arm, metric, lang, size["height"] + 60, size["font"]) for arm in snap.arms.values()
    ]
    figs += [live.series_figure(snap, m, lang, **size) for m in SERIES_METRICS]
    if len(snap.arms) > 1:
        figs += [live.difference_figure(snap, m, lang, **size) for m in SERIES_METRICS]
    return figs


def _sizes(presenter: bool) -> dict[str, int]:
    """Chart height and font: presenter mode is for the back of the room."""
    return {"height": PRESENTER_HEIGHT, "font": 18} if presenter else {"height": FIGURE_HEIGHT, "font": 12}


# ------------------------------------------------------------------------------ the page
PLOTLY_JS_URL = "/static/assets/plotly.min.js"  # plotly.js of the installed plotly package

_PLOTLY_VIEW = """
<template>
  <div class="sim-chart" style="width: 100%; position: relative">
    <div class="sim-chart-tools" style="text-align: right; line-height: 1">
      <button class="export-png" type="button" @click="save('png')" :title="tips.png">PNG</button>
      <button class="export-svg" type="button" @click="save('svg')" :title="tips.svg">SVG</button>
      <button class="full-screen" type="button" @click="full()" :title="tips.full">{{ tips.full }}</button>
    </div>
    <div class="sim-plotly" ref="plot" style="width: 100%"></div>
  </div>
</template>
<script>
module.exports = {
  mounted() { this.draw(); },
  watch: { figure_json() { this.draw(); } },
  computed: { tips() { return JSON.parse(this.labels || "{}"); } },
  methods: {
    plotly() {
      // plotly.js is fetched once per page and shared by every chart
      if (window.Plotly) { return Promise.resolve(window.Plotly); }
      if (!window.simPlotlyLoading) {
        const src = this.src;
        window.simPlotlyLoading = new Promise(function (resolve, reject) {
          const script = document.createElement("script");  // plotly.js sets window.Plotly
          script.src = src;
          script.onload = function () { resolve(window.Plotly); };
          script.onerror = reject;
          document.head.appendChild(script);
        });
      }
      return window.simPlotlyLoading;
    },
    draw() {
      const el = this.$refs.plot;
      const fig = JSON.parse(this.figure_json || "{}");
      this.plotly().then(function (Plotly) {
        Plotly.react(el, fig.data || [], fig.layout || {}, {responsive: true, displayModeBar: false});
      });
    },
    save(format) {
      const el = this.$refs.plot;
      const name = this.filename;
      this.plotly().then(function (Plotly) {
        Plotly.downloadImage(el, {format: format, filename: name, width: 1400, height: 800, scale: 1});
      });
    },
    full() {
      const box = this.$el;
      if (document.fullscreenElement) { document.exitFullscreen(); return; }
      if (box.requestFullscreen) { box.requestFullscreen(); }
    },
  },
  beforeDestroy() { if (window.Plotly) { window.Plotly.purge(this.$refs.plot); } },
};
</script>
<style>
.sim-chart-tools button { font-size: 12px; padding: 1px 6px; margin-left: 4px; border: 1px solid #bbb;
  border-radius: 3px; background: white; color: #333; cursor: pointer; }
.sim-chart:fullscreen { background: white; padding: 2em; }
.sim-chart:fullscreen .sim-plotly { height: 90vh; }
</style>
"""


class PlotlyView(v.VuetifyTemplate):
    """A Plotly chart drawn by plotly.js in the browser from the figure's JSON, with export buttons.

    ``solara.FigurePlotly`` wraps Plotly's FigureWidget, which since Plotly 6 is an
    anywidget carrying the whole plotly.js bundle (5 MB) in every instance: a page of ten
    charts took seconds to appear. Here plotly.js is fetched once from this server, each redraw
    sends the figure's JSON and ``Plotly.react`` updates the chart in place; a redraw whose
    JSON did not change sends nothing (traitlets only sync changes). Plotly's mode bar is
    hidden (its tooltips are English only); the chart's own buttons export PNG or SVG and show
    the chart full-screen, with tooltips in the page's language.
    """

    template = traitlets.Unicode(_PLOTLY_VIEW).tag(sync=True)
    figure_json = traitlets.Unicode("{}").tag(sync=True)
    src = traitlets.Unicode(PLOTLY_JS_URL).tag(sync=True)
    filename = traitlets.Unicode("chart").tag(sync=True)
    labels = traitlets.Unicode("{}").tag(sync=True)


def figure_json(fig: dict | go.Figure) -> str:
    """A figure as the JSON plotly.js reads (NaN as null)."""
    if isinstance(fig, dict):
        return live.figure_json(fig)
    import plotly.io as pio

    return pio.to_json(fig, validate=False)


def _figure(fig: dict, name: str, lang: str):
    """Show ``fig``; the chart named ``name`` keeps its browser element from week to week."""
    tips = {key: text(f"export_{key}", lang) for key in ("png", "svg", "full")}
    return PlotlyView.element(
        figure_json=figure_json(fig), filename=name, labels=json.dumps(tips, ensure_ascii=False)
    ).key(name)


def _preset_label(name: str, lang: str) -> str:
    en, zh = PRESET_WORDS.get(name, (name, name))
    try:
        households = scenario_config("baseline", name).community.expected_households
    except ConfigError:
        return zh if lang == "zh" else en
    return text("households", lang, name=zh if lang == "zh" else en, n=households)


def scenario_items(catalogue: dict[str, Config], lang: str) -> list[dict[str, str]]:
    """The scenario picker's entries: baseline first, then by title in the page's language.

    Chinese titles sort by code point, which for common characters is radical-and-stroke
    (Kangxi dictionary) order.
    """

    def title(name: str) -> str:
        info = catalogue[name].scenario
        return info.title_zh if lang == "zh" else info.title_en

    names = sorted(catalogue, key=lambda n: (n != "baseline", title(n).casefold()))
    return [{"text": title(n), "value": n} for n in names]


def is_modified(arm: Arm, preset: str) -> bool:
    """True when any lever or the budget differs from the arm's scenario preset."""
    return bool(arm.overrides(preset))


@solara.component
def ArmCard(
    key: str,
    arm: Arm,
    preset: str,
    catalogue: dict[str, Config],
    lang: str,
    on_arm: Callable[[Arm], None],
):
    """Scenario picker, its description, six explained lever sliders and the budget of one setting."""
    base = catalogue.get(arm.scenario)
    with solara.Card(text("setting", lang, arm=key), classes=[f"arm-{key}"]):
        solara.v.Select(
            label=text("scenario", lang),
            items=scenario_items(catalogue, lang),
            v_model=arm.scenario,
            on_v_model=lambda name: on_arm(Arm(scenario=name)),
            class_=f"scenario-select-{key}",
        )
        if base is None:  # its file was removed or broken while the page was open
            solara.Error(text("error", lang, message=f"scenario={arm.scenario!r}"))
            return
        intensities, budget = arm.resolved(preset)
        info = base.scenario
        modified = is_modified(arm, preset)
        if modified:
            with solara.Row(classes=[f"modified-{key}"], style={"align-items": "center"}):
                solara.v.Chip(
                    children=[word("modified", lang)], small=True, color="warning", class_="modified"
                )
                solara.Button(
                    text("reset_preset", lang),
                    on_click=lambda: on_arm(Arm(scenario=arm.scenario)),
                    text=True,
                    small=True,
                    classes=[f"reset-preset-{key}"],
                )
        description = info.description_zh if lang == "zh" else info.description_en
        if modified:
            description = text("preset_was", lang, description=description)
        solara.v.Html(tag="p", children=[description], class_=f"caption scenario-description-{key}")
        solara.v.Html(tag="div", children=[text("levers", lang)], class_="subtitle-2")
        solara.Text(text("from_now", lang), classes=["caption"])
        for i, name in enumerate(LEVERS):

            def set_intensity(value: float, i: int = i) -> None:
                values = list(intensities)
                values[i] = round(float(value), 4)
                on_arm(dataclasses.replace(arm, intensities=tuple(values)))

            solara.SliderFloat(
                f"{lever_label(name, lang)} {live.percent(intensities[i])}",
                value=intensities[i],
                min=0.0,
                max=1.0,
                step=INTENSITY_STEP,
                on_value=set_intensity,
            )
            cost = getattr(base.levers, name).cost_per_unit
            explanation = translate(LEVER_EXPLANATIONS, name, lang)
            solara.v.Html(
                tag="div",
                children=[f"{explanation} {text('cost', lang, cost=cost)}"],
                class_=f"caption lever-help lever-help-{name}",
                style_="margin: 0 0 10px 0; line-height: 1.25",
            )
        max_budget = sum(getattr(base.levers, n).cost_per_unit for n in LEVERS)
        limited = math.isfinite(budget)
        solara.Checkbox(
            label=text("budget_limit", lang),
            value=limited,
            on_value=lambda on: on_arm(
                dataclasses.replace(arm, budget=min(max_budget, 5.0) if on else math.inf)
            ),
        )
        if limited:
            solara.SliderFloat(
                f"{text('budget', lang)}: {budget:g}",
                value=min(budget, max_budget),
                min=0.0,
                max=max(max_budget, BUDGET_STEP),
                step=BUDGET_STEP,
                on_value=lambda v: on_arm(dataclasses.replace(arm, budget=round(float(v), 4))),
            )
        else:
            solara.Text(text("budget_unbounded", lang), classes=["caption"])


def _grid(figs: Sequence[dict], names: Sequence[str], prefix: str, lang: str, columns: int = 2) -> None:
    """Figures ``columns`` to a row."""
    for i in range(0, len(figs), columns):
        with solara.Columns([1] * columns):
            for fig, name in zip(figs[i : i + columns], names[i : i + columns], strict=True):
                _figure(fig, f"{prefix}-{name}", lang)


@solara.component
def Views(workshop: Workshop, lang: str, metric: solara.Reactive[str], presenter: bool = False):
    """Week counter, scenario titles, the maps and the time series; redrawn on every render."""
    update_counter.get()  # redraw whenever the run controls have stepped the model
    snap = workshop.snapshot()
    arms = snap.arms
    with solara.Row(style={"align-items": "baseline", "flex-wrap": "wrap"}):
        solara.v.Html(tag="h2", children=[text("week", lang, n=snap.week)], class_="week-counter")
    with solara.Columns([1] * len(arms)):
        for key, arm in arms.items():
            with solara.Column(classes=[f"scenario-{key}"]):
                solara.v.Html(tag="h3", children=[f"{key}: {arm.title(lang)}"], class_="scenario-title")
                if snap.week:
                    parts = [f"{label(m, lang)} {live.show(m, arm.series[m][-1])}" for m in SERIES_METRICS]
                    solara.Text(f"{text('now', lang)}: " + " · ".join(parts), classes=["caption now-line"])
    if snap.week == 0:
        solara.Info(text("not_started", lang))
        return
    figs = render_figures(snap, metric.value, lang, presenter)
    n_arms = len(arms)
    n_series = n_arms + len(SERIES_METRICS)
    maps, series, diffs = figs[:n_arms], figs[n_arms:n_series], figs[n_series:]
    columns = 1 if presenter else 2
    with solara.Card(text("series", lang)):
        solara.Text(text("ghost_note", lang), classes=["caption"])
        _grid(series, SERIES_METRICS, "series", lang, columns)
    if diffs:
        with solara.Card(text("difference", lang)):
            _grid(diffs, SERIES_METRICS, "difference", lang, columns)
    with solara.Card(text("map", lang)):
        solara.v.Select(
            label=text("map_metric", lang),
            items=[{"text": label(m, lang), "value": m} for m in live.MAP_METRICS],
            v_model=metric.value,
            on_v_model=metric.set,
            style_="max-width: 320px",
        )
        solara.Text(text("map_key", lang), classes=["caption map-key"])
        with solara.Columns([1] * (1 if presenter else n_arms)):
            for key, fig in zip(arms, maps, strict=True):
                _figure(fig, f"map-{key}", lang)


class _PlayLoop:
    """What :func:`RunControls`'s play task needs of its session, and the loop itself.

    ``clear`` (when the page is unmounted) drops every reference to the session, so that the
    task function Solara keeps after the session ends holds nothing of it.
    """

    def __init__(self) -> None:
        self.model: solara.Reactive[Workshop] | None = None
        self.playing: solara.Reactive[bool] | None = None
        self.failure: solara.Reactive[str | None] | None = None
        self.redraw: Callable[[], None] | None = None
        self.play_interval: solara.Reactive[int] | None = None
        self.render_interval: solara.Reactive[int] | None = None

    def clear(self) -> None:
        self.model = self.playing = self.failure = self.redraw = None
        self.play_interval = self.render_interval = None

    def run(self) -> None:
        """Step every ``play_interval`` ms while playing; redraw as :func:`redraw_interval` allows."""
        model, playing, failure, redraw = self.model, self.playing, self.failure, self.redraw
        play_interval, render_interval = self.play_interval, self.render_interval
        if model is None or playing is None or failure is None or redraw is None:
            return  # the page has gone
        assert play_interval is not None and render_interval is not None
        # the session's end (tab closed and culled) stops the loop, even mid-run
        try:
            closed = solara.kernel_closed_event()
        except RuntimeError:  # rendered outside a server (tests): no session to end
            closed = threading.Event()
        drawn = time.monotonic()
        cost = 0.01  # CPU seconds of one redraw, learnt as the run plays
        redrawn = False
        with ROOM.lock:
            ROOM.playing += 1
        try:
            while playing.value and not closed.wait(play_interval.value / 1000):
                workshop = model.value
                before = workshop.week
                for _ in range(render_interval.value):
                    workshop.step()
                now = time.monotonic()
                last_week = before < workshop.arms["A"].cfg.steps <= workshop.week
                if last_week or now - drawn >= redraw_interval(ROOM.playing, cost):
                    started = time.thread_time()
                    redraw()
                    spent = time.thread_time() - started
                    if redrawn:  # the first redraw of a run builds the charts: not a redraw's cost
                        cost = 0.7 * cost + 0.3 * spent
                    redrawn = True
                    drawn = now
        except Exception as exc:  # shown on the page; the run stops rather than the server
            if not closed.is_set():
                failure.set(f"error in step: {exc}")
                playing.set(False)
        finally:
            with ROOM.lock:
                ROOM.playing -= 1
            if not closed.is_set():
                redraw()  # the week the run paused at is always drawn


def _batched(update: Callable[[], None]) -> Callable[[], None]:
    """``update`` (Mesa's ``force_update``) as one render pass of this page.

    Every view that follows the steps (the week header, each chart) listens to Mesa's
    ``update_counter``; called bare, each listener would render the page once. Inside the
    page's render context the renders wait, and happen once, together, when it is left.
    Call while a component renders; the result may be called from any thread of the page.
    """
    rc = reacton.core.get_render_context(required=False)

    def batched() -> None:
        if rc is None:
            update()
            return
        with rc:
            update()

    return batched


@solara.component
def RunControls(
    model: solara.Reactive[Workshop],
    model_parameters: solara.Reactive[dict],
    play_interval: solara.Reactive[int],
    render_interval: solara.Reactive[int],
    lang: str,
) -> None:
    """Reset, play/pause and step, labelled in the page's language.

    Does what Mesa's ``ModelController`` does (whose button labels are fixed in English):
    Reset rebuilds ``type(model)(**model_parameters)``; play steps ``render_interval`` weeks
    every ``play_interval`` ms and then redraws through Mesa's ``update_counter``. While
    playing, redraws are throttled to one per :data:`MIN_REDRAW_S`, and fewer when many
    sessions play at once (:func:`redraw_interval`; the weeks in between are still simulated):
    a room of participants on one laptop must not spend its CPU on frames.
    """
    playing = solara.use_reactive(False)
    failure = solara.use_reactive(None)
    redraw = _batched(force_update)
    # The play loop reaches this session only through ``loop``, emptied when the page goes:
    # Solara keeps every use_task function for the life of the server (a callback registered
    # per task), and a closure over the model would keep each closed session's models with it.
    loop = solara.use_memo(_PlayLoop, [])
    loop.model, loop.playing, loop.failure, loop.redraw = model, playing, failure, redraw
    loop.play_interval, loop.render_interval = play_interval, render_interval
    solara.use_effect(lambda: loop.clear, [])

    def advance() -> None:
        for _ in range(render_interval.value):
            model.value.step()
        redraw()

    def play() -> None:
        loop.run()

    solara.lab.use_task(play, dependencies=[playing.value], prefer_threaded=True)

    def reset() -> None:
        playing.set(False)
        failure.set(None)
        model.set(type(model.value)(**model_parameters.value))
        redraw()

    with solara.Row(justify="space-between"):
        solara.Button(label=text("reset", lang), color="primary", on_click=reset)
        solara.Button(
            label=text("pause" if playing.value else "play", lang),
            color="primary",
            on_click=lambda: playing.set(not playing.value),
            classes=["play-button"],
        )
        solara.Button(label=text("step", lang), color="primary", on_click=advance, disabled=playing.value)
    if failure.value:
        solara.Error(failure.value)


@solara.component
def BranchButton(workshop: Workshop, on_branch: Callable[[], None], lang: str) -> None:
    """ "Branch at week N": redrawn with the views after every step, disabled before week 1."""
    update_counter.get()
    solara.Button(
        text("branch", lang, n=workshop.week),
        on_click=on_branch,
        disabled=workshop.week == 0,
        color="secondary",
        classes=["branch-button"],
    )
    solara.Text(text("branch_help", lang), classes=["caption"])


_CSS = """
.presenter .v-application, .presenter { font-size: 150%; }
.presenter h2.week-counter { font-size: 2.6em; }
.presenter .scenario-title { font-size: 1.6em; }
.presenter .caption { font-size: 1rem !important; }
.lever-help { color: #555; }
"""


@solara.component
def Page():
    """The dashboard page (one state per browser tab)."""
    initial = solara.use_memo(lambda: Workshop(Settings()), [])
    model = solara.use_reactive(initial)
    settings = solara.use_reactive(initial.settings)
    # Mesa's Reset builds ``type(model)(**model_parameters)``: keep it at the current settings.
    model_parameters = solara.use_reactive({"settings": initial.settings})
    play_interval = solara.use_reactive(150)
    render_interval = solara.use_reactive(1)
    lang = solara.use_reactive("en")
    metric = solara.use_reactive("satisfaction")
    presenter = solara.use_reactive(False)
    error = solara.use_reactive(None)

    catalogue = scenario_catalogue(settings.value.preset)
    s = settings.value
    lg = lang.value
    workshop = model.value
    redraw = _batched(force_update)

    def apply(new: Settings) -> None:
        """Start a fresh run with ``new`` (week 0); keep the old one if the setting is refused."""
        try:
            built = Workshop(new)
        except ConfigError as exc:
            error.set(text("error", lg, message=str(exc)))
            return
        error.set(None)
        settings.set(new)
        model_parameters.set({"settings": new})
        model.set(built)

    def on_arm(key: str, arm: Arm) -> None:
        """A new scenario restarts; new levers or budget apply from the current week on."""
        current = workshop.settings.a if key == "A" else workshop.settings.b
        new = dataclasses.replace(s, **{key.lower(): arm})
        if workshop.week == 0 or current is None or arm.scenario != current.scenario:
            apply(new)
            return
        try:
            workshop.change(key, arm)
        except ConfigError as exc:
            error.set(text("error", lg, message=str(exc)))
            return
        error.set(None)
        settings.set(workshop.settings)
        model_parameters.set({"settings": workshop.settings})
        redraw()

    def branch() -> None:
        workshop.branch()
        settings.set(workshop.settings)
        model_parameters.set({"settings": workshop.settings})
        redraw()

    def handout() -> str:
        return live.handout_html(
            workshop.snapshot(), SERIES_METRICS, PRESET_WORDS.get(s.preset, (s.preset, s.preset))
        )

    solara.Title(text("title", lg))
    solara.Style(_CSS)
    with solara.AppBar():
        solara.AppBarTitle(text("title", lg))
        solara.Button(
            text("presenter_off" if presenter.value else "presenter_on", lg),
            on_click=lambda: presenter.set(not presenter.value),
            text=True,
            classes=["presenter-toggle"],
        )
        with solara.ToggleButtonsSingle(value=lg, on_value=lang.set, classes=["language-switch"]):
            solara.Button("English", value="en", text=True)
            solara.Button("中文", value="zh", text=True)

    with solara.Sidebar():
        with solara.Card(text("run", lg)):
            RunControls(model, model_parameters, play_interval, render_interval, lg)
            solara.Text(text("controls_help", lg), classes=["caption"])
            solara.SliderInt(text("render_interval", lg), value=render_interval, min=1, max=26, step=1)
            solara.SliderInt(text("play_interval", lg), value=play_interval, min=10, max=1000, step=10)
            solara.Text(text("restart_note", lg), classes=["caption"])
            BranchButton(workshop, branch, lg)
            solara.FileDownload(
                handout,
                filename="sim-app-handout.html",
                label=text("handout", lg),
                mime_type="text/html",
            )
        if error.value:
            solara.Error(error.value)
        ArmCard("A", s.a, s.preset, catalogue, lg, lambda arm: on_arm("A", arm))
        with solara.Card(text("community", lg)):
            solara.v.Select(
                label=text("preset", lg),
                items=[{"text": _preset_label(p, lg), "value": p} for p in presets()],
                v_model=s.preset,
                on_v_model=lambda p: apply(dataclasses.replace(s, preset=p)),
                class_="preset-select",
            )
            seed_shown = s.seed if s.seed is not None else scenario_config("baseline").seed
            solara.InputInt(
                text("seed", lg),
                value=seed_shown,
                on_value=lambda n: apply(dataclasses.replace(s, seed=int(n))) if n is not None else None,
            )
            solara.Checkbox(
                label=text("ab", lg),
                value=s.b is not None,
                on_value=lambda on: apply(dataclasses.replace(s, b=(s.b or s.a) if on else None)),
            )
        if s.b is not None:
            ArmCard("B", s.b, s.preset, catalogue, lg, lambda arm: on_arm("B", arm))
            solara.Button(
                text("copy_a", lg), on_click=lambda: apply(dataclasses.replace(s, b=s.a)), text=True
            )

    with solara.Column(classes=["presenter" if presenter.value else "standard"]):
        Views(workshop, lg, metric, presenter.value)


# ------------------------------------------------------------------------------ command line
def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="sim-app",
        description="The workshop dashboard: pick a scenario, move the six levers, watch the community "
        "week by week; change levers mid-run, branch a counterfactual, present full-screen, hand out a "
        "one-page summary. In Chinese and English.",
        epilog="examples:\n"
        "  sim-app                     http://127.0.0.1:8765 (this computer only)\n"
        "  sim-app --port 9000\n"
        "  sim-app --host 0.0.0.0      reachable from the room's network (only when asked)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}: this computer only)",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free port)"
    )
    from sim.present import serve

    parser.add_argument("--allow-remote", action="store_true", help="allow a --host beyond this computer")
    parser.add_argument(
        "--allowed-host", action="append", default=[], help="a name clients may use (repeatable; see serve)"
    )
    parser.add_argument(
        "--calibrated",
        metavar="NAME",
        help="start every model from a calibrated parameter set (sim/configs/calibrated/NAME.yaml)",
    )
    parser.add_argument(
        "--scenarios",
        metavar="DIR",
        help="also offer the scenarios in DIR/scenario/ (e.g. the Pareto policies sim-optimise writes)",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port={args.port} is out of range; allowed: 0 to 65535")
    try:
        args.warning = serve.check_bind(args.host, args.allow_remote)
    except serve.BindRefused as exc:
        parser.error(str(exc))
    if args.calibrated is not None and args.calibrated not in group_options("calibrated"):
        allowed = ", ".join(group_options("calibrated")) or "none yet (sim-calibrate ... install=true)"
        parser.error(f"--calibrated={args.calibrated} is not known; allowed: {allowed}")
    if args.scenarios is not None:
        try:
            os.environ[SCENARIOS_ENV] = check_scenario_dir(args.scenarios)
        except ConfigError as exc:
            parser.error(str(exc))
    return args


def _plotly_js() -> Path:
    """plotly.js as shipped inside the plotly package (served at :data:`PLOTLY_JS_URL`)."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise FileNotFoundError(f"plotly.js not found at {path}; reinstall the plotly package")
    return path


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


#: the Solara page ``sim-app`` serves
APP_PAGE = "sim.present.app:Page"


def cli(argv: Sequence[str] | None = None) -> None:
    """Console entry point ``sim-app``: serve the dashboard with Solara's server."""
    args = _parse(argv)
    port = args.port or _free_port(args.host)
    if args.calibrated:
        os.environ[CALIBRATED_ENV] = args.calibrated  # read by compose_config in the page's process
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    import solara.server.settings as solara_settings
    from solara.__main__ import cli as solara_cli

    solara_settings.telemetry.mixpanel_enable = False  # nothing leaves the machine
    solara_settings.assets.extra_locations.append(str(_plotly_js().parent))  # serves PLOTLY_JS_URL
    # Compose every scenario once now: a broken scenario file is reported at start, and Hydra
    # scans its plugins here rather than inside a page render.
    catalogue = scenario_catalogue(DEFAULT_PRESET)
    print(f"sim-app: {len(catalogue)} scenarios: {', '.join(catalogue)}", flush=True)
    print(f"sim-app: the workshop dashboard is at http://{args.host}:{port}/ (Ctrl+C stops it)", flush=True)
    from sim.present import serve

    serve.warn(args.warning)
    # Solara registers the page it serves when its server module is first imported, from
    # SOLARA_APP; the guard imports that module before `solara run` would set the variable.
    os.environ["SOLARA_APP"] = APP_PAGE
    solara.lab.on_kernel_start(ROOM.session_started)  # sessions counted in the log, memory handed back
    ROOM.start()
    serve.install(args.host, port, args.allowed_host)  # Host/Origin checked, no /resourcez
    solara_cli.main(
        [
            "run",
            APP_PAGE,
            "--host",
            args.host,
            "--port",
            str(port),
            "--production",
            "--no-open",
            "--no-check-version",
        ],
        prog_name="sim-app",
    )


if __name__ == "__main__":
    cli(sys.argv[1:])
