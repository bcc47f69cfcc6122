"""The workshop dashboard without a browser: its models are sim-run's, its input is checked,
and a step of the `community` preset is redrawn quickly (the page rendered in-process)."""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

import ipyvuetify as v
import numpy as np
import pandas as pd
import pytest
import solara

from sim.cli import app as app_cli
from sim.core.config import ConfigError
from sim.core.levers import LEVERS
from sim.core.metrics import METRICS
from sim.experiment.compose import CONFIG_DIR
from sim.experiment.simulate import simulate
from sim.present import app, live, room
from sim.present.portfolios import SCENARIOS_ENV
from sim.present.workshop import _STAMPS, _composed, difference_figures, map_figures, series_figures

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run_weeks(model, weeks: int) -> pd.DataFrame:
    for _ in range(weeks):
        model.step()
    return model.recorder.frame()


def assert_same_metrics(a: pd.DataFrame, b: pd.DataFrame) -> None:
    for name in ["step", *METRICS]:
        x, y = a[name].to_numpy(dtype=float), b[name].to_numpy(dtype=float)
        assert np.array_equal(x, y, equal_nan=True), f"{name} differs"


# ------------------------------------------------------------------------------ the factory
def test_make_model_is_the_model_sim_run_runs(tmp_path: Path) -> None:
    """Replicate 0 written by the real sim-run equals the dashboard's model, metric for metric."""
    weeks, seed = 10, 4242
    overrides = ["levers.linking.intensity=0.35", "budget=4.5"]
    out = tmp_path / "run"
    proc = subprocess.run(
        [
            BIN / "sim-run",
            "scenario=coverage_on_paper",
            "community=workshop",
            f"seed={seed}",
            f"steps={weeks}",
            "replicates=2",
            "baseline_comparison=false",
            *overrides,
            f"hydra.run.dir={out}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    written = pd.read_parquet(out / "metrics.parquet")
    replicate0 = written[written["replicate"] == 0].reset_index(drop=True)
    assert len(replicate0) == weeks

    model = app.make_model("coverage_on_paper", overrides, seed=seed, preset="workshop")
    assert model.cfg.levers.linking.intensity == 0.35 and model.cfg.budget == 4.5
    assert_same_metrics(run_weeks(model, weeks), replicate0)


@pytest.mark.parametrize("scenario", ["baseline", "all_six", "budget_cut"])
def test_make_model_matches_simulate_replicate_zero(scenario: str) -> None:
    """Against the library path too, for several scenarios (the ones without files are skipped)."""
    if scenario not in app.scenario_names():
        pytest.skip(f"sim/configs/scenario/{scenario}.yaml is not there")
    weeks = 8
    model = app.make_model(scenario, [f"steps={weeks}"], seed=99, preset="workshop")
    reference = simulate(app.compose_config(scenario, [f"steps={weeks}", "replicates=1"], 99, "workshop"))
    assert_same_metrics(run_weeks(model, weeks), reference.metrics)


def test_workshop_arms_share_the_seed_so_equal_settings_give_equal_runs() -> None:
    a = app.Arm("baseline")
    same = app.Workshop(app.Settings(a=a, b=a, preset="workshop", seed=7))
    for _ in range(6):
        same.step()
    assert same.week == 6
    assert_same_metrics(same.frame("A"), same.frame("B"))

    # and arm A is exactly the factory's model
    alone = app.make_model("baseline", [], seed=7, preset="workshop")
    assert_same_metrics(same.frame("A"), run_weeks(alone, 6))

    # a different setting on the same draw: the difference plotted is the setting's effect
    b = app.Arm("baseline", intensities=(1.0,) * len(LEVERS))
    ab = app.Workshop(app.Settings(a=a, b=b, preset="workshop", seed=7))
    for _ in range(6):
        ab.step()
    diff = difference_figures(ab)
    assert len(diff) == len(app.SERIES_METRICS)
    fa, fb = ab.frame("A"), ab.frame("B")
    assert not np.allclose(fa["participation"], fb["participation"])
    line = diff[0]["data"][-1]  # participation B − A, in percentage points
    assert np.allclose(np.asarray(line["y"], dtype=float), 100 * (fb["participation"] - fa["participation"]))


def test_arms_share_one_ensemble_where_their_communities_have_one_shape() -> None:
    """A, B and the baseline step as one ensemble when they can and as one per shape when not;
    either way each arm is its single run to the bit, maps included."""
    same_shape = app.Settings(a=app.Arm("all_six"), b=app.Arm("baseline"), preset="workshop", seed=3)
    mixed = app.Settings(a=app.Arm("old_compound"), b=app.Arm("all_six"), preset="workshop", seed=3)
    for settings, ensembles in ((same_shape, 1), (mixed, 2)):  # an old compound changes the shape
        workshop = app.Workshop(settings)
        assert len(workshop.models) == ensembles
        for _ in range(5):
            workshop.step()
        snap = workshop.snapshot()
        for key, arm in (("A", settings.a), ("B", settings.b), ("baseline", app.Arm("baseline"))):
            alone = app.make_model(arm.scenario, [], seed=3, preset="workshop")
            assert_same_metrics(workshop.frame(key), run_weeks(alone, 5))
            if key in snap.arms:  # B is the ensemble's second member in both settings
                expected = app.live.take_arm(key, alone)
                for name, values in expected.buildings.items():
                    assert np.array_equal(snap.arms[key].buildings[name], values, equal_nan=True), (key, name)
                assert np.array_equal(snap.arms[key].covered, expected.covered)


def test_a_large_community_keeps_the_runners_household_limit() -> None:
    """At street size (20,000 households) two members fill an ensemble, as in a sweep."""
    workshop = app.Workshop(app.Settings(a=app.Arm("all_six"), b=app.Arm("baseline"), preset="street"))
    assert [m.n_members for m in workshop.models] == [2, 1]


def test_a_branch_after_a_change_carries_the_change_and_leaves_a_where_it_was() -> None:
    workshop = app.Workshop(app.Settings(preset="workshop", seed=9))
    workshop.step()
    workshop.change("A", app.Arm("baseline", intensities=(0.7,) * len(LEVERS)))
    for _ in range(3):
        workshop.step()
    before = workshop.frame("A")
    workshop.branch()
    assert workshop.week == 4 and len(workshop.models) == 1
    assert_same_metrics(workshop.frame("A"), before)
    assert_same_metrics(workshop.frame("B"), before)
    for _ in range(2):
        workshop.step()
    assert_same_metrics(workshop.frame("A"), workshop.frame("B"))
    switched = app.make_model(
        "baseline",
        [f"levers.{name}.{key}" for name in LEVERS for key in ("intensity=0.7", "start_week=1")],
        seed=9,
        preset="workshop",
    )
    assert_same_metrics(workshop.frame("B"), run_weeks(switched, 6))


def test_arm_overrides_name_only_what_the_facilitator_changed() -> None:
    base = app.scenario_config("baseline")
    unchanged = tuple(getattr(base.levers, n).intensity for n in LEVERS)
    assert app.Arm("baseline", intensities=unchanged, budget=base.budget).overrides() == []
    changed = list(unchanged)
    changed[LEVERS.index("immersion")] = 0.45
    arm = app.Arm("baseline", intensities=tuple(changed), budget=3.0)
    assert arm.overrides() == ["levers.immersion.intensity=0.45", "budget=3.0"]
    unbounded = app.Arm("baseline", budget=math.inf) if math.isfinite(base.budget) else None
    if unbounded is not None:
        assert app.compose_config("baseline", unbounded.overrides()).budget == math.inf
    assert app.Arm("baseline").resolved() == (unchanged, base.budget)


# ------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("call", "names"),
    [
        (lambda: app.compose_config("no_such_scenario"), ["scenario", "no_such_scenario", "baseline"]),
        # a name is never passed on as an override: no way to smuggle extra keys in
        (lambda: app.compose_config("baseline,seed=1"), ["scenario", "baseline,seed=1"]),
        (lambda: app.compose_config("baseline", preset="huge"), ["community", "huge", "workshop"]),
        (lambda: app.compose_config("baseline", seed="12"), ["seed", "12", "integer"]),
        (
            lambda: app.compose_config("baseline", ["levers.linking.intensity=2.0"]),
            ["levers.linking.intensity", "2", "0 to 1"],
        ),
        (lambda: app.Arm("baseline", intensities=(0.1, 0.2)).overrides(), ["intensities", "2"]),
    ],
)
def test_bad_input_is_one_line_naming_key_value_and_allowed(call, names: list[str]) -> None:
    with pytest.raises(ConfigError) as err:
        call()
    message = str(err.value)
    assert "\n" not in message
    for name in names:
        assert name in message, message


def test_cli_refuses_a_port_out_of_range_and_defaults_to_localhost(capsys) -> None:
    with pytest.raises(SystemExit) as err:
        app_cli._parse(["--port", "70000"])
    assert err.value.code == 2
    assert "--port=70000" in capsys.readouterr().err
    args = app_cli._parse([])
    assert (args.host, args.port) == ("127.0.0.1", app.DEFAULT_PORT)


# ------------------------------------------------------------------------------ what is shown
def test_every_scenario_file_is_offered_with_both_languages() -> None:
    files = sorted(p.stem for p in (ROOT / "sim" / "configs" / "scenario").glob("*.yaml"))
    catalogue = app.scenario_catalogue("workshop")
    assert sorted(catalogue) == files
    assert app.scenario_names()[0] == "baseline"
    for name, cfg in catalogue.items():
        info = cfg.scenario
        assert info.name == name
        for field in ("title_en", "title_zh", "description_en", "description_zh"):
            assert getattr(info, field).strip(), f"{name}: {field} is empty"


def test_page_text_has_both_languages() -> None:
    for key in app.text:
        en, zh = (
            app.text(key, "en", n=1, arm="A", metric="m", message="x", name="n", description="d", cost=1),
            app.text(key, "zh", n=1, arm="A", metric="m", message="x", name="n", description="d", cost=1),
        )
        assert en and zh and en != zh, key
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), f"{key}: no Chinese in {zh!r}"
    assert app.lever_label("embedding", "zh") == "嵌入"


def test_figures_follow_the_weeks_and_the_language() -> None:
    workshop = app.Workshop(app.Settings(preset="workshop"))
    assert app.render_figures(workshop, "satisfaction") == []  # week 0: nothing to draw yet
    for _ in range(3):
        workshop.step()
    figs = app.render_figures(workshop, "trust", "zh")
    assert len(figs) == 1 + len(app.SERIES_METRICS)
    assert "满意度" in figs[2]["layout"]["title"]["text"]
    assert figs[1]["data"][-1]["x"][-1] == 3

    # the map's gaps between compounds travel as valid JSON (no NaN constant)
    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in figure JSON")

    decoded = json.loads(app.figure_json(figs[0]), parse_constant=refuse)
    assert decoded["data"][0]["type"] == "heatmap"
    assert None in decoded["data"][0]["z"][-1] or any(None in row for row in decoded["data"][0]["z"])


# ------------------------------------------------------------------------------ the page, in-process
@pytest.fixture
def page():
    """The dashboard page rendered in this process (the widgets a browser would mirror)."""
    _box, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
    yield rc
    rc.close()


def week_shown(rc) -> str:
    return rc.find(v.Html, class_="week-counter").widget.children[0]


def test_page_steps_resets_and_runs_ab_with_mesa_controller(page) -> None:
    rc = page
    step = rc.find(v.Btn, children=["Step"]).widget
    for _ in range(3):
        step.click()
    assert week_shown(rc) == "Week 3"
    # the render interval: Step advances that many weeks and redraws once
    rc.find(v.Slider, label=app.text("render_interval")).widget.v_model = 4
    step.click()
    assert week_shown(rc) == "Week 7"
    rc.find(v.Slider, label=app.text("render_interval")).widget.v_model = 1
    rc.find(v.Select, class_="scenario-select-A").widget.v_model = "coverage_on_paper"
    assert week_shown(rc) == "Week 0"  # a new setting starts again
    rc.find(v.Checkbox, label=app.text("ab")).widget.v_model = True
    assert rc.find(v.Html, class_="scenario-title").widgets[1].children[0].startswith("B: ")
    for _ in range(2):
        step.click()
    assert week_shown(rc) == "Week 2"
    # Mesa's Reset rebuilds the model from the current settings, not from the defaults
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert week_shown(rc) == "Week 0"
    titles = [w.children[0] for w in rc.find(v.Html, class_="scenario-title").widgets]
    assert titles[0] == "A: " + app.scenario_config("coverage_on_paper").scenario.title_en
    assert len(titles) == 2


def test_a_step_of_the_community_preset_redraws_well_under_a_second(page) -> None:
    """Server side of a step: model step, every figure built and handed to its widget."""
    rc = page
    step = rc.find(v.Btn, children=["Step"]).widget
    step.click()  # the first week creates the chart widgets
    times = []
    for _ in range(6):
        started = time.perf_counter()
        step.click()
        times.append(time.perf_counter() - started)
    assert week_shown(rc) == "Week 7"
    median = statistics.median(times)
    print(f"community preset: step + redraw on the server, median {median * 1000:.0f} ms over 6 steps")
    assert median < 0.5


# ------------------------------------------------------------------------------ mid-run changes
def test_a_mid_run_change_is_the_lever_switched_on_at_that_week() -> None:
    """Moving a slider at week 5 gives the run whose config starts the lever at week 5."""
    workshop = app.Workshop(app.Settings(preset="workshop", seed=11))
    for _ in range(5):
        workshop.step()
    intensities = [0.0] * len(LEVERS)
    intensities[LEVERS.index("linking")] = 0.6
    workshop.change("A", app.Arm("baseline", intensities=tuple(intensities)))
    assert workshop.week == 5 and workshop.events[-1] == app.live.Event(5, "A", "change")
    for _ in range(5):
        workshop.step()
    switched = app.make_model(
        "baseline",
        ["levers.linking.intensity=0.6", "levers.linking.start_week=5"],
        seed=11,
        preset="workshop",
    )
    assert_same_metrics(workshop.frame("A"), run_weeks(switched, 10))
    # the ghost baseline did not move
    assert_same_metrics(
        workshop.frame("baseline"), run_weeks(app.make_model("baseline", [], 11, "workshop"), 10)
    )
    with pytest.raises(ValueError, match="scenario"):
        workshop.change("A", app.Arm("all_six"))


def test_a_branch_runs_two_futures_from_the_same_state_and_draw() -> None:
    workshop = app.Workshop(app.Settings(preset="workshop", seed=5))
    for _ in range(4):
        workshop.step()
    workshop.branch()
    assert workshop.arm_keys == ["A", "B"] and workshop.settings.b == workshop.settings.a
    for _ in range(3):
        workshop.step()
    # unchanged, the branch is the same future (same random stream, not a fresh draw)
    assert_same_metrics(workshop.frame("A"), workshop.frame("B"))
    workshop.change("B", app.Arm("baseline", intensities=(1.0,) * len(LEVERS)))
    for _ in range(3):
        workshop.step()
    a, b = workshop.frame("A"), workshop.frame("B")
    assert_same_metrics(a.iloc[:7], b.iloc[:7])
    assert not np.allclose(a["participation"].iloc[7:], b["participation"].iloc[7:])
    kinds = [(e.week, e.arm, e.kind) for e in workshop.events]
    assert kinds == [(4, "B", "branch"), (7, "B", "change")]
    # every chart marks both events
    figs = app.render_figures(workshop, "satisfaction")
    assert all(len(f["layout"].get("shapes", [])) == 2 for f in figs[2:])


def test_snapshots_taken_while_the_play_thread_steps_are_whole_weeks() -> None:
    """The page reads while the play loop writes: every snapshot has one length for all series."""
    import threading

    workshop = app.Workshop(app.Settings(a=app.Arm("all_six"), b=app.Arm("baseline"), preset="workshop"))
    done = threading.Event()

    def play() -> None:
        for _ in range(60):
            workshop.step()
        done.set()

    thread = threading.Thread(target=play)
    thread.start()
    seen = 0
    while not done.is_set() or seen == 0:
        snap = workshop.snapshot()
        lengths = {len(v) for arm in snap.arms.values() for v in arm.series.values()}
        lengths |= {len(v) for v in snap.baseline.values()}
        assert lengths == {snap.week}, (snap.week, lengths)
        app.render_figures(snap, "satisfaction")
        seen += 1
    thread.join()
    assert seen > 1


# ------------------------------------------------------------------------------ what the room sees
def test_bounded_metrics_have_fixed_percent_axes_and_the_baseline_ghost() -> None:
    workshop = app.Workshop(app.Settings(a=app.Arm("all_six"), preset="workshop"))
    for _ in range(3):
        workshop.step()
    series = series_figures(workshop)
    by_metric = dict(zip(app.SERIES_METRICS, series, strict=True))
    for metric in ("participation", "satisfaction", "trust"):
        y = by_metric[metric]["layout"]["yaxis"]
        assert y["range"] == [0, 1] and y["tickformat"] == ".0%", metric
        assert by_metric[metric]["layout"]["xaxis"]["range"] == [0, workshop.config("A").steps]
        ghost = by_metric[metric]["data"][0]
        assert ghost["line"]["dash"] == "dash" and ghost["name"] == app.word("baseline")
    unmet = by_metric["unmet_need"]["layout"]["yaxis"]["range"]
    assert unmet[0] == 0 and unmet[1] >= max(by_metric["unmet_need"]["data"][1]["y"])
    assert app.live.percent(0.328) == "33%"
    # the map has a key: colour bar in %, covered buildings, compound kinds
    fig = map_figures(workshop, "satisfaction")[0]
    assert fig["data"][0]["colorbar"]["tickformat"] == ".0%"
    kinds = [k for pair in app.live.COMPOUND_KINDS.values() for k in pair]
    assert all(any(k in label for k in kinds) for label in fig["data"][2]["text"])


def test_scenario_list_is_sorted_in_the_page_language() -> None:
    catalogue = app.scenario_catalogue("workshop")
    for lang in ("en", "zh"):
        items = app.scenario_items(catalogue, lang)
        assert items[0]["value"] == "baseline"
        titles = [i["text"] for i in items[1:]]
        assert titles == sorted(titles, key=str.casefold), lang
    assert [i["value"] for i in app.scenario_items(catalogue, "en")] != [
        i["value"] for i in app.scenario_items(catalogue, "zh")
    ]


def test_handout_is_bilingual_with_settings_changes_and_results() -> None:
    workshop = app.Workshop(app.Settings(preset="workshop"))
    for _ in range(4):
        workshop.step()
    workshop.branch()
    workshop.change("B", app.Arm("baseline", intensities=(0.5,) * len(LEVERS)))
    for _ in range(2):
        workshop.step()
    page = app.live.handout_html(workshop.snapshot(), app.SERIES_METRICS, ("Workshop", "工作坊"))
    for shown in ("工作坊小结", "Workshop summary", "满意度", "Satisfaction", "嵌入", "Embedding", "50%"):
        assert shown in page, shown
    assert "第 4 周：方案 B 自 A 分支" in page and "week 4: setting B changed" in page
    assert "nan" not in page.lower()


def test_served_pages_have_no_badge_free_closed_sessions_and_no_cookie_warning() -> None:
    import warnings

    assert app.solara_settings.theme.show_banner is False
    assert app.solara_settings.kernel.cull_timeout == app.SESSION_CULL_TIMEOUT
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        app.warnings.filterwarnings(
            "ignore", message="Cookies with samesite=none require https", category=UserWarning
        )
        warnings.warn("Cookies with samesite=none require https, but ...", UserWarning, stacklevel=1)
    assert caught == []


def test_page_moves_a_lever_mid_run_marks_it_modified_and_resets_to_preset(page) -> None:
    rc = page
    step = rc.find(v.Btn, children=["Step"]).widget
    for _ in range(3):
        step.click()
    assert rc.find(v.Chip, class_="modified").widgets == []
    slider = rc.find(v.Slider, label=f"{app.lever_label('linking')} 0%").widget
    slider.v_model = 0.5
    assert week_shown(rc) == "Week 3"  # a lever change does not restart the run
    assert rc.find(v.Chip, class_="modified").widgets
    rc.find(v.Btn, children=[app.text("reset_preset")]).widget.click()
    assert rc.find(v.Chip, class_="modified").widgets == []
    assert week_shown(rc) == "Week 3"
    step.click()
    assert week_shown(rc) == "Week 4"
    rc.find(v.Btn, children=[app.text("branch", n=4)]).widget.click()
    assert [w.children[0] for w in rc.find(v.Html, class_="scenario-title").widgets] == [
        "A: " + app.scenario_config("baseline").scenario.title_en,
        "B: " + app.scenario_config("baseline").scenario.title_en,
    ]


def test_events_of_one_week_share_a_mark_and_close_labels_stack() -> None:
    """Week 4: A changed; week 5: A reset, B branched and changed — two marks, four labels, no
    label drawn over another."""
    events = [
        live.Event(4, "A", "change"),
        live.Event(5, "A", "change"),
        live.Event(5, "B", "branch"),
        live.Event(5, "B", "change"),
        live.Event(60, "A", "change"),
    ]
    shapes, notes = live._event_marks(events, "en", 12)
    assert [s["x0"] for s in shapes] == [4, 5, 60]
    assert [n["text"].count("<br>") + 1 for n in notes] == [1, 3, 1]
    # week 5's three lines start below week 4's one line; week 60 is far enough to start again
    assert [n["yshift"] for n in notes] == [0, -14, 0]


@pytest.mark.slow  # starts the real server: make check
def test_the_real_sim_app_serves_only_requests_addressed_to_it(tmp_path) -> None:
    """The guard around Solara's app is installed by the real `sim-app`: a foreign Host (DNS
    rebinding, or a user part that a URL parser would drop) gets 403, /resourcez 404, and a
    request addressed to the dashboard 200."""
    import urllib.error
    import urllib.request

    from conftest import sim_app

    def status(port: int, path: str, host: str | None = None) -> int:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}", headers={"Host": host} if host else {}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    with sim_app(tmp_path / "sim-app.log") as port:
        assert status(port, "/", f"localhost:{port}") == 200
        assert status(port, "/", f"evil.example:{port}") == 403
        assert status(port, "/", f"evil.com@127.0.0.1:{port}") == 403
        assert status(port, "/", "127.0.0.1:1") == 403
        assert status(port, "/resourcez") == 404
        assert status(port, "/resourcez/") == 404


# ------------------------------------------------------------------------------ a room on one machine
def test_composed_configs_are_reused_and_each_caller_gets_its_own_copy() -> None:
    """Composing is cached (Hydra costs ~0.3 s a config), but a caller may change what it got."""
    overrides = ["levers.linking.intensity=0.35"]
    first = app.compose_config("all_six", overrides, seed=3, preset="workshop")
    hits = _composed.cache_info().hits
    second = app.compose_config("all_six", overrides, seed=3, preset="workshop")
    assert _composed.cache_info().hits == hits + 1
    assert first == second and first is not second
    second.levers.linking.intensity = 0.9
    again = app.compose_config("all_six", overrides, seed=3, preset="workshop")
    assert again.levers.linking.intensity == 0.35
    with pytest.raises(ConfigError, match="seed"):
        app.compose_config("all_six", overrides, seed=-1, preset="workshop")


def test_a_scenario_file_edited_while_serving_is_composed_again(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "extra"
    (folder / "scenario").mkdir(parents=True)
    path = folder / "scenario" / "room_test.yaml"
    source = (CONFIG_DIR / "scenario" / "baseline.yaml").read_text(encoding="utf-8")
    path.write_text(source.replace("name: baseline", "name: room_test"), encoding="utf-8")
    monkeypatch.setenv(SCENARIOS_ENV, str(folder))
    assert app.compose_config("room_test").scenario.title_en == "Baseline"
    path.write_text(
        source.replace("name: baseline", "name: room_test").replace("title_en: Baseline", "title_en: Edited"),
        encoding="utf-8",
    )
    _STAMPS.clear()  # the stamp is looked at again at most once a second
    assert app.compose_config("room_test").scenario.title_en == "Edited"


def test_every_chart_of_a_redraw_shares_one_snapshot_until_the_next_write() -> None:
    workshop = app.Workshop(app.Settings(preset="workshop", seed=2))
    workshop.step()
    snap = workshop.snapshot()
    assert workshop.snapshot() is snap
    workshop.step()
    stepped = workshop.snapshot()
    assert stepped is not snap and stepped.week == 2 and snap.week == 1
    workshop.change("A", app.Arm("baseline", intensities=(0.5,) * len(LEVERS)))
    changed = workshop.snapshot()
    assert changed is not stepped and changed.arms["A"].intensities == (0.5,) * len(LEVERS)
    workshop.branch()
    assert set(workshop.snapshot().arms) == {"A", "B"}


def test_redraws_thin_out_as_the_room_fills_but_never_stop() -> None:
    assert room.redraw_interval(1, 0.01) == room.MIN_REDRAW_S
    assert room.redraw_interval(0, 0.01) == room.MIN_REDRAW_S
    busy = room.redraw_interval(30, 0.01)
    assert room.MIN_REDRAW_S < busy <= room.MAX_REDRAW_S
    assert busy == pytest.approx(30 * 0.01 / room.REDRAW_CPU_SHARE)
    assert room.redraw_interval(300, 0.05) == room.MAX_REDRAW_S


def test_sessions_are_counted_and_memory_handed_back_when_they_close(capsys) -> None:
    sessions = room._Room()
    close_a = sessions.session_started()
    close_b = sessions.session_started()
    assert sessions.open == 2
    close_a()
    close_b()
    assert sessions.open == 0
    out = capsys.readouterr().out
    assert "(2 open)" in out and out.rstrip().endswith("(0 open)")
    assert sessions._release_due is not None  # the release thread of a server would hand memory back
    room.release_memory()  # collects and trims without raising, on any libc


def test_a_step_redraws_the_charts_in_place_and_leaves_the_sidebar_alone() -> None:
    """A redraw (one render pass for every view that follows the weeks) updates the charts'
    widgets in place; the page still steps, branches and resets."""
    _box, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
    try:
        step = rc.find(v.Btn, children=["Step"]).widget
        step.click()
        assert week_shown(rc) == "Week 1"
        charts = rc.find(app.PlotlyView).widgets
        assert len(charts) == 1 + len(app.SERIES_METRICS)
        before = [c.figure_json for c in charts]
        sliders = [w.v_model for w in rc.find(v.Slider).widgets]
        step.click()
        assert week_shown(rc) == "Week 2"
        assert rc.find(app.PlotlyView).widgets == charts  # the same chart widgets, redrawn in place
        assert all(c.figure_json != b for c, b in zip(charts, before, strict=True))
        assert [w.v_model for w in rc.find(v.Slider).widgets] == sliders
        rc.find(v.Btn, children=[app.text("branch", n=2)]).widget.click()
        step.click()
        assert week_shown(rc) == "Week 3"
        assert len(rc.find(app.PlotlyView).widgets) == 2 + 2 * len(app.SERIES_METRICS)
        rc.find(v.Btn, children=["Reset"]).widget.click()
        assert week_shown(rc) == "Week 0" and rc.find(app.PlotlyView).widgets == []
        step.click()
        assert len(rc.find(app.PlotlyView).widgets) == 2 + 2 * len(app.SERIES_METRICS)
    finally:
        rc.close()


@pytest.mark.slow
def test_a_room_of_socket_clients_is_served_and_every_session_closes(tmp_path: Path) -> None:
    """The load test's lightweight client (benchmarks/room_client.py) drives the real sim-app as
    a page does: first render, 中文, a scenario, a lever, play to a week, pause; the server counts
    the sessions and ends each when its page goes, with no traceback in its log."""
    import asyncio
    import importlib.util

    from conftest import sim_app

    spec = importlib.util.spec_from_file_location("room_client", ROOT / "benchmarks" / "room_client.py")
    assert spec is not None and spec.loader is not None
    client = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(client)
    info = app.scenario_config("all_six").scenario
    plan = {
        "scenario": "all_six",
        "scenario_title": info.title_zh,
        "week0": app.text("week", "zh", n=0),
        "lever_label": app.lever_label("linking", "zh"),
        "lever_value": 0.95,
        "lever_after": f"{app.lever_label('linking', 'zh')} 95%",
        "play_label": app.text("play", "zh"),
        "pause_label": app.text("pause", "zh"),
        "weeks": 3,
        "timeout_s": 120,
        "pause": True,
    }

    async def room(url: str) -> list[dict]:
        sessions = [client.SocketSession(k, plan) for k in range(2)]
        await asyncio.gather(*(s.setup(url, 0.0) for s in sessions))
        await asyncio.gather(*(s.play() for s in sessions))
        await asyncio.gather(*(s.close() for s in sessions))
        return [s.result for s in sessions]

    log = tmp_path / "sim-app.log"
    with sim_app(log) as port:
        results = asyncio.run(room(f"http://127.0.0.1:{port}/"))
        assert [r["error"] for r in results] == [None, None], results
        assert all(r["paused_at_week"] >= 3 and r["first_render_s"] > 0 for r in results)
        deadline = time.monotonic() + 20
        while "(0 open)" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.5)  # a dropped socket is a disconnect: culled after SESSION_CULL_TIMEOUT
    text = log.read_text()
    assert "(2 open)" in text
    assert "Traceback" not in text, text[-3000:]
