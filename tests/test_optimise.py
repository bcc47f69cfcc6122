"""sim-optimise's contract: budget respected, front non-dominated, resume redoes nothing, same seed
same front, bad input one line before anything runs. Not its numbers."""

from __future__ import annotations

import json
import zlib
from importlib.metadata import version

import numpy as np
import pandas as pd
import pytest

from sim.core.config import ConfigError
from sim.experiment import optimise as opt
from sim.experiment.compose import compose, compose_config
from sim.experiment.xlrm import Outcome, load_frame, sample_draws

OVERRIDES = ["community=workshop", "steps=8", "budget=4"]
SMALL = {"population": 4, "generations": 2, "draws": 2, "seed": 7}


@pytest.fixture(scope="module")
def base():
    return compose_config(OVERRIDES)


@pytest.fixture(scope="module")
def frame(base):
    return load_frame("default", base)


def run(frame, base, out, **changes):
    search = opt.Search(budget=4.0, **{**SMALL, **changes})
    return opt.optimise(frame, base, OVERRIDES, search, out)


# ------------------------------------------------------------------------------------ budget
def test_repair_keeps_every_policy_within_the_budget_and_leaves_affordable_ones_alone() -> None:
    rng = np.random.default_rng(0)
    unit = np.array([3.0, 2.0, 2.0, 1.5, 2.5, 1.0, 0.0])  # the last decision costs nothing
    lows = np.array([0.0, 0.1, 0.0, 0.2, 0.0, 0.0, 0.0])
    x = lows + rng.uniform(size=(200, 7)) * (1 - lows)
    for budget in (1.0, 4.0, 20.0):
        fixed = opt.repair(x, lows, unit, budget)
        assert np.all(fixed @ unit <= budget)
        assert np.all(fixed >= lows - 1e-15)
        affordable = x @ unit <= budget * (1 - opt.BUDGET_SLACK)
        np.testing.assert_array_equal(fixed[affordable], x[affordable])
        over = ~affordable
        # spending above the lows keeps its shares, and the free decision is untouched
        np.testing.assert_allclose(fixed[over] @ unit, budget, rtol=1e-9)
        np.testing.assert_array_equal(fixed[:, 6], x[:, 6])
        # a repaired policy is a fixed point: the search can be seeded with it as it stands
        np.testing.assert_array_equal(opt.repair(fixed, lows, unit, budget), fixed)


def test_a_budget_no_policy_can_meet_is_refused(base) -> None:
    data = {
        "levers": {"levers.embedding.intensity": [0.5, 1], "levers.linking.intensity": [0.5, 1]},
        "outcomes": {"satisfaction": {"metric": "satisfaction", "direction": "max"}},
    }
    frame = load_frame("tight", base, data=data)
    with pytest.raises(ConfigError, match=r"budget=2: no policy of xlrm=tight can meet it .* ≥ 2.5"):
        opt.check_budget(frame, opt.lever_costs(base), 2.0)
    assert opt.check_budget(frame, opt.lever_costs(base), 2.5) == pytest.approx(2.5)


# ------------------------------------------------------------------------------------ frame
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"outcomes": {"happiness": {"metric": "happiness", "direction": "max"}}},
            "xlrm.outcomes.happiness: metric=happiness is not a metric",
        ),
        (
            {"uncertainties": {"parameters": {"dynamics.threshold_mean": [0.5, 3.0]}}},
            r"xlrm.uncertainties.parameters.dynamics.threshold_mean=\[0.5, 3.0\] is outside the key's "
            r"allowed range; allowed: within \[-1, 2\]",
        ),
        (
            {"levers": {"levers.embedding.intensity": [0, 1.5]}},
            r"xlrm.levers.levers.embedding.intensity=\[0, 1.5\] is outside",
        ),
        ({"uncertainties": {"groups": {"scenario": ["atlantis"]}}}, "atlantis is not a known scenario"),
        ({"uncertainties": {"parameters": {"dynamics.no_such_key": None}}}, "dynamics.no_such_key: no such"),
        (
            {"outcomes": {"trust": {"metric": "trust", "direction": "up"}}},
            "direction=up; allowed: max or min",
        ),
    ],
)
def test_a_bad_frame_is_one_line_naming_it(base, data, message) -> None:
    full = {
        "levers": {"levers.embedding.intensity": [0, 1]},
        "outcomes": {"satisfaction": {"metric": "satisfaction", "direction": "max"}},
    }
    full.update(data)
    with pytest.raises(ConfigError, match=message) as info:
        load_frame("bad", base, data=full)
    assert "\n" not in str(info.value)


def test_a_frame_may_be_a_yaml_file_of_ones_own_checked_like_the_shipped_ones(base, tmp_path) -> None:
    from omegaconf import OmegaConf

    from sim.experiment.xlrm import XLRM_DIR

    shipped = OmegaConf.to_container(OmegaConf.load(XLRM_DIR / "default.yaml"))
    mine = tmp_path / "types.yaml"
    types = ["old_compound", "commercial_estate", "resettlement", "migrant_rental", "mixed"]
    OmegaConf.save({**shipped, "uncertainties": {"groups": {"community/type": types}}}, mine)
    frame = load_frame(str(mine), base)
    assert frame.name == str(mine) and frame.groups == {"community/type": tuple(types)}
    assert frame.decision_keys == load_frame("default", base).decision_keys
    draws = sample_draws(frame, 5, seed=1)
    assert sorted(draws["community/type"]) == sorted(types)  # one draw per community type

    def refused(text: str, message: str) -> None:
        path = tmp_path / "bad.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match=message) as info:
            load_frame(str(path), base)
        assert "\n" not in str(info.value)

    lever = "levers:\n  levers.embedding.intensity: [0, 1]\n"
    outcome = "outcomes:\n  satisfaction: {metric: satisfaction, direction: max}\n"
    refused(lever + outcome.replace("direction: max", "direction: up"), "direction=up; allowed: max or min")
    refused(lever.replace("[0, 1]", "[0, 2]") + outcome, r"intensity=\[0, 2\] is outside .* within \[0, 1\]")
    refused(
        lever + "uncertainties:\n  groups:\n    community/type: [villa]\n" + outcome,
        "xlrm.uncertainties.groups.community/type: villa is not a known community/type; allowed: "
        "commercial_estate, migrant_rental, mixed, old_compound, resettlement",
    )
    refused(
        lever + "uncertainties:\n  parameter: {}\n" + outcome,
        "xlrm.uncertainties.parameter: not a part of the uncertainties; allowed: groups, structure_seed",
    )
    refused(lever + "outcomes: [satisfaction]\n", r"xlrm.outcomes=\['satisfaction'\] is not a mapping")
    refused(lever + outcome + "extra: 1\n", "xlrm.extra: not a part of a frame; allowed: levers")
    refused("levers: [0, 1\n", "not a readable YAML frame")
    with pytest.raises(ConfigError, match=r"xlrm=.*missing.yaml: no such file; allowed: the name of a frame"):
        load_frame(str(tmp_path / "missing.yaml"), base)


def test_a_null_range_is_the_keys_documented_range_and_draws_stay_inside(base) -> None:
    data = {
        "levers": {"levers.embedding.intensity": None},
        "uncertainties": {
            "groups": {"scenario": ["baseline", "old_compound"]},
            "parameters": {"dynamics.threshold_mean": None, "levers.embedding.member_activity": [0.1, 0.2]},
        },
        "outcomes": {"satisfaction": {"metric": "satisfaction", "direction": "max"}},
    }
    frame = load_frame("null", base, data=data)
    assert frame.uncertainties[0].lo == -1.0 and frame.uncertainties[0].hi == 2.0
    draws = sample_draws(frame, 10, seed=3)
    assert draws["dynamics.threshold_mean"].between(-1, 2).all()
    assert draws["levers.embedding.member_activity"].between(0.1, 0.2).all()
    assert list(draws["scenario"]) == ["baseline", "old_compound"] * 5  # balanced community types
    pd.testing.assert_frame_equal(draws, sample_draws(frame, 10, seed=3))
    assert draws["seed"].nunique() == 10  # one community structure per draw


def test_a_posterior_is_drawn_by_weight_and_checked_against_the_keys_range(base, tmp_path) -> None:
    path = tmp_path / "posterior.parquet"
    pd.DataFrame({"dynamics.trust_up": [0.01, 0.05], "weight": [0.0, 1.0]}).to_parquet(path)
    frame = load_frame("default", base, posterior=path)
    draws = sample_draws(frame, 6, seed=1)
    assert (draws["dynamics.trust_up"] == 0.05).all()  # the zero-weight particle is never drawn
    pd.DataFrame({"dynamics.trust_up": [0.5], "weight": [1.0]}).to_parquet(path)
    with pytest.raises(ConfigError, match=r"dynamics.trust_up has values outside its allowed range"):
        load_frame("default", base, posterior=path)


# ---------------------------------------------------------------------------- robustness
def test_robustness_measures() -> None:
    up = Outcome("satisfaction", "satisfaction", "max", threshold=0.5)
    down = Outcome("unmet_need", "unmet_need", "min", threshold=0.1)
    values = np.array([0.2, 0.4, 0.6, 0.8])
    assert opt.robust_value(values, up, "mean", 10) == pytest.approx(0.5)
    assert opt.robust_value(values, up, "percentile", 0) == pytest.approx(0.2)  # the worst draw
    assert opt.robust_value(values, down, "percentile", 0) == pytest.approx(0.8)  # worst = most need
    assert opt.robust_value(values, up, "satisficing", 10) == pytest.approx(0.5)
    assert opt.robust_value(values, down, "satisficing", 10) == pytest.approx(0.0)
    best = np.array([0.3, 0.4, 0.9, 0.7])  # the best reference in each draw
    assert opt.robust_value(values, up, "regret", 10, best) == pytest.approx(0.3)


def test_the_non_dominated_set_is_exactly_the_rows_no_other_row_dominates() -> None:
    rng = np.random.default_rng(1)
    f = rng.uniform(size=(60, 3))
    front = set(opt.non_dominated(f).tolist())
    for i in range(len(f)):
        dominated = any(opt.dominates(f[j], f[i]) for j in range(len(f)) if j != i)
        assert (i in front) == (not dominated)


# ------------------------------------------------------------------------------- the search
@pytest.mark.slow
def test_the_search_respects_the_budget_and_its_front_is_non_dominated(frame, base, tmp_path) -> None:
    result = run(frame, base, tmp_path / "a")
    front = result.front
    assert len(front) >= 1
    assert (front["weekly_cost"] <= 4.0).all()
    searched = result.evaluations[result.evaluations["source"] == "search"]
    assert (searched["cost"] <= 4.0).all()  # what the model spent, week by week on average
    assert (searched["budget_bound"] == 0).all()  # the model never had to scale a stored policy
    f = opt.objective_matrix(front, frame, "mean")
    for i in range(len(f)):
        assert not any(opt.dominates(f[j], f[i]) for j in range(len(f)) if j != i)
    # every searched policy is on the front or dominated by a front policy
    table = opt.scores(searched, frame, "mean")
    all_f = opt.objective_matrix(table, frame, "mean")
    on_front = set(front["policy"])
    for i, policy in enumerate(table["policy"]):
        assert policy in on_front or any(opt.dominates(fj, all_f[i]) for fj in f)
    # the five budget_frontier arms, compared with the front: none dominates a front policy
    assert sorted(result.arms["policy"]) == ["even", "organisations", "people", "system", "uniform"]
    assert (result.arms["weekly_cost"] <= 4.0 + 1e-9).all()
    arm_f = opt.objective_matrix(result.arms, frame, "mean")
    assert not any(opt.dominates(a, fj) for a in arm_f for fj in f)
    for row in result.arms.itertuples():
        assert row.dominated == (row.dominated_by != "none")
        assert row.dominated or row.on_front  # on the front, or a front policy dominates it
        assert row.on_front == (row.policy in on_front)


def test_a_front_cannot_contain_a_policy_dominated_by_an_evaluated_arm(frame, base, monkeypatch) -> None:
    """The arms seed the first generation, and the front is non-dominated over them too.

    The model is replaced by a stand-in in which the ``system`` arm beats every other policy on
    every objective (as it did on a short real search): it must be the whole front, by name.
    """
    arms = opt.frontier_arms(4.0, base, frame)
    best = opt.policy_key(list(arms["system"].values()))
    first_search: list[set[str]] = []

    def stand_in(self, values, key, draw, label):
        rng = np.random.default_rng(zlib.crc32(f"{key}|{draw}".encode()))
        level = {m: 0.5 for m in opt.METRICS}
        if key == best:
            level.update(satisfaction=0.9, trust=0.9, satisfaction_gini=0.01, cost=0.5)
        else:
            level.update(
                satisfaction=rng.uniform(0.1, 0.8),
                trust=rng.uniform(0.1, 0.8),
                satisfaction_gini=rng.uniform(0.02, 0.3),
                cost=rng.uniform(0.6, 4.0),
            )
        point = dict(zip(self.frame.decision_keys, map(float, values), strict=True))
        row = {"policy_key": key, "policy": self.names.get(key, opt.policy_id(key))}
        row.update(source=label, draw=draw, **point, **level)
        return row | {f"{m}_gain": v - 0.5 for m, v in level.items()}

    real_evaluate = opt.Evaluator.evaluate

    def recording(self, policies, label="search"):
        if label == "search" and not first_search:
            first_search.append({opt.policy_key(v) for v in np.atleast_2d(policies)})
        return real_evaluate(self, policies, label)

    def simulate_stand_in(self, pairs, baselines, label):
        for key, values, draw in pairs:
            self.rows[(key, draw)] = stand_in(self, values, key, draw, label)

    monkeypatch.setattr(opt.Evaluator, "_simulate", simulate_stand_in)
    monkeypatch.setattr(opt.Evaluator, "evaluate", recording)
    search = opt.Search(budget=4.0, population=8, generations=3, draws=2, seed=7)
    result = opt.optimise(frame, base, OVERRIDES, search)
    arm_keys = {opt.policy_key(list(p.values())) for p in arms.values()}
    assert arm_keys <= first_search[0] and len(first_search[0]) == 8  # 5 arms + 3 random
    assert list(result.front["policy"]) == ["system"]
    arm_f = opt.objective_matrix(result.arms, frame, "mean")
    front_f = opt.objective_matrix(result.front, frame, "mean")
    assert not any(opt.dominates(a, fj) for a in arm_f for fj in front_f)
    verdict = result.arms.set_index("policy")
    assert verdict.loc["system", "dominated_by"] == "none" and verdict.loc["system", "on_front"]
    others = verdict.drop(index="system")
    assert (others["dominated_by"] == "system").all() and not others["on_front"].any()
    # every policy evaluated, searched or not, is on the front or dominated by a front policy
    table = opt.scores(result.evaluations, frame, "mean")
    for f_row in opt.objective_matrix(table, frame, "mean"):
        assert any(opt.dominates(fj, f_row) or np.array_equal(fj, f_row) for fj in front_f)


def test_the_cli_says_plainly_which_arms_no_front_policy_dominates() -> None:
    from sim.cli.optimise import arm_verdicts

    arms = pd.DataFrame(
        {
            "policy": ["system", "people"],
            "dominated_by": ["none", "p0123456789"],
            "dominated": [False, True],
            "on_front": [True, False],
        }
    )
    assert arm_verdicts(arms) == [
        "budget_frontier arm system is not dominated by any front policy: it is on the front itself."
    ]
    assert arm_verdicts(arms.iloc[1:]) == [
        "every budget_frontier arm is dominated by at least one front policy."
    ]


@pytest.mark.slow
def test_same_seed_same_front_and_a_rerun_simulates_nothing(frame, base, tmp_path) -> None:
    first = run(frame, base, tmp_path / "a")
    again = run(frame, base, tmp_path / "a")
    assert again.simulated == 0
    pd.testing.assert_frame_equal(first.front, again.front)
    fresh = run(frame, base, tmp_path / "b")
    assert fresh.simulated == first.simulated
    pd.testing.assert_frame_equal(first.front, fresh.front)  # bit-identical: same seed, same front
    other = run(frame, base, tmp_path / "c", seed=8)
    assert not first.front[frame.decision_keys].equals(other.front[frame.decision_keys])


@pytest.mark.slow
def test_a_killed_search_resumes_without_redoing_finished_runs(frame, base, tmp_path, monkeypatch) -> None:
    whole = run(frame, base, tmp_path / "whole")
    out = tmp_path / "killed"
    real_run = opt.ensemble.run
    finished = {"policies": 0}

    def run_then_stop(jobs, *args, **kwargs):
        # a SIGINT arriving after 15 (policy, draw) runs have finished, while the next is under way
        for result in real_run(jobs, *args, **kwargs):
            if result.job.key[0] == "policy":
                if finished["policies"] == 15:
                    raise KeyboardInterrupt
                finished["policies"] += 1
            yield result

    monkeypatch.setattr(opt.ensemble, "run", run_then_stop)
    with pytest.raises(KeyboardInterrupt):
        run(frame, base, out)
    monkeypatch.setattr(opt.ensemble, "run", real_run)
    kept = pd.read_parquet(out / opt.EVALUATIONS_FILE)
    assert len(kept) == 15
    resumed = run(frame, base, out)
    assert resumed.simulated == whole.simulated - 15
    pd.testing.assert_frame_equal(whole.front, resumed.front)
    # more generations extend the same search: the first two are replayed from the cache
    longer = run(frame, base, out, generations=3)
    assert longer.simulated == SMALL["population"] * SMALL["draws"]


@pytest.mark.slow
def test_the_cli_writes_the_front_figures_scenarios_and_provenance(tmp_path, capsys) -> None:
    from sim.cli.optimise import cli
    from sim.results.provenance import git_state

    out = tmp_path / "opt"
    argv = [*OVERRIDES, "population=4", "generations=1", "draws=2", "robustness=regret", "reevaluate=2"]
    cli([*argv, f"out={out}"])
    printed = capsys.readouterr().out
    # optimise.json (and the re-evaluation's) say what made them: version, commit, command line
    for folder in (out, out / "reevaluation"):
        setup = json.loads((folder / opt.SETUP_FILE).read_text(encoding="utf-8"))
        made = setup["provenance"]
        assert made["version"] == version("community-governance-sim") and "dirty" in made
        assert made["commit"] == git_state()["commit"] and made["seeds"]["seed"] == setup["search"]["seed"]
        assert made["command_line"] == ["sim-optimise", *argv]
    assert "dominated by" in printed and "results:" in printed
    arms = pd.read_parquet(out / opt.ARMS_FILE)
    for row in arms.itertuples():  # each arm's verdict is printed in words when no policy dominates it
        said = f"budget_frontier arm {row.policy} is not dominated by any front policy"
        assert (said in printed) == (row.dominated_by == "none")
    front = pd.read_parquet(out / opt.PARETO_FILE)
    intensities = [f"levers.{n}.intensity" for n in ("embedding", "converging", "linking")]
    assert {*intensities, "satisfaction", "satisfaction_robust", "weekly_cost"} <= set(front.columns)
    assert (front["robustness"] == "regret").all()
    for name in ("front", "policies", "by_type"):
        assert (out / f"{name}.html").stat().st_size > 0
    # the front's best policy on each objective, again on fresh draws (for scenario discovery)
    again = pd.read_parquet(out / "reevaluation" / opt.EVALUATIONS_FILE)
    assert set(again["policy"]) <= set(front["policy"]) and again["draw"].nunique() == 2
    fresh = pd.read_parquet(out / "reevaluation" / opt.DRAWS_FILE)
    assert not set(fresh["seed"]) & set(pd.read_parquet(out / opt.DRAWS_FILE)["seed"])
    # each front policy is a scenario sim-run and the dashboard compose like the shipped ones
    cfg = compose(["scenario=pareto_01", "community=workshop"], config_dir=str(out))
    assert cfg.scenario.name == "pareto_01"
    assert cfg.levers.embedding.intensity == pytest.approx(front["levers.embedding.intensity"].iloc[0])
    assert cfg.budget == 4.0


@pytest.mark.slow
def test_the_dashboard_offers_the_pareto_scenarios(tmp_path, monkeypatch) -> None:
    from sim.experiment.optimise import write_scenarios
    from sim.present import app
    from sim.present.portfolios import SCENARIOS_ENV, check_scenario_dir

    front = pd.DataFrame(
        {
            "policy": ["pabc"],
            "levers.linking.intensity": [0.5],
            "levers.integration.intensity": [0.25],
            "weekly_cost": [1.25],
            "robustness": ["mean"],
        }
    )
    write_scenarios(tmp_path / "scenario", front, budget=3.0)
    assert "pareto_01" not in app.scenario_names()
    monkeypatch.setenv(SCENARIOS_ENV, check_scenario_dir(tmp_path))
    assert "pareto_01" in app.scenario_names()
    cfg = app.compose_config("pareto_01", preset="workshop")
    assert cfg.levers.linking.intensity == 0.5 and cfg.levers.integration.intensity == 0.25
    assert cfg.budget == 3.0 and "Pareto policy 1" in cfg.scenario.title_en
    with pytest.raises(ConfigError, match=r"--scenarios=.*no scenario/\*.yaml"):
        check_scenario_dir(tmp_path / "empty")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["community=workshop"], "budget: missing"),
        (["budget=inf"], "budget=inf: sim-optimise needs a finite weekly budget"),
        (["budget=-1"], "budget=-1"),
        (["budget=4", "robustness=best"], "robustness=best; allowed: mean, percentile, regret, satisficing"),
        (["budget=4", "population=many"], "population=many is not an integer"),
        (["budget=4", "xlrm=nope"], "xlrm=nope is not a known frame"),
        (["budget=4", "xlrm=frames/nope.yaml"], "xlrm=frames/nope.yaml: no such file"),
        (["budget=4", "scenario=all_six"], "scenario=all_six: scenario is a lever or an uncertainty"),
        (["budget=4", "levers.linking.intensity=1"], "levers.linking.intensity is a lever"),
        (["budget=4", "percentile=140"], "percentile=140"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(args, message, tmp_path, capsys) -> None:
    from sim.cli.optimise import cli

    out = tmp_path / "never"
    with pytest.raises(SystemExit) as stop:
        cli([*args, f"out={out}"])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("sim-optimise: error: ") and "\n" not in err
    assert message in err
    assert not out.exists()


def test_a_different_setup_in_the_same_directory_is_refused(tmp_path) -> None:
    from sim.results import write_json

    frame = load_frame("default", compose_config(OVERRIDES))
    search = opt.Search(budget=4.0, **SMALL)
    write_json(tmp_path / opt.SETUP_FILE, {"cache": opt.setup_record(frame, OVERRIDES, search, None)})
    opt.check_resumable(tmp_path, opt.setup_record(frame, OVERRIDES, search, None))
    other = opt.Search(budget=5.0, **SMALL)
    with pytest.raises(ConfigError, match="holds an optimisation with other budget"):
        opt.check_resumable(tmp_path, opt.setup_record(frame, OVERRIDES, other, None))
