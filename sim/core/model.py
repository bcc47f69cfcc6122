"""CommunityModel: owns the state, runs the weekly schedule, records the metrics.

The schedule of one step (docs/design.md §2) is spelled out in :meth:`CommunityModel.step`, one
line per stage, so that a reader sees where each lever acts. Within a stage every household
is updated from the values the stage started with, so agent order never matters; across stages
the update is sequential, and docs/ODD.md §3 tables which values each stage reads from last
week and which from this week.

One model advances one or more members together (:meth:`CommunityModel.ensemble`, docs/design.md
§9): every state array holds the members one after another and every per-member quantity is an
array over members, so each stage's numpy calls serve all members at once. A single model is
the ensemble of one.

Why one module of this length: :class:`CommunityModel` is one class whose ``step`` reads as the
week's schedule; its methods are the glue between stages (the stages' arithmetic lives in
``dynamics``, ``trust``, ``members``, ``kernels`` and ``levers``), and the functions after it
stack the members' communities into the one set of arrays that only this class builds.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Sequence
from types import SimpleNamespace
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
        self._build([cfg], [self.rng])

    @classmethod
    def ensemble(
        cls,
        configs: Sequence[Config],
        seeds: Sequence[int | np.random.SeedSequence | np.random.Generator | None],
    ) -> CommunityModel:
        """M members (replicates and/or parameter points) that advance together as one model.

        Member m behaves exactly as ``CommunityModel(configs[m], rng=seeds[m])`` would alone,
        to the bit (its own generator, drawn from in the same order and sizes); its metrics
        are ``model.recorder.frame(member=m)`` and ``model.recorder.building_frame(model, m)``.
        The members must share a shape: households, buildings, compounds, property companies,
        organisations and steps (ConfigError otherwise). Mesa's agents and datacollector show
        member 0. See docs/design.md, "The ensemble".
        """
        configs = [validate(cfg) for cfg in configs]
        if not configs or len(seeds) != len(configs):
            raise ConfigError(
                f"CommunityModel.ensemble: {len(configs)} configs and {len(seeds)} seeds; "
                "allowed: at least one config and one seed per config"
            )
        model = cls.__new__(cls)
        first, model.seed_sequence = model_rng(configs[0], seeds[0])
        mesa.Model.__init__(model, rng=first)
        rngs = [model.rng] + [
            _member_rng(model_rng(cfg, seed)[0]) for cfg, seed in zip(configs[1:], seeds[1:], strict=True)
        ]
        model._build(configs, rngs)
        return model

    def _build(self, configs: list[Config], rngs: list[np.random.Generator]) -> None:
        self.configs = configs
        self.rngs = rngs
        self.n_members = len(configs)
        self._params: dict[str, Any] = {}
        self.communities = _member_communities(configs)
        # the members' communities one after another (a single model: its community itself)
        self.community: Community = (
            self.communities[0] if len(configs) == 1 else stack_communities(self.communities)
        )
        first = self.communities[0]
        #: per member: households, buildings, compounds, property companies, organisations
        self.N, self.B, self.C, self.P, self.O = (
            first.n_households,
            first.n_buildings,
            first.n_compounds,
            first.n_companies,
            first.n_orgs,
        )
        self.week = 0
        self._init_state()
        self._network_weights = _stacked_weights(self.communities)
        self._isolated = np.diff(self.community.network.indptr) == 0
        self._agents_made = False  # Mesa agents are made on first use (see _ensure_agents)
        #: per-model values that stages compute once and reuse (fixed sets, work arrays, the
        #: last coverage), by name; kept in the open so that a reader sees every piece of state.
        #: Each entry holds what every member needs (per-member entries where members differ).
        self.caches: dict[str, Any] = {}
        self.recorder = Recorder(self, self.cfg.steps, any(cfg.record_buildings for cfg in configs))
        self.datacollector = RecorderDataCollector(self.recorder)
        self.flows = Flows(self.n_members)

    @property
    def cfg(self) -> Config:
        """Member 0's config (a single model's). Setting it (the dashboard changes levers
        mid-run) takes effect from the next stage that reads it."""
        return self.configs[0]

    @cfg.setter
    def cfg(self, value: Config) -> None:
        self.set_config(0, value)

    def set_config(self, member: int, cfg: Config) -> None:
        """Give ``member`` a new config from the next stage that reads it (the dashboard changes
        an arm's levers and budget mid-run). The community and the state stay as they are."""
        self.configs[member] = cfg
        self._params.clear()  # values read from the configs, and what is derived from them

    # ------------------------------------------------------------------- per-member values
    def derived(self, key: str, make: Callable[[], Any]) -> Any:
        """A value computed from the configs alone, made once (again after ``cfg`` is set)."""
        value = self._params.get("derived:" + key, _MISSING)
        if value is _MISSING:
            value = self._params["derived:" + key] = make()
        return value

    def par(self, key: str) -> Any:
        """The config value at dotted ``key``: as is when every member has the same, else an
        array over members (float64). Cached; the config must not change during a run."""
        value = self._params.get(key, _MISSING)
        if value is _MISSING:
            get = operator.attrgetter(key)
            values = [get(cfg) for cfg in self.configs]
            if all(v == values[0] for v in values[1:]):
                value = values[0]
            else:
                value = np.array(values, dtype=np.float64)
            self._params[key] = value
        return value

    def vec(self, key: str) -> np.ndarray:
        """The config value at dotted ``key`` as an array over members (float64), always."""
        cache_key = "vec:" + key
        value = self._params.get(cache_key)
        if value is None:
            get = operator.attrgetter(key)
            value = self._params[cache_key] = np.array([get(cfg) for cfg in self.configs], dtype=np.float64)
        return value

    def at(self, value: Any, per: int) -> Any:
        """A per-member value (an array over members) spread to ``per`` entities of each member,
        the members one after another; a scalar as it is. With one member the value is left
        to broadcast (the same arithmetic, without a copy per entity)."""
        if self.n_members > 1 and isinstance(value, np.ndarray) and value.shape == (self.n_members,):
            return np.repeat(value, per)
        return value

    def positive(self, key: str) -> bool:
        """Whether the config value at ``key`` is positive for any member."""
        value = self.par(key)
        return bool((value > 0).any()) if isinstance(value, np.ndarray) else value > 0

    def intensity(self, lever: str) -> np.ndarray:
        """This week's effective intensity of ``lever``, per member (0 before the first step)."""
        k = self.flows.intensities.get(lever)
        return np.zeros(self.n_members) if k is None else k

    def each(self, value: Any) -> np.ndarray:
        """A per-member value as an array over members (a scalar: the same for every member)."""
        if isinstance(value, np.ndarray) and value.shape == (self.n_members,):
            return value
        return np.full(self.n_members, value, dtype=np.float64)

    def rows(self, values: np.ndarray) -> np.ndarray:
        """``values`` (the members one after another) as one row per member."""
        return values.reshape(self.n_members, -1)

    def subset_mean(self, values: np.ndarray, mask: np.ndarray, key: str) -> np.ndarray:
        """Per member: the mean of ``values`` where the fixed ``mask`` holds (NaN where it never
        does), summed as ``values[mask].mean()`` sums one member alone.

        Members whose masks are the same (one community) are taken together; ``key`` names the
        mask in ``caches``, where its groups of members are kept.
        """
        groups = self.caches.get("subset:" + key)
        if groups is None:
            by_row: dict[bytes, list[int]] = {}
            rows = self.rows(mask)
            for m in range(self.n_members):
                by_row.setdefault(rows[m].tobytes(), []).append(m)
            groups = self.caches["subset:" + key] = [
                (np.array(ms), np.flatnonzero(rows[ms[0]])) for ms in by_row.values()
            ]
        out = np.full(self.n_members, np.nan)
        table = self.rows(values)
        for members_, columns in groups:
            if columns.size:
                if members_.size == 1:
                    out[members_[0]] = table[members_[0], columns].mean()
                else:
                    out[members_] = table[np.ix_(members_, columns)].mean(axis=1)
        return out

    def count(self, flags: np.ndarray) -> np.ndarray:
        """Per member: how many of ``flags`` are set."""
        if self.n_members == 1:
            return np.array([np.count_nonzero(flags)])
        return np.count_nonzero(self.rows(flags), axis=1)

    def means(self, values: np.ndarray) -> np.ndarray:
        """Per member: the mean of ``values`` (summed as one member's ``values.mean()``)."""
        rows = self.rows(values)
        return np.add.reduce(rows, axis=1) / rows.shape[1]

    def sums(self, values: np.ndarray) -> np.ndarray:
        """Per member: the sum of ``values`` (as one member's ``values.sum()``)."""
        return np.add.reduce(self.rows(values), axis=1)

    @property
    def flow(self) -> SimpleNamespace:
        """This week's flows of member 0 (a single model: the model's), as plain values."""
        return self.flows.member(0)

    # Mesa's batch runner and SolaraViz stop when ``running`` is false: at the configured horizon.
    @property
    def running(self) -> bool:
        """True until ``cfg.steps`` weeks have run (or Mesa's ``running`` was set false)."""
        configs = self.__dict__.get("configs")
        return self.__dict__.get("_running", True) and (configs is None or self.week < configs[0].steps)

    @running.setter
    def running(self, value: bool) -> None:
        self._running = bool(value)

    # ----------------------------------------------------------------------------- set-up
    def _init_state(self) -> None:
        c = self.community
        n = c.n_households
        k = len(NEED_CATEGORIES)
        members = list(zip(self.configs, self.communities, strict=True))
        rates, activity, poor, rich = [], [], [], []
        for cfg, cm in members:
            dyn = cfg.dynamics
            member_rates = np.array([dyn.need_rates_elderly, dyn.need_rates_family, dyn.need_rates_worker])[
                cm.profile
            ]
            unmanaged = cm.compound_company[cm.compound] < 0
            member_rates[unmanaged, dynamics.PROPERTY] *= 1.0 + dyn.no_management_property_need
            rates.append(member_rates)
            activity.append(_member_activity(cm.activity, cfg.levers.embedding.member_activity))
            # rich and poor: top and bottom thirds of initial civic resources (stratification)
            low, high = np.quantile(cm.civic_resources, [1 / 3, 2 / 3]) if cm.n_households else (0.0, 0.0)
            poor.append(cm.civic_resources <= low)
            rich.append(cm.civic_resources >= high)
        self.household_need_rates = rates[0] if len(rates) == 1 else np.concatenate(rates)
        #: (M, K) weights of the need categories in perceived performance Q
        self.need_weights = np.array([cfg.dynamics.need_weights for cfg in self.configs], dtype=np.float64)
        member_activity = activity[0] if len(activity) == 1 else np.concatenate(activity)

        # each member's own disposition, to which her activity returns (members.act)
        self.member_activity_start = np.where(c.is_member, member_activity, 0.0)
        self.households = HouseholdState(
            needs=np.zeros((n, k)),
            expectation=c.expectation.copy(),
            satisfaction=c.satisfaction.copy(),
            trust=c.trust.copy(),
            civic_resources=c.civic_resources.copy(),
            threshold=np.empty(n),
            activity=np.where(c.is_member, member_activity, 0.0),
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
        trust_effect = self.at(self.par("dynamics.trust_effect"), self.N)
        hh.participating[:] = trust_effect * (hh.trust - 0.5) >= hh.threshold
        self.buildings = BuildingState(
            covered=np.zeros(c.n_buildings, dtype=bool),
            reach=np.zeros(c.n_buildings),
            need_information=np.repeat(self.vec("dynamics.base_need_information"), self.B),
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
            fee_collection=np.repeat(self.vec("dynamics.fee_base"), self.P),
            responsiveness=np.ones(c.n_companies),
            cross_appointed=np.zeros(c.n_companies),
            standard=c.company_quality.copy(),
            replacements=np.zeros(c.n_companies, dtype=np.int64),
        )
        self.orgs = OrgState(
            propensity=np.repeat(self.vec("dynamics.initial_propensity"), self.O),
            cooperated=np.zeros(c.n_orgs, dtype=bool),
            payoff=np.zeros(c.n_orgs),
            has_branch=np.zeros(c.n_orgs, dtype=bool),
            tie=np.zeros(c.n_orgs),
            depth=np.zeros(c.n_orgs),
        )
        conductions = [cfg.levers.conduction for cfg in self.configs]
        self.institutions = Institutions(
            retention=np.array([cfg.retention for cfg in conductions], dtype=np.float64),
            task_growth=np.array([cfg.task_growth for cfg in conductions], dtype=np.float64),
            # workers' experience starts where the status-quo turnover holds it (1 without turnover)
            experience=np.array([_starting_experience(cfg) for cfg in conductions]),
        )
        self.ledger = NeedLedger(
            pending=np.zeros(n), escalated=np.zeros(n), answered=np.zeros(n), unanswered=np.zeros(n)
        )
        self.tallies = Tallies(self.n_members)
        self.resource_poor = poor[0] if len(poor) == 1 else np.concatenate(poor)
        self.resource_rich = rich[0] if len(rich) == 1 else np.concatenate(rich)

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
        # member 0's (a single model's): its rows come first in every table of an ensemble
        c = self.communities[0]
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
            - self.at(self.par("dynamics.resource_effect"), self.N) * hh.civic_resources
            - self.at(self.par("members.threshold_effect"), self.N) * hh.role_model
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
    def lever_intensities(self) -> dict[str, np.ndarray]:
        """Effective intensities this week, per member: time windows, then the budget (scaled
        in proportion)."""
        start, duration, intensity, unit_cost = self.derived("levers", self._lever_table)
        active = (self.week >= start) & ((duration == 0) | (self.week < start + duration))
        asked = np.where(active, intensity, 0.0)  # (levers, members)
        # the levers' costs summed in their order, as Python's sum() adds them
        cost = np.add.reduce(asked * unit_cost, axis=0)
        budget = self.par("budget")
        bound = cost > budget
        if bound.any():
            scale = np.ones(self.n_members)
            np.divide(budget, cost, out=scale, where=bound & (cost > 0))
            self.flows.cost[:] = cost * scale
            self.flows.budget_bound[:] = scale < 1.0
            asked = asked * scale
        else:
            self.flows.cost[:] = cost * 1.0
        return dict(zip(LEVERS, asked, strict=True))

    def _lever_table(self) -> tuple[np.ndarray, ...]:
        """(levers, members) arrays: start week, duration, intensity and cost per unit."""
        return tuple(
            np.array([[getattr(getattr(cfg.levers, name), field) for cfg in self.configs] for name in LEVERS])
            for field in ("start_week", "duration_weeks", "intensity", "cost_per_unit")
        )

    def step(self) -> None:
        """One week (docs/design.md §2), for every member."""
        self.flows = Flows(self.n_members)
        k = self.lever_intensities()
        self.flows.intensities = k
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
        if any(cfg.check_finite for cfg in self.configs):
            self.check_finite()
        self.recorder.record(self)  # 13

    def _shock(self) -> np.ndarray:
        """Capacity factor of an imposed service failure this week, per member (1 when none)."""
        if not self.derived("shock", lambda: bool((self.vec("dynamics.shock.week") >= 0).any())):
            return self.derived("no_shock", lambda: np.ones(self.n_members))
        week = self.vec("dynamics.shock.week")
        duration = self.vec("dynamics.shock.duration")
        acting = (week >= 0) & (week <= self.week) & (self.week < week + duration)
        if not acting.any():
            return np.ones(self.n_members)
        conflicts = self.vec("dynamics.shock.conflicts")
        starting = acting & (week == self.week) & (conflicts != 0)
        if starting.any():
            self.compounds.open_conflicts += np.repeat(np.where(starting, conflicts, 0), self.C).astype(
                np.int64
            )
        return np.where(acting, 1.0 - self.vec("dynamics.shock.depth"), 1.0)

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


_MISSING = object()

#: what members of one ensemble must share
SHAPE_NAMES = ("households", "buildings", "compounds", "property companies", "organisations")


def _member_rng(rng: Any) -> np.random.Generator:
    """A member's generator in the state ``mesa.Model.__init__`` leaves a single model's in."""
    generator = np.random.default_rng(rng)
    if not isinstance(rng, int | np.integer):
        generator.integers(np.iinfo(np.int32).max)  # Mesa seeds its stdlib random from it
    return generator


def _member_communities(configs: list[Config]) -> list[Community]:
    """Each member's community (members with the same community share one); refuses members
    of different shapes in one line."""
    built: dict[str, Community] = {}
    out = []
    for cfg in configs:
        dyn = cfg.dynamics
        key = repr((cfg.community, dyn.threshold_mean, dyn.threshold_sd))
        if key not in built:
            built[key] = build_community(
                cfg.community, dyn.threshold_mean, dyn.threshold_sd, structure_rng(cfg.community.seed)
            )
        out.append(built[key])
    shapes = [_shape(c) for c in out]
    for m, (cfg, shape) in enumerate(zip(configs, shapes, strict=True)):
        if shape != shapes[0] or cfg.steps != configs[0].steps:
            differ = [
                f"{name} {a} vs {b}"
                for name, a, b in zip(
                    (*SHAPE_NAMES, "steps"), (*shapes[0], configs[0].steps), (*shape, cfg.steps), strict=True
                )
                if a != b
            ]
            raise ConfigError(
                f"CommunityModel.ensemble: member {m} differs from member 0 in {', '.join(differ)}; "
                f"allowed: members of one shape ({', '.join(SHAPE_NAMES)}, steps)"
            )
    return out


def _shape(c: Community) -> tuple[int, ...]:
    return (c.n_households, c.n_buildings, c.n_compounds, c.n_companies, c.n_orgs)


def stack_communities(communities: list[Community]) -> Community:
    """The members' communities one after another, their indices offset to the whole ensemble."""
    first = communities[0]
    counts = {
        "building": first.n_buildings,
        "compound": first.n_compounds,
        "company": first.n_companies,
        "org": first.n_orgs,
    }
    offset_by = {  # which count each index field is offset by (−1 stays −1: none)
        "building": "building",
        "compound": "compound",
        "building_compound": "compound",
        "compound_company": "company",
        "company_org": "org",
        "org_compound": "compound",
    }
    data: dict[str, Any] = {}
    for f in dataclasses.fields(Community):
        if f.name == "network":
            continue
        parts = []
        for m, c in enumerate(communities):
            values = getattr(c, f.name)
            if f.name in offset_by:
                shift = m * counts[offset_by[f.name]]
                values = np.where(values >= 0, values + shift, values).astype(values.dtype)
            parts.append(values)
        data[f.name] = np.concatenate(parts)
    data["network"] = sp.block_diag([c.network for c in communities], format="csr")
    return Community(**data)


def _stacked_weights(communities: list[Community]) -> sp.csr_matrix:
    """The members' row-normalised networks as one block-diagonal matrix, each row as alone."""
    each = [_row_normalised(c.network) for c in communities]
    if len(each) == 1:
        return each[0]
    n = communities[0].n_households
    data = np.concatenate([w.data for w in each])
    indices = np.concatenate([w.indices + m * n for m, w in enumerate(each)])
    nnz = np.cumsum([0] + [w.nnz for w in each])
    indptr = np.concatenate([each[0].indptr[:1]] + [w.indptr[1:] + nnz[m] for m, w in enumerate(each)])
    total = n * len(each)
    return sp.csr_matrix((data, indices, indptr), shape=(total, total))


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
