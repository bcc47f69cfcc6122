"""The reference point: the residents' core update written the way a first Mesa model would.

One ``Resident.step()`` per agent, in Python, over Mesa agents placed on a Mesa ``Network``
built from the *same* community (households, ties, traits and initial state drawn by
:func:`sim.core.community.build_community` from the same seed). Each week every household:

- gets new needs and an even share of service, which gives its perceived performance Q
  (docs/design.md §2 steps 4 and 7, simplified: no targeting, no channels, no property companies);
- updates satisfaction (expectancy–disconfirmation), expectation (asymmetric, floored) and
  trust (asymmetric, pulled toward its neighbours' mean) as in docs/design.md §3;
- decides to take part with the threshold rule P = [f + ρ·ask + β_T (T − ½) ≥ θ], f the share
  of its network neighbours who took part last week; Party members ask their neighbours.

Updates are synchronous (``do("step")`` reads last week's values, ``do("advance")`` commits),
and a ``DataCollector`` records three means per week, as Mesa's tutorials do. This is a
strict subset of what :class:`sim.core.model.CommunityModel` does per step (no levers, no
organisations, no conflicts, three metrics instead of fifty), so the speed-up measured
against it is a lower bound.
"""

from __future__ import annotations

import dataclasses

import mesa
import networkx as nx
import numpy as np
from mesa.discrete_space import FixedAgent, Network

from sim.core.community import Community, build_community
from sim.core.config import NEED_CATEGORIES, Config

K = len(NEED_CATEGORIES)


@dataclasses.dataclass(frozen=True)
class CoreParameters:
    """The constants of the residents' core update (docs/design.md §3), read from a config."""

    s0: float
    a_q: float
    a_d: float
    lam: float
    e_floor: float
    eta_up: float
    eta_down: float
    alpha_up: float
    alpha_down: float
    mu: float
    rho: float
    beta_t: float
    weights: tuple[float, ...]
    supply: tuple[float, ...]


@dataclasses.dataclass(frozen=True)
class CoreInputs:
    """Everything the core update starts from: the community, its constants, per-household arrays.

    Shared by the per-agent reference and its compiled twin (:mod:`benchmarks.compiled_reference`)
    so that both do the same work on the same community.
    """

    community: Community
    parameters: CoreParameters
    rates: np.ndarray  # (N, K) need arrival rates ν_pk of each household's profile
    threshold: np.ndarray  # θ_i = θ̃_i − β_R r_i
    ask: np.ndarray  # a member's chance of asking each neighbour in a week (0 for non-members)
    satisfaction: np.ndarray
    expectation: np.ndarray
    trust: np.ndarray
    participating: np.ndarray  # the instigators: who takes part before anyone is asked

    @classmethod
    def build(cls, cfg: Config, rng: np.random.Generator) -> CoreInputs:
        """Build the community of ``cfg`` from ``rng`` and read the core update's inputs."""
        dyn = cfg.dynamics
        community = build_community(cfg.community, dyn.threshold_mean, dyn.threshold_sd, rng)
        per_household = dyn.government_capacity + dyn.social_capacity + dyn.market_capacity
        parameters = CoreParameters(
            s0=dyn.satisfaction_base,
            a_q=dyn.satisfaction_performance,
            a_d=dyn.satisfaction_disconfirmation,
            lam=dyn.satisfaction_rate,
            e_floor=dyn.expectation_floor,
            eta_up=dyn.expectation_up,
            eta_down=dyn.expectation_up * dyn.expectation_down_ratio,
            alpha_up=dyn.trust_up,
            alpha_down=dyn.trust_up * dyn.trust_down_ratio,
            mu=dyn.trust_neighbour,
            rho=dyn.recruitment_effect,
            beta_t=dyn.trust_effect,
            weights=tuple(float(w) for w in dyn.need_weights),
            supply=(per_household / K,) * K,
        )
        profile_rates = np.array([dyn.need_rates_elderly, dyn.need_rates_family, dyn.need_rates_worker])
        threshold = community.threshold_base - dyn.resource_effect * community.civic_resources
        degree = np.maximum(np.diff(community.network.indptr), 1)
        contacts = cfg.levers.embedding.contacts
        ask = np.where(community.is_member, np.minimum(1.0, community.activity * contacts / degree), 0.0)
        return cls(
            community=community,
            parameters=parameters,
            rates=profile_rates[community.profile],
            threshold=threshold,
            ask=ask,
            satisfaction=community.satisfaction.copy(),
            expectation=community.expectation.copy(),
            trust=community.trust.copy(),
            participating=dyn.trust_effect * (community.trust - 0.5) >= threshold,
        )


class Resident(FixedAgent):
    """A household with its attitudes as plain Python attributes."""

    def __init__(self, model: ReferenceModel, cell, rates: list[float], **state: float) -> None:
        super().__init__(model)
        self.cell = cell
        self.rates = rates
        self.needs = [0.0] * K
        self.satisfaction = state["satisfaction"]
        self.expectation = state["expectation"]
        self.trust = state["trust"]
        self.threshold = state["threshold"]
        self.participating = state["participating"]
        self.asked = False
        self.next_satisfaction = self.satisfaction
        self.next_expectation = self.expectation
        self.next_trust = self.trust
        self.neighbour_share = 0.0

    def step(self) -> None:
        """Read last week's world, compute this week's attitudes (committed in advance())."""
        m = self.model
        # needs arrive and an even share of every category's supply serves them
        total = unmet = 0.0
        for k in range(K):
            need = min(1.0, self.needs[k] + self.rates[k] * self.random.expovariate(1.0))
            served = min(need, m.supply[k])
            self.needs[k] = need - served
            total += m.weights[k] * need
            unmet += m.weights[k] * (need - served)
        q = 1.0 - unmet / total if total > 1e-12 else 1.0

        # satisfaction: expectancy–disconfirmation
        e = self.expectation
        target = min(1.0, max(0.0, m.s0 + m.a_q * q + m.a_d * (q - e)))
        s = self.satisfaction + m.lam * (target - self.satisfaction)
        self.next_satisfaction = s
        # expectation: adapts faster downward than upward, never below the floor
        rate = m.eta_up if q >= e else m.eta_down
        self.next_expectation = min(1.0, max(m.e_floor, e + rate * (q - e)))

        # neighbours: their trust and last week's participation
        neighbours = list(self.cell.neighborhood.agents)
        if neighbours:
            t_bar = sum(a.trust for a in neighbours) / len(neighbours)
            self.neighbour_share = sum(a.participating for a in neighbours) / len(neighbours)
        else:
            t_bar = self.trust
            self.neighbour_share = float(self.participating)
        t = self.trust
        t_new = t + m.alpha_up * max(s - t, 0.0) - m.alpha_down * max(t - s, 0.0) + m.mu * (t_bar - t)
        self.next_trust = min(1.0, max(0.0, t_new))

    def advance(self) -> None:
        """Commit this week's attitudes and decide whether to take part."""
        m = self.model
        self.satisfaction = self.next_satisfaction
        self.expectation = self.next_expectation
        self.trust = self.next_trust
        push = self.neighbour_share + m.rho * self.asked + m.beta_t * (self.trust - 0.5)
        self.participating = push >= self.threshold
        self.asked = False


class PartyMember(Resident):
    """A Party-member household: also asks each neighbour with a chance set by its activity."""

    def __init__(self, model: ReferenceModel, cell, rates: list[float], activity: float, **state) -> None:
        super().__init__(model, cell, rates, **state)
        self.activity = activity

    def step(self) -> None:
        super().step()
        for neighbour in self.cell.neighborhood.agents:
            if self.random.random() < self.activity:
                neighbour.asked = True


class ReferenceModel(mesa.Model):
    """Per-agent Mesa model of the residents' core update on the community of ``cfg``."""

    def __init__(self, cfg: Config, rng: int | np.random.SeedSequence = 0) -> None:
        if isinstance(rng, np.random.SeedSequence):
            rng = np.random.default_rng(rng)
        super().__init__(rng=rng)
        core = CoreInputs.build(cfg, self.rng)
        self.community = core.community
        for name, value in dataclasses.asdict(core.parameters).items():
            setattr(self, name, list(value) if isinstance(value, tuple) else value)

        graph = nx.from_scipy_sparse_array(core.community.network)
        self.grid = Network(graph, random=self.random, layout=None)
        for row in range(core.community.n_households):
            state = {
                "satisfaction": float(core.satisfaction[row]),
                "expectation": float(core.expectation[row]),
                "trust": float(core.trust[row]),
                "threshold": float(core.threshold[row]),
                "participating": bool(core.participating[row]),
            }
            cell = self.grid[row]
            rates = [float(r) for r in core.rates[row]]
            if core.community.is_member[row]:
                PartyMember(self, cell, rates, float(core.ask[row]), **state)
            else:
                Resident(self, cell, rates, **state)

        self.datacollector = mesa.DataCollector(
            model_reporters={
                "participation": lambda m: np.mean([a.participating for a in m.agents]),
                "satisfaction": lambda m: np.mean([a.satisfaction for a in m.agents]),
                "trust": lambda m: np.mean([a.trust for a in m.agents]),
            }
        )

    def step(self) -> None:
        """One week: every resident steps, then every resident advances (synchronous)."""
        self.agents.do("step")
        self.agents.do("advance")
        self.datacollector.collect(self)
