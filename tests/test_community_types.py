"""Community types: structure fixed by the type (largest remainder), placed by ``community.seed``.

Replicates vary behaviour, not what kind of community they are; structural uncertainty is a
named option (``community.vary_structure``) whose spread the summary reports apart.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import ROOT, config
from omegaconf import OmegaConf

from sim.core.community import largest_remainder
from sim.core.config import COMMUNITY_TYPES, CommunityConfig, ConfigError, from_dict
from sim.core.model import CommunityModel
from sim.experiment.compose import compose_config
from sim.experiment.simulate import simulate

CONFIGS_DIR = ROOT / "sim" / "configs"
TYPE_DIR = CONFIGS_DIR / "community" / "type"
STATIC_COLUMNS = ["building", "compound", "households"]


def test_largest_remainder_gives_exact_counts() -> None:
    assert largest_remainder([0.75, 0.25], 4).tolist() == [3, 1]
    assert largest_remainder([0.3, 0.35, 0.35], 10).tolist() == [3, 4, 3]  # a tie goes to the earlier part
    assert largest_remainder([1, 1, 1], 100).sum() == 100
    assert largest_remainder([0.0, 0.0], 5).tolist() == [0, 0]


def test_every_type_ships_a_preset_of_community_keys() -> None:
    assert sorted(p.stem for p in TYPE_DIR.glob("*.yaml")) == sorted(COMMUNITY_TYPES)
    fields = {f.name for f in dataclasses.fields(CommunityConfig)}
    for name in COMMUNITY_TYPES:
        text = (TYPE_DIR / f"{name}.yaml").read_text(encoding="utf-8")
        assert text.startswith("# @package community")
        values = OmegaConf.to_container(OmegaConf.load(TYPE_DIR / f"{name}.yaml"))
        assert values["type"] == name and set(values) <= fields
        cfg = compose_config([f"community/type={name}", "community=workshop"])
        assert cfg.community.type == name and cfg.community.n_compounds == 2


def test_the_defaults_are_the_mixed_type_at_the_community_size() -> None:
    default = CommunityConfig()
    for name in ("type/mixed", "community"):
        values = OmegaConf.to_container(OmegaConf.load(CONFIGS_DIR / "community" / f"{name}.yaml"))
        for key, value in values.items():
            assert getattr(default, key) == value, (name, key)


def test_from_dict_applies_the_named_preset_and_type() -> None:
    cfg = from_dict({"community": {"preset": "workshop"}})
    assert (cfg.community.n_compounds, cfg.community.households_per_building) == (2, 40)
    model = CommunityModel(cfg, rng=0)
    assert model.community.n_households == 400
    cfg = from_dict({"community": {"preset": "workshop", "type": "old_compound", "party_share": 0.2}})
    assert cfg.community.property_managed_share == 0.0  # from the type
    assert cfg.community.party_share == 0.2  # given keys win


@pytest.mark.parametrize(
    "build",
    [
        lambda: from_dict({"community": {"type": "gated_villas"}}),
        lambda: compose_config(["community/type=gated_villas"]),
        lambda: compose_config(["community.type=gated_villas"]),
    ],
)
def test_an_unknown_type_is_one_line_naming_the_allowed_types(build) -> None:
    with pytest.raises(ConfigError) as err:
        build()
    message = str(err.value)
    assert "\n" not in message and "gated_villas" in message
    assert all(name in message for name in COMMUNITY_TYPES)


@pytest.mark.parametrize("type_name", COMMUNITY_TYPES)
def test_counts_come_from_the_type_not_the_seed(type_name: str) -> None:
    cfg = compose_config([f"community/type={type_name}", "community=community"]).community
    facts = []
    for seed in (1, 2):
        c = CommunityModel(
            from_dict({"community": dataclasses.asdict(dataclasses.replace(cfg, seed=seed))}), rng=0
        ).community
        managed = c.compound_company >= 0
        facts.append(
            (
                c.n_households,
                int(c.is_member.sum()),
                int(c.is_leader.sum()),
                np.bincount(c.profile, minlength=3).tolist(),
                int(managed.sum()),
                int(c.compound_owners_committee.sum()),
                int((c.compound_owners_committee & ~managed).sum()),
                c.n_companies,
                c.n_orgs,
                sorted(c.building_size.tolist()),
            )
        )
        assert int(managed.sum()) == round(cfg.property_managed_share * cfg.n_compounds + 1e-9)
        assert int(c.is_member.sum()) == pytest.approx(cfg.party_share * c.n_households, abs=1)
    assert facts[0] == facts[1]


def test_owners_committees_form_where_a_company_serves_first() -> None:
    cfg = config("community")
    c = CommunityModel(cfg, rng=0).community
    managed = c.compound_company >= 0
    assert managed.sum() == 3 and c.compound_owners_committee.sum() == 2
    assert not (c.compound_owners_committee & ~managed).any()


def test_same_community_seed_same_structure_whatever_the_behaviour_seed() -> None:
    base = config("workshop", steps=8, replicates=1)
    a = simulate(dataclasses.replace(base, seed=1))
    b = simulate(dataclasses.replace(base, seed=2))
    pd_a, pd_b = a.buildings[STATIC_COLUMNS], b.buildings[STATIC_COLUMNS]
    assert pd_a.equals(pd_b)
    assert not np.allclose(a.metrics["satisfaction"], b.metrics["satisfaction"])
    moved = dataclasses.replace(base, community=dataclasses.replace(base.community, seed=7))
    c = simulate(moved)
    assert not c.buildings[STATIC_COLUMNS].equals(pd_a)  # placement changed ...
    final = c.buildings[c.buildings.step == 1]
    assert final.households.sum() == a.buildings[a.buildings.step == 1].households.sum()  # ... counts did not


def test_replicates_share_the_structure_unless_it_is_varied() -> None:
    cfg = config("workshop", steps=6, replicates=4)
    fixed = simulate(cfg)
    sizes = fixed.buildings[fixed.buildings.step == 1].groupby("replicate").households.apply(tuple)
    assert sizes.nunique() == 1 and "structure" not in fixed.summary
    varied_cfg = dataclasses.replace(cfg, community=dataclasses.replace(cfg.community, vary_structure=True))
    varied = simulate(varied_cfg)
    sizes = varied.buildings[varied.buildings.step == 1].groupby("replicate").households.apply(tuple)
    # runs_per_structure = 2: replicates 0, 1 share one structure and 2, 3 another
    assert sizes[0] == sizes[1] and sizes[2] == sizes[3] and sizes[0] != sizes[2]
    assert varied.metrics.groupby("replicate").structure.first().tolist() == [0, 0, 1, 1]
    spread = varied.summary["structure"]
    assert spread["structures"] == 2
    for metric in ("satisfaction", "trust"):
        assert spread[metric]["structural_sd"] >= 0 and spread[metric]["behavioural_sd"] > 0


def test_outcomes_are_reported_by_compound_type() -> None:
    old = CommunityModel(compose_config(["community=workshop", "community/type=old_compound"]), rng=0)
    old.run(5)
    row = old.recorder.frame().iloc[-1]
    assert np.isnan(row["satisfaction_managed"]) and np.isnan(row["trust_managed"])
    assert row["satisfaction_unmanaged"] == pytest.approx(row["satisfaction"])
    mixed = CommunityModel(config("community", steps=5), rng=0)
    mixed.run()
    row = mixed.recorder.frame().iloc[-1]
    c = mixed.community
    managed = (c.compound_company >= 0)[c.compound]
    hh = mixed.households
    assert row["satisfaction_managed"] == pytest.approx(hh.satisfaction[managed].mean())
    assert row["trust_unmanaged"] == pytest.approx(hh.trust[~managed].mean())
    committee = c.compound_owners_committee[c.compound]
    assert row["trust_owners_committee"] == pytest.approx(hh.trust[committee].mean())
