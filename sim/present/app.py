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

The model behind the page (scenarios composed as ``sim-run`` composes them, the A/B arms and
the baseline on one random draw) is :mod:`sim.present.workshop`; serving a room of sessions
from one laptop (counting them, freeing closed ones, throttling redraws) is
:mod:`sim.present.room`; the command ``sim-app`` is :mod:`sim.cli.app`.

    sim-app                       # http://127.0.0.1:8765
    sim-app --port 9000           # another port
    sim-app --host 0.0.0.0        # reachable from the room's network (only when asked)
    sim-app --calibrated field    # every model starts from sim/configs/calibrated/field.yaml

Why one module of this length: it is one Solara page, whose components (the arm cards, the
views, the run controls) share the page's reactive state and its strings in both languages;
the model behind it and the serving of a room are in their own modules.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import threading
import time
import warnings
from collections.abc import Callable, Sequence

import ipyvuetify as v
import plotly.graph_objects as go
import reacton.core
import solara
import solara.server.settings as solara_settings
import traitlets
from mesa.visualization.utils import force_update, update_counter

from sim.core.config import Config, ConfigError
from sim.core.levers import LEVER_TITLES, LEVERS
from sim.core.metrics import label
from sim.present import live
from sim.present.room import (
    ROOM,
    SESSION_CULL_TIMEOUT,
    redraw_interval,
)
from sim.present.workshop import (
    SERIES_METRICS,
    Arm,
    Settings,
    Workshop,
    compose_config,
    make_model,
    presets,
    render_figures,
    scenario_catalogue,
    scenario_config,
    scenario_names,
)
from sim.vocab import LEVER_EXPLANATIONS, PRESET_WORDS, strings, translate, word

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "SERIES_METRICS",
    "Arm",
    "Page",
    "Settings",
    "Workshop",
    "compose_config",
    "make_model",
    "presets",
    "scenario_catalogue",
    "scenario_names",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
BUDGET_STEP = 0.5
INTENSITY_STEP = 0.05

# Served pages: no framework badge over the charts, closed sessions freed, and no warning per
# page load that a plain-http address cannot set a SameSite=None cookie (the page is not embedded).
solara_settings.theme.show_banner = False
solara_settings.kernel.cull_timeout = SESSION_CULL_TIMEOUT
warnings.filterwarnings("ignore", message="Cookies with samesite=none require https", category=UserWarning)

_log = logging.getLogger(__name__)


#: a page string in English (``en``) or Chinese (``zh``): ``text(key, lang, **fields)``
text = strings("dashboard")


def lever_label(name: str, lang: str = "en") -> str:
    """Name of a lever in the page's language (``Embedding`` / ``嵌入``)."""
    en, zh = LEVER_TITLES[name]
    return zh if lang == "zh" else en


# ------------------------------------------------------------------------ configs and models


# ------------------------------------------------------------------------------ figures


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
                last_week = before < workshop.config("A").steps <= workshop.week
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
