"""sim-validate: verdicts from intervals against δ, a knock-out that flips a verdict, the files written.

The full harness (20 seeds, every pattern) is a documented command (docs/validation.md), not
part of the test suite; here a few seeds and the cheapest patterns.
"""

from __future__ import annotations

import json
from importlib.metadata import version

import numpy as np
import pandas as pd
import pytest

from sim.cli.validate import cli
from sim.experiment import validate as harness


def test_verdicts_compare_the_interval_with_the_smallest_effect_of_interest():
    rng = np.random.default_rng(1)
    assert harness.judge(0.05 + rng.normal(0, 0.01, 20), 0.01, (-1, 1)).verdict == "holds"
    assert harness.judge(rng.normal(0, 0.001, 20), 0.01, (-1, 1)).verdict == "fails"
    assert harness.judge(0.01 + rng.normal(0, 0.05, 20), 0.01, (-1, 1)).verdict == "inconclusive"
    assert harness.judge(np.zeros(20), 0.01, (-1, 1)).verdict == "fails"  # no effect at all
    assert harness.judge(np.array([0.5]), 0.01, (-1, 1)).verdict == "inconclusive"  # one seed decides nothing


def test_every_pattern_has_a_hypothesis_source_design_and_a_knockout():
    assert len(harness.PATTERNS) >= 12 and len(harness.BY_NAME) == len(harness.PATTERNS)
    for p in harness.PATTERNS:
        assert p.hypothesis and p.source and p.design and p.effect and p.knockout and p.knockout_text
        # the knock-out is made of config overrides the configs accept
        harness.Runner(2, 0).config(p.knockout)


@pytest.mark.slow
def test_a_knockout_flips_the_verdict_of_its_pattern():
    """Burden rebound holds; with no drift back (rebound 0) the same experiment fails."""
    runner = harness.Runner(seeds=3, seed=5)
    result = harness.run_pattern(harness.BY_NAME["burden_rebound"], runner)
    assert result.main.verdict == "holds", result.main
    assert result.knocked.verdict == "fails", result.knocked
    assert runner.runs == 4 * 3  # two arms, each with and without the knock-out, on three seeds


@pytest.mark.slow
def test_sim_validate_writes_a_table_a_record_with_provenance_and_a_report(tmp_path, capsys):
    from sim.results.provenance import git_state

    out = tmp_path / "v"
    assert cli(["seeds=2", "seed=3", "patterns=public_goods_decay", f"out={out}"]) == 0
    record = json.loads((out / harness.RECORD_FILE).read_text(encoding="utf-8"))
    made = record["provenance"]
    assert made["version"] == version("community-governance-sim") and made["seeds"]["seed"] == 3
    assert made["commit"] == git_state()["commit"] and "dirty" in made
    assert made["command_line"] == ["sim-validate", "seeds=2", "seed=3", "patterns=public_goods_decay"]
    assert record["seeds"] == 2 and list(record["verdicts"]) == ["public_goods_decay"]
    table = pd.read_parquet(out / "validation.parquet")
    assert list(table["pattern"]) == ["public_goods_decay"]
    row = table.iloc[0]
    assert row["verdict"] in ("holds", "fails", "inconclusive") and row["seeds"] == 2
    assert row["kind"] == "mean" and row["low"] <= row["mean"] <= row["high"]
    assert {"knockout_verdict", "knockout_low", "knockout_high", "test", "margin"} <= set(table.columns)
    page = (out / "validation.html").read_text()
    assert "11 · Contributions decay without recognition" in page and "knock-out verdict" in page
    assert "[1/1] public_goods_decay" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["seeds=1"], "seeds=1"),
        (["patterns=nope"], "patterns=nope"),
        (["community=nowhere"], "community=nowhere"),
        (["seed=abc"], "seed="),
        (["colour=red"], "'colour=red'"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(args, named, capsys, tmp_path):
    assert cli([*args, f"out={tmp_path / 'never'}"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and named in err and "allowed" in err
    assert not (tmp_path / "never").exists()
