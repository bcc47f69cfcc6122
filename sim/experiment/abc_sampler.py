"""A pyabc sampler that simulates a generation's particles together, as ensembles.

pyabc evaluates one particle at a time: propose, simulate, measure the distance, accept or
not. :class:`EnsembleSampler` runs a batch of those evaluations on threads that take turns:
particle 0 proposes and hands its replicates over, then particle 1, and so on; when every
particle of the batch has handed its jobs over, they run as ensembles
(:mod:`sim.experiment.ensemble`); then each particle, in the same order, measures its distance
and is accepted or not. Only one thread runs at a time, always in the same order, so numpy's
global generator (which pyabc proposes from) is drawn in a fixed order and a calibration with
the same seed gives the same posterior, bit for bit.

Batches are sized to what is still needed: the population at first, then the particles still
missing divided by the acceptance rate seen so far (at most :data:`MAX_BATCH_FACTOR` ×
the population). Particles evaluated beyond the n-th acceptance are counted as evaluations
and dropped, in order, as pyabc's own parallel samplers do.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sim.experiment import ensemble
from sim.experiment.ensemble import Job, JobResult

#: a batch is at most this many times the population
MAX_BATCH_FACTOR = 8


class _Turns:
    """Threads of one batch taking turns: each proposes in order, then each finishes in order."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.lock = threading.Condition()
        self.phase = "propose"
        self.turn = 0
        self.jobs: dict[int, list[Job]] = {}
        self.results: dict[int, list[JobResult]] = {}
        self.failed: BaseException | None = None
        self.local = threading.local()

    def wait_for(self, phase: str, index: int) -> None:
        with self.lock:
            self.lock.wait_for(
                lambda: self.failed is not None or (self.phase == phase and self.turn == index)
            )
        if self.failed is not None:
            raise RuntimeError("the batch was stopped") from self.failed

    def abort(self, exc: BaseException) -> None:
        """Wake every waiting particle (they then end with an error)."""
        with self.lock:
            self.failed = exc
            self.lock.notify_all()

    def hand_over(self, jobs: Sequence[Job]) -> list[JobResult]:
        """Called by a particle's simulation: give the jobs, wait for their results."""
        index = self.local.index
        with self.lock:
            self.jobs[index] = list(jobs)
            self._next()
            self.lock.wait_for(
                lambda: self.failed is not None or (self.phase == "finish" and self.turn == index)
            )
        if self.failed is not None:
            raise RuntimeError("the batch's ensemble failed") from self.failed
        return self.results[index]

    def done(self, index: int) -> None:
        """A particle's evaluation has returned: the next thread may run."""
        with self.lock:
            self._next()

    def _next(self) -> None:
        # proposing: every index in turn; finishing: only those that handed jobs over
        self.turn += 1
        if self.phase == "finish":
            while self.turn < self.size and self.turn not in self.jobs:
                self.turn += 1
        self.lock.notify_all()

    def run(self, memory_mb: float | None, workers: int) -> None:
        """Once every particle has proposed: run all jobs as ensembles (on ``workers``
        processes), then let the particles finish."""
        with self.lock:
            self.lock.wait_for(lambda: self.turn >= self.size)
        order = sorted(self.jobs)
        flat = [(i, job) for i in order for job in self.jobs[i]]
        results = ensemble.run_spread([job for _, job in flat], workers, memory_mb)
        for (i, _), result in zip(flat, results, strict=True):
            self.results.setdefault(i, []).append(result)
        with self.lock:
            self.phase = "finish"
            self.turn = -1
            self._next()


class EnsembleSampler:
    """A pyabc ``Sampler`` whose particles' simulations run together (see the module's doc).

    ``simulator`` is the :class:`sim.experiment.calibrate.Simulator` the ABC model calls: its
    ``runner`` is pointed at the batch while a batch is evaluated. ``workers`` processes share
    each batch's ensembles (:func:`sim.experiment.ensemble.run_spread`); the particles'
    proposals, distances and acceptance stay in this process, in order, so the posterior is
    the same whatever ``workers`` is.
    """

    def __new__(cls, simulator: Any, memory_mb: float | None = None, workers: int = 1) -> Any:
        import pyabc

        # made as a subclass of pyabc's Sampler on first use, so that importing this module
        # does not import pyabc
        sampler_class = type("EnsembleSampler", (_EnsembleSamplerMixin, pyabc.sampler.Sampler), {})
        sampler = sampler_class()
        sampler.simulator = simulator
        sampler.memory_mb = memory_mb
        sampler.workers = workers
        return sampler


class _EnsembleSamplerMixin:
    simulator: Any
    memory_mb: float | None
    workers: int
    check_max_eval = False

    def sample_until_n_accepted(
        self,
        n: int,
        simulate_one: Callable[[], Any],
        t: int,
        *,
        max_eval: float = np.inf,
        all_accepted: bool = False,
        ana_vars: Any = None,
    ) -> Any:
        sample = self._create_empty_sample()  # type: ignore[attr-defined]
        evaluations = accepted = 0
        while accepted < n and evaluations < max_eval:
            rate = accepted / evaluations if evaluations else 1.0
            wanted = (
                n - accepted
                if all_accepted
                else math.ceil((n - accepted) / max(rate, 1.0 / MAX_BATCH_FACTOR))
            )
            size = int(min(wanted, MAX_BATCH_FACTOR * n, max_eval - evaluations))
            for particle in self._batch(simulate_one, size):
                evaluations += 1
                if accepted < n:
                    sample.append(particle)
                    accepted += bool(particle.accepted)
        self.nr_evaluations_ = evaluations
        if sample.n_accepted < n:
            sample.ok = False
        return sample

    def _batch(self, simulate_one: Callable[[], Any], size: int) -> list[Any]:
        turns = _Turns(size)
        particles: list[Any] = [None] * size
        errors: list[BaseException] = []

        def evaluate(index: int) -> None:
            turns.local.index = index
            try:
                turns.wait_for("propose", index)
                particles[index] = simulate_one()
            except BaseException as exc:  # handed to the main thread, which raises it
                errors.append(exc)
            finally:
                turns.done(index)

        previous = self.simulator.runner
        self.simulator.runner = turns.hand_over
        threads = [threading.Thread(target=evaluate, args=(i,), daemon=True) for i in range(size)]
        try:
            for thread in threads:
                thread.start()
            turns.run(self.memory_mb, self.workers)
        except BaseException as exc:  # an interruption or a failed ensemble: stop every particle
            turns.abort(exc)
            raise
        finally:
            for thread in threads:
                thread.join()
            self.simulator.runner = previous
        if errors:
            raise errors[0]
        return particles
