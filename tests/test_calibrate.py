"""sim-calibrate: targets files, the ABC-SMC contract (posterior, resume) and parameter recovery."""

from __future__ import annotations

import json
import sqlite3
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import TINY_CALIBRATION as TINY

pytest.importorskip("pyabc")

from sim.cli.calibrate import main
from sim.core.config import ConfigError
from sim.experiment import calibrate
from sim.experiment.compose import CONFIG_DIR, compose_config

GOOD = {
    "parameters": {"dynamics.fee_base": {"lo": 0.3, "hi": 0.9}},
    "targets": {"fee_collection": {"value": 0.75, "sd": 0.02}},
    "plausibility": {"participation": {"lo": 0.0, "hi": 0.48}},
}


def write_targets(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True) if not isinstance(data, str) else data)
    return path


# ------------------------------------------------------------------------------ bad targets files
BAD = {
    "unknown metric": (
        {**GOOD, "targets": {"happiness": {"value": 0.5, "sd": 0.1}}},
        "targets.happiness: metric 'happiness' is not a model metric",
    ),
    "missing sd": (
        {**GOOD, "targets": {"fee_collection": {"value": 0.75}}},
        "targets.fee_collection: no sd",
    ),
    "sd not positive": (
        {**GOOD, "targets": {"fee_collection": {"value": 0.75, "sd": 0}}},
        "targets.fee_collection.sd=0 is not positive",
    ),
    "bounds outside the key's range": (
        {**GOOD, "parameters": {"dynamics.fee_base": {"lo": 0.3, "hi": 1.5}}},
        "parameters.dynamics.fee_base: bounds [0.3, 1.5] leave the key's range; allowed: within [0, 1]",
    ),
    "unknown key": (
        {**GOOD, "parameters": {"dynamics.fee_bass": {}}},
        "parameters: dynamics.fee_bass is not a config key",
    ),
    "unknown section": (
        {**GOOD, "parameters": {"dynamix.fee_base": {}}},
        "parameters: dynamix.fee_base is not a config key",
    ),
    "integer key": (
        {**GOOD, "parameters": {"community.n_compounds": {"lo": 1, "hi": 4}}},
        "parameters: community.n_compounds=1 is not real-valued (int)",
    ),
    "low-confidence target": (
        {**GOOD, "targets": {"fee_collection": {"value": 0.75, "sd": 0.02, "confidence": "low"}}},
        "targets.fee_collection: confidence low",
    ),
    "misspelt field": (
        {**GOOD, "targets": {"fee_collection": {"value": 0.75, "sdd": 0.02}}},
        "targets.fee_collection.sdd: not a known field",
    ),
    "window longer than the run": (
        {**GOOD, "targets": {"fee_collection": {"value": 0.75, "sd": 0.02, "statistic": "mean_last_52"}}},
        "targets.fee_collection.statistic=mean_last_52 needs 52 weeks",
    ),
    "unknown statistic": (
        {**GOOD, "targets": {"fee_collection": {"value": 0.75, "sd": 0.02, "statistic": "median"}}},
        "targets.fee_collection.statistic='median' is not known",
    ),
    "no parameters": ({"targets": GOOD["targets"]}, "parameters: none given"),
    "not YAML": ("targets: [unclosed\n", "not valid YAML"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_targets_file_fails_with_one_line_before_anything_runs(case, tmp_path, capsys) -> None:
    data, expected = BAD[case]
    targets = write_targets(tmp_path / "t.yaml", data)
    out = tmp_path / "out"
    code = main([f"targets={targets}", f"out={out}", *TINY])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1, err
    assert err[0].startswith("sim-calibrate: error: ") and expected in err[0], err[0]
    assert not out.exists()  # nothing was written


def test_bad_command_line_arguments_fail_with_one_line(tmp_path, capsys) -> None:
    targets = write_targets(tmp_path / "t.yaml", GOOD)
    for argv, expected in [
        ([f"targets={targets}", "population=1"], "population=1 is out of range"),
        ([f"targets={targets}", "generations=x"], "generations=x is not an integer"),
        ([f"targets={targets}", "params=dynamics.nothing"], "dynamics.nothing is not a config key"),
        ([f"targets={targets}", "levers.linking.intensity=2"], "levers.linking.intensity=2"),
        (["community=workshop"], "targets: not given"),
        ([f"targets={tmp_path / 'missing.yaml'}"], "cannot be read"),
    ]:
        assert main([*argv, f"out={tmp_path / 'out'}"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and expected in err[0], (argv, err)
    assert not (tmp_path / "out").exists()


def test_params_argument_replaces_the_files_parameters_and_keeps_their_bounds() -> None:
    cfg = compose_config(TINY)
    data = {**GOOD, "parameters": {"dynamics.fee_base": {"lo": 0.3, "hi": 0.9}}}
    spec = calibrate.parse_spec(data, cfg, ["dynamics.fee_base", "dynamics.trust_up:0:0.1"])
    assert [(p.key, p.low, p.high) for p in spec.priors] == [
        ("dynamics.fee_base", 0.3, 0.9),
        ("dynamics.trust_up", 0.0, 0.1),
    ]
    spec = calibrate.parse_spec(data, cfg, ["dynamics.need_rates_elderly[2]"])
    assert (spec.priors[0].low, spec.priors[0].high) == (0.0, 1.0)  # the key's documented range
    with pytest.raises(ConfigError, match=r"need_rates_elderly\[7\] holds 5 values"):
        calibrate.parse_spec(data, cfg, ["dynamics.need_rates_elderly[7]"])


def test_shipped_targets_files_parse_on_the_default_model() -> None:
    cfg = compose_config([])
    for path in sorted((CONFIG_DIR / "targets").glob("*.yaml")):
        spec = calibrate.load_spec(path, cfg)
        assert spec.priors and spec.targets
        for target in spec.targets:
            assert target.info.get("confidence", "high") != "low"


# ------------------------------------------------------------------------------ building blocks
def test_statistics_of_a_weekly_series() -> None:
    series = np.array([1.0, 2.0, 3.0, 4.0])
    assert calibrate.statistic(series, "final") == 4.0
    assert calibrate.statistic(series, "mean") == 2.5
    assert calibrate.statistic(series, "mean_last_2") == 3.5
    assert calibrate.statistic(series, "sum_last_3") == 9.0
    assert calibrate.statistic(series, "min") == 1.0


def test_with_values_sets_scalars_and_list_elements_and_validates() -> None:
    cfg = compose_config(TINY)
    new = calibrate.with_values(cfg, {"dynamics.fee_base": 0.4, "dynamics.need_rates_worker[1]": 0.2})
    assert new.dynamics.fee_base == 0.4
    assert new.dynamics.need_rates_worker[1] == 0.2
    assert cfg.dynamics.fee_base != 0.4 and cfg.dynamics.need_rates_worker[1] != 0.2  # a copy
    with pytest.raises(ConfigError):
        calibrate.with_values(cfg, {"community.elderly_share": 0.9})  # elderly + family > 1


def test_the_simulated_statistic_follows_the_parameter_it_should_identify() -> None:
    """Fee collection rises with fee_base (the mechanism the fee target reads)."""
    cfg = compose_config(TINY)
    spec = calibrate.parse_spec(GOOD, cfg)
    sim = calibrate.Simulator(cfg, spec, noise=False)
    low = sim.exact({"dynamics.fee_base": 0.35}, root=1)["fee_collection"]
    high = sim.exact({"dynamics.fee_base": 0.85}, root=1)["fee_collection"]
    assert high - low > 0.3
    assert sim.exact({"dynamics.fee_base": 0.35}, root=1) == sim.exact({"dynamics.fee_base": 0.35}, root=1)


def test_calibrated_config_group_is_composed_by_sim_run(tmp_path) -> None:
    cfg = compose_config(TINY)
    spec = calibrate.parse_spec(
        {**GOOD, "parameters": {"dynamics.fee_base": {}, "dynamics.trust_up": {}}}, cfg
    )
    summary = pd.DataFrame(
        [
            {"key": "dynamics.fee_base", "median": 0.61, "low": 0.5, "high": 0.7, "level": 0.9},
            {"key": "dynamics.trust_up", "median": 0.04, "low": 0.03, "high": 0.05, "level": 0.9},
        ]
    ).assign(prior_low=0.0, prior_high=1.0)
    text = calibrate.calibrated_yaml(summary, spec, cfg, "demo")
    (tmp_path / "calibrated").mkdir()
    (tmp_path / "calibrated" / "demo.yaml").write_text(text)
    composed = compose_config(["+calibrated=demo", *TINY], config_dir=str(tmp_path))
    assert composed.dynamics.fee_base == 0.61 and composed.dynamics.trust_up == 0.04
    # later overrides still win over the calibrated set
    composed = compose_config(["+calibrated=demo", "dynamics.fee_base=0.2"], config_dir=str(tmp_path))
    assert composed.dynamics.fee_base == 0.2


# ------------------------------------------------------------------------------ end to end
def _populations(db: Path) -> int:
    with sqlite3.connect(db) as con:
        return int(con.execute("select count(*) from populations where t >= 0").fetchone()[0])


@pytest.mark.slow
def test_calibration_end_to_end_posterior_contract_provenance_and_resume(tmp_path, capsys) -> None:
    from sim.results.provenance import git_state

    targets = write_targets(tmp_path / "tiny.yaml", GOOD)
    out = tmp_path / "out"
    argv = [f"targets={targets}", f"out={out}", "population=20", "draws=8", *TINY]
    assert main([*argv, "generations=2"]) == 0
    printed = capsys.readouterr().out
    assert "dynamics.fee_base" in printed and "target fee_collection" in printed
    # both records say what made them: version, commit, the command line without out=
    command = ["sim-calibrate", *argv[:1], *argv[2:], "generations=2"]
    for record in (calibrate.SUMMARY_FILE, calibrate.SPEC_FILE):
        made = json.loads((out / record).read_text(encoding="utf-8"))["provenance"]
        assert (
            made["version"] == version("community-governance-sim")
            and made["seeds"]["seed"] == compose_config(TINY).seed
        )
        assert made["commit"] == git_state()["commit"] and "dirty" in made
        assert made["command_line"] == command, record

    post = pd.read_parquet(out / calibrate.POSTERIOR_FILE)
    assert list(post.columns) == ["dynamics.fee_base", "weight"]
    assert len(post) == 20
    assert post["weight"].sum() == pytest.approx(1.0)
    assert post["dynamics.fee_base"].between(0.3, 0.9).all()
    # fee collection pins fee_base: the 90% interval is well inside the prior's 90% width
    summary = calibrate.summarise_posterior(post, calibrate.parse_spec(GOOD, compose_config(TINY)))
    assert summary["width_vs_prior"].iloc[0] < 0.6

    diag = pd.read_parquet(out / calibrate.DIAGNOSTICS_FILE)
    assert list(diag["generation"]) == [0, 1]
    assert {"epsilon", "acceptance_rate", "effective_sample_size", "simulations"} <= set(diag.columns)
    assert diag["acceptance_rate"].between(0, 1).all() and (diag["effective_sample_size"] > 1).all()
    assert (out / "calibration.html").stat().st_size > 100_000  # plotly.js inline: opens offline
    assert "plausibility" in set(pd.DataFrame(calibrate.check_predictive(
        pd.read_parquet(out / calibrate.PREDICTIVE_FILE), calibrate.parse_spec(GOOD, compose_config(TINY))
    ))["kind"])  # fmt: skip
    calibrated = compose_config(["+calibrated=tiny", *TINY], config_dir=str(out))
    assert calibrated.dynamics.fee_base == pytest.approx(summary["median"].iloc[0], abs=1e-6)

    # resume: the same command with more generations continues the history, keeping generation 0-1
    db = out / calibrate.HISTORY_FILE
    assert _populations(db) == 2
    first = calibrate.posterior(calibrate_history(db), calibrate.parse_spec(GOOD, compose_config(TINY)), t=1)
    assert main([*argv, "generations=3"]) == 0
    assert _populations(db) == 3
    # the outputs name the command that wrote them; the history's record, the one that started it
    summary = json.loads((out / calibrate.SUMMARY_FILE).read_text(encoding="utf-8"))
    assert summary["provenance"]["command_line"][-1] == "generations=3"
    started = json.loads((out / calibrate.SPEC_FILE).read_text(encoding="utf-8"))
    assert started["provenance"]["command_line"][-1] == "generations=2"
    again = calibrate.posterior(calibrate_history(db), calibrate.parse_spec(GOOD, compose_config(TINY)), t=1)
    pd.testing.assert_frame_equal(first, again)
    assert list(pd.read_parquet(out / calibrate.DIAGNOSTICS_FILE)["generation"]) == [0, 1, 2]

    # a different calibration in the same directory is refused, not mixed in
    capsys.readouterr()
    assert main([*argv, "generations=3", "population=30"]) == 2
    assert "holds a calibration with other population" in capsys.readouterr().err


def calibrate_history(db: Path):
    import pyabc

    return pyabc.History(f"sqlite:///{db}")


def test_a_target_the_community_cannot_produce_is_refused_before_anything_runs(tmp_path, capsys) -> None:
    targets = write_targets(tmp_path / "t.yaml", GOOD)
    unmanaged = [*TINY, "community.property_managed_share=0"]  # no company: no fee collection
    assert main([f"targets={targets}", f"out={tmp_path / 'out'}", *unmanaged]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "targets.fee_collection: the model gives no value" in err[0]
    assert not (tmp_path / "out" / calibrate.HISTORY_FILE).exists()


@pytest.mark.slow
def test_parameter_recovery_reports_coverage_inside_zero_one(tmp_path) -> None:
    from sim.experiment import recovery

    cfg = compose_config([*TINY, "replicates=1"])
    spec = calibrate.parse_spec(GOOD, cfg)
    table, coverage = recovery.run_recovery(spec, cfg, tmp_path, calibrate.Settings(15, 1, 1), n=3)
    assert len(table) == 3 and set(table["key"]) == {"dynamics.fee_base"}
    assert table["truth"].between(0.3, 0.9).all()
    row = coverage.iloc[0]
    assert 0 <= row.coverage_low <= row.coverage <= row.coverage_high <= 1
    # recovery itself: the posterior is narrower than the prior (0.43 here) and its 90% intervals
    # cover the truths (3 of 3 here; at least 2 is a loose bound for n = 3). A posterior that
    # is the prior has width ≈ 0.94 with 15 particles, and a median of 3 below 1 in 82% of
    # draws: below 0.75 in fewer than 0.5%, so 0.75 is the bound that fails when nothing is learnt
    assert table["width_vs_prior"].median() < 0.75
    assert table["covered"].sum() >= 2
    assert (tmp_path / recovery.COVERAGE_FILE).exists() and (tmp_path / "truth-002" / "history.db").exists()
    # rerun: every truth is already calibrated, so nothing is redone and the answer is the same
    again, _ = recovery.run_recovery(spec, cfg, tmp_path, calibrate.Settings(15, 1, 1), n=3)
    pd.testing.assert_frame_equal(table, again)


def test_shipped_calibrated_sets_are_accepted_by_sim_run_and_the_dashboard(monkeypatch) -> None:
    """Every file in sim/configs/calibrated/ composes, and sim-app --calibrated NAME applies it."""
    from sim.present import workshop

    shipped = sorted((CONFIG_DIR / "calibrated").glob("*.yaml"))
    assert shipped, "sim/configs/calibrated/ ships at least the field calibration"
    for path in shipped:
        values = yaml.safe_load(path.read_text())
        cfg = compose_config([f"+calibrated={path.stem}", "community=workshop"])
        monkeypatch.setenv(workshop.CALIBRATED_ENV, path.stem)
        dashboard = workshop.compose_config("baseline", preset="workshop")
        for section, keys in values.items():
            for key, value in keys.items():
                assert getattr(getattr(cfg, section), key) == value
                assert getattr(getattr(dashboard, section), key) == value
    monkeypatch.setenv(workshop.CALIBRATED_ENV, "no_such_set")
    with pytest.raises(ConfigError, match="calibrated='no_such_set' is not known"):
        workshop.compose_config("baseline")


def test_one_process_simulates_a_generation_together_and_repeats_itself(tmp_path, monkeypatch) -> None:
    """With cores=1 each batch of particles runs as ensembles, and the same command gives the
    same posterior, bit for bit (the particles take turns with numpy's global generator)."""
    from sim.experiment import ensemble

    batches: list[int] = []
    real_run = ensemble.run

    def counted(jobs, *args, **kwargs):
        batches.append(len(jobs))
        return real_run(jobs, *args, **kwargs)

    monkeypatch.setattr(ensemble, "run", counted)
    targets = write_targets(tmp_path / "tiny.yaml", GOOD)
    argv = [f"targets={targets}", "population=12", "draws=4", "generations=2", "replicates=2", *TINY]
    assert main([*argv, f"out={tmp_path / 'a'}"]) == 0
    assert main([*argv, f"out={tmp_path / 'b'}"]) == 0
    first = pd.read_parquet(tmp_path / "a" / calibrate.POSTERIOR_FILE)
    second = pd.read_parquet(tmp_path / "b" / calibrate.POSTERIOR_FILE)
    pd.testing.assert_frame_equal(first, second, check_exact=True)
    # a generation's first batch is the whole population: 12 particles × 2 replicates at once
    assert max(batches) >= 24


@pytest.mark.slow  # starts worker processes
def test_more_cores_share_the_simulations_and_give_the_same_posterior(tmp_path) -> None:
    """cores=2 spreads each batch's ensembles over two processes; proposing and judging stay in
    order in the main process, so the posterior is the one cores=1 gives, bit for bit."""
    targets = write_targets(tmp_path / "tiny.yaml", GOOD)
    argv = [f"targets={targets}", "population=12", "draws=4", "generations=2", "replicates=2", *TINY]
    assert main([*argv, "cores=1", f"out={tmp_path / 'one'}"]) == 0
    assert main([*argv, "cores=2", f"out={tmp_path / 'two'}"]) == 0
    one = pd.read_parquet(tmp_path / "one" / calibrate.POSTERIOR_FILE)
    two = pd.read_parquet(tmp_path / "two" / calibrate.POSTERIOR_FILE)
    pd.testing.assert_frame_equal(one, two, check_exact=True)
