"""The ensemble: M members advancing together are each, to the bit, the single run they stand for.

(a) member m of an ensemble that mixes levers, scenarios, dynamics values and community seeds
    of one shape equals ``CommunityModel(configs[m], rng=seeds[m])``: every metric column and
    the building frame, exactly (NaN where the single run has NaN);
(b) a member's results do not depend on the batch it ran in (sizes 1, 3, 8) nor on the order;
(c) members of different shapes are refused in one line naming what differs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.core.config import ConfigError, from_dict
from sim.core.levers import LEVERS
from sim.core.model import CommunityModel
from sim.experiment.compose import compose_config

STEPS = 30


def _config(*overrides: str):
    return compose_config(["community=workshop", f"steps={STEPS}", *overrides])


@pytest.fixture(scope="module")
def mixed() -> list:
    """Configs of one shape that differ in every way a member may differ, with their seeds."""
    configs = [
        _config(),
        _config("levers.embedding.intensity=1.0"),
        _config("levers.converging.intensity=0.7"),
        _config("scenario=all_six"),
        _config("scenario=trust_channels"),
        _config("scenario=whistle_and_report"),
        _config("scenario=self_governance"),
        _config("scenario=community_workers"),
        _config("scenario=rights_and_capacity"),
        # the compound_organisation scenario's mechanism (its scenario has a community type of
        # another shape), with owner–company conflicts from week 0
        _config(
            "levers.integration.intensity=1.0",
            "levers.integration.compound_organisation=1.0",
            "dynamics.shock.week=0",
            "dynamics.shock.conflicts=1",
            "community.initial_trust=0.6",
        ),
        _config("scenario=dense_network"),
        _config("scenario=community_duty"),
        _config("scenario=line_organisations"),
        _config("dynamics.trust_up=0.06", "levers.linking.intensity=1.0"),
        _config("dynamics.shock.week=10", "dynamics.shock.conflicts=2", "levers.integration.intensity=1.0"),
        _config("community.seed=7", "levers.immersion.intensity=1.0"),
        _config("scenario=all_six", "budget=5", "levers.conduction.start_week=5"),
    ]
    seeds = []
    for i, cfg in enumerate(configs):
        seeds.append(np.random.SeedSequence(cfg.seed).spawn(3)[i % 3])
    return list(zip(configs, seeds, strict=True))


def _single(cfg, seed) -> tuple[pd.DataFrame, pd.DataFrame]:
    model = CommunityModel(cfg, rng=seed)
    model.run()
    return model.recorder.frame(), model.recorder.building_frame(model)


def _member(model: CommunityModel, m: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    return model.recorder.frame(member=m), model.recorder.building_frame(model, m)


def _assert_same(got: tuple[pd.DataFrame, pd.DataFrame], expected: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())  # NaN where NaN
        pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.fixture(scope="module")
def singles(mixed) -> list:
    return [_single(cfg, seed) for cfg, seed in mixed]


def test_each_member_of_a_mixed_ensemble_is_its_single_run_to_the_bit(mixed, singles) -> None:
    model = CommunityModel.ensemble([c for c, _ in mixed], [s for _, s in mixed])
    model.run()
    assert model.n_members == len(mixed)
    for m, expected in enumerate(singles):
        _assert_same(_member(model, m), expected)
    # the members did differ: the test compares distinct runs
    assert len({model.recorder.frame(member=m)["trust"].iloc[-1] for m in range(len(mixed))}) > 10


@pytest.mark.parametrize("size", [1, 3, 8])
def test_a_member_does_not_depend_on_its_batch(mixed, singles, size) -> None:
    chosen = [3, 14, 15, 5, 0, 9, 12, 16][:size]
    model = CommunityModel.ensemble([mixed[i][0] for i in chosen], [mixed[i][1] for i in chosen])
    model.run()
    for m, i in enumerate(chosen):
        _assert_same(_member(model, m), singles[i])


def test_a_member_does_not_depend_on_the_order_of_the_members(mixed, singles) -> None:
    chosen = [16, 12, 9, 3]
    model = CommunityModel.ensemble([mixed[i][0] for i in chosen], [mixed[i][1] for i in chosen])
    model.run()
    for m, i in enumerate(chosen):
        _assert_same(_member(model, m), singles[i])


def test_replicates_of_one_config_are_the_replicates_run_alone() -> None:
    cfg = from_dict(
        {"community": {"preset": "workshop"}, "steps": 20, "levers": {n: {"intensity": 0.5} for n in LEVERS}}
    )
    seeds = np.random.SeedSequence(cfg.seed).spawn(4)
    model = CommunityModel.ensemble([cfg] * 4, seeds)
    model.run()
    for m, seed in enumerate(seeds):
        _assert_same(_member(model, m), _single(cfg, seed))


def test_a_single_model_is_the_ensemble_of_one() -> None:
    cfg = _config("scenario=all_six")
    seed = np.random.SeedSequence(cfg.seed).spawn(1)[0]
    one = CommunityModel.ensemble([cfg], [seed])
    one.run()
    _assert_same(_member(one, 0), _single(cfg, seed))
    assert one.n_members == 1 and one.community.n_households == one.N


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("community.n_compounds=3", "households"),
        ("steps=31", "steps"),
        ("community.property_managed_share=0.0", "property companies"),
    ],
)
def test_members_of_different_shapes_are_refused_in_one_line(override, named) -> None:
    with pytest.raises(ConfigError) as info:
        CommunityModel.ensemble([_config(), _config(override)], [1, 2])
    message = str(info.value)
    assert "\n" not in message
    assert "member 1" in message and named in message


def test_an_ensemble_needs_a_seed_per_config() -> None:
    with pytest.raises(ConfigError, match="one seed per config"):
        CommunityModel.ensemble([_config(), _config()], [1])


def test_mesa_sees_member_zero_of_an_ensemble() -> None:
    configs = [_config("scenario=all_six"), _config()]
    model = CommunityModel.ensemble(configs, [3, 4])
    model.run(5)
    single = CommunityModel(configs[0], rng=3)
    single.run(5)
    assert len(model.agents) == len(single.agents)
    pd.testing.assert_frame_equal(
        model.datacollector.get_model_vars_dataframe(), single.datacollector.get_model_vars_dataframe()
    )
    resident = next(iter(model.agents_by_type[type(next(iter(single.agents)))]))
    assert resident.trust == single.households.trust[resident.row]
