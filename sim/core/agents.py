"""The four kinds of agent, as thin Mesa views onto the model's state arrays.

Each agent knows its row; reading ``resident.satisfaction`` reads that household's entry of
``model.households.satisfaction`` and assigning it writes the entry back. The weekly step
never loops over agents: it updates the arrays as a whole (see :mod:`sim.core.dynamics`). The
agents are there for inspection, for Mesa's tools (``model.agents_by_type``) and for
per-agent extensions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

if TYPE_CHECKING:
    from sim.core.model import CommunityModel


class _Column:
    """A data descriptor for one entry of a state array: ``table.column[row]``."""

    def __init__(self, table: str, column: str | None = None, *, static: bool = False) -> None:
        self.table = table
        self.column = column
        self.static = static  # static columns live on model.community and are read-only

    def __set_name__(self, owner: type, name: str) -> None:
        self.column = self.column or name
        self.__doc__ = f"``model.{self.table}.{self.column}[row]``"

    def _array(self, agent: Any) -> np.ndarray:
        return getattr(getattr(agent.model, self.table), str(self.column))

    def __get__(self, agent: Any, owner: type | None = None) -> Any:
        if agent is None:
            return self
        value = self._array(agent)[agent.row]
        return value.item() if isinstance(value, np.generic) else value

    def __set__(self, agent: Any, value: Any) -> None:
        if self.static:
            raise AttributeError(f"{self.column} is a fixed trait of the community")
        self._array(agent)[agent.row] = value


class Resident(mesa.Agent):
    """A household (居民户): needs, expectation, satisfaction, trust and participation."""

    satisfaction = _Column("households")
    expectation = _Column("households")
    trust = _Column("households")
    civic_resources = _Column("households")
    threshold = _Column("households")
    participating = _Column("households")
    asked = _Column("households")
    performance = _Column("households")
    building = _Column("community", static=True)
    compound = _Column("community", static=True)
    profile_index = _Column("community", "profile", static=True)

    def __init__(self, model: CommunityModel, row: int) -> None:
        super().__init__(model)
        self.row = row

    @property
    def needs(self) -> np.ndarray:
        """Unmet need by category (a view: writing into it changes the state)."""
        return self.model.households.needs[self.row]

    @property
    def profile(self) -> str:
        from sim.core.config import PROFILES

        return PROFILES[self.profile_index]

    def neighbours(self) -> np.ndarray:
        """Rows of this household's network neighbours."""
        net = self.model.community.network
        return net.indices[net.indptr[self.row] : net.indptr[self.row + 1]]


class PartyMember(Resident):
    """A Party-member household (党员户): recruits, volunteers and reports needs."""

    activity = _Column("households")
    is_building_leader = _Column("households", "is_leader")
    role_model = _Column("households")


class PropertyCompany(mesa.Agent):
    """A property-management company serving one or more compounds."""

    quality = _Column("companies")
    fee_collection = _Column("companies")
    responsiveness = _Column("companies")
    cross_appointed = _Column("companies")

    def __init__(self, model: CommunityModel, row: int) -> None:
        super().__init__(model)
        self.row = row

    @property
    def has_party_branch(self) -> bool:
        return bool(self.model.orgs.has_branch[self.model.community.company_org[self.row]])

    @property
    def compounds(self) -> np.ndarray:
        return np.flatnonzero(self.model.community.compound_company == self.row)


class Organisation(mesa.Agent):
    """An organisation of the community: committees, social organisations, firms, units."""

    propensity = _Column("orgs")
    has_branch = _Column("orgs")
    tie = _Column("orgs")
    resources = _Column("community", "org_resources", static=True)

    def __init__(self, model: CommunityModel, row: int) -> None:
        super().__init__(model)
        self.row = row

    @property
    def kind(self):
        from sim.core.community import OrgKind

        return OrgKind(int(self.model.community.org_kind[self.row]))
