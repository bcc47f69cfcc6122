"""sim-report on real folders of sim-calibrate, sim-validate and sim-optimise (tiny settings).

Each folder is made by the command itself, with the small settings its own tests use; the
report must open with three to five takeaways in the chosen language, keep every interval in
its range, leave out empty columns and refuse a foreign or unfinished folder in one line.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import TINY_CALIBRATION as TINY

from sim.cli.report import main as report_main
from sim.present import plots
from sim.present.report.kinds import detect, figures, read_kind

#: a wide measurement sd: the noisy predictive reaches beyond 1, so the report must keep it in [0, 1]
TARGETS = {
    "parameters": {"dynamics.fee_base": {"lo": 0.3, "hi": 0.9}},
    "targets": {"fee_collection": {"value": 0.75, "sd": 0.2}},
    "plausibility": {"participation": {"lo": 0.0, "hi": 0.48}},
}
OPTIMISE = ["community=workshop", "steps=8", "budget=4", "population=6", "generations=2", "draws=2"]


@pytest.fixture(scope="module")
def calibration(tmp_path_factory) -> Path:
    pytest.importorskip("pyabc")
    from sim.cli.calibrate import main

    root = tmp_path_factory.mktemp("calibration")
    targets = root / "tiny.yaml"
    targets.write_text(yaml.safe_dump(TARGETS))
    out = root / "out"
    argv = [f"targets={targets}", f"out={out}", "population=20", "generations=2", "draws=24", *TINY]
    assert main(argv) == 0
    return out


@pytest.fixture(scope="module")
def validation(tmp_path_factory) -> Path:
    from sim.cli.validate import cli

    out = tmp_path_factory.mktemp("validation") / "v"
    assert cli(["seeds=3", "seed=5", "patterns=public_goods_decay,burden_rebound", f"out={out}"]) == 0
    return out


@pytest.fixture(scope="module")
def optimisation(tmp_path_factory) -> Path:
    from sim.cli.optimise import cli

    out = tmp_path_factory.mktemp("optimisation") / "o"
    cli([*OPTIMISE, f"out={out}"])
    assert (out / "pareto.parquet").is_file()
    return out


def _report(folder: Path, lang: str) -> str:
    out = folder / f"report-{lang}.html"
    assert report_main([str(folder), "-o", str(out), "--lang", lang]) == 0
    return out.read_text(encoding="utf-8")


def _takeaways(text: str) -> list[str]:
    block = re.search(r'<ul class="takeaways">(.*?)</ul>', text, flags=re.S).group(1)
    return re.findall(r"<li>(.*?)</li>", block, flags=re.S)


def _pairs(text: str) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in re.findall(r"\[(-?[\d.]+), (-?[\d.]+)\]", text)]


WORDS = {
    ("calibration", "en"): ("Fee collection", "90% credible interval", "for one simulated community"),
    ("calibration", "zh"): ("物业费收缴率", "90% 可信区间", "单个模拟社区"),
    ("validation", "en"): ("hold", "Knock-out verdict", "seeds"),
    ("validation", "zh"): ("成立", "敲除实验判定", "种子"),
    ("optimisation", "en"): ("Satisfaction", "budget_frontier arms", "each one community"),
    ("optimisation", "zh"): ("满意度", "预算前沿方案", "单个社区"),
}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("kind", ["calibration", "validation", "optimisation"])
def test_each_kind_opens_with_takeaways_in_its_language(request, kind, lang) -> None:
    text = _report(request.getfixturevalue(kind), lang)
    assert text.startswith("<!DOCTYPE html>") and ('<html lang="zh-CN">' in text) == (lang == "zh")
    head, facts, tables = (
        ("要点", "运行内容", "数据表") if lang == "zh" else ("Takeaways", "What was run", "Tables")
    )
    order = [text.index(head), text.index(facts), text.index('<figure id="fig-'), text.index(tables)]
    assert order == sorted(order) and order[-1] < text.index('<p class="provenance">')
    footer = text[text.index("<footer>") : text.index("</footer>")]  # the command's own provenance
    command = {"calibration": "sim-calibrate", "validation": "sim-validate", "optimisation": "sim-optimise"}
    assert f"<code>{command[kind]} " in footer and "No provenance" not in footer and "未记录" not in footer
    items = _takeaways(text)
    assert 3 <= len(items) <= 5, items
    assert all(re.search(r"\d", item) for item in items)  # numbers, not adjectives
    for word in WORDS[kind, lang]:
        assert word in text, word
    if lang == "zh":  # the sentences themselves are Chinese, not English with Chinese labels
        assert all(re.search(r"[\u4e00-\u9fff]", item) for item in items), items
        assert "Takeaways" not in text and "What was run" not in text
    assert text.count("plotly.js v") >= 1 and "cdn.plot.ly" not in re.sub(
        r"<script.*?</script>", "", text, flags=re.S
    )


def test_calibration_intervals_stay_in_range_and_match_the_posterior(calibration) -> None:
    from sim.experiment.calibrate import weighted_quantile

    predictive = pd.read_parquet(calibration / "predictive.parquet")
    noisy = predictive["fee_collection@observed"].to_numpy()
    # the test means something: the raw 95% quantile of the noisy predictive leaves [0, 1]
    assert np.quantile(noisy, 0.95) > 1 or np.quantile(noisy, 0.05) < 0
    text = _report(calibration, "en")
    items = _takeaways(text)
    target = next(i for i in items if i.startswith("Target Fee collection"))
    low, high = _pairs(target)[0]
    assert 0.0 <= low <= high <= 1.0, target
    checks = text[text.index("Posterior predictive check") :]
    for low, high in _pairs(checks[: checks.index("</table>")]):
        assert 0.0 <= low <= high <= 1.0
    post = pd.read_parquet(calibration / "posterior.parquet")
    lo, median, hi = weighted_quantile(post["dynamics.fee_base"], post["weight"], np.array([0.05, 0.5, 0.95]))
    key = next(i for i in items if i.startswith("dynamics.fee_base"))
    assert f"median {median:.3g}, 90% credible interval [{lo:.3g}, {hi:.3g}]" in key
    assert 0.3 <= lo <= hi <= 0.9
    # two generations of twenty particles are too few, and the report says so first
    assert items[0].startswith("Warning: too little to trust the posterior: 2 generations of 20 particles")


def test_validation_counts_verdicts_names_failures_and_knockouts(validation) -> None:
    table = pd.read_parquet(validation / "validation.parquet")
    items = _takeaways(_report(validation, "en"))
    counts = table["verdict"].value_counts()
    assert items[0].startswith(
        f"Of {len(table)} patterns, {counts.get('holds', 0)} hold, {counts.get('fails', 0)} fail"
    )
    for title in table.loc[table["verdict"] == "fails", "title"]:
        assert title in items[0]
    knocked = (table["knockout_verdict"] == "fails").sum()
    said = next(i for i in items if i.startswith("Switching its mechanism off"))
    assert f"for {knocked} of {len(table)}" in said or (knocked == len(table) and "all" in said)
    assert "3 seeds" in items[-1] and "provisional" in items[-1]


def test_validation_table_leaves_out_empty_columns_and_keeps_intervals_ordered(validation) -> None:
    table = pd.read_parquet(validation / "validation.parquet")
    assert (table["notes"].fillna("") == "").all()  # nothing to say: the column must not appear
    text = _report(validation, "en")
    shown = text[text.index('class="dataframe summary validation"') :]
    shown = shown[: shown.index("</table>")]
    assert "Notes" not in shown and "<td></td>" not in shown and "nan" not in shown
    assert "Knock-out effect [95% interval]" in shown
    for low, high in _pairs(shown):
        assert low <= high


def test_optimisation_names_the_front_its_best_worst_case_and_cheapest(optimisation) -> None:
    front = pd.read_parquet(optimisation / "pareto.parquet")
    evaluations = pd.read_parquet(optimisation / "evaluations.parquet")
    items = _takeaways(_report(optimisation, "en"))
    assert items[0].startswith(f"The robust front holds {len(front)} portfolios at a weekly budget of 4 ")
    on_front = evaluations[evaluations["policy"].isin(front["policy"])]
    worst = on_front.groupby("policy")["satisfaction"].min()
    best = worst.idxmax()
    said = next(i for i in items if i.startswith("Best worst case for Satisfaction"))
    assert f"gives {worst[best]:.3f} in its worst of 2 draws" in said
    low, high = (float(x) for x in re.search(r"([\d.]+) to ([\d.]+) over the draws", said).groups())
    assert 0.0 <= low <= high <= 1.0
    cheapest = front.loc[front["weekly_cost"].idxmin()]
    assert any(
        i.startswith("The cheapest portfolio") and f"{cheapest['weekly_cost']:.3g} a week" in i for i in items
    )
    assert "2 draws are few" in items[-1]


@pytest.mark.parametrize("kind", ["calibration", "validation", "optimisation"])
def test_figures_have_at_most_eight_series_in_the_palette(request, kind) -> None:
    folder = request.getfixturevalue(kind)
    found = detect(folder)
    assert found == (folder, kind)
    figs = figures(read_kind(*found), "zh")
    assert len(figs) >= 2
    allowed = {*plots.PALETTE, plots.GREY}
    for name, fig, caption in figs:
        assert 1 <= len(fig.data) <= 8 and caption, name
        for trace in fig.data:
            colour = getattr(trace.marker, "color", None) if hasattr(trace, "marker") else None
            if isinstance(colour, str):
                assert colour in allowed, (name, colour)


def test_a_file_of_the_folder_reports_the_folder(optimisation) -> None:
    assert report_main([str(optimisation / "pareto.parquet")]) == 0
    assert "The robust front holds" in (optimisation / "report.html").read_text(encoding="utf-8")


def _one_line(capsys, path: Path) -> str:
    assert report_main([str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(path) in err and "allowed" in err, err
    return err


def test_foreign_unfinished_or_damaged_folders_are_one_line(tmp_path, capsys, optimisation) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("not a result")
    assert "sim-calibrate, sim-validate or sim-optimise" in _one_line(capsys, foreign)
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / "calibration.json").write_text('{"fingerprint": {}}')
    assert "sim-calibrate folder without posterior.parquet" in _one_line(capsys, unfinished)
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "validation.parquet").write_bytes(b"not parquet")
    assert "sim-validate" in _one_line(capsys, damaged)
    edited = tmp_path / "edited"
    edited.mkdir()
    for name in ("optimise.json", "evaluations.parquet"):
        (edited / name).write_bytes((optimisation / name).read_bytes())
    pd.DataFrame({"policy": ["p"]}).to_parquet(edited / "pareto.parquet")
    assert "has no column 'weekly_cost'" in _one_line(capsys, edited)


def test_least_regret_and_a_reevaluation_folder(tmp_path, capsys) -> None:
    """Under robustness=regret the report names the least-regret portfolio; the re-evaluation
    folder inside is refused in one line naming the folder to report instead."""
    from sim.cli.optimise import cli

    out = tmp_path / "regret"
    cli(
        [
            *OPTIMISE[:3],
            "population=4",
            "generations=1",
            "draws=2",
            "robustness=regret",
            "reevaluate=2",
            f"out={out}",
        ]
    )
    front = pd.read_parquet(out / "pareto.parquet")
    items = _takeaways(_report(out, "zh"))
    least = front.loc[front["satisfaction_robust"].idxmin()]
    said = next(i for i in items if i.startswith("满意度遗憾最小的是"))
    assert f"至多低 {least['satisfaction_robust']:.3g}" in said
    capsys.readouterr()
    err = _one_line(capsys, out / "reevaluation")
    assert "re-evaluation inside a sim-optimise folder" in err and str(out) in err
