"""Running many replicates and parameter points together, as ensembles of one shape.

A *job* is one replicate of one parameter point (or that replicate's paired baseline): a
config and the seed of its behaviour. :func:`run` takes any list of jobs, groups those whose
communities have the same shape (:func:`sim.core.community.community_shape`) and the same
horizon, cuts each group into ensembles that fit the memory budget, advances each ensemble as
one :class:`~sim.core.model.CommunityModel` (docs/design.md §9) and yields every job's tables
as soon as its ensemble has finished.

What a job gives does not depend on which jobs share its ensemble, on the budget or on the
order of the list: each member keeps its own random stream and every reduction is made per
member (batch invariance, tested in tests/test_ensemble.py). So the budget is a setting of
the machine, not of the experiment, and is not part of any result.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.core.community import CommunityShape, community_shape
from sim.core.config import NEED_CATEGORIES, Config, ConfigError, parse_number
from sim.core.metrics import BUILDING_METRICS, METRICS

#: memory an ensemble may take when nothing else is said: a quarter of a 2-core, 8 GB laptop's
#: memory leaves room for the sweeper's second worker, the tables being written and the system
DEFAULT_MEMORY_MB = 1024.0
#: the environment variable that sets the budget for every ensemble of a process (in MB)
MEMORY_ENV = "SIM_ENSEMBLE_MEMORY_MB"
#: members in one ensemble at most, whatever the budget: beyond this the per-call cost the
#: ensemble amortises is already negligible and a larger ensemble only delays the first results
MAX_MEMBERS = 512
#: households in one ensemble at most (beyond its first member): the per-call cost an ensemble
#: amortises is already small in one run of this size (``make bench``: a single run's
#: household-steps per second level off between the street and metro presets, and two metro
#: runs as one ensemble were about 10% slower than one after the other), so a larger ensemble
#: adds memory and copying for nothing
MAX_HOUSEHOLDS = 50_000
#: the columns :func:`run` puts in front of a job's metrics
ID_COLUMNS = ["replicate", "structure"]


@dataclass(frozen=True)
class Job:
    """One replicate of one configuration: what :func:`run` runs as a member of an ensemble.

    ``replicate`` and ``structure`` label the tables (columns of the same names); ``key`` is
    the caller's own label (a point id, ``("baseline", r)``, …) and is handed back untouched.
    """

    cfg: Config
    seed: np.random.SeedSequence
    replicate: int = 0
    structure: int = 0
    key: Any = None


@dataclass
class JobResult:
    """What one job gave: its metrics per week and, if recorded, per building and week."""

    job: Job
    metrics: pd.DataFrame
    buildings: pd.DataFrame


def memory_budget_mb(value: float | None = None) -> float:
    """The budget in MB: ``value`` if given, else ``$SIM_ENSEMBLE_MEMORY_MB``, else the default."""
    if value is None:
        text = os.environ.get(MEMORY_ENV)
        return float(
            parse_number(MEMORY_ENV, text, lo=1.0, default=DEFAULT_MEMORY_MB, allowed="megabytes ≥ 1")
        )
    if not value >= 1.0:  # also refuses NaN
        raise ConfigError(f"ensemble memory budget={value!r} MB; allowed: megabytes ≥ 1")
    return float(value)


def group_key(cfg: Config) -> tuple[CommunityShape, int, bool]:
    """What members of one ensemble must share: the community's shape, the horizon, maps or not."""
    return community_shape(cfg.community), cfg.steps, cfg.record_buildings


def member_bytes(cfg: Config) -> int:
    """An upper estimate of the memory one member of ``cfg``'s shape takes, in bytes.

    Counts the member's state and work arrays (about 60 float64 per household, the need
    categories several times over), its network (ties, about 12 bytes each, at most
    ``ring_degree`` + the mean random ties, both ways), its organisations, companies and
    compounds, and what its recorder keeps for the whole run (one row of metrics a week, and
    the maps when recorded). tests/test_ensemble.py checks that a real ensemble stays below
    the sum of its members' estimates.
    """
    shape = community_shape(cfg.community)
    c = cfg.community
    k = len(NEED_CATEGORIES)
    per_household = 8 * (60 + 8 * k)
    ties = 2 * (c.ring_degree + c.cross_building_ties + c.cross_compound_ties) + 1
    network = int(12 * ties * shape.households) * 2  # the adjacency and its row-normalised copy
    entities = 8 * 40 * (shape.buildings + shape.compounds + shape.companies + shape.orgs)
    record = 8 * cfg.steps * (len(METRICS) + 8)
    if cfg.record_buildings:
        record += 8 * cfg.steps * (len(BUILDING_METRICS) * shape.buildings + shape.compounds)
    return per_household * shape.households + network + entities + record


def most_members(cfg: Config, memory_mb: float | None = None, max_members: int = MAX_MEMBERS) -> int:
    """How many members of ``cfg``'s shape one ensemble may hold: what fits ``memory_mb``
    (:func:`member_bytes`), at most ``max_members`` and :data:`MAX_HOUSEHOLDS` households, and
    at least one (a community too large for either runs alone)."""
    budget = memory_budget_mb(memory_mb) * 2**20
    households = community_shape(cfg.community).households
    return max(1, min(max_members, int(budget // member_bytes(cfg)), MAX_HOUSEHOLDS // households))


def plan(
    jobs: Sequence[Job], memory_mb: float | None = None, max_members: int = MAX_MEMBERS
) -> list[list[int]]:
    """Ensembles to run, as lists of indices into ``jobs``, in the order they should run.

    Jobs are grouped by :func:`group_key`; a group is cut into consecutive ensembles growing
    1, 2, 4, … members (so that an interruption loses little) up to :func:`most_members`
    (``max_members=1`` runs every job alone: the per-point path, for comparison). Within a
    group the jobs keep their order in ``jobs``, and groups run in the order of their first
    job, so a caller that lists a point's jobs together gets that point's results early.
    """
    groups: dict[tuple, list[int]] = {}
    for index, job in enumerate(jobs):
        groups.setdefault(group_key(job.cfg), []).append(index)
    ensembles: list[list[int]] = []
    for indices in groups.values():
        ensembles.extend(_doubling(indices, most_members(jobs[indices[0]].cfg, memory_mb, max_members)))
    return ensembles


def _doubling(indices: list[int], most: int) -> Iterator[list[int]]:
    """``indices`` cut into runs of 1, 2, 4, … and then ``most`` at a time.

    An interruption loses only the ensemble under way, which is then at most about as large
    as all the work finished before it; and the first results come early.
    """
    size, start = 1, 0
    while start < len(indices):
        yield indices[start : start + size]
        start += size
        size = min(2 * size, most)


def run(
    jobs: Sequence[Job], memory_mb: float | None = None, max_members: int = MAX_MEMBERS
) -> Iterator[JobResult]:
    """Run every job as a member of an ensemble; yield each job's tables ensemble by ensemble.

    The tables are those of a single run of the job's config and seed, bit for bit, with the
    ``replicate`` and ``structure`` columns in front (the same layout ``sim-run`` writes).
    A model is freed before the next ensemble is built, so memory stays within the budget.
    ``memory_mb`` and ``max_members`` are as in :func:`plan`; neither changes any number.
    """
    from sim.core.model import CommunityModel
    from sim.experiment.stopping import checkpoint

    for indices in plan(jobs, memory_mb, max_members):
        members = [jobs[i] for i in indices]
        model = CommunityModel.ensemble([j.cfg for j in members], [j.seed for j in members])
        for _ in range(model.cfg.steps):
            model.step()
            checkpoint()  # a stop swallowed by a callback inside the week is raised here
        results = [_tables(model, m, job) for m, job in enumerate(members)]
        del model
        yield from results


def run_spread(jobs: Sequence[Job], workers: int = 1, memory_mb: float | None = None) -> list[JobResult]:
    """Every job's result, in the order of ``jobs``, with the work spread over ``workers`` processes.

    The jobs are cut into ``workers`` consecutive shares of about equal work (households ×
    weeks); each process runs its share with :func:`run`, within ``memory_mb`` of its own.
    Batch invariance makes the results those of ``list(run(jobs))``, bit for bit, whatever
    ``workers`` is. The processes (joblib's reusable loky executor) are started once and kept
    for later calls, so a calibration pays their start-up once.
    """
    if workers < 1:
        raise ConfigError(f"workers={workers}; allowed: an integer ≥ 1")
    shares = _shares(jobs, workers)
    if len(shares) <= 1:
        return list(run(jobs, memory_mb))
    from joblib.externals.loky import get_reusable_executor

    executor = get_reusable_executor(max_workers=len(shares))
    futures = [executor.submit(_run_share, share, memory_mb) for share in shares]
    return [result for future in futures for result in future.result()]


def _run_share(jobs: list[Job], memory_mb: float | None) -> list[JobResult]:
    return list(run(jobs, memory_mb))


def _shares(jobs: Sequence[Job], workers: int) -> list[list[Job]]:
    """``jobs`` cut into at most ``workers`` consecutive, non-empty shares of about equal work."""
    if len(jobs) == 0:
        return []
    work = np.cumsum([community_shape(j.cfg.community).households * j.cfg.steps for j in jobs], dtype=float)
    cuts = np.searchsorted(work, work[-1] * np.arange(1, workers) / workers, side="right")
    bounds = [0, *sorted(set(int(c) for c in cuts) - {0, len(jobs)}), len(jobs)]
    return [list(jobs[a:b]) for a, b in itertools.pairwise(bounds)]


def _tables(model: Any, member: int, job: Job) -> JobResult:
    metrics = model.recorder.frame(member=member)
    metrics.insert(0, "replicate", np.int32(job.replicate))
    metrics.insert(1, "structure", np.int32(job.structure))
    buildings = model.recorder.building_frame(model, member=member)
    if not buildings.empty:
        buildings.insert(0, "replicate", np.int32(job.replicate))
    return JobResult(job, metrics, buildings)
