"""The workshop dashboard in a real browser: `sim-app` as a subprocess, Debian's Chromium
driven by Playwright (no browser download). Screenshots are saved under test-artifacts/."""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import sim_app

from sim.present import app
from sim.present.headless import CHROMIUM_PATH, HEADLESS_CHROMIUM_ARGS
from sim.present.workshop import DEFAULT_PRESET

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHROMIUM = Path(CHROMIUM_PATH)
ARTIFACTS = ROOT / "test-artifacts"

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing; .ci/run installs it with apt-get (package chromium)")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """sim-app on a free local port, started exactly as a facilitator starts it."""
    with sim_app(ARTIFACTS / "sim-app.log") as port:
        yield f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def browser(server: str):
    """One Chromium for the module: Playwright's sync API allows one instance per thread."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=list(HEADLESS_CHROMIUM_ARGS))
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def browser_page(browser, server: str):
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(20_000)
    page.goto(server)
    page.wait_for_selector(".week-counter", timeout=60_000)
    yield page, errors
    context.close()


def series_end_at(page, week: int, count: int) -> None:
    """Wait until ``count`` charts are drawn and the last point of every line is ``week``."""
    page.wait_for_function(
        """([week, count]) => {
            const plots = Array.from(document.querySelectorAll('.js-plotly-plot'));
            if (plots.length !== count) return false;
            return plots.every(p => p._fullData && p._fullData.length && p._fullData.every(t =>
                t.type !== 'scatter' || (t.mode || '').indexOf('lines') < 0 || (t.fill || 'none') !== 'none'
                || (t.x && t.x[t.x.length - 1] === week)));
        }""",
        arg=[week, count],
    )


def wait_for_texts(page, texts: list[str], timeout_ms: int = 60_000) -> str:
    """The page's text once it shows every one of ``texts`` (a language switch re-renders the
    page in parts; on a loaded machine the sidebar can follow the week counter by seconds)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    # on a time-out the caller's assertion names the missing text, not only that time ran out
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(
            "texts => texts.every(t => document.body.innerText.includes(t))", arg=texts, timeout=timeout_ms
        )
    return page.locator("body").inner_text()


def scenario_menu(page, arm: str, expected: list[str], timeout_s: float = 60) -> list[str]:
    """Open arm ``arm``'s scenario menu and return its items, reopening it until they are
    ``expected`` or time runs out (a menu opened during a language switch keeps its old items)."""
    deadline = time.monotonic() + timeout_s
    while True:
        page.locator(f".scenario-select-{arm} .v-select__slot").click()
        items = page.locator(".menuable__content__active .v-list-item")
        items.first.wait_for()
        # Vuetify draws a long menu 20 items at a time, more as it is scrolled: scroll to its end
        for _ in range(10):
            count = items.count()
            page.locator(".menuable__content__active").evaluate("el => { el.scrollTop = el.scrollHeight; }")
            time.sleep(0.3)
            if items.count() == count:
                break
        shown = items.all_inner_texts()
        if shown == expected or time.monotonic() > deadline:
            return shown
        page.keyboard.press("Escape")
        page.locator(".menuable__content__active").wait_for(state="detached")
        time.sleep(0.5)


def nudge(page, arm: str, lever: str, start: float, steps: int) -> float:
    """Press → on a lever's slider ``steps`` times, one step at a time: each change re-renders
    the slider (its label carries the value), which takes the keyboard focus away."""
    value = start
    slider = page.locator(f".arm-{arm} .v-input", has_text=app.lever_label(lever))
    for _ in range(steps):
        slider.get_by_role("slider").focus()
        page.keyboard.press("ArrowRight")
        value = min(1.0, round(value + app.INTENSITY_STEP, 4))
        slider.filter(has_text=f"{app.lever_label(lever)} {app.live.percent(value)}").wait_for()
    return value


def test_facilitator_session(browser_page) -> None:
    """Pick a scenario, move a lever, step, compare A/B, switch to 中文; measure a step's redraw."""
    page, errors = browser_page
    catalogue = app.scenario_catalogue(DEFAULT_PRESET)
    pick = "coverage_on_paper" if "coverage_on_paper" in catalogue else list(catalogue)[-1]
    info = catalogue[pick].scenario

    # pick a scenario: its title and description appear
    page.locator(".scenario-select-A .v-select__slot").click()
    page.locator(".menuable__content__active .v-list-item", has_text=info.title_en).first.click()
    page.locator(".scenario-A .scenario-title", has_text=info.title_en).wait_for()
    # the title and the description are separate views, redrawn in turn: wait for both
    page.locator(".scenario-description-A", has_text=info.description_en.split(".")[0]).wait_for(
        timeout=10_000
    )

    # move a slider: the linking lever, two steps of 0.05 to the right
    nudge(page, "A", "linking", catalogue[pick].levers.linking.intensity, 2)
    assert page.locator(".week-counter").inner_text() == "Week 0"

    # press Step several times: the counter follows and the charts are drawn
    step = page.get_by_role("button", name="Step", exact=True)
    for week in range(1, 4):
        step.click()
        page.locator(".week-counter", has_text=f"Week {week}").wait_for()
    series_end_at(page, 3, 1 + len(app.SERIES_METRICS))

    # responsiveness at the `community` preset: click → counter and every chart at the new week
    times = []
    for week in range(4, 9):
        started = time.perf_counter()
        step.click()
        page.locator(".week-counter", has_text=f"Week {week}").wait_for()
        series_end_at(page, week, 1 + len(app.SERIES_METRICS))
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print(f"community preset in Chromium: a step rendered in {median * 1000:.0f} ms (median of 5)")
    assert median < 1.0

    # A/B: the same seed, B = all six levers; two maps, overlaid series and their difference
    page.get_by_text(app.text("ab", "en")).click()
    page.locator(".scenario-B").wait_for()
    if "all_six" in catalogue:
        page.locator(".scenario-select-B .v-select__slot").click()
        title_b = catalogue["all_six"].scenario.title_en
        page.locator(".menuable__content__active .v-list-item", has_text=title_b).first.click()
        page.locator(".scenario-B .scenario-title", has_text=title_b).wait_for()
    for week in range(1, 3):
        step.click()
        page.locator(".week-counter", has_text=f"Week {week}").wait_for()
    series_end_at(page, 2, 2 + 2 * len(app.SERIES_METRICS))

    # 中文: every label switches, the run goes on where it was
    page.get_by_role("button", name="中文", exact=True).click()
    page.locator(".week-counter", has_text="第 2 周").wait_for()
    expected = [
        info.title_zh,
        "满意度",
        "参与率",
        "信任度",
        "未满足需求",
        app.text("difference", "zh"),
        app.lever_label("linking", "zh"),
        app.text("setting", "zh", arm="B"),
    ]
    body = wait_for_texts(page, expected)
    for shown in expected:
        assert shown in body, shown
    assert "Week" not in body and "Satisfaction" not in body
    for english in ("Reset", "Step", "Play", "Pause"):
        assert page.get_by_role("button", name=english, exact=True).count() == 0, english
    page.get_by_role("button", name="单步", exact=True).click()
    page.locator(".week-counter", has_text="第 3 周").wait_for()
    series_end_at(page, 3, 2 + 2 * len(app.SERIES_METRICS))
    titles = page.evaluate(
        "Array.from(document.querySelectorAll('.js-plotly-plot')).map(p => p.layout.title.text)"
    )
    assert any("满意度" in t for t in titles), titles

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    assert errors == [], errors


@pytest.fixture
def fresh_page(browser, server: str):
    """A new browser context on the dashboard (a new session: week 0, English, baseline)."""
    context = browser.new_context(viewport={"width": 1500, "height": 1100}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(30_000)
    page.goto(server)
    page.wait_for_selector(".week-counter", timeout=60_000)
    yield page, errors
    context.close()


def chart_shapes(page) -> list[int]:
    """How many event marks (vertical lines) each time-series chart carries."""
    return page.evaluate(
        """Array.from(document.querySelectorAll('.js-plotly-plot'))
            .filter(p => p.layout && p.layout.xaxis && p.layout.xaxis.range)
            .map(p => (p.layout.shapes || []).length)"""
    )


def test_room_session_mid_run_change_branch_export_presenter_handout(fresh_page) -> None:
    """What a facilitator does in front of a room, item by item of the dashboard's brief."""
    page, errors = fresh_page
    catalogue = app.scenario_catalogue(DEFAULT_PRESET)
    body = page.locator("body")
    assert "runs on Solara" not in body.inner_text()  # no framework badge over the charts

    # the scenario list follows the page language; pick a scenario in Chinese, then in English
    page.get_by_role("button", name="中文", exact=True).click()
    page.locator(".week-counter", has_text="第 0 周").wait_for()
    expected = [item["text"] for item in app.scenario_items(catalogue, "zh")]
    assert scenario_menu(page, "A", expected) == expected
    zh_title = catalogue["all_six"].scenario.title_zh
    page.locator(".menuable__content__active .v-list-item", has_text=zh_title).first.click()
    page.locator(".scenario-A .scenario-title", has_text=zh_title).wait_for()
    page.get_by_role("button", name="English", exact=True).click()
    page.locator(".week-counter", has_text="Week 0").wait_for()
    expected = [item["text"] for item in app.scenario_items(catalogue, "en")]
    assert scenario_menu(page, "A", expected) == expected
    page.locator(".menuable__content__active .v-list-item", has_text="Baseline").first.click()
    page.locator(".scenario-A .scenario-title", has_text="A: Baseline").wait_for()

    # every lever is explained next to its slider, with its cost
    for name in ("embedding", "integration"):
        help_text = page.locator(f".lever-help-{name}").inner_text()
        assert app.translate(app.LEVER_EXPLANATIONS, name, "en") in help_text
        assert "Cost at 100%" in help_text

    # play a few weeks: the baseline ghost line is there, axes fixed at 0–100 %
    step = page.get_by_role("button", name="Step", exact=True)
    for week in range(1, 5):
        step.click()
        page.locator(".week-counter", has_text=f"Week {week}").wait_for()
    series_end_at(page, 4, 1 + len(app.SERIES_METRICS))
    names = page.evaluate(
        "Array.from(document.querySelectorAll('.js-plotly-plot')).map(p => p.data.map(t => t.name))"
    )
    assert sum(app.word("baseline") in n for n in names) == len(app.SERIES_METRICS)
    ranges = page.evaluate(
        """Array.from(document.querySelectorAll('.js-plotly-plot'))
            .filter(p => p.layout.yaxis && p.layout.yaxis.tickformat === '.0%')
            .map(p => p.layout.yaxis.range)"""
    )
    assert ranges and all(r == [0, 1] for r in ranges), ranges
    assert "%" in page.locator(".scenario-A .now-line").inner_text()

    # move a slider mid-run: the week stays, the setting is marked modified, the charts mark week 4
    nudge(page, "A", "linking", catalogue["baseline"].levers.linking.intensity, 2)
    page.locator(".arm-A .modified").wait_for()
    assert page.locator(".week-counter").inner_text() == "Week 4"
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
            .some(p => (p.layout.shapes || []).length === 1 && p.layout.shapes[0].x0 === 4)"""
    )
    step.click()
    page.locator(".week-counter", has_text="Week 5").wait_for()
    page.screenshot(path=str(ARTIFACTS / "dashboard-mid-run-change.png"), full_page=True)

    # reset to preset takes the mark away
    page.locator(".reset-preset-A").click()
    page.locator(".arm-A .modified").wait_for(state="detached")

    # branch: B continues from week 5 as a copy of A; both futures on the same draw
    page.locator(".branch-button").click()
    page.locator(".scenario-B").wait_for()
    assert page.locator(".week-counter").inner_text() == "Week 5"
    nudge(page, "B", "integration", catalogue["baseline"].levers.integration.intensity, 10)
    page.locator(".arm-B .modified").wait_for()
    for week in (6, 7):
        step.click()
        page.locator(".week-counter", has_text=f"Week {week}").wait_for()
    series_end_at(page, 7, 2 + 2 * len(app.SERIES_METRICS))
    diff = page.evaluate(
        """Array.from(document.querySelectorAll('.js-plotly-plot'))
            .filter(p => p.layout.showlegend === false).map(p => p.data[0].y)"""
    )
    assert len(diff) == len(app.SERIES_METRICS)
    assert all(all(abs(v) < 1e-12 for v in y[:5]) for y in diff), "B differs from A before the branch"
    assert any(abs(v) > 0 for y in diff for v in y[5:]), "the branch changed nothing"
    page.screenshot(path=str(ARTIFACTS / "dashboard-branch.png"), full_page=True)

    # export a chart as PNG and as SVG
    chart = page.locator(".sim-chart").nth(1)
    for fmt in ("png", "svg"):
        with page.expect_download() as info:
            chart.locator(f".export-{fmt}").click()
        path = ARTIFACTS / f"chart.{fmt}"
        info.value.save_as(path)
        head = path.read_bytes()[:200]
        assert head.startswith(b"\x89PNG") if fmt == "png" else b"<svg" in head, head[:40]

    # presenter mode: large type and taller charts, then full screen for one chart
    standard = page.evaluate("document.querySelector('.js-plotly-plot').layout.height")
    page.locator(".presenter-toggle").click()
    page.locator(".presenter .week-counter").wait_for()
    page.wait_for_function("h => document.querySelector('.js-plotly-plot').layout.height > h", arg=standard)
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.week-counter')).fontSize)")
    assert size >= 40, size
    page.screenshot(path=str(ARTIFACTS / "dashboard-presenter.png"), full_page=False)
    chart.locator(".full-screen").click()
    page.wait_for_function("() => document.fullscreenElement !== null")
    page.screenshot(path=str(ARTIFACTS / "dashboard-full-screen.png"))
    page.evaluate("document.exitFullscreen()")
    page.locator(".presenter-toggle").click()

    # the handout: one bilingual page of the session
    with page.expect_download() as info:
        page.get_by_text(app.text("handout", "en")).click()
    handout = ARTIFACTS / "handout.html"
    info.value.save_as(handout)
    content = handout.read_text(encoding="utf-8")
    for expected in ("工作坊小结", "Workshop summary", "B branched from A", "满意度", "Satisfaction"):
        assert expected in content, expected
    assert errors == [], errors


def test_server_log_has_no_cookie_warnings_or_exceptions(server: str, fresh_page) -> None:
    """After sessions came and went, the log holds no per-page warning and no traceback."""
    page, _errors = fresh_page
    page.get_by_role("button", name="Step", exact=True).click()
    page.locator(".week-counter", has_text="Week 1").wait_for()
    log = (ARTIFACTS / "sim-app.log").read_text()
    assert "samesite" not in log.lower(), log[-2000:]
    assert "Traceback" not in log, log[-4000:]
