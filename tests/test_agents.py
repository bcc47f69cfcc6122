"""Agents are real Mesa agents and thin views onto the model's state arrays."""

from __future__ import annotations

import mesa
import numpy as np
import pytest

from sim.core.agents import Organisation, PartyMember, PropertyCompany, Resident
from sim.core.community import OrgKind
from sim.core.model import CommunityModel


@pytest.fixture
def model(workshop):
    return CommunityModel(workshop, rng=7)


def test_every_class_is_a_mesa_agent() -> None:
    for cls in (Resident, PartyMember, PropertyCompany, Organisation):
        assert issubclass(cls, mesa.Agent)
    assert issubclass(PartyMember, Resident)


def test_agents_are_registered_by_type(model) -> None:
    c = model.community
    by_type = model.agents_by_type
    assert len(by_type[Resident]) == (~c.is_member).sum()
    assert len(by_type[PartyMember]) == c.is_member.sum()
    assert len(by_type[PropertyCompany]) == c.n_companies
    assert len(by_type[Organisation]) == c.n_orgs
    rows = sorted(a.row for t in (Resident, PartyMember) for a in by_type[t])
    assert rows == list(range(c.n_households))


def test_attributes_read_and_write_the_state_arrays(model) -> None:
    resident = next(iter(model.agents_by_type[Resident]))
    hh = model.households
    assert resident.satisfaction == hh.satisfaction[resident.row]
    resident.satisfaction = 0.123
    assert hh.satisfaction[resident.row] == 0.123
    hh.trust[resident.row] = 0.456
    assert resident.trust == 0.456
    resident.needs[2] = 0.5
    assert hh.needs[resident.row, 2] == 0.5
    assert resident.profile in ("elderly", "family", "worker")
    assert resident.compound == model.community.compound[resident.row]
    with pytest.raises(AttributeError):
        resident.building = 3
    neighbours = resident.neighbours()
    assert resident.row not in neighbours and neighbours.size > 0


def test_members_companies_and_organisations_views(model) -> None:
    member = next(iter(model.agents_by_type[PartyMember]))
    assert model.community.is_member[member.row]
    member.activity = 0.9
    assert model.households.activity[member.row] == 0.9
    company = next(iter(model.agents_by_type[PropertyCompany]))
    company.quality = 0.31
    assert model.companies.quality[company.row] == 0.31
    assert company.compounds.size >= 1
    kinds = {org.kind for org in model.agents_by_type[Organisation]}
    assert OrgKind.PARTY_COMMITTEE in kinds and OrgKind.RESIDENTS_COMMITTEE in kinds


def test_changing_an_agent_changes_the_next_step(workshop) -> None:
    a, b = CommunityModel(workshop, rng=1), CommunityModel(workshop, rng=1)
    for resident in b.agents_by_type[Resident]:
        resident.trust = 1.0  # the same as writing the whole array
    a.step()
    b.step()
    assert b.households.trust.mean() > a.households.trust.mean()
    assert np.isfinite(b.households.trust).all()
