"""The named workshop scenarios (sim/configs/scenario/): each composes through Hydra as
``sim-run scenario=NAME`` would, runs its full horizon on the ``workshop`` preset, and differs
from the baseline in the direction its description claims.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from lever_helpers import CONFIGS, credibly_above, credibly_below, effect, frames, interval, outcome

from sim.core.config import Config
from sim.experiment.compose import compose_config

REPLICATES = 3
SCENARIOS = sorted(p.stem for p in (CONFIGS / "scenario").glob("*.yaml"))
REQUIRED = {
    "baseline",
    "embedding_only",
    "converging_only",
    "linking_only",
    "immersion_only",
    "conduction_only",
    "integration_only",
    "all_six",
    "old_compound",
    "owner_company_conflict",
    "ageing_community",
    "budget_cut",
    "coverage_on_paper",
    "burden_rebound",
}

# What each description claims, over the last quarter of the run unless a week is named:
# (metric, +1 higher than baseline / −1 lower, margin).
CLAIMS: dict[str, list[tuple[str, int, float]]] = {
    "embedding_only": [("asks", +1, 0.02), ("participation", +1, 0.03), ("coverage_point", +1, 0.5)],
    "converging_only": [
        ("contribution_rate", +1, 0.05),
        ("joint_capacity", +1, 1.0),
        ("satisfaction", +1, 0.01),
    ],
    "linking_only": [
        ("linked_resources", +1, 0.5),
        ("linked_capacity", +1, 0.004),
        ("satisfaction", +1, 0.0),
    ],
    "immersion_only": [
        ("need_information", +1, 0.1),
        ("civic_resources", +1, 0.1),
        ("participation", +1, 0.05),
    ],
    "conduction_only": [
        ("funds_delivered_share", +1, 0.1),
        ("effective_capacity", +1, 0.1),
        ("satisfaction", +1, 0.01),
    ],
    "integration_only": [("cross_appointment", +1, 0.5), ("need_information", +1, 0.1), ("trust", +1, 0.01)],
    "all_six": [("satisfaction", +1, 0.02), ("participation", +1, 0.05), ("trust", +1, 0.02)],
    "old_compound": [("unmet_need", +1, 0.02), ("satisfaction", -1, 0.02), ("served_market", -1, 0.005)],
    # conflicts and trust over the whole run on 20 seeds: see its dedicated test (open conflicts
    # in two compounds are rare counts, and 3 seeds cannot tell them apart)
    "owner_company_conflict": [],
    "ageing_community": [("served_care", +1, 0.002), ("unmet_need", +1, 0.01), ("satisfaction", -1, 0.02)],
    "budget_cut": [("satisfaction", +1, 0.01), ("participation", +1, 0.02), ("budget_bound", +1, 0.99)],
    "coverage_on_paper": [("coverage_point", +1, 0.5)],
    "burden_rebound": [],  # its claims are about timing: see the dedicated test
    # trust's own channels (docs/ODD.md §7.11), each recorded apart
    "trust_channels": [
        ("trust_fairness", +1, 0.0),
        ("trust_responsiveness", +1, 0.0),
        ("promises_broken_share", +1, 0.05),
        ("trust_promises", -1, 0.0),
    ],
    # needs sent up a level and answered there (docs/ODD.md §7.12)
    "whistle_and_report": [("escalated", +1, 0.001), ("escalation_answered", +1, 0.001)],
    # community workers' career (docs/ODD.md §7.14); the baseline has no turnover, so the
    # claims are against the same community's turnover (see the dedicated test)
    "community_workers": [("effective_capacity", +1, 0.1)],
    # rights and capacity: the community fund and a say over the street (docs/ODD.md §7.15)
    "rights_and_capacity": [("fund_spent", +1, 0.005), ("escalation_answered", +1, 0.001)],
    # organisation in each compound (docs/ODD.md §7.16): conflicts are judged against the same
    # estate without it in the dedicated test (few compounds, rare counts)
    "compound_organisation": [("compounds_organised", +1, 0.99)],
    # stationed, regional and hub organisations (docs/ODD.md §7.19); the workshop has few units
    "line_organisations": [("line_hub", +1, 0.5), ("contribution_rate", +1, 0.05)],
    # the community's duty for units nobody covers (docs/ODD.md §7.18)
    "community_duty": [("duty_units", +1, 0.5), ("contribution_outward", +1, 0.05)],
    # a dense network of branches (docs/ODD.md §7.17)
    "dense_network": [("branch_network_density", +1, 0.5), ("joint_capacity", +1, 1.0)],
    # self-governance, law and virtue, mass organisations (docs/ODD.md §7.13)
    "self_governance": [
        ("participation_workers", +1, 0.05),
        ("participation_youth", +1, 0.05),
        ("participation_families", +1, 0.05),
        ("contribution_rate", +1, 0.05),
    ],
}


# Claims that no longer hold since the community's structure is fixed by its type (measured on the
# workshop preset, 3 replicates, last quarter of the run). Kept as hypotheses, not tuned away.
NO_LONGER_HOLDS: dict[str, str] = {
    "ageing_community": (
        "measured: unmet need +0.003 over baseline (claim: > +0.01); both workshop compounds of the "
        "mixed type are managed, so the baseline has no unmanaged compound to be worse in"
    ),
    "all_six": (
        "measured: satisfaction +0.013 over baseline (claim: > +0.02) on an all-managed workshop "
        "community; the gains came mostly from unmanaged compounds drawn by chance"
    ),
}


def _claim_params(names: list[str]) -> list:
    return [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=NO_LONGER_HOLDS[n]))
        if n in NO_LONGER_HOLDS
        else n
        for n in names
    ]


def composed(name: str, *overrides: str) -> Config:
    """The validated config ``sim-run scenario=NAME community=workshop …`` would run."""
    return compose_config([f"scenario={name}", "community=workshop", *overrides])


def holds(diff: np.ndarray, margin: float, what: str) -> None:
    """A claimed difference: larger than ``margin`` on average and positive in most replicates."""
    assert diff.mean() > margin and (diff > 0).mean() >= 2 / 3, f"{what}: {diff}"


@pytest.fixture(scope="module")
def configs() -> dict[str, Config]:
    return {name: composed(name, "record_buildings=false") for name in SCENARIOS}


def test_every_named_scenario_exists() -> None:
    assert set(SCENARIOS) >= REQUIRED, sorted(REQUIRED - set(SCENARIOS))
    assert set(CLAIMS) | {"baseline"} == set(SCENARIOS), "every scenario states what it claims"


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_is_described_for_a_facilitator(name: str, configs: dict[str, Config]) -> None:
    info = configs[name].scenario
    assert info.name == name
    text = (CONFIGS / "scenario" / f"{name}.yaml").read_text(encoding="utf-8")
    assert text.startswith("# @package _global_")
    for field in ("title_en", "title_zh", "description_en", "description_zh"):
        assert getattr(info, field).strip(), f"{name}: {field} is empty"
    assert len(info.description_en.split()) >= 15 and len(info.description_zh) >= 30
    assert any("\u4e00" <= ch <= "\u9fff" for ch in info.title_zh + info.description_zh)
    assert configs[name].community.preset == "workshop"


@pytest.mark.parametrize("name", SCENARIOS)
def test_no_shipped_scenario_collapses(name: str, configs: dict[str, Config]) -> None:
    """Worse is allowed, extinct is not: docs/ODD.md cites no real community whose mean trust or
    satisfaction fell below 0.1, so no scenario may end there (final week, every seed)."""
    cfg = configs[name]
    for metric in ("trust", "satisfaction"):
        final = outcome(cfg, metric, REPLICATES, window=1)
        assert (final >= 0.1).all(), f"{name}: final {metric} {final}"


@pytest.mark.parametrize("name", _claim_params([n for n in SCENARIOS if n != "baseline"]))
def test_scenario_differs_from_baseline_as_described(name: str, configs: dict[str, Config]) -> None:
    cfg, base = configs[name], configs["baseline"]
    for frame in frames(cfg, REPLICATES):
        assert len(frame) == cfg.steps
        assert np.isfinite(frame[["satisfaction", "participation", "trust", "unmet_need"]].to_numpy()).all()
    window = max(1, cfg.steps // 4)
    for metric, sign, margin in CLAIMS[name]:
        holds(
            sign * effect(cfg, base, metric, REPLICATES, window=window), margin, f"{name}: {metric} {sign:+d}"
        )


@pytest.mark.xfail(strict=True, reason=NO_LONGER_HOLDS["all_six"])
def test_all_six_beats_baseline_while_coverage_on_paper_does_not(configs: dict[str, Config]) -> None:
    base = configs["baseline"]
    for metric in ("satisfaction", "participation", "trust"):
        holds(effect(configs["all_six"], base, metric, REPLICATES, window=26), 0.02, f"all_six {metric}")
        paper = effect(configs["coverage_on_paper"], base, metric, REPLICATES, window=26)
        assert paper.mean() <= 0.005, f"coverage on paper should not beat the baseline on {metric}: {paper}"


def test_owner_company_conflict_has_more_open_conflicts_and_less_trust(configs: dict[str, Config]) -> None:
    """Open conflicts are counts in the workshop's two compounds, mostly 0 or 1 in a week: the
    claim is judged over the whole run on 20 seeds, by the 95% interval for the mean."""
    cfg, base = configs["owner_company_conflict"], configs["baseline"]
    replicates = 20
    conflicts = effect(cfg, base, "conflicts_open", replicates, window=cfg.steps)
    trust = effect(cfg, base, "trust", replicates, window=cfg.steps)
    assert credibly_above(conflicts), interval(conflicts)
    assert credibly_below(trust, -0.02), interval(trust)
    # worse, not extinct (docs/ODD.md: no shipped scenario collapses below 0.1)
    assert (outcome(cfg, "trust", replicates, window=1) >= 0.1).all()
    assert (outcome(cfg, "satisfaction", replicates, window=1) >= 0.1).all()


def test_budget_cut_sits_between_baseline_and_all_six(configs: dict[str, Config]) -> None:
    cut, full = configs["budget_cut"], configs["all_six"]
    assert cut.budget < sum(
        getattr(cut.levers, n).intensity * getattr(cut.levers, n).cost_per_unit for n in cut.levers.names()
    )
    for frame in frames(cut, REPLICATES):
        assert (frame["cost"] <= cut.budget + 1e-9).all() and (frame["budget_bound"] == 1).all()
    holds(effect(full, cut, "participation", REPLICATES, window=26), 0.05, "all_six over budget_cut")
    # where the community is already well served both saturate; the cut never does better
    for metric in ("satisfaction", "trust"):
        assert effect(full, cut, metric, REPLICATES, window=26).mean() > -0.005, metric


def test_burden_rebound_gains_capacity_then_loses_it(configs: dict[str, Config]) -> None:
    cfg, base = configs["burden_rebound"], configs["baseline"]
    weeks = cfg.levers.conduction.duration_weeks
    during = effect(cfg, base, "effective_capacity", REPLICATES, window=4, at=weeks)
    end = effect(cfg, base, "effective_capacity", REPLICATES, window=4)
    assert (during > 0.05).all(), during
    assert (end < 0.25 * during).all(), (during, end)
    phi_during = outcome(cfg, "task_growth", REPLICATES, window=1, at=weeks)
    phi_end = outcome(cfg, "task_growth", REPLICATES, window=1)
    assert (phi_end > phi_during + 0.03).all()


def test_sim_run_runs_a_scenario_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim.cli.run",
            "scenario=burden_rebound",
            "community=workshop",
            "steps=30",
            "replicates=1",
            f"hydra.run.dir={out}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=CONFIGS.parent,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "scenario=burden_rebound" in proc.stdout
    assert (out / "metrics.parquet").exists()


def test_community_workers_keep_more_experience_than_with_turnover_alone(configs: dict[str, Config]) -> None:
    cfg = configs["community_workers"]
    alone = composed(
        "community_workers",
        "record_buildings=false",
        "levers.conduction.career=0",
        "levers.conduction.exemplars=0",
    )
    for metric in ("worker_experience", "effective_capacity"):
        holds(effect(cfg, alone, metric, REPLICATES, window=13), 0.01, f"community_workers {metric}")
    holds(-effect(cfg, alone, "worker_turnover", REPLICATES, window=13), 0.001, "community_workers turnover")


def test_rights_and_capacity_answer_sooner_than_escalation_without_a_say(configs: dict[str, Config]) -> None:
    cfg = configs["rights_and_capacity"]
    no_say = composed("rights_and_capacity", "record_buildings=false", "levers.converging.street_say=0")
    holds(
        -effect(cfg, no_say, "escalation_wait_weeks", REPLICATES, window=13), 0.3, "rights_and_capacity wait"
    )


def test_compound_organisation_leaves_fewer_conflicts_open_than_the_same_estate(
    configs: dict[str, Config],
) -> None:
    cfg = configs["compound_organisation"]
    plain = composed(
        "compound_organisation", "record_buildings=false", "levers.integration.compound_organisation=0"
    )
    conflicts = effect(cfg, plain, "conflicts_open", 12, window=cfg.steps)
    assert credibly_below(conflicts), interval(conflicts)
