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
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import os
import socket
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import ipyvuetify as v
import mesa
import pandas as pd
import plotly.graph_objects as go
import solara
import traitlets
from mesa.visualization.utils import force_update, update_counter

from sim.core.config import Config, ConfigError
from sim.core.levers import LEVER_TITLES, LEVERS
from sim.core.metrics import label
from sim.core.model import CommunityModel
from sim.experiment.compose import CONFIG_DIR, group_options
from sim.experiment.compose import compose_config as compose_overrides
from sim.experiment.simulate import replicate_seeds
from sim.present import plots
from sim.present.portfolios import SCENARIOS_ENV, check_scenario_dir, scenario_dir
from sim.vocab import translate

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

_log = logging.getLogger(__name__)

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
    "restart_note": (
        "Changing a setting restarts the run at week 0.",
        "修改任何设置都会从第 0 周重新开始运行。",
    ),
    "map": ("Community map: compounds and buildings", "社区地图：小区与楼栋"),
    "map_metric": ("Colour buildings by", "楼栋着色指标"),
    "series": ("Over the weeks", "随时间变化"),
    "difference": ("Difference B − A", "差值 B − A"),
    "difference_of": ("Δ {metric} (B − A)", "{metric}之差（B − A）"),
    "not_started": (
        "Week 0: no week simulated yet. Press Step or ▶.",
        "第 0 周：尚未开始模拟。请按 Step 或 ▶。",
    ),
    "households": ("{name} (≈{n:,} households)", "{name}（约 {n:,} 户）"),
    "now": ("This week", "本周"),
    "error": ("Setting not applied: {message}", "设置未生效：{message}"),
}
_PRESET_NAMES = {
    "workshop": ("Workshop", "工作坊"),
    "community": ("Community", "社区"),
    "street": ("Street", "街道"),
    "metro": ("Metro (scaling only)", "特大城市（仅测规模）"),
}
_PRESET_ORDER = ("workshop", "community", "street", "metro")


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
    names = group_options("scenario", scenario_dir())  # with sim-app --scenarios DIR, DIR's too
    return sorted(names, key=lambda n: n != "baseline")  # baseline first, then alphabetical


def presets() -> list[str]:
    """Community size presets in ``sim/configs/community/``, smallest first."""
    names = set(group_options("community"))
    known = [n for n in _PRESET_ORDER if n in names]
    return known + sorted(names - set(known))


def _check_choice(key: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ConfigError(f"{key}={value!r} is not known; allowed: {', '.join(allowed)}")


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
    if preset is not None:
        _check_choice("community", preset, presets())
        items.append(f"community={preset}")
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ConfigError(f"seed={seed!r} is not an integer; allowed: an integer from 0 to 2^63-1")
        items.append(f"seed={seed}")
    return compose_overrides([*items, *overrides], config_dir=scenario_dir())


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
    """What the dashboard steps: setting A and, in A/B mode, setting B, on the same seed.

    Each arm is a :class:`CommunityModel` made by :func:`make_model`, so it is the model
    ``sim-run`` would run; one step of the workshop is one week of every arm.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        settings = settings or Settings()
        super().__init__(rng=settings.seed)
        self.settings = settings
        self.arms: dict[str, CommunityModel] = {
            key: make_model(arm.scenario, arm.overrides(settings.preset), settings.seed, settings.preset)
            for key, arm in settings.arms().items()
        }

    def step(self) -> None:
        """One week of every arm."""
        for model in self.arms.values():
            model.step()

    @property
    def week(self) -> int:
        return self.arms["A"].week


# ------------------------------------------------------------------------------ figures
def _titled(fig: go.Figure, title: str) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.02, "xanchor": "left", "font": {"size": 14}},
        height=FIGURE_HEIGHT,
        margin={"l": 55, "r": 20, "t": 45, "b": 45},
        legend={"orientation": "h", "y": -0.25},
        uirevision="keep",  # the browser keeps zoom and legend choices across redraws
    )
    return fig


def _arm_name(workshop: Workshop, key: str, lang: str) -> str:
    info = workshop.arms[key].cfg.scenario
    title = info.title_zh if lang == "zh" else info.title_en
    return f"{key}: {title}"


def series_table(workshop: Workshop, lang: str = "en") -> pd.DataFrame:
    """Metrics so far of every arm, one tidy table with a ``setting`` column for the legend."""
    frames = []
    for key, model in workshop.arms.items():
        df = model.recorder.frame()
        df.insert(0, "setting", _arm_name(workshop, key, lang))
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def series_figures(workshop: Workshop, lang: str = "en") -> list[go.Figure]:
    """Time series of participation, satisfaction, trust and unmet need (arms overlaid)."""
    table = series_table(workshop, lang)
    by = "setting" if len(workshop.arms) > 1 else None
    return [
        _titled(plots.time_series(table, metric, by=by, lang=lang), label(metric, lang))
        for metric in SERIES_METRICS
    ]


def difference_figures(workshop: Workshop, lang: str = "en") -> list[go.Figure]:
    """B − A of the four series, week by week (same seed, so the difference is the settings')."""
    a = workshop.arms["A"].recorder.frame().set_index("step")
    b = workshop.arms["B"].recorder.frame().set_index("step")
    diff = (b[list(SERIES_METRICS)] - a[list(SERIES_METRICS)]).reset_index()
    figs = []
    for metric in SERIES_METRICS:
        fig = plots.time_series(diff, metric, lang=lang)
        fig.add_hline(y=0.0, line={"color": plots.GREY, "width": 1})
        figs.append(_titled(fig, text("difference_of", lang, metric=label(metric, lang))))
    return figs


def map_figures(workshop: Workshop, metric: str, lang: str = "en") -> list[go.Figure]:
    """The community map of every arm at the current week."""
    figs = []
    for key, model in workshop.arms.items():
        buildings = model.recorder.building_frame(model)
        fig = plots.community_map(buildings, metric, lang=lang)
        figs.append(_titled(fig, _arm_name(workshop, key, lang)))
    return figs


def render_figures(workshop: Workshop, metric: str, lang: str = "en") -> list[go.Figure]:
    """Every figure the page shows for the workshop's current week (empty before week 1)."""
    if workshop.week == 0:
        return []
    figs = map_figures(workshop, metric, lang) + series_figures(workshop, lang)
    if len(workshop.arms) > 1:
        figs += difference_figures(workshop, lang)
    return figs


# ------------------------------------------------------------------------------ the page
PLOTLY_JS_URL = "/static/assets/plotly.min.js"  # plotly.js of the installed plotly package

_PLOTLY_VIEW = """
<template>
  <div class="sim-plotly" style="width: 100%"></div>
</template>
<script>
module.exports = {
  mounted() { this.draw(); },
  watch: { figure_json() { this.draw(); } },
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
      const el = this.$el;
      const fig = JSON.parse(this.figure_json || "{}");
      this.plotly().then(function (Plotly) {
        Plotly.react(el, fig.data || [], fig.layout || {}, {responsive: true, displayModeBar: false});
      });
    },
  },
  beforeDestroy() { if (window.Plotly) { window.Plotly.purge(this.$el); } },
};
</script>
"""


class PlotlyView(v.VuetifyTemplate):
    """A Plotly chart drawn by plotly.js in the browser from the figure's JSON.

    ``solara.FigurePlotly`` wraps Plotly's FigureWidget, which since Plotly 6 is an
    anywidget carrying the whole plotly.js bundle (5 MB) in every instance: a page of ten
    charts took seconds to appear, and NaN (the map's gaps between compounds) broke its
    messages. Here plotly.js is fetched once from this server, each redraw sends the
    figure's JSON (NaN as null) and ``Plotly.react`` updates the chart in place. The mode
    bar is hidden: its tooltips are English only; zoom by dragging, double-click to reset.
    """

    template = traitlets.Unicode(_PLOTLY_VIEW).tag(sync=True)
    figure_json = traitlets.Unicode("{}").tag(sync=True)
    src = traitlets.Unicode(PLOTLY_JS_URL).tag(sync=True)


def figure_json(fig: go.Figure) -> str:
    """A figure as the JSON plotly.js reads (numpy arrays as lists, NaN as null)."""
    import plotly.io as pio

    return pio.to_json(fig, validate=False)


def _figure(fig: go.Figure, name: str):
    """Show ``fig``; the chart named ``name`` keeps its browser element from week to week."""
    return PlotlyView.element(figure_json=figure_json(fig)).key(name)


def _preset_label(name: str, lang: str) -> str:
    en, zh = _PRESET_NAMES.get(name, (name, name))
    try:
        households = scenario_config("baseline", name).community.expected_households
    except ConfigError:
        return zh if lang == "zh" else en
    return text("households", lang, name=zh if lang == "zh" else en, n=households)


@solara.component
def ArmCard(
    key: str,
    arm: Arm,
    preset: str,
    catalogue: dict[str, Config],
    lang: str,
    on_arm: Callable[[Arm], None],
):
    """Scenario picker, its description, six lever sliders and the budget of one setting."""
    base = catalogue.get(arm.scenario)
    with solara.Card(text("setting", lang, arm=key), classes=[f"arm-{key}"]):
        items = [
            {"text": (c.scenario.title_zh if lang == "zh" else c.scenario.title_en), "value": name}
            for name, c in catalogue.items()
        ]
        solara.v.Select(
            label=text("scenario", lang),
            items=items,
            v_model=arm.scenario,
            on_v_model=lambda name: on_arm(Arm(scenario=name)),
            class_=f"scenario-select-{key}",
        )
        if base is None:  # its file was removed or broken while the page was open
            solara.Error(text("error", lang, message=f"scenario={arm.scenario!r}"))
            return
        intensities, budget = arm.resolved(preset)
        info = base.scenario
        solara.v.Html(
            tag="p",
            children=[info.description_zh if lang == "zh" else info.description_en],
            class_=f"caption scenario-description-{key}",
        )
        solara.v.Html(tag="div", children=[text("levers", lang)], class_="subtitle-2")
        for i, name in enumerate(LEVERS):

            def set_intensity(value: float, i: int = i) -> None:
                values = list(intensities)
                values[i] = round(float(value), 4)
                on_arm(dataclasses.replace(arm, intensities=tuple(values)))

            solara.SliderFloat(
                f"{lever_label(name, lang)} {intensities[i]:.2f}",
                value=intensities[i],
                min=0.0,
                max=1.0,
                step=INTENSITY_STEP,
                on_value=set_intensity,
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


def _grid(figs: Sequence[go.Figure], names: Sequence[str], prefix: str) -> None:
    """Figures two to a row."""
    for i in range(0, len(figs), 2):
        with solara.Columns([1, 1]):
            for fig, name in zip(figs[i : i + 2], names[i : i + 2], strict=True):
                _figure(fig, f"{prefix}-{name}")


@solara.component
def Views(workshop: Workshop, lang: str, metric: solara.Reactive[str]):
    """Week counter, scenario titles, the maps and the time series; redrawn on every render."""
    update_counter.get()  # redraw whenever Mesa's controller has stepped the model
    arms = workshop.arms
    with solara.Row(style={"align-items": "baseline", "flex-wrap": "wrap"}):
        solara.v.Html(tag="h2", children=[text("week", lang, n=workshop.week)], class_="week-counter")
    with solara.Columns([1] * len(arms)):
        for key, model in arms.items():
            info = model.cfg.scenario
            with solara.Column(classes=[f"scenario-{key}"]):
                solara.v.Html(
                    tag="h3",
                    children=[f"{key}: {info.title_zh if lang == 'zh' else info.title_en}"],
                    class_="scenario-title",
                )
                solara.Text(info.description_zh if lang == "zh" else info.description_en)
                if model.week:
                    now = model.recorder.frame().iloc[-1]
                    parts = [f"{label(m, lang)} {now[m]:.3f}" for m in SERIES_METRICS]
                    solara.Text(f"{text('now', lang)}: " + " · ".join(parts), classes=["caption"])
    if workshop.week == 0:
        solara.Info(text("not_started", lang))
        return
    figs = render_figures(workshop, metric.value, lang)
    n_arms = len(arms)
    n_series = n_arms + len(SERIES_METRICS)
    maps, series, diffs = figs[:n_arms], figs[n_arms:n_series], figs[n_series:]
    with solara.Card(text("map", lang)):
        solara.v.Select(
            label=text("map_metric", lang),
            items=[{"text": label(m, lang), "value": m} for m in plots.BUILDING_COLUMNS],
            v_model=metric.value,
            on_v_model=metric.set,
            style_="max-width: 320px",
        )
        with solara.Columns([1] * n_arms):
            for key, fig in zip(arms, maps, strict=True):
                _figure(fig, f"map-{key}")
    with solara.Card(text("series", lang)):
        _grid(series, SERIES_METRICS, "series")
    if diffs:
        with solara.Card(text("difference", lang)):
            _grid(diffs, SERIES_METRICS, "difference")


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
    every ``play_interval`` ms and then redraws through Mesa's ``update_counter``.
    """
    playing = solara.use_reactive(False)
    failure = solara.use_reactive(None)

    def advance() -> None:
        for _ in range(render_interval.value):
            model.value.step()
        force_update()

    def play() -> None:
        try:
            while playing.value:
                time.sleep(play_interval.value / 1000)
                advance()
        except Exception as exc:  # shown on the page; the run stops rather than the server
            failure.set(f"error in step: {exc}")
            playing.set(False)

    solara.lab.use_task(play, dependencies=[playing.value], prefer_threaded=True)

    def reset() -> None:
        playing.set(False)
        failure.set(None)
        model.set(type(model.value)(**model_parameters.value))
        force_update()

    with solara.Row(justify="space-between"):
        solara.Button(label=text("reset", lang), color="primary", on_click=reset)
        solara.Button(
            label=text("pause" if playing.value else "play", lang),
            color="primary",
            on_click=lambda: playing.set(not playing.value),
        )
        solara.Button(label=text("step", lang), color="primary", on_click=advance, disabled=playing.value)
    if failure.value:
        solara.Error(failure.value)


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
    error = solara.use_reactive(None)

    catalogue = scenario_catalogue(settings.value.preset)
    s = settings.value
    lg = lang.value

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

    solara.Title(text("title", lg))
    with solara.AppBar():
        solara.AppBarTitle(text("title", lg))
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
        if error.value:
            solara.Error(error.value)
        ArmCard("A", s.a, s.preset, catalogue, lg, lambda arm: apply(dataclasses.replace(s, a=arm)))
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
            ArmCard("B", s.b, s.preset, catalogue, lg, lambda arm: apply(dataclasses.replace(s, b=arm)))
            solara.Button(
                text("copy_a", lg), on_click=lambda: apply(dataclasses.replace(s, b=s.a)), text=True
            )

    Views(model.value, lg, metric)


# ------------------------------------------------------------------------------ command line
def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="sim-app",
        description="The workshop dashboard: pick a scenario, move the six levers, watch the community.",
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}: this computer only)",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free port)"
    )
    parser.add_argument(
        "--scenarios",
        metavar="DIR",
        help="also offer the scenarios in DIR/scenario/ (e.g. the Pareto policies sim-optimise writes)",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port={args.port} is out of range; allowed: 0 to 65535")
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


def cli(argv: Sequence[str] | None = None) -> None:
    """Console entry point ``sim-app``: serve the dashboard with Solara's server."""
    args = _parse(argv)
    port = args.port or _free_port(args.host)
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
    solara_cli.main(
        [
            "run",
            "sim.present.app:Page",
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
