"""sim-report on real runs: one offline HTML file, opened in headless Debian Chromium."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.core.config import from_dict
from sim.experiment.simulate import simulate
from sim.present.report import main as report_main
from sim.results import collect, write_run

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WORKSHOP = {
    "preset": "workshop",
    "n_compounds": 2,
    "buildings_per_compound": 5,
    "households_per_building": 40,
}
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LEVERS = ("embedding", "converging", "linking", "immersion", "conduction", "integration")
ALL_SIX = {name: {"intensity": 1.0} for name in LEVERS}


def _write(out: Path, name: str, levers: dict, arm: str | None = None, **extra) -> Path:
    data = {
        "community": WORKSHOP,
        "replicates": 3,
        "steps": 16,
        "levers": levers,
        "scenario": {"name": name, "title_en": name.title(), "title_zh": f"情景{name}"},
    }
    data.update(extra)
    result = simulate(from_dict(data))
    if arm is not None:  # what the design sweeper records for a named arm
        result.metrics.insert(0, "arm", arm)
    return write_run(out, result.metrics, result.buildings, result.summary, f"scenario: {name}\n")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A single run, a scenario set and a collected lever sweep, all real."""
    root = tmp_path_factory.mktemp("reports")
    single = _write(root / "single", "baseline", {})
    scen = root / "scenarios"
    _write(scen / "baseline", "baseline", {})
    _write(scen / "linking", "linking", {"linking": {"intensity": 1.0}})
    _write(
        scen / "all_six", "all_six", {n: {"intensity": 0.6} for n in ("embedding", "linking", "immersion")}
    )
    sweep = root / "sweep"
    for i, (a, b) in enumerate([(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]):
        levers = {"linking": {"intensity": a}, "immersion": {"intensity": b}}
        _write(sweep / str(i), "grid", levers, replicates=2, record_buildings=False)
    report = collect(sweep)
    assert report.written and not report.problems
    arms = root / "arms"
    for i, (arm, levers) in enumerate(
        [("baseline", {}), ("only_linking", {"linking": {"intensity": 1.0}}), ("all_six", ALL_SIX)]
    ):
        _write(arms / str(i), "baseline", levers, arm=arm, replicates=2, record_buildings=False)
    assert collect(arms).written
    return {"run": single, "scenarios": scen, "sweep": report.collected, "arms": arms}


def _report(path: Path, *args: str) -> Path:
    assert report_main([str(path), *args]) == 0
    return (path.parent if path.is_file() else path) / "report.html"


def _no_external_references(text: str) -> None:
    """No tag loads anything from elsewhere: scripts, styles, images and frames are inline."""
    tags = re.findall(r"<(?:script|link|img|iframe|source|embed)\b[^>]*>", text, flags=re.I)
    for tag in tags:
        assert not re.search(r"\b(?:src|href)\s*=", tag, flags=re.I), tag
    assert "cdn.plot.ly" not in re.sub(r"<script[^>]*>.*?</script>", "", text, flags=re.S)


@pytest.mark.parametrize("kind", ["run", "scenarios", "sweep", "arms"])
def test_report_is_one_offline_html_file(results, kind):
    out = _report(results[kind])
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    _no_external_references(text)
    # plotly.js is inlined exactly once, whatever the number of figures
    assert text.count("plotly.js v") >= 1
    assert len(re.findall(r"<script type=\"text/javascript\">/\*\*\s*\n\* plotly\.js", text)) <= 1
    assert text.count('<figure id="fig-') >= 2
    assert "Summary at the final week" in text and "What was run" in text
    expected = {
        "run": "one run",
        "scenarios": "a set of scenarios",
        "sweep": "a parameter sweep",
        "arms": "a set of 3 arms",
    }[kind]
    assert expected in text


def test_scenario_report_compares_to_baseline(results):
    text = _report(results["scenarios"], "-o", str(results["scenarios"] / "zh.html"), "--lang", "zh")
    text = (results["scenarios"] / "zh.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in text
    assert "情景linking" in text and "情景all_six" in text
    assert 'id="fig-effects_satisfaction"' in text
    assert "运行内容" in text and "末周汇总" in text
    assert text.index("要点") < text.index("运行内容")  # takeaways come first


def test_sweep_report_shows_grid_and_frontier(results):
    text = _report(results["sweep"]).read_text(encoding="utf-8")
    assert 'id="fig-grid_satisfaction"' in text and 'id="fig-frontier"' in text
    assert "levers.linking.intensity" in text
    # parameters that never varied live in the collected file's metadata; the report shows them
    assert "≈ 400" in text


def test_arms_of_a_design_sweep_are_compared_to_the_baseline_arm(results):
    from sim.present.report import read_source, summary_table

    src = read_source(results["arms"] / "collected.parquet")
    assert (src.kind, src.arms, src.unit) == ("scenarios", "arm", "point")
    table = summary_table(src)
    assert list(table["Arm"]) == ["baseline", "only_linking", "all_six"]
    text = _report(results["arms"]).read_text(encoding="utf-8")
    assert 'id="fig-effects_satisfaction"' in text and "only_linking" in text


BOUNDED = ("satisfaction", "participation", "trust", "need_information")


def _intervals_in_range(text: str) -> None:
    """Every [low, high] printed in the summary table for a bounded metric lies in [0, 1]."""
    from sim.core.metrics import label

    table = text[text.index('class="dataframe summary"') :]
    table = table[: table.index("</table>")]
    header = [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", table, re.S)]
    bounded = {label(m, lang) for m in BOUNDED for lang in ("en", "zh")}
    columns = [i for i, h in enumerate(header) if h in bounded]
    assert columns, header
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]:
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        for i in columns:
            low, high = (float(x) for x in re.findall(r"\[(-?[\d.]+), (-?[\d.]+)\]", cells[i])[0])
            assert 0.0 <= low <= high <= 1.0, (header[i], cells[i])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_arm_report_tells_the_story_first(results, lang) -> None:
    """Takeaways before the facts, the arms listed with settings and names in the report's language,
    no empty columns, and intervals inside the range of bounded metrics."""
    out = results["arms"] / f"story-{lang}.html"
    assert report_main([str(results["arms"]), "-o", str(out), "--lang", lang]) == 0
    text = out.read_text(encoding="utf-8")
    head = "要点" if lang == "zh" else "Takeaways"
    facts = "运行内容" if lang == "zh" else "What was run"
    assert text.index(head) < text.index(facts) < text.index('<figure id="fig-')
    takeaways = re.search(r'<ul class="takeaways">(.*?)</ul>', text, flags=re.S).group(1)
    items = re.findall(r"<li>(.*?)</li>", takeaways)
    assert 3 <= len(items) <= 5, items
    best = "仅链入" if lang == "zh" else "Linking alone"
    assert any(n in takeaways for n in (best, "六入齐备" if lang == "zh" else "All six levers")), takeaways
    assert re.search(r"\d\.\d{3}", takeaways)  # numbers, not adjectives
    arms = text[text.index('class="dataframe arms"') :]
    arms = arms[: arms.index("</table>")]
    for name in ("baseline", "only_linking", "all_six"):
        assert name in arms
    assert ("仅链入" if lang == "zh" else "Linking alone") in arms and "100%" in arms
    assert "<td>—</td>" not in text  # empty columns are left out, not shown as dashes


def test_report_intervals_stay_in_the_range_of_bounded_metrics(results) -> None:
    out = results["arms"] / "range.html"
    assert report_main([str(results["arms"]), "-o", str(out)]) == 0
    _intervals_in_range(out.read_text(encoding="utf-8"))


def test_sim_run_report_true_writes_report_next_to_results(tmp_path):
    run_dir = tmp_path / "run"
    proc = subprocess.run(
        [
            str(BIN / "sim-run"),
            "community=workshop",
            "steps=8",
            "replicates=2",
            "report=true",
            f"hydra.run.dir={run_dir}",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert (run_dir / "metrics.parquet").exists() and (run_dir / "report.html").exists()
    assert 'id="fig-map_satisfaction"' in (run_dir / "report.html").read_text(encoding="utf-8")


def test_bad_path_is_one_line_error(tmp_path, capsys):
    assert report_main([str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "missing" in err and "allowed" in err


def _require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is needed: apt-get update && apt-get install -y chromium")


def _non_blank(png: bytes) -> tuple[float, int]:
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    ink = float((pixels.min(axis=1) < 235).mean())
    colours = len(np.unique(pixels, axis=0))
    return ink, colours


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium driven by Playwright (never a downloaded browser)."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.mark.parametrize("kind", ["run", "scenarios", "sweep"])
def test_report_renders_in_headless_chromium_offline(results, browser, kind):
    out = _report(results[kind])
    errors: list[str] = []
    outside: list[str] = []
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def guard(route):
        url = route.request.url
        if url.startswith(("file://", "data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", guard)
    page.goto(out.as_uri(), wait_until="load")
    page.wait_for_function(
        "document.querySelectorAll('figure .js-plotly-plot .main-svg').length"
        " >= document.querySelectorAll('figure').length",
        timeout=30_000,
    )
    n_figures = page.locator("figure").count()
    rendered = page.evaluate(
        "Array.from(document.querySelectorAll('figure .js-plotly-plot'))"
        ".filter(d => d._fullData && d._fullData.length > 0).length"
    )
    first = page.locator("figure .js-plotly-plot").first.screenshot()
    top = page.screenshot()
    page.close()
    assert errors == []
    assert outside == []
    assert rendered == n_figures >= 2
    ink, colours = _non_blank(first)
    assert ink > 0.02 and colours > 20, (ink, colours)
    assert _non_blank(top)[0] > 0.02


def test_png_export_with_system_chromium(results, tmp_path):
    _require_chromium()
    run = results["run"]
    out = tmp_path / "r.html"
    assert report_main([str(run), "-o", str(out), "--png"]) == 0
    pngs = sorted((tmp_path / "report_png").glob("*.png"))
    assert len(pngs) >= 5
    ink, colours = _non_blank(pngs[0].read_bytes())
    assert ink > 0.02 and colours > 20


def test_png_without_browser_says_what_to_install(results, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "BROWSER_PATH"}
    env["PATH"] = str(BIN)  # no chromium on this PATH
    proc = subprocess.run(
        [str(BIN / "sim-report"), str(results["run"]), "-o", str(tmp_path / "r.html"), "--png"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 3
    assert "apt-get install -y chromium" in proc.stderr
    assert (tmp_path / "r.html").exists()  # the HTML report is still written


def test_sampled_design_sweep_gets_sensitivity_bars(tmp_path):
    """A Sobol design run by sim-run -m and collected by sim-collect: the report shows its indices."""
    sweep = tmp_path / "sobol"
    overrides = ["experiment=sobol", "community=workshop", "steps=2", "replicates=1", "hydra.sweeper.n=2"]
    overrides.append("hydra/launcher=basic")  # in-process: the launcher is not what is tested here
    run = subprocess.run(
        [str(BIN / "sim-run"), "-m", *overrides, f"hydra.sweep.dir={sweep}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert (
        subprocess.run([str(BIN / "sim-collect"), str(sweep)], capture_output=True, timeout=120).returncode
        == 0
    )
    text = _report(sweep).read_text(encoding="utf-8")
    for output in ("satisfaction", "participation", "trust"):
        assert f'id="fig-sobol_{output}"' in text
    assert "fig-curve_" not in text  # no curves along a sampled (not gridded) input
    _no_external_references(text)
