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
import pandas as pd
import pytest

from sim.cli.report import main as report_main
from sim.core.config import from_dict
from sim.experiment.simulate import simulate
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


# ------------------------------------------------------------------------------ provenance footer
def _footer(text: str) -> str:
    return text[text.index("<footer>") : text.index("</footer>")]


def test_footer_shows_the_runs_commit_and_command_line(results, tmp_path) -> None:
    """The footer says what made the numbers: the run's commit, command line, Python and versions."""
    import html
    import json
    import shlex

    prov = json.loads((results["run"] / "summary.json").read_text(encoding="utf-8"))["provenance"]
    text = _report(results["run"]).read_text(encoding="utf-8")
    footer = _footer(text)
    if prov["commit"]:
        assert prov["commit"][:7] in footer
    assert ("(modified tree)" in footer) == bool(prov["dirty"])
    assert html.escape(shlex.join(prov["command_line"])) in footer
    assert f"Python {prov['python']}" in footer and f"numpy {prov['dependencies']['numpy']}" in footer

    # a run made from a modified tree by a known command, in both languages
    result = simulate(from_dict({"community": WORKSHOP, "replicates": 1, "steps": 4}))
    result.summary["provenance"] |= {
        "commit": "0123456789abcdef0123456789abcdef01234567",
        "dirty": True,
        "command_line": ["sim-run", "scenario=baseline", "seed=7"],
    }
    run = write_run(tmp_path / "run", result.metrics, result.buildings, result.summary, "x: 1\n")
    for lang, commit in (("en", "0123456 (modified tree)"), ("zh", "0123456（工作区有未提交修改）")):
        out = tmp_path / f"{lang}.html"
        assert report_main([str(run), "-o", str(out), "--lang", lang]) == 0
        footer = _footer(out.read_text(encoding="utf-8"))
        assert commit in footer, footer
        assert "<code>sim-run scenario=baseline seed=7</code>" in footer


def test_footer_of_a_sweep_shows_the_sweeps_command_and_every_commit() -> None:
    from sim.present.report import provenance_html

    base = {"version": "0.2.0", "python": "3.13.0", "platform": "Linux-x", "dependencies": {"numpy": "2.5"}}
    design = base | {"origin": "design", "commit": "a" * 40, "dirty": False, "seeds": {"seed": 12345}}
    design["command_line"] = ["sim-run", "-m", "experiment=sobol", "hydra.sweep.dir=/tmp/a b"]
    runs = [
        base | {"origin": "run", "commit": c, "dirty": d, "seeds": {"seed": 5}, "command_line": ["worker"]}
        for c, d in (("a" * 40, False), ("b" * 40, True))
    ]
    footer = provenance_html([design, *runs], "en")
    assert "2 runs" in footer and "aaaaaaa" in footer and "bbbbbbb (modified tree)" in footer
    assert "<code>sim-run -m experiment=sobol &#x27;hydra.sweep.dir=/tmp/a b&#x27;</code>" in footer
    assert "worker" not in footer  # the sweep's own command is the one to repeat
    assert "seed 5" in footer and "design seed 12345" in footer and "numpy 2.5" in footer
    assert "设计抽样种子 12345" in provenance_html([design, *runs], "zh")
    assert "No provenance recorded" in provenance_html([], "en")


# ------------------------------------------------------------------------------ sparse columns
def test_gain_known_only_for_the_baseline_is_left_out_not_dashed(tmp_path) -> None:
    """Arms run without a baseline twin (lever_ablation: baseline_comparison=false) have no gain of
    their own: the column is left out, and the note says where their paired differences are."""
    from sim.present.report import read_source, summary_table

    sweep = tmp_path / "ablation"
    for i, (arm, levers) in enumerate(
        [("baseline", {}), ("only_linking", {"linking": {"intensity": 1.0}}), ("all_six", ALL_SIX)]
    ):
        _write(
            sweep / str(i),
            "baseline",
            levers,
            arm=arm,
            replicates=2,
            steps=6,
            record_buildings=False,
            baseline_comparison=False,
        )
    assert collect(sweep).written
    src = read_source(sweep)
    table = summary_table(src)
    assert "Satisfaction gain over baseline" not in table.columns
    assert (table != "—").all().all()
    text = _report(sweep).read_text(encoding="utf-8")
    assert "<td>—</td>" not in text
    assert "Satisfaction gain over baseline: left out of the table, known in only 1 of 3 rows" in text


# ------------------------------------------------------------------------------ design takeaways
XA, XO = "levers.embedding.member_activity", "dynamics.threshold_sd"


def _design_source(tmp_path: Path, method: str, analysis: dict, metrics=None):
    from sim.present.report import Source

    params = [{"name": "member_activity", "key": XA}, {"name": "threshold_sd", "key": XO}]
    params.append({"name": "linking", "key": "levers.linking.intensity"})
    df = metrics if metrics is not None else pd.DataFrame({"point": [0, 1], "step": [1, 1]})
    return Source(
        path=tmp_path,
        kind="sweep",
        metrics=df,
        varying=[XA, XO] if metrics is not None else [],
        unit="point",
        design={"method": method, "n": 8, "params": params},
        analysis=analysis,
    )


def _sobol_table(n: int, half: float) -> pd.DataFrame:
    """Indices of three inputs for two outputs; the order of influence differs between outputs."""
    rows = []
    for output, st in (("satisfaction", (0.6, 0.25, 0.05)), ("participation", (0.1, 0.2, 0.7))):
        for name, value in zip(("member_activity", "threshold_sd", "linking"), st, strict=True):
            s1 = value * 0.8
            rows.append(
                {"group": "", "output": output, "input": name, "S1": s1, "S1_low": s1 - half}
                | {"S1_high": s1 + half, "ST": value, "ST_low": value - half, "ST_high": value + half}
                | {"level": 0.95, "n": n}
            )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_sobol_takeaways_name_the_most_influential_inputs_and_warn_when_n_is_small(tmp_path, lang):
    from sim.analysis import sensitivity
    from sim.present.plots import param_label
    from sim.present.report import story

    small = _sobol_table(8, 0.2)
    checks = sensitivity.convergence(small)
    points = story.takeaways(_design_source(tmp_path, "sobol", {"sobol": small, "convergence": checks}), lang)
    text = " ".join(points)
    assert points[0].startswith("警告" if lang == "zh" else "Warning")  # before the numbers it qualifies
    assert f"hydra.sweeper.n={int(checks['recommended_n'].max())}" in points[0]
    # the first input named for each output is the one with the largest ST, with its interval
    sat = next(p for p in points if p.startswith("满意度" if lang == "zh" else "Satisfaction"))
    assert param_label(XA, lang) in sat and "0.600 [0.400, 0.800]" in sat
    assert sat.index(param_label(XA, lang)) < sat.index(param_label(XO, lang))
    part = next(p for p in points if p.startswith("参与率" if lang == "zh" else "Participation"))
    assert part.index(param_label("levers.linking.intensity", lang)) < part.index(param_label(XA, lang))
    assert "0.700 [0.500, 0.900]" in part and "N = 8" in text

    # a large N with narrow intervals: no warning, and the report says N sufficed
    large = _sobol_table(512, 0.01)
    points = story.takeaways(_design_source(tmp_path, "sobol", {"sobol": large}), lang)
    assert not any(p.startswith(("Warning", "警告")) for p in points)
    assert ("N = 512 已足够" if lang == "zh" else "N = 512 is large enough") in " ".join(points)


def test_morris_takeaways_rank_by_mu_star_and_warn_when_the_top_two_overlap(tmp_path):
    from sim.present.report import story

    def table(top_low: float) -> pd.DataFrame:
        rows = []
        for name, mu, low, high in (
            ("threshold_sd", 0.30, top_low, 0.35),
            ("linking", 0.12, 0.08, 0.16),
            ("member_activity", 0.02, 0.0, 0.04),
        ):
            rows.append(
                {"group": "", "output": "satisfaction", "input": name, "mu": mu, "mu_star": mu}
                | {"mu_star_low": low, "mu_star_high": high, "sigma": mu / 2, "level": 0.95}
            )
        return pd.DataFrame(rows)

    points = story.takeaways(_design_source(tmp_path, "morris", {"morris": table(0.25)}), "en")
    assert points[0].startswith("Satisfaction is most sensitive to Spread of participation thresholds")
    assert "μ* 0.300 [0.250, 0.350]" in points[0] and "8 trajectories" in points[0]
    assert not any(p.startswith("Warning") for p in points)
    points = story.takeaways(_design_source(tmp_path, "morris", {"morris": table(0.10)}), "zh")
    assert any(p.startswith("警告：8 条轨迹下") for p in points), points


def _tipping_sweep(at: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Replicate × point rows whose participation jumps at member activity ``at`` (by more at
    σ_θ = 0.2), and the tipping table sim-analyse makes of them."""
    from sim.analysis import tipping
    from sim.analysis.stats import interval_table

    rng = np.random.default_rng(3)
    rows, point = [], 0
    for sd in (0.2, 0.4):
        for x in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
            for r in range(4):
                p = 0.1 + (0.4 if sd == 0.2 else 0.1) * (x >= at) + 0.02 * x + rng.normal(0, 0.01)
                s = 0.5 + 0.1 * x + rng.normal(0, 0.01)
                rows.append(
                    {"point": point, "replicate": r, "seed": 1, "step": 8, XA: x, XO: sd}
                    | {"participation": p, "satisfaction": s}
                )
            point += 1
    df = pd.DataFrame(rows)
    summary = df.groupby(["point", XA, XO], as_index=False).size()
    for m in ("participation", "satisfaction"):
        iv = interval_table(df, ["point"], m)[["point", "mean", "low", "high"]]
        summary = summary.merge(iv.add_prefix(f"{m}_").rename(columns={f"{m}_point": "point"}), on="point")
    table = pd.concat(
        [tipping.tipping_points(summary, XA, m, by=[XO]) for m in ("participation", "satisfaction")],
        ignore_index=True,
    )
    return df, table


@pytest.mark.parametrize(("at", "before", "after"), [(0.6, "0.4", "0.6"), (0.4, "0.2", "0.4")])
def test_tipping_takeaways_say_where_the_steepest_change_is_with_its_interval(tmp_path, at, before, after):
    from sim.present import plots
    from sim.present.report import story

    df, table = _tipping_sweep(at)
    src = _design_source(tmp_path, "factorial", {"tipping": table}, metrics=df)
    src.design["params"] = src.design["params"][:2]
    points = story.takeaways(src, "en")
    first = points[0]
    row = table[table["metric"] == "participation"].sort_values("jump").iloc[-1]
    assert first.startswith(f"Participation rate changes most steeply along {plots.param_label(XA)}")
    assert f"between {before} and {after}" in first and f"{plots.param_label(XO)} = 0.2" in first
    assert f"by {row['jump']:+.3f} (" in first and "paired by replicate" in first
    low, high = (float(v) for v in re.search(r"\(([+-][\d.]+) to ([+-][\d.]+), paired", first).groups())
    assert low < row["jump"] < high  # the paired interval of the step itself
    assert "in 2 of 2 curves" in first  # both σ_θ curves jump clearly
    zh = story.takeaways(src, "zh")[0]
    assert zh.startswith("参与率沿") and f"在 {before} 与 {after} 之间" in zh and "按重复实验配对" in zh


@pytest.mark.parametrize(
    ("method", "table"), [("sobol", "sobol"), ("morris", "morris"), ("factorial", "tipping")]
)
def test_design_takeaways_without_analysis_tables_say_to_run_sim_analyse(tmp_path, method, table):
    from sim.present.report import story

    df = _tipping_sweep(0.6)[0] if method == "factorial" else None
    src = _design_source(tmp_path, method, {}, metrics=df)
    for lang in ("en", "zh"):
        first = story.takeaways(src, lang)[0]
        assert f"sim-analyse {tmp_path}" in first and f"analysis/{table}.parquet" in first


def test_a_killed_reports_temporary_file_is_removed_by_the_next_report(results, tmp_path) -> None:
    """sim-report writes atomically through `.report.html.<pid>-<host>.<random>.tmp`; a file a
    dead process left there goes when the next report is written, a live writer's stays."""
    from sim.results import _host_tag

    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    host = _host_tag()
    orphan = out / f".report.html.{dead.pid}-{host}.abc123.tmp"
    orphan.write_text("half")
    live = out / f".report.html.{os.getpid()}-{host}.def456.tmp"
    live.write_text("being written")
    assert report_main([str(results["run"]), "-o", str(out / "report.html")]) == 0
    assert (out / "report.html").exists() and not orphan.exists() and live.exists()
