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

from sim.core.config import ConfigError
from sim.core.levers import LEVERS
from sim.core.metrics import METRICS
from sim.experiment.simulate import simulate
from sim.present import app

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
    assert_same_metrics(same.arms["A"].recorder.frame(), same.arms["B"].recorder.frame())

    # and arm A is exactly the factory's model
    alone = app.make_model("baseline", [], seed=7, preset="workshop")
    assert_same_metrics(same.arms["A"].recorder.frame(), run_weeks(alone, 6))

    # a different setting on the same draw: the difference plotted is the setting's effect
    b = app.Arm("baseline", intensities=(1.0,) * len(LEVERS))
    ab = app.Workshop(app.Settings(a=a, b=b, preset="workshop", seed=7))
    for _ in range(6):
        ab.step()
    diff = app.difference_figures(ab)
    assert len(diff) == len(app.SERIES_METRICS)
    fa, fb = ab.arms["A"].recorder.frame(), ab.arms["B"].recorder.frame()
    assert not np.allclose(fa["participation"], fb["participation"])
    line = diff[0].data[-1]  # the mean line of participation B − A
    assert np.allclose(np.asarray(line.y, dtype=float), fb["participation"] - fa["participation"])


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
        app._parse(["--port", "70000"])
    assert err.value.code == 2
    assert "--port=70000" in capsys.readouterr().err
    args = app._parse([])
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
    for key in app._TEXT:
        en, zh = (
            app.text(key, "en", n=1, arm="A", metric="m", message="x", name="n"),
            app.text(key, "zh", n=1, arm="A", metric="m", message="x", name="n"),
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
    assert "满意度" in figs[2].layout.title.text
    assert figs[1].data[-1].x[-1] == 3

    # the map's gaps between compounds travel as valid JSON (no NaN constant)
    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in figure JSON")

    decoded = json.loads(app.figure_json(figs[0]), parse_constant=refuse)
    assert decoded["data"][0]["type"] == "heatmap"


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
