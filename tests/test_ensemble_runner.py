"""The ensemble runner: grouping by shape, the memory budget, and batch invariance end to end."""

from __future__ import annotations

import dataclasses
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from conftest import config

from sim.core.community import build_community, community_shape
from sim.core.config import ConfigError, from_dict
from sim.core.model import CommunityModel, structure_rng
from sim.experiment import ensemble
from sim.experiment.ensemble import Job
from sim.experiment.simulate import jobs_of, replicate_seeds, simulate


def _shape_of_built(cfg) -> tuple[int, ...]:
    c = build_community(
        cfg.community,
        cfg.dynamics.threshold_mean,
        cfg.dynamics.threshold_sd,
        structure_rng(cfg.community.seed),
    )
    return (c.n_households, c.n_buildings, c.n_compounds, c.n_companies, c.n_orgs)


@pytest.mark.parametrize("draw", range(12))
def test_shape_without_building_is_the_built_shape(draw: int) -> None:
    rng = np.random.default_rng(draw)
    cfg = from_dict(
        {
            "community": {
                "preset": "workshop",
                "n_compounds": int(rng.integers(1, 6)),
                "households_per_building": int(rng.integers(5, 60)),
                "building_size_spread": float(rng.random() * 0.9),
                "property_managed_share": float(rng.random()),
                "owners_committee_share": float(rng.random()),
                "compounds_per_company": int(rng.integers(1, 4)),
                "social_orgs_per_1000": float(rng.random() * 20),
                "stationed_units_per_1000": float(rng.random() * 5),
                "street_departments": int(rng.integers(0, 4)),
                "seed": int(rng.integers(1, 10**9)),
            }
        }
    )
    assert dataclasses.astuple(community_shape(cfg.community)) == _shape_of_built(cfg)


def _jobs(cfgs, replicates: int = 2) -> list[Job]:
    return [
        Job(cfg, seed, replicate=r, key=(i, r))
        for i, cfg in enumerate(cfgs)
        for r, seed in enumerate(replicate_seeds(cfg.seed, replicates))
    ]


def test_plan_groups_by_shape_and_fits_the_budget() -> None:
    small = config("workshop", steps=6, record_buildings=False)
    large = config("community", steps=6, record_buildings=False)
    longer = dataclasses.replace(small, steps=8)
    jobs = _jobs([small, large, longer, dataclasses.replace(small, levers=large.levers)], replicates=3)
    per_member = ensemble.member_bytes(large)
    budget_mb = 2.5 * per_member / 2**20  # two community members fit, not three
    plan = ensemble.plan(jobs, memory_mb=budget_mb)
    assert sorted(i for e in plan for i in e) == list(range(len(jobs)))
    for members in plan:
        keys = {ensemble.group_key(jobs[i].cfg) for i in members}
        assert len(keys) == 1, "an ensemble mixes shapes or horizons"
        assert members == sorted(members), "jobs keep their order within a group"
        assert (
            sum(ensemble.member_bytes(jobs[i].cfg) for i in members) <= budget_mb * 2**20 or len(members) == 1
        )
    assert max(len(e) for e in plan if ensemble.group_key(jobs[e[0]].cfg)[0].households > 1000) == 2
    # the per-point path: every job alone
    assert all(len(e) == 1 for e in ensemble.plan(jobs, max_members=1))


def test_large_communities_run_alone_and_ensembles_stop_at_the_household_cap() -> None:
    metro = config("metro", steps=4, record_buildings=False)
    assert all(len(e) == 1 for e in ensemble.plan(_jobs([metro], replicates=3), memory_mb=1e6))
    small = config("workshop", steps=4, record_buildings=False)
    households = ensemble.group_key(small)[0].households
    plan = ensemble.plan(_jobs([small], replicates=400), memory_mb=1e6)
    assert max(len(e) for e in plan) == ensemble.MAX_HOUSEHOLDS // households


@pytest.mark.parametrize("value", [0.0, -5.0, float("nan")])
def test_a_bad_budget_is_refused_in_one_line(value: float) -> None:
    with pytest.raises(ConfigError, match=r"ensemble memory budget=.* MB; allowed: megabytes ≥ 1"):
        ensemble.memory_budget_mb(value)


def test_a_bad_budget_in_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ensemble.MEMORY_ENV, "lots")
    with pytest.raises(ConfigError, match=r"SIM_ENSEMBLE_MEMORY_MB=lots is not a number"):
        ensemble.memory_budget_mb()
    monkeypatch.setenv(ensemble.MEMORY_ENV, "64")
    assert ensemble.memory_budget_mb() == 64.0


def _by_key(results) -> dict:
    return {r.job.key: r for r in results}


def test_results_do_not_depend_on_the_company_a_job_keeps() -> None:
    base = config("workshop", steps=12)
    cfgs = [
        base,
        config(
            "workshop", steps=12, levers={"embedding": {"intensity": 1.0}, "conduction": {"intensity": 0.5}}
        ),
        config("workshop", steps=12, dynamics={"trust_up": 0.05}, community={"seed": 7}),
        config("community", steps=12, levers={"integration": {"intensity": 1.0}}),
    ]
    jobs = _jobs(cfgs)
    together = _by_key(ensemble.run(jobs))
    alone = _by_key(ensemble.run(jobs, max_members=1))
    reversed_order = _by_key(ensemble.run(jobs[::-1], memory_mb=3.0))
    assert set(together) == set(alone) == set(reversed_order) == {j.key for j in jobs}
    for key in together:
        for other in (alone, reversed_order):
            pd.testing.assert_frame_equal(together[key].metrics, other[key].metrics, check_exact=True)
            pd.testing.assert_frame_equal(together[key].buildings, other[key].buildings, check_exact=True)


def test_a_job_is_its_single_run() -> None:
    cfg = config("workshop", steps=10, levers={"immersion": {"intensity": 1.0}})
    seed = replicate_seeds(cfg.seed, 3)[2]
    (result,) = ensemble.run([Job(cfg, seed, replicate=2)])
    model = CommunityModel(cfg, rng=replicate_seeds(cfg.seed, 3)[2])
    model.run()
    alone = model.recorder.frame()
    pd.testing.assert_frame_equal(result.metrics.drop(columns=ensemble.ID_COLUMNS), alone, check_exact=True)
    assert (result.metrics["replicate"] == 2).all()


def test_simulate_pairs_each_replicate_with_its_baseline() -> None:
    cfg = config("workshop", steps=8, replicates=3, levers={"linking": {"intensity": 1.0}})
    jobs = jobs_of(cfg)
    assert [(j.replicate, j.key[2]) for j in jobs] == [
        (0, False),
        (0, True),
        (1, False),
        (1, True),
        (2, False),
        (2, True),
    ]
    result = simulate(cfg)
    runs = _by_key(ensemble.run(jobs))
    for r in range(3):
        mine = result.metrics[result.metrics["replicate"] == r]
        gain = (
            runs[(None, r, False)].metrics["trust"].to_numpy()
            - runs[(None, r, True)].metrics["trust"].to_numpy()
        )
        np.testing.assert_array_equal(mine["trust_gain"].to_numpy(), gain)


def test_an_ensemble_stays_within_its_members_estimate() -> None:
    cfg = config("workshop", steps=20)
    jobs = _jobs([cfg, dataclasses.replace(cfg, record_buildings=False)], replicates=4)
    estimate = sum(ensemble.member_bytes(j.cfg) for j in jobs[:4]) + sum(
        ensemble.member_bytes(j.cfg) for j in jobs[4:]
    )
    CommunityModel(cfg, rng=1).run(1)  # compiled kernels and caches loaded before measuring
    tracemalloc.start()
    try:
        for _ in ensemble.run(jobs):
            pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= estimate, f"peak {peak / 2**20:.1f} MB over the estimate {estimate / 2**20:.1f} MB"


def test_jobs_spread_over_processes_give_the_results_of_one_process() -> None:
    small = config("workshop", steps=5, record_buildings=False)
    other = dataclasses.replace(small, levers=config("community", steps=5).levers)
    jobs = _jobs([small, other], replicates=3)
    shares = ensemble._shares(jobs, 4)
    assert [job for share in shares for job in share] == jobs and all(shares)
    assert len(shares) == 4 and max(map(len, shares)) - min(map(len, shares)) <= 1
    alone = list(ensemble.run(jobs))
    spread = ensemble.run_spread(jobs, workers=2)
    assert [r.job.key for r in spread] == [j.key for j in jobs]
    for a, b in zip(alone, spread, strict=True):
        pd.testing.assert_frame_equal(a.metrics, b.metrics, check_exact=True)
    with pytest.raises(ConfigError, match="workers=0; allowed: an integer ≥ 1"):
        ensemble.run_spread(jobs, workers=0)
