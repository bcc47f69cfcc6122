"""The reference's own work, compiled: the most any implementation of it can gain on this machine.

:mod:`benchmarks.reference` is the residents' core update written as a first Mesa model would
(one ``Resident.step()`` per agent). This module does exactly that work on the same community
(:class:`benchmarks.reference.CoreInputs`) as one numba-compiled loop over households per week,
with the random draws made in bulk by numpy: every household's five Exp(1) need arrivals and one
uniform per member–neighbour pair for the asks.

Its speed-up over the per-agent reference is a *ceiling*: it does a strict subset of what
:class:`sim.core.model.CommunityModel` does per step (no levers, channels, companies, conflicts or
organisations, three metrics instead of fifty), with nothing but the arithmetic left. A model
that does all of that cannot beat it, so ``make bench`` prints it beside the speed-up target.
"""

from __future__ import annotations

import dataclasses

import numba
import numpy as np

from benchmarks.reference import CoreInputs
from sim.core.config import Config


@numba.njit(cache=True, nogil=True)
def _week(
    needs: np.ndarray,
    arrivals: np.ndarray,
    rates: np.ndarray,
    weights: np.ndarray,
    supply: np.ndarray,
    satisfaction: np.ndarray,
    expectation: np.ndarray,
    trust: np.ndarray,
    threshold: np.ndarray,
    participating: np.ndarray,
    asked: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    ask: np.ndarray,
    uniforms: np.ndarray,
    constants: np.ndarray,
    next_trust: np.ndarray,
    neighbour_share: np.ndarray,
    means: np.ndarray,
) -> None:
    s0, a_q, a_d, lam, e_floor, eta_up, eta_down, alpha_up, alpha_down, mu, rho, beta_t = constants
    n, k_count = needs.shape
    # Resident.step(): read last week's world, compute this week's attitudes
    for i in range(n):
        total = 0.0
        unmet = 0.0
        for k in range(k_count):
            need = min(1.0, needs[i, k] + rates[i, k] * arrivals[i, k])
            served = min(need, supply[k])
            needs[i, k] = need - served
            total += weights[k] * need
            unmet += weights[k] * (need - served)
        q = 1.0 - unmet / total if total > 1e-12 else 1.0
        e = expectation[i]
        target = min(1.0, max(0.0, s0 + a_q * q + a_d * (q - e)))
        s = satisfaction[i] + lam * (target - satisfaction[i])
        satisfaction[i] = s
        rate = eta_up if q >= e else eta_down
        expectation[i] = min(1.0, max(e_floor, e + rate * (q - e)))
        start, stop = indptr[i], indptr[i + 1]
        if stop > start:
            trust_sum = 0.0
            taking_part = 0.0
            for j in range(start, stop):
                trust_sum += trust[indices[j]]
                taking_part += participating[indices[j]]
            t_bar = trust_sum / (stop - start)
            neighbour_share[i] = taking_part / (stop - start)
        else:
            t_bar = trust[i]
            neighbour_share[i] = participating[i]
        t = trust[i]
        t_new = t + alpha_up * max(s - t, 0.0) - alpha_down * max(t - s, 0.0) + mu * (t_bar - t)
        next_trust[i] = min(1.0, max(0.0, t_new))
    # PartyMember.step(): ask each neighbour with the member's chance
    u = 0
    for i in range(n):
        if ask[i] > 0.0:
            for j in range(indptr[i], indptr[i + 1]):
                if uniforms[u] < ask[i]:
                    asked[indices[j]] = True
                u += 1
    # Resident.advance(): commit, decide whether to take part; the DataCollector's three means
    taking_part = 0.0
    satisfied = 0.0
    trusting = 0.0
    for i in range(n):
        trust[i] = next_trust[i]
        take_part = neighbour_share[i] + rho * asked[i] + beta_t * (trust[i] - 0.5) >= threshold[i]
        participating[i] = take_part
        asked[i] = False
        taking_part += take_part
        satisfied += satisfaction[i]
        trusting += trust[i]
    means[0] = taking_part / n
    means[1] = satisfied / n
    means[2] = trusting / n


class CompiledReference:
    """The per-agent reference's weekly update, compiled, on the community of ``cfg``.

    Args:
        cfg: the config whose community and constants the per-agent reference would use.
        rng: the seed (the same seed gives the same community as the per-agent reference).
    """

    def __init__(self, cfg: Config, rng: int = 0) -> None:
        self.rng = np.random.default_rng(rng)
        core = CoreInputs.build(cfg, self.rng)
        self.community = core.community
        p = core.parameters
        # the scalar constants in CoreParameters' field order, which _week unpacks
        self._constants = np.array([v for v in dataclasses.astuple(p) if not isinstance(v, tuple)])
        self._weights = np.array(p.weights)
        self._supply = np.array(p.supply)
        n = core.community.n_households
        self.needs = np.zeros((n, len(p.supply)))
        self._arrivals = np.empty_like(self.needs)
        self._rates = np.ascontiguousarray(core.rates)
        self.satisfaction = core.satisfaction.copy()
        self.expectation = core.expectation.copy()
        self.trust = core.trust.copy()
        self._threshold = core.threshold
        self.participating = core.participating.copy()
        self._asked = np.zeros(n, dtype=bool)
        network = core.community.network
        self._indptr, self._indices = network.indptr, network.indices
        self._ask = core.ask
        degree = np.diff(network.indptr)
        self._uniforms = np.empty(int(degree[core.ask > 0].sum()))
        self._next_trust = np.empty(n)
        self._neighbour_share = np.empty(n)
        self.means: list[tuple[float, float, float]] = []  # participation, satisfaction, trust
        self._week_means = np.empty(3)

    def step(self) -> None:
        """One week: draw needs and asks in bulk, run the compiled update, record three means."""
        self.rng.standard_exponential(out=self._arrivals)
        self.rng.random(out=self._uniforms)
        _week(
            self.needs,
            self._arrivals,
            self._rates,
            self._weights,
            self._supply,
            self.satisfaction,
            self.expectation,
            self.trust,
            self._threshold,
            self.participating,
            self._asked,
            self._indptr,
            self._indices,
            self._ask,
            self._uniforms,
            self._constants,
            self._next_trust,
            self._neighbour_share,
            self._week_means,
        )
        self.means.append(tuple(self._week_means.tolist()))
