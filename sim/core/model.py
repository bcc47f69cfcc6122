"""CommunityModel: owns the state, runs the weekly schedule, records the metrics.

The schedule of one step (docs/design.md §2) is spelled out in :meth:`CommunityModel.step`, one
line per stage, so that a reader sees where each lever acts. Within a stage every household
is updated from the values the stage started with, so agent order never matters; across stages
the update is sequential, and docs/ODD.md §3 tables which values each stage reads from last
week and which from this week.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import mesa
import numpy as np
import scipy.sparse as sp
from mesa.experimental.scenarios import Scenario
from scipy import stats

from sim.core import dynamics, kernels, members, trust
from sim.core.agents import Organisation, PartyMember, PropertyCompany, Resident
from sim.core.collector import RecorderDataCollector
from sim.core.community import Community, build_community
from sim.core.config import NEED_CATEGORIES, Config, ConfigError, validate
from sim.core.keywords import SEED_FROM_CONFIG, config_from_keywords, model_rng
from sim.core.levers import LEVERS, conduction, converging, embedding, immersion, integration, linking
from sim.core.metrics import Recorder
from sim.core.state import (
    BuildingState,
    CompanyState,
    CompoundState,
    Flows,
    HouseholdState,
    Institutions,
    NeedLedger,
    OrgState,
    Tallies,
)


class NonFiniteStateError(FloatingPointError):
    """A state array holds NaN or inf (only checked with ``check_finite``)."""


class CommunityModel(mesa.Model):
    """One urban community under a configuration of the six levers.

    ``CommunityModel()`` is the default community; Mesa's tools build it from flat keywords
    (:mod:`sim.core.keywords`): ``CommunityModel(converging=1.0, preset="workshop", seed=3)``.
    ``model.datacollector`` holds every metric, read from the recorder
    (:mod:`sim.core.collector`), so ``mesa.batch_run`` and SolaraViz plot components work.

    Args:
        cfg: a :class:`sim.core.config.Config` (see :func:`sim.core.config.from_dict`); default:
            the default config. Flat ``keywords`` are applied on top of it.
        rng: a seed, ``SeedSequence`` or ``numpy.random.Generator``; everything random in the
            model's behaviour is drawn from it. The community's structure (who lives where,
            ties, members, household traits) comes from ``cfg.community.seed`` alone, so
            replicates of one configuration share their community and vary behaviour only.
            Default: replicate 0 of the
            config's ``seed``, as ``sim-run`` draws it; ``None``: fresh entropy, as in Mesa.
        scenario: a ``mesa.experimental.scenarios.Scenario`` (SolaraViz passes one on reset):
            its ``rng`` seeds the model when ``rng`` is not given, its other values are flat
            keywords. The config's named scenario is chosen with ``sim.experiment.compose``.
        keywords: flat keywords, each setting one config key (:func:`sim.core.keywords.keyword_keys`).
    """

    def __init__(
        self,
        cfg: Config | None = None,
        rng: int | np.random.SeedSequence | np.random.Generator | None = SEED_FROM_CONFIG,
        *,
        scenario: Scenario | None = None,
        **keywords: Any,
    ):
        if scenario is not None:
            if not isinstance(scenario, Scenario):
                raise ConfigError(
                    f"CommunityModel(scenario={scenario!r}): allowed: a mesa Scenario; a named scenario "
                    "is composed with sim.experiment.compose.compose_config(['scenario=NAME'])"
                )
            values = dict(scenario.__dict__)
            scenario_rng = values.pop("rng", None)
            if rng is SEED_FROM_CONFIG and scenario_rng is not None:
                rng = scenario_rng
            keywords = {**values, **keywords}
        cfg = validate(cfg) if cfg is not None and not keywords else config_from_keywords(cfg, keywords)
        rng, self.seed_sequence = model_rng(cfg, rng)
        super().__init__(rng=rng)
        if scenario is not None:
            self.scenario = scenario
        self.cfg = cfg
        dyn = cfg.dynamics
        self.community: Community = build_community(
            cfg.community, dyn.threshold_mean, dyn.threshold_sd, structure_rng(cfg.community.seed)
        )
        self.week = 0
        self._init_state()
        self._network_weights = _row_normalised(self.community.network)
        self._isolated = np.diff(self.community.network.indptr) == 0
        self._agents_made = False  # Mesa agents are made on first use (see _ensure_agents)
        #: per-model values that stages compute once and reuse (fixed sets, work arrays, the
        #: last coverage), by name; kept in the open so that a reader sees every piece of state
        self.caches: dict[str, Any] = {}
        self.recorder = Recorder(self, cfg.steps, cfg.record_buildings)
        self.datacollector = RecorderDataCollector(self.recorder)
        self.flow = Flows()

    # Mesa's batch runner and SolaraViz stop when ``running`` is false: at the configured horizon.
    @property
    def running(self) -> bool:
        """True until ``cfg.steps`` weeks have run (or Mesa's ``running`` was set false)."""
        cfg = self.__dict__.get("cfg")
        return self.__dict__.get("_running", True) and (cfg is None or self.week < cfg.steps)

    @running.setter
    def running(self, value: bool) -> None:
        self._running = bool(value)

    # ----------------------------------------------------------------------------- set-up
    def _init_state(self) -> None:
        c = self.community
        cfg = self.cfg
        n = c.n_households
        k = len(NEED_CATEGORIES)
        rates = np.array(
            [
                cfg.dynamics.need_rates_elderly,
                cfg.dynamics.need_rates_family,
                cfg.dynamics.need_rates_worker,
            ]
        )
        self.household_need_rates = rates[c.profile]
        unmanaged = c.compound_company[c.compound] < 0
        self.household_need_rates[unmanaged, dynamics.PROPERTY] *= (
            1.0 + cfg.dynamics.no_management_property_need
        )
        self.need_weights = np.asarray(cfg.dynamics.need_weights, dtype=np.float64)

        activity = _member_activity(c.activity, cfg.levers.embedding.member_activity)
        # each member's own disposition, to which her activity returns (members.act)
        self.member_activity_start = np.where(c.is_member, activity, 0.0)
        self.households = HouseholdState(
            needs=np.zeros((n, k)),
            expectation=c.expectation.copy(),
            satisfaction=c.satisfaction.copy(),
            trust=c.trust.copy(),
            civic_resources=c.civic_resources.copy(),
            threshold=np.empty(n),
            activity=np.where(c.is_member, activity, 0.0),
            is_leader=c.is_leader.copy(),
            role_model=np.zeros(n),
            participating=np.zeros(n, dtype=bool),
            asked=np.zeros(n, dtype=bool),
            performance=np.ones(n),
            served=np.zeros((n, k)),
        )
        self.update_thresholds()
        # Who takes part before anyone is asked or sees a neighbour: the instigators.
        hh = self.households
        hh.participating[:] = cfg.dynamics.trust_effect * (hh.trust - 0.5) >= hh.threshold
        self.buildings = BuildingState(
            covered=np.zeros(c.n_buildings, dtype=bool),
            reach=np.zeros(c.n_buildings),
            need_information=np.full(c.n_buildings, cfg.dynamics.base_need_information),
            participation=np.bincount(c.building, weights=hh.participating, minlength=c.n_buildings)
            / np.maximum(c.building_size, 1),
        )
        self.compounds = CompoundState(
            open_conflicts=np.zeros(c.n_compounds, dtype=np.int64),
            conflict_weeks=np.zeros(c.n_compounds, dtype=np.int64),
            weeks_dissatisfied=np.zeros(c.n_compounds, dtype=np.int64),
        )
        self.companies = CompanyState(
            quality=c.company_quality.copy(),
            fee_collection=np.full(c.n_companies, cfg.dynamics.fee_base),
            responsiveness=np.ones(c.n_companies),
            cross_appointed=np.zeros(c.n_companies),
            standard=c.company_quality.copy(),
            replacements=np.zeros(c.n_companies, dtype=np.int64),
        )
        self.orgs = OrgState(
            propensity=np.full(c.n_orgs, cfg.dynamics.initial_propensity),
            cooperated=np.zeros(c.n_orgs, dtype=bool),
            payoff=np.zeros(c.n_orgs),
            has_branch=np.zeros(c.n_orgs, dtype=bool),
            tie=np.zeros(c.n_orgs),
            depth=np.zeros(c.n_orgs),
        )
        self.institutions = Institutions(
            retention=np.asarray(cfg.levers.conduction.retention, dtype=np.float64).copy(),
            task_growth=np.asarray(cfg.levers.conduction.task_growth, dtype=np.float64).copy(),
            # workers' experience starts where the status-quo turnover holds it (1 without turnover)
            experience=np.array([_starting_experience(cfg.levers.conduction)]),
        )
        self.ledger = NeedLedger(
            pending=np.zeros(n), escalated=np.zeros(n), answered=np.zeros(n), unanswered=np.zeros(n)
        )
        self.tallies = Tallies()
        # rich and poor: top and bottom thirds of initial civic resources (stratification)
        low, high = np.quantile(c.civic_resources, [1 / 3, 2 / 3]) if n else (0.0, 0.0)
        self.resource_poor = c.civic_resources <= low
        self.resource_rich = c.civic_resources >= high

    # Making one Mesa agent per household is most of a large model's build time (about 0.4 s of
    # 0.5 s for 100,000 households), and a batch run never looks at the agents. So they are made
    # the first time anything asks Mesa for them, as the same real mesa.Agent objects.
    @property
    def agents(self):
        """All Mesa agents (made on first access)."""
        self._ensure_agents()
        return super().agents

    @property
    def agents_by_type(self):
        """Mesa agent sets by class (made on first access)."""
        self._ensure_agents()
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        """Classes of the Mesa agents (made on first access)."""
        self._ensure_agents()
        return super().agent_types

    def register_agent(self, agent: mesa.Agent) -> None:
        """Register an agent; the community's own agents come first, as if made at build time."""
        self._ensure_agents()
        super().register_agent(agent)

    def remove_all_agents(self) -> None:
        """Remove every agent (agents not yet made are simply never made)."""
        self._agents_made = True
        super().remove_all_agents()

    def _ensure_agents(self) -> None:
        # True while Mesa's own __init__ runs, so nothing is made before the state exists
        if not self.__dict__.get("_agents_made", True):
            self._agents_made = True
            self._create_agents()

    def _create_agents(self) -> None:
        c = self.community
        for row in np.flatnonzero(~c.is_member):
            Resident(self, int(row))
        for row in np.flatnonzero(c.is_member):
            PartyMember(self, int(row))
        for company in range(c.n_companies):
            PropertyCompany(self, company)
        for org in range(c.n_orgs):
            Organisation(self, org)

    def update_thresholds(self) -> None:
        """θ_i = θ̃_i − β_R r_i − β_M x_i (− mass organisations' pull while it acts)."""
        hh = self.households
        hh.threshold[:] = (
            self.community.threshold_base
            - self.cfg.dynamics.resource_effect * hh.civic_resources
            - self.cfg.members.threshold_effect * hh.role_model
        )
        # mass organisations (immersion, docs/ODD.md §7.13); none before the first step
        groups = self.__dict__.get("caches", {}).get("group_pull")
        if groups is not None:
            hh.threshold -= groups[1]

    def neighbour_mean(self, values: np.ndarray) -> np.ndarray:
        """Mean of ``values`` over each household's network neighbours (own value if isolated)."""
        mean = np.empty(self.community.n_households)
        kernels.neighbour_means(np.asarray(values, dtype=np.float64), dynamics.network_arrays(self), mean)
        return mean

    # ------------------------------------------------------------------------- schedule
    def lever_intensities(self) -> dict[str, float]:
        """Effective intensities this week: time windows, then the budget (scaled in proportion)."""
        levers = self.cfg.levers
        asked = {}
        for name in LEVERS:
            lever = getattr(levers, name)
            asked[name] = lever.intensity if lever.active(self.week) else 0.0
        cost = sum(asked[n] * getattr(levers, n).cost_per_unit for n in LEVERS)
        scale = 1.0
        if cost > self.cfg.budget:
            scale = self.cfg.budget / cost if cost > 0 else 1.0
        self.flow.cost = cost * scale
        self.flow.budget_bound = float(scale < 1.0)
        return {name: value * scale for name, value in asked.items()}

    def step(self) -> None:
        """One week (docs/design.md §2)."""
        self.flow = Flows()
        k = self.lever_intensities()
        self.flow.intensities = k
        capacity_factor = self._shock()

        conduction.apply(self, k["conduction"])  # 1 funds, tasks, W_eff
        embedding.update_coverage(self, k["embedding"])  # coverage at four levels
        self.buildings.reach[:] = embedding.reach(self)
        converging.play(self, k["converging"])  # 2 joint capacity J
        linking.broker(self, k["linking"])  # 3 linked resources L
        dynamics.arrive_needs(self)  # 4
        dynamics.form_need_information(  # 5 A_b
            self,
            embedding.reporting(self)
            + immersion.consultation(self, k["immersion"])
            + integration.precision(self, k["integration"]),
        )
        overlap = integration.overlap(self, k["integration"])
        dynamics.supply_and_allocate(self, overlap, capacity_factor)  # 6, 7
        trust.ledger(self, k["conduction"])  # 7b reported needs answered, sent up, or not
        chi = integration.cross_appointment(self, k["integration"])
        mediation = integration.mediation_rate(self, chi, k["converging"])
        dynamics.property_and_conflicts(self, chi, mediation)  # 8
        dynamics.update_attitudes(self)  # 9
        trust.update(self)  # 9b trust's own channels
        embedding.recruit(self)  # 10 asks
        immersion.educate(self, k["immersion"])  # 10 education
        immersion.mobilise_groups(self, k["immersion"])  # 10 mass organisations
        dynamics.participate(self, immersion.recruitment_effect(self, k["immersion"]))  # 11
        members.act(self)  # 11b members' activity, leaders, role models
        converging.learn(self)  # 12
        self.week += 1
        if self.cfg.check_finite:
            self.check_finite()
        self.recorder.record(self)  # 13

    def _shock(self) -> float:
        """Capacity factor of an imposed service failure this week (1 when none)."""
        shock = self.cfg.dynamics.shock
        if shock.week < 0 or not shock.week <= self.week < shock.week + shock.duration:
            return 1.0
        if self.week == shock.week and shock.conflicts:
            self.compounds.open_conflicts += shock.conflicts
        return 1.0 - shock.depth

    def run(self, steps: int | None = None) -> Recorder:
        """Run ``steps`` weeks (default: the config's) and return the recorder."""
        for _ in range(self.cfg.steps if steps is None else steps):
            self.step()
        return self.recorder

    def check_finite(self) -> None:
        """Raise NonFiniteStateError naming the first state array that holds NaN or inf."""
        for table in (
            self.households,
            self.buildings,
            self.companies,
            self.orgs,
            self.institutions,
            self.ledger,
        ):
            for f in dataclasses.fields(table):
                values = getattr(table, f.name)
                if values.dtype.kind == "f" and not np.isfinite(values).all():
                    raise NonFiniteStateError(
                        f"week {self.week}: {type(table).__name__}.{f.name} holds NaN or inf"
                    )


def structure_rng(community_seed: int) -> np.random.Generator:
    """The generator that places a community's households, ties and members."""
    return np.random.default_rng(np.random.SeedSequence(community_seed))


def _starting_experience(cfg: conduction.ConductionConfig) -> float:
    if cfg.turnover <= 0:
        return 1.0
    return conduction.experience_at_rest(cfg.turnover, cfg.learning_weeks)


def _row_normalised(adj: sp.csr_matrix) -> sp.csr_matrix:
    degree = np.asarray(adj.sum(axis=1)).ravel()
    inv = np.divide(1.0, degree, out=np.zeros_like(degree), where=degree > 0)
    return sp.diags(inv) @ adj


def _member_activity(draw: np.ndarray, mean: float) -> np.ndarray:
    """Members' activities: Beta-distributed with the given mean, from fixed uniform draws."""
    if mean <= 0.0:
        return np.zeros_like(draw)
    if mean >= 1.0:
        return np.ones_like(draw)
    concentration = 4.0
    return stats.beta.ppf(draw, mean * concentration, (1.0 - mean) * concentration)
