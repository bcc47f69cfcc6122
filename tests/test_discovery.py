"""Scenario discovery: PRIM and CART recover a known box; conditions parse; sim-discover writes boxes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sim.analysis.discovery import (
    DiscoveryError,
    cart_rules,
    case_table,
    describe_box,
    discover,
    parse_condition,
    prim_boxes,
)


def synthetic(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    """Three uniform inputs and a community type; the outcome fails inside a known box."""
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(
        {
            "member_activity": rng.uniform(size=n),
            "expectation": rng.uniform(size=n),
            "noise": rng.uniform(size=n),
            "scenario": rng.choice(["baseline", "old_compound", "ageing_community"], size=n),
        }
    )
    inside = (table["member_activity"] < 0.3) & (table["expectation"] > 0.6)
    table["satisfaction_gain"] = np.where(inside, 0.0, 0.05) + rng.normal(0, 0.002, size=n)
    return table


# ema-workbench takes about 10 s of CPU to import (more on a busy machine): PRIM tests are slow
@pytest.mark.slow
def test_prim_recovers_a_known_box() -> None:
    table = synthetic()
    cond = parse_condition("satisfaction_gain < 0.02", list(table.columns))
    y = cond.holds(table)
    x = table[["member_activity", "expectation", "noise", "scenario"]]
    boxes = prim_boxes(x, y, min_density=0.95)
    assert boxes, "PRIM found no box"
    box = boxes[0]
    assert set(box.limits) == {"member_activity", "expectation"}  # noise and type left free
    low, high = box.limits["member_activity"]
    assert low == -np.inf and high == pytest.approx(0.3, abs=0.03)
    low, high = box.limits["expectation"]
    assert high == np.inf and low == pytest.approx(0.6, abs=0.03)
    assert box.coverage > 0.9 and box.density >= 0.95
    assert all(b.density > y.mean() for b in boxes)  # no later box is reported that explains nothing
    # the trade-off is kept: coverage falls as density rises along the peeling
    assert box.trajectory["coverage"].iloc[0] == pytest.approx(1.0)
    assert box.trajectory["density"].iloc[0] == pytest.approx(y.mean())
    words = describe_box(box, cond)
    assert words.startswith("when member_activity ≤ 0.")
    assert "coverage" in words and "density" in words


@pytest.mark.slow
def test_prim_finds_a_box_over_a_category_named_scenario() -> None:
    table = synthetic()
    table["trust_gain"] = np.where(table["scenario"] == "old_compound", -0.01, 0.01)
    found = discover(table, "trust falls", ["member_activity", "noise", "scenario"])
    assert found.condition.column == "trust_gain"
    assert found.boxes[0].limits == {"scenario": ["old_compound"]}
    assert found.boxes[0].coverage == pytest.approx(1.0) and found.boxes[0].density == pytest.approx(1.0)
    assert found.rules[0].conditions == ["scenario is old_compound"]
    assert "当 scenario 属于 {old_compound} 时" in found.words("zh")[0]


def test_cart_recovers_the_same_box() -> None:
    table = synthetic()
    y = table["satisfaction_gain"].to_numpy() < 0.02
    rules = cart_rules(table[["member_activity", "expectation", "noise"]], y, max_depth=2)
    assert len(rules) == 1
    rule = rules[0]
    assert sorted(c.split(" ")[0] for c in rule.conditions) == ["expectation", "member_activity"]
    assert rule.coverage > 0.95 and rule.density > 0.95


def test_no_case_of_interest_means_no_box() -> None:
    table = synthetic()
    found = discover(table, "satisfaction_gain < -1", ["member_activity", "expectation"])
    assert found.of_interest == 0 and found.boxes == [] and found.rules == []


@pytest.mark.parametrize(
    ("text", "column", "op", "value"),
    [
        ("satisfaction_gain < 0.02", "satisfaction_gain", "<", 0.02),
        ("unmet_need>=0.1", "unmet_need", ">=", 0.1),
        ("trust falls", "trust_gain", "<", 0.0),
        ("participation rises", "participation_gain", ">", 0.0),
    ],
)
def test_conditions_parse(text, column, op, value) -> None:
    columns = ["satisfaction_gain", "unmet_need", "trust", "trust_gain", "participation_gain"]
    cond = parse_condition(text, columns)
    assert (cond.column, cond.op, cond.value) == (column, op, value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("satisfaction is low", "allowed: 'COLUMN < VALUE'"),
        ("happiness < 1", "no column happiness"),
    ],
)
def test_a_bad_condition_is_one_line(text, message) -> None:
    with pytest.raises(DiscoveryError, match=message) as info:
        parse_condition(text, ["satisfaction_gain"])
    assert "\n" not in str(info.value)


def test_a_sweep_is_reduced_to_one_case_per_point_arm_and_replicate() -> None:
    rows = []
    for point in range(3):
        for replicate in range(2):
            for step in range(8):
                rows.append(
                    {"point": point, "arm": "a", "replicate": replicate, "step": step, "x": float(step)}
                )
    cases = case_table(pd.DataFrame(rows))
    assert len(cases) == 6
    assert (cases["x"] == 6.5).all()  # the mean over the last quarter of the weeks (steps 6 and 7)


@pytest.mark.slow
def test_sim_discover_on_a_collected_sweep_writes_boxes_with_coverage_and_density(tmp_path, capsys) -> None:
    from sim.cli.discover import cli
    from sim.results import write_parquet

    table = synthetic(600)
    rows = table.rename(
        columns={
            "member_activity": "levers.embedding.member_activity",
            "expectation": "dynamics.expectation_up",
        }
    )
    rows = rows.drop(columns=["noise", "scenario"]).assign(
        point=np.arange(len(rows)), arm="none", replicate=0, step=0
    )
    write_parquet(tmp_path / "collected.parquet", rows)
    cli([str(tmp_path), "satisfaction_gain < 0.02", "density=0.9"])
    printed = capsys.readouterr().out
    assert "when levers.embedding.member_activity ≤ 0." in printed
    record = json.loads((tmp_path / "discovery" / "discovery.json").read_text(encoding="utf-8"))
    box = record["boxes"][0]
    assert set(box["limits"]) == {"levers.embedding.member_activity", "dynamics.expectation_up"}
    assert box["coverage"] > 0.85 and box["density"] >= 0.9
    assert box["zh"].startswith("当 ")
    assert (tmp_path / "discovery" / "tradeoff.html").exists()


def test_sim_discover_bad_input_is_one_line_exit_2(tmp_path, capsys) -> None:
    from sim.cli.discover import cli

    with pytest.raises(SystemExit) as stop:
        cli([str(tmp_path), "satisfaction_gain < 0.02"])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "neither an optimisation" in err and "\n" not in err
    assert not (tmp_path / "discovery").exists()


@pytest.mark.parametrize(
    ("argument", "said"),
    [
        ("density=1.5", "density=1.5 is out of range; allowed: a number in (0, 1]"),
        ("density=0", "density=0 is out of range; allowed: a number in (0, 1]"),
        ("density=most", "density=most is not a number; allowed: a number in (0, 1]"),
        ("boxes=0", "boxes=0 is out of range; allowed: an integer ≥ 1"),
        ("depth=2.5", "depth=2.5 is not an integer; allowed: an integer ≥ 1"),
    ],
)
def test_sim_discover_bad_numbers_name_the_key_the_value_and_what_is_allowed(
    tmp_path, capsys, argument: str, said: str
) -> None:
    from sim.cli.discover import cli
    from sim.results import write_parquet

    rows = synthetic(20).drop(columns=["noise", "scenario"]).assign(point=np.arange(20), arm="none")
    write_parquet(tmp_path / "collected.parquet", rows.assign(replicate=0, step=0))
    with pytest.raises(SystemExit) as stop:
        cli([str(tmp_path), "satisfaction_gain < 0.02", argument])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert said in err and "\n" not in err
    assert not (tmp_path / "discovery").exists()
