"""The synthetic community: sizes, shares, network shape and organisations (docs/design.md §1, §3)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import config

from sim.core.community import OrgKind, build_community, clustering_coefficient


def build(preset: str, seed: int = 0, **community):
    cfg = config(preset, community=community)
    return build_community(
        cfg.community, cfg.dynamics.threshold_mean, cfg.dynamics.threshold_sd, np.random.default_rng(seed)
    )


@pytest.mark.parametrize(("preset", "target"), [("workshop", 400), ("community", 1200), ("street", 20000)])
def test_presets_have_their_size(preset: str, target: int) -> None:
    c = build(preset)
    assert 0.85 * target <= c.n_households <= 1.15 * target
    assert c.building.size == c.compound.size == c.n_households
    # households are grouped into buildings, buildings into compounds
    assert (c.building_compound[c.building] == c.compound).all()
    assert np.bincount(c.building, minlength=c.n_buildings).tolist() == c.building_size.tolist()


def test_party_member_share_follows_the_parameter() -> None:
    c = build("street")
    assert c.is_member.mean() == pytest.approx(0.08, abs=0.01)
    c = build("street", party_share=0.2)
    assert c.is_member.mean() == pytest.approx(0.2, abs=0.015)
    assert not build("workshop", party_share=0.0).is_member.any()
    # building leaders are members; non-members have no recruiting activity
    assert not (c.is_leader & ~c.is_member).any()
    assert (c.activity[~c.is_member] == 0).all()


def test_profiles_follow_their_shares() -> None:
    c = build("street", elderly_share=0.5, family_share=0.3)
    shares = np.bincount(c.profile, minlength=3) / c.n_households
    assert shares == pytest.approx([0.5, 0.3, 0.2], abs=0.02)


def test_network_is_a_clustered_small_world() -> None:
    c = build("community")
    adj = c.network
    assert (adj != adj.T).nnz == 0, "ties are symmetric"
    assert adj.diagonal().sum() == 0, "no self-ties"
    degree = np.diff(adj.indptr)
    assert 6 <= degree.mean() <= 10
    clustering = clustering_coefficient(adj)
    random_expectation = degree.mean() / c.n_households
    assert clustering > 0.2
    assert clustering > 20 * random_expectation
    # most ties stay inside a building, few cross compounds
    rows = np.repeat(np.arange(c.n_households), degree)
    same_building = (c.building[rows] == c.building[adj.indices]).mean()
    cross_compound = (c.compound[rows] != c.compound[adj.indices]).mean()
    assert same_building > 0.6
    assert 0 < cross_compound < 0.1


@pytest.mark.parametrize("preset", ["workshop", "community"])
def test_every_kind_of_organisation_is_present(preset: str) -> None:
    c = build(preset, property_managed_share=1.0, owners_committee_share=1.0)
    kinds = set(c.org_kind.tolist())
    assert kinds == {k.value for k in OrgKind}
    assert (c.org_kind == OrgKind.PARTY_COMMITTEE).sum() == 1
    assert (c.org_kind == OrgKind.RESIDENTS_COMMITTEE).sum() == 1
    assert (c.org_kind == OrgKind.OWNERS_COMMITTEE).sum() == c.n_compounds


def test_property_companies_serve_compounds() -> None:
    c = build("street", property_managed_share=0.5, compounds_per_company=2)
    managed = c.compound_company >= 0
    assert 0.25 < managed.mean() < 0.75
    served = np.bincount(c.compound_company[managed], minlength=c.n_companies)
    assert served.min() >= 1 and served.max() <= 2
    assert c.company_org.size == c.n_companies
    assert (c.org_kind[c.company_org] == OrgKind.PROPERTY_COMPANY).all()
    assert not build("workshop", property_managed_share=0.0).n_companies


def test_same_seed_same_community() -> None:
    a, b = build("community", seed=3), build("community", seed=3)
    assert (a.network != b.network).nnz == 0
    np.testing.assert_array_equal(a.threshold_base, b.threshold_base)
    other = build("community", seed=4)
    assert other.n_households != a.n_households or (other.network != a.network).nnz > 0
