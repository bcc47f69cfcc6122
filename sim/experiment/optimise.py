"""Robust lever portfolios under a weekly budget: multi-objective search over policies.

A *policy* sets the decisions of an XLRM frame (:mod:`sim.experiment.xlrm`): the six lever
intensities and any lever parameter marked as a decision. Every policy is evaluated on the
same uncertainty draws (each draw one community: a group option such as a community type, a
structure seed and behavioural values), and paired with that draw's baseline (every lever off,
same seed), so policies differ only by what they do (common random numbers). An outcome's
value in a draw is its metric's mean over the last quarter of the weeks.

Each policy is scored per outcome by a robustness measure over the draws:

- ``mean`` — the mean over draws;
- ``percentile`` — the ``percentile``-th worst value (10: the value 90% of draws reach);
- ``regret`` — the largest shortfall, over draws, from the best of the ``budget_frontier``
  arms at the same budget in that draw (negative: better than every arm in every draw);
- ``satisficing`` — the share of draws in which the outcome reaches its ``threshold``.

An outcome on ``cost`` is scored by its mean under every measure (what a policy costs does not
depend on the draw). pymoo's NSGA-II (or NSGA-III) searches the policies; a repair keeps every
policy within the budget by scaling its costed intensities above their lower bounds down in
proportion, exactly as the model scales levers that ask for more than the budget (ODD §7.9.0),
so a stored policy is the one that runs, and its weekly cost Σ_l k_l c_l is at most the budget.

The ``budget_frontier`` arms at the budget are evaluated first, on the same draws. Those that are
policies of the frame (inside its ranges, within the budget) seed the search's initial
population; the rest of it is pymoo's usual uniform random sampling, drawn from the search's
seed (when the arms outnumber ``population``, the first generation is just the arms). The front
written at the end is non-dominated over *every* policy evaluated, the arms included: an arm
that is on it keeps its name (``system``, ``even``, …) as its ``policy``, and the arms table
lists, for each arm, the front's policies that dominate it (``none`` when no front policy does).

Resuming: every evaluated (policy, draw) is cached in ``evaluations.parquet``, keyed by the
policy's exact values, and written atomically after each generation (and at least every
``FLUSH_SECONDS`` within one). The search is deterministic for a seed, so rerunning the same
command replays the finished generations from the cache without simulating them again and
continues from there; asking for more generations extends the same search.

Why one module of this length: the search's parts (budget repair, the evaluation cache, robust
scoring, the NSGA run, the outputs, the re-evaluation) all work on one :class:`Search` and one
:class:`sim.experiment.xlrm.Frame` and share the cache's policy keys; each is a short section.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.core.config import Config, ConfigError
from sim.core.levers import LEVER_TITLES, LEVERS
from sim.core.metrics import METRICS
from sim.experiment import ensemble
from sim.experiment.compose import CONFIG_DIR
from sim.experiment.ensemble import Job
from sim.experiment.simulate import baseline_of, replicate_seeds, structure_of
from sim.experiment.sweep import point_config
from sim.experiment.xlrm import GAIN_SUFFIX, Frame, draw_configs, sample_draws

ROBUSTNESS = ("mean", "percentile", "regret", "satisficing")
ALGORITHMS = ("nsga2", "nsga3")
EVALUATIONS_FILE = "evaluations.parquet"
BASELINES_FILE = "baselines.parquet"
DRAWS_FILE = "draws.parquet"
PARETO_FILE = "pareto.parquet"
ARMS_FILE = "arms.parquet"
SETUP_FILE = "optimise.json"
FLUSH_SECONDS = 20.0
#: the policy a budget_frontier arm asks for is scaled to the budget by the model; the arms are
#: the experiment's allocations (sim/configs/experiment/budget_frontier.yaml)
FRONTIER_FILE = CONFIG_DIR / "experiment" / "budget_frontier.yaml"
#: slack left under the budget by the repair, so float rounding never makes the model rescale
BUDGET_SLACK = 1e-12


@dataclass(frozen=True)
class Search:
    """How to search: budget, population, generations, draws, robustness measure and seed."""

    budget: float
    population: int = 16
    generations: int = 8
    draws: int = 8
    robustness: str = "mean"
    percentile: float = 10.0
    algorithm: str = "nsga2"
    seed: int = 20261128

    def check(self) -> None:
        """Raise ConfigError (one line) on a value the search cannot use."""
        if isinstance(self.budget, bool) or not isinstance(self.budget, int | float):
            raise ConfigError(f"budget={self.budget!r} is not a number; allowed: a finite number > 0")
        if not math.isfinite(self.budget) or self.budget <= 0:
            raise ConfigError(
                f"budget={self.budget:g}: sim-optimise needs a finite weekly budget; allowed: a number > 0"
            )
        for name, low in (("population", 2), ("generations", 1), ("draws", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"{name}={value!r}; allowed: an integer ≥ {low}")
        if self.robustness not in ROBUSTNESS:
            raise ConfigError(f"robustness={self.robustness}; allowed: {', '.join(ROBUSTNESS)}")
        if not 0 <= self.percentile <= 100:
            raise ConfigError(f"percentile={self.percentile:g}; allowed: a number from 0 to 100")
        if self.algorithm not in ALGORITHMS:
            raise ConfigError(f"algorithm={self.algorithm}; allowed: {', '.join(ALGORITHMS)}")


# ------------------------------------------------------------------------------------ budget
def lever_costs(cfg: Config) -> dict[str, float]:
    """Weekly cost per 1,000 households of each lever at intensity 1 (``cost_per_unit``)."""
    return {name: float(getattr(cfg.levers, name).cost_per_unit) for name in LEVERS}


def cost_vector(frame: Frame, costs: dict[str, float]) -> np.ndarray:
    """Cost per unit of each decision (0 for a decision that is not an intensity)."""
    return np.array([costs[d.lever] if d.lever else 0.0 for d in frame.decisions])


def check_budget(frame: Frame, costs: dict[str, float], budget: float) -> float:
    """The cheapest policy's weekly cost; ConfigError (one line) when even it exceeds ``budget``."""
    cheapest = float(np.dot(cost_vector(frame, costs), [d.lo for d in frame.decisions]))
    if cheapest > budget:
        raise ConfigError(
            f"budget={budget:g}: no policy of xlrm={frame.name} can meet it (its lowest intensities cost "
            f"{cheapest:g} per 1,000 households per week); allowed: a budget ≥ {cheapest:g}"
        )
    return cheapest


def repair(x: np.ndarray, lows: np.ndarray, unit_costs: np.ndarray, budget: float) -> np.ndarray:
    """Policies (rows of ``x``) within ``budget``: costed decisions above their lows scaled down.

    A row within budget (less a 1e-12 relative slack) is returned unchanged; a row over it
    keeps its lows and the shares of its spending above them, and spends ``budget`` less twice
    that slack, so rounding never leaves it over and repairing it again changes nothing.
    """
    x = np.array(x, dtype=np.float64, copy=True, ndmin=2)
    floor = float(np.dot(unit_costs, lows))
    cost = x @ unit_costs
    limit = budget * (1.0 - BUDGET_SLACK)
    over = cost > limit
    if np.any(over):
        costed = unit_costs > 0
        target = budget * (1.0 - 2.0 * BUDGET_SLACK)
        above = cost[over] - floor  # > 0 unless the lows alone are within 1e-12 of the budget
        scale = np.clip((target - floor) / np.where(above > 0, above, 1.0), 0.0, 1.0)
        rows = x[over]
        rows[:, costed] = lows[costed] + scale[:, None] * (rows[:, costed] - lows[costed])
        x[over] = rows
    return x


def frontier_arms(budget: float, cfg: Config, frame: Frame) -> dict[str, dict[str, float]]:
    """The ``budget_frontier`` arms as policies at ``budget`` (scaled as the model would scale them)."""
    from omegaconf import OmegaConf

    arms = OmegaConf.to_container(OmegaConf.load(FRONTIER_FILE).hydra.sweeper.arms)
    base = {key: float(_get(cfg, key)) for key in frame.decision_keys}
    unit = cost_vector(frame, lever_costs(cfg))
    out = {}
    for name, values in arms.items():
        policy = {**base, **{k: float(v) for k, v in values.items() if k in base}}
        row = np.array([policy[k] for k in frame.decision_keys])
        fixed = repair(row, np.zeros_like(row), unit, budget)[0]
        out[str(name)] = dict(zip(frame.decision_keys, fixed.tolist(), strict=True))
    return out


def _get(cfg: Any, key: str) -> Any:
    for part in key.split("."):
        cfg = getattr(cfg, part)
    return cfg


# -------------------------------------------------------------------------------- evaluating
def policy_key(values: Sequence[float]) -> str:
    """The exact identity of a policy: its decision values as hexadecimal floats."""
    return "|".join(float(v).hex() for v in values)


def policy_id(key: str) -> str:
    """A short, stable name for a policy (the first 10 hex digits of its key's SHA-256)."""
    return "p" + hashlib.sha256(key.encode()).hexdigest()[:10]


def tail_means(metrics: pd.DataFrame) -> dict[str, float]:
    """Each metric's mean over the last quarter of the weeks (at least the last week)."""
    steps = metrics["step"].to_numpy()
    last = steps.max()
    weeks = max(1, round((last - steps.min() + 1) / 4))
    tail = metrics[steps > last - weeks]
    return {m: float(tail[m].mean()) for m in METRICS if m in tail.columns}


class Evaluator:
    """Evaluates policies on the frame's draws, with every (policy, draw) cached on disk."""

    def __init__(
        self,
        frame: Frame,
        draws: pd.DataFrame,
        configs: list[Config],
        budget: float,
        out_dir: Path | None = None,
        progress: Callable[[int], None] | None = None,
        names: dict[str, str] | None = None,
    ) -> None:
        self.frame, self.draws, self.configs, self.budget = frame, draws, configs, budget
        self.out_dir = out_dir
        self.progress = progress
        self.names = dict(names or {})  # policy_key -> a name (the arms'), instead of the hash id
        self.simulated = 0  # (policy, draw) pairs simulated by this process (not from the cache)
        self.rows: dict[tuple[str, int], dict[str, Any]] = {}
        self.baselines: dict[int, dict[str, float]] = {}
        self._dirty = False
        self._last_flush = time.monotonic()
        if out_dir is not None:
            self._load()

    def _load(self) -> None:
        from sim.results import read_parquet

        assert self.out_dir is not None
        path = self.out_dir / EVALUATIONS_FILE
        if path.exists():
            for row in read_parquet(path).to_dict("records"):
                self.rows[(row["policy_key"], int(row["draw"]))] = row
        path = self.out_dir / BASELINES_FILE
        if path.exists():
            for row in read_parquet(path).to_dict("records"):
                self.baselines[int(row.pop("draw"))] = row

    def baseline(self, draw: int) -> dict[str, float]:
        """The draw's baseline (every lever off, same seed): last-quarter means of every metric."""
        if draw not in self.baselines:
            self._simulate([], [draw], "baseline")
        return self.baselines[draw]

    def evaluate(self, policies: np.ndarray, label: str = "search") -> pd.DataFrame:
        """One row per (policy, draw): decisions, every metric and its gain over the baseline.

        The (policy, draw) pairs not in the cache, and the baselines they need, run together as
        ensembles (:mod:`sim.experiment.ensemble`); each pair's numbers are those of its own run.
        """
        keyed = {policy_key(values): values for values in np.atleast_2d(policies)}
        draws = range(len(self.configs))
        todo = [(key, values, d) for key, values in keyed.items() for d in draws if (key, d) not in self.rows]
        self._simulate(todo, sorted({d for _, _, d in todo} - set(self.baselines)), label)
        out = []
        for values in np.atleast_2d(policies):
            for draw in draws:
                if self.progress is not None:
                    self.progress(1)
                out.append(self.rows[(policy_key(values), draw)])
        return pd.DataFrame(out)

    def _simulate(self, pairs: list[tuple[str, np.ndarray, int]], baselines: list[int], label: str) -> None:
        """Run (policy key, decisions, draw) pairs and draws' baselines as ensembles; cache the rows.

        Each runs replicate 0 of its config's seed, as a single ``sim-run`` replicate would.
        """
        jobs = []
        for draw in baselines:
            cfg = structure_of(baseline_of(self.configs[draw]), 0)[0]
            jobs.append(Job(cfg, replicate_seeds(cfg.seed, 1)[0], key=("baseline", draw)))
        points = {}
        for key, values, draw in pairs:
            point = dict(zip(self.frame.decision_keys, (float(v) for v in values), strict=True))
            cfg = structure_of(point_config(self.configs[draw], {**point, "budget": float(self.budget)}), 0)[
                0
            ]
            points[(key, draw)] = point
            jobs.append(Job(cfg, replicate_seeds(cfg.seed, 1)[0], key=("policy", key, draw)))
        waiting: list[tuple[str, int, dict[str, float]]] = []  # policies whose baseline is not in yet
        for result in ensemble.run(jobs):
            level = tail_means(result.metrics)
            if result.job.key[0] == "baseline":
                self.baselines[result.job.key[1]] = level
            else:
                waiting.append((result.job.key[1], result.job.key[2], level))
            for key, draw, lvl in [w for w in waiting if w[1] in self.baselines]:
                self.rows[(key, draw)] = self._row(key, draw, points[(key, draw)], lvl, label)
                self.simulated += 1
            waiting = [w for w in waiting if w[1] not in self.baselines]
            self._dirty = True
            if self.out_dir is not None and time.monotonic() - self._last_flush > FLUSH_SECONDS:
                self.flush()

    def _row(
        self, key: str, draw: int, point: dict[str, float], level: dict[str, float], label: str
    ) -> dict[str, Any]:
        base = self.baselines[draw]
        name = self.names.get(key, policy_id(key))
        row: dict[str, Any] = {"policy_key": key, "policy": name, "source": label, "draw": draw}
        row.update(point)
        row.update(level)
        row.update({f"{m}{GAIN_SUFFIX}": level[m] - base[m] for m in level})
        return row

    def flush(self) -> None:
        """Write the cache (evaluations and baselines) atomically, if anything is new."""
        if self.out_dir is None or not self._dirty:
            return
        from sim.results import write_parquet

        write_parquet(self.out_dir / EVALUATIONS_FILE, self.table())
        base = pd.DataFrame([{"draw": d, **v} for d, v in sorted(self.baselines.items())])
        write_parquet(self.out_dir / BASELINES_FILE, base)
        self._dirty = False
        self._last_flush = time.monotonic()

    def table(self) -> pd.DataFrame:
        """Every cached (policy, draw) row, in a fixed order, with the draw's uncertainties."""
        rows = pd.DataFrame(list(self.rows.values()))
        if rows.empty:
            return rows
        rows = rows.sort_values(["policy_key", "draw"], kind="stable").reset_index(drop=True)
        if self.names:  # rows cached before a policy had a name are labelled by it too
            rows["policy"] = rows["policy_key"].map(self.names).fillna(rows["policy"])
        return rows


# ------------------------------------------------------------------------------------ scoring
def scores(
    evaluations: pd.DataFrame,
    frame: Frame,
    robustness: str,
    percentile: float = 10.0,
    reference: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per policy: decisions, each outcome's mean over draws and its robustness ``<name>_robust``.

    ``reference`` (evaluations of the ``budget_frontier`` arms on the same draws) is needed
    for ``regret``.
    """
    rows = []
    best: dict[str, np.ndarray] = {}
    if robustness == "regret":
        if reference is None or reference.empty:
            raise ValueError("robustness=regret needs the reference arms' evaluations")
        for o in frame.outcomes:
            oriented = o.sign * reference.pivot(index="draw", columns="policy", values=o.metric)
            best[o.name] = oriented.max(axis=1).sort_index().to_numpy()
    for key, group in evaluations.groupby("policy_key", sort=True):
        group = group.sort_values("draw")
        row: dict[str, Any] = {"policy": group["policy"].iloc[0], "policy_key": key}
        row.update({k: float(group[k].iloc[0]) for k in frame.decision_keys})
        for o in frame.outcomes:
            values = group[o.metric].to_numpy(dtype=float)
            row[o.name] = float(values.mean())
            row[f"{o.name}_robust"] = robust_value(values, o, robustness, percentile, best.get(o.name))
        row["draws"] = len(group)
        rows.append(row)
    return pd.DataFrame(rows)


def robust_value(
    values: np.ndarray, outcome: Any, robustness: str, percentile: float, best: np.ndarray | None = None
) -> float:
    """The robustness of one outcome's values over the draws (see the module docstring)."""
    if outcome.metric == "cost" or robustness == "mean":
        return float(values.mean())
    oriented = outcome.sign * values
    if robustness == "percentile":
        return float(outcome.sign * np.percentile(oriented, percentile))
    if robustness == "regret":
        assert best is not None
        return float(np.max(best - oriented))
    if outcome.threshold is None:
        raise ConfigError(
            f"robustness=satisficing: outcome {outcome.name} has no threshold; "
            "allowed: a threshold for every objective in the xlrm frame"
        )
    return float(np.mean(oriented >= outcome.sign * outcome.threshold))


def objective_matrix(table: pd.DataFrame, frame: Frame, robustness: str) -> np.ndarray:
    """The robust objectives of each policy as values to minimise (pymoo's convention)."""
    columns = []
    for o in frame.objectives:
        robust = table[f"{o.name}_robust"].to_numpy(dtype=float)
        if o.metric != "cost" and robustness == "regret":
            columns.append(robust)  # regret: less is better whatever the outcome's direction
        elif o.metric != "cost" and robustness == "satisficing":
            columns.append(-robust)  # a larger share of satisfied draws is better
        else:
            columns.append(-o.sign * robust)
    return np.column_stack(columns)


def non_dominated(f: np.ndarray) -> np.ndarray:
    """Indices of the rows of ``f`` (to minimise) that no other row dominates."""
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    if len(f) == 0:
        return np.array([], dtype=int)
    return np.sort(NonDominatedSorting().do(f, only_non_dominated_front=True))


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether objective vector ``a`` dominates ``b`` (no worse anywhere, better somewhere; minimising)."""
    return bool(np.all(a <= b) and np.any(a < b))


# ------------------------------------------------------------------------------------ search
@dataclass
class Portfolios:
    """What :func:`optimise` found: the front, the arms compared with it, and every evaluation."""

    front: pd.DataFrame
    arms: pd.DataFrame
    evaluations: pd.DataFrame
    draws: pd.DataFrame
    simulated: int
    setup: dict[str, Any]


def setup_record(frame: Frame, overrides: Sequence[str], search: Search, posterior: str | None) -> dict:
    """What the cached evaluations depend on; a resumed run must match it exactly."""
    digest = None
    if posterior:
        digest = hashlib.sha256(Path(posterior).read_bytes()).hexdigest()
    return {
        "frame": frame.describe(),
        "overrides": list(overrides),
        "budget": search.budget,
        "draws": search.draws,
        "seed": search.seed,
        "posterior_sha256": digest,
    }


def seeds_of(search: Search) -> dict[str, Any]:
    """The seeds of a search, for its provenance: the draws' and the search's (``seed % 2**32``)."""
    return {"seed": search.seed, "streams": "sample_draws(frame, draws, seed); pymoo seed % 2**32"}


def check_resumable(out_dir: Path, record: dict) -> None:
    """ConfigError (one line) when ``out_dir`` holds evaluations of a different setup."""
    path = out_dir / SETUP_FILE
    if not path.exists():
        if (out_dir / EVALUATIONS_FILE).exists():
            raise ConfigError(f"out={out_dir}: evaluations without {SETUP_FILE}; allowed: a new directory")
        return
    try:
        earlier = json.loads(path.read_text(encoding="utf-8"))["cache"]
    except (ValueError, KeyError):
        raise ConfigError(f"out={out_dir}: {SETUP_FILE} is not readable; allowed: a new directory") from None
    if earlier != json.loads(json.dumps(record)):
        changed = sorted(k for k in record if earlier.get(k) != json.loads(json.dumps(record[k])))
        raise ConfigError(
            f"out={out_dir} holds an optimisation with other {', '.join(changed)}; "
            "allowed: the same command (to resume) or a new out="
        )


def optimise(
    frame: Frame,
    base: Config,
    overrides: Sequence[str],
    search: Search,
    out_dir: Path | None = None,
    posterior: str | None = None,
    log: Callable[[str], None] | None = None,
    progress: bool = False,
    provenance: dict[str, Any] | None = None,
) -> Portfolios:
    """Search robust policies of ``frame`` under ``search.budget``; write the cache into ``out_dir``.

    ``base`` is the composed config of ``overrides`` (for the lever costs); every draw is
    composed from ``overrides`` plus its group options. ``optimise.json`` records the setup,
    the search and the ``provenance`` given (default: this process's). Raises ConfigError before anything runs
    when the budget cannot be met or ``out_dir`` holds another setup.
    """
    from pymoo.core.problem import Problem
    from pymoo.core.repair import Repair
    from pymoo.core.sampling import Sampling
    from pymoo.operators.sampling.rnd import FloatRandomSampling
    from pymoo.optimize import minimize

    search.check()
    costs = lever_costs(base)
    check_budget(frame, costs, search.budget)
    if search.robustness == "satisficing":
        for o in frame.objectives:
            if o.metric != "cost" and o.threshold is None:
                raise ConfigError(
                    f"robustness=satisficing: outcome {o.name} has no threshold; "
                    "allowed: a threshold for every objective in the xlrm frame"
                )
    record = setup_record(frame, overrides, search, posterior)
    draws = sample_draws(frame, search.draws, search.seed)
    configs = draw_configs(frame, draws, overrides)
    if out_dir is not None:
        from sim.results import write_parquet

        check_resumable(out_dir, record)
        write_setup(out_dir, record, search, provenance)
        write_parquet(out_dir / DRAWS_FILE, draws)
    say = log or (lambda _msg: None)
    lows = np.array([d.lo for d in frame.decisions])
    highs = np.array([d.hi for d in frame.decisions])
    unit = cost_vector(frame, costs)
    bar = _progress_bar(search, progress)
    arms = frontier_arms(search.budget, base, frame)
    arm_x = np.array([list(p.values()) for p in arms.values()])
    arm_names = {policy_key(x): name for name, x in zip(arms, arm_x, strict=True)}
    start = arm_x[seedable(arm_x, lows, highs, unit, search.budget)]
    evaluator = Evaluator(
        frame, draws, configs, search.budget, out_dir, bar.update if bar else None, names=arm_names
    )
    arm_rows = pd.DataFrame()
    generation = {"n": 0, "started": time.perf_counter()}

    def evaluate(x: np.ndarray) -> np.ndarray:
        rows = evaluator.evaluate(x)
        table = scores(rows, frame, search.robustness, search.percentile, arm_rows)
        order = {k: i for i, k in enumerate(table["policy_key"])}
        f = objective_matrix(table, frame, search.robustness)
        evaluator.flush()
        generation["n"] += 1
        say(
            f"generation {generation['n']}/{search.generations}: {len(x)} policies, "
            f"{evaluator.simulated} runs simulated so far, "
            f"{time.perf_counter() - generation['started']:.1f} s"
        )
        return f[[order[policy_key(v)] for v in x]]

    class Portfolio(Problem):
        def __init__(self) -> None:
            super().__init__(n_var=len(lows), n_obj=len(frame.objectives), xl=lows, xu=highs)

        def _evaluate(self, x: np.ndarray, out: dict, *args: Any, **kwargs: Any) -> None:
            out["F"] = evaluate(x)

    class WithinBudget(Repair):
        def _do(self, problem: Any, x: np.ndarray, **kwargs: Any) -> np.ndarray:
            return repair(np.clip(x, lows, highs), lows, unit, search.budget)

    class ArmsThenRandom(Sampling):
        """The arms that are policies of the frame, then uniform random policies up to the size."""

        def _do(self, problem: Any, n_samples: int, *args: Any, random_state: Any = None, **kwargs: Any):
            rest = max(0, n_samples - len(start))
            drawn = FloatRandomSampling()._do(problem, rest, random_state=random_state)
            return np.vstack([start, np.reshape(drawn, (rest, len(lows)))])

    try:
        # the arms first: they are the reference of robustness=regret, the comparison and seeds
        arm_rows = evaluator.evaluate(arm_x, label="arm")
        arm_rows["policy"] = arm_rows["policy_key"].map(arm_names)
        minimize(
            Portfolio(),
            _algorithm(search, len(frame.objectives), WithinBudget(), ArmsThenRandom()),
            ("n_gen", search.generations),
            seed=search.seed % 2**32,
            verbose=False,
        )
    finally:
        evaluator.flush()
        if bar is not None:
            bar.close()
    everything = evaluator.table()
    # the front is non-dominated over every policy evaluated: the search's and the arms
    table = scores(everything, frame, search.robustness, search.percentile, arm_rows)
    front = table.iloc[non_dominated(objective_matrix(table, frame, search.robustness))].reset_index(
        drop=True
    )
    front = _finish(front, frame, unit, search)
    arm_table = scores(arm_rows, frame, search.robustness, search.percentile, arm_rows)
    arm_table = compare_arms(_finish(arm_table, frame, unit, search), front, frame, search.robustness)
    return Portfolios(front, arm_table, everything, draws, evaluator.simulated, record)


def seedable(
    x: np.ndarray, lows: np.ndarray, highs: np.ndarray, unit: np.ndarray, budget: float
) -> np.ndarray:
    """Which rows of ``x`` are policies of the frame as they stand: the search's repair keeps them.

    A row outside the frame's ranges or over the budget would be changed by the repair into
    another policy, so it cannot seed the search as itself.
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    if len(x) == 0:
        return np.zeros(0, dtype=bool)
    return np.all(repair(np.clip(x, lows, highs), lows, unit, budget) == x, axis=1)


def _finish(table: pd.DataFrame, frame: Frame, unit: np.ndarray, search: Search) -> pd.DataFrame:
    out = table.copy()
    out["weekly_cost"] = out[frame.decision_keys].to_numpy() @ unit
    out["budget"] = search.budget
    out["robustness"] = search.robustness
    return out.sort_values("weekly_cost", kind="stable").reset_index(drop=True)


def compare_arms(arms: pd.DataFrame, front: pd.DataFrame, frame: Frame, robustness: str) -> pd.DataFrame:
    """Each arm with the front's policies that dominate it on the robust objectives.

    ``dominated_by``: those policies, comma-separated, or ``none``; ``dominated``: whether any
    does; ``on_front``: whether the arm is itself one of the front's policies.
    """
    fa = objective_matrix(arms, frame, robustness)
    ff = objective_matrix(front, frame, robustness)
    out = arms.copy()
    by = [
        [front["policy"].iloc[j] for j in range(len(front)) if dominates(ff[j], fa[i])]
        for i in range(len(arms))
    ]
    out["dominated_by"] = [",".join(b) if b else "none" for b in by]
    out["dominated"] = [bool(b) for b in by]
    out["on_front"] = out["policy_key"].isin(set(front["policy_key"]))
    return out


def _algorithm(search: Search, n_obj: int, repair_op: Any, sampling: Any) -> Any:
    if search.algorithm == "nsga3":
        from pymoo.algorithms.moo.nsga3 import NSGA3
        from pymoo.util.ref_dirs import get_reference_directions

        partitions = 1
        while math.comb(partitions + 1 + n_obj - 1, n_obj - 1) <= search.population:
            partitions += 1
        ref = get_reference_directions("das-dennis", n_obj, n_partitions=partitions)
        return NSGA3(ref_dirs=ref, pop_size=search.population, sampling=sampling, repair=repair_op)
    from pymoo.algorithms.moo.nsga2 import NSGA2

    return NSGA2(pop_size=search.population, sampling=sampling, repair=repair_op)


def _progress_bar(search: Search, show: bool) -> Any:
    if not show:
        return None
    from tqdm import tqdm

    total = (search.population * search.generations + 5) * search.draws
    return tqdm(total=total, desc="sim-optimise runs", unit="run", file=sys.stderr, leave=False)


# ------------------------------------------------------------------------------------ writing
def write_setup(out_dir: Path, record: dict, search: Search, provenance: dict[str, Any] | None) -> None:
    """``optimise.json`` at the start: the cache's setup, the search and the ``provenance`` given
    (default: this process's, see :mod:`sim.results.provenance`) with the search's seeds."""
    from sim.results import write_json
    from sim.results.provenance import provenance as this_process

    seeds = seeds_of(search)
    made_by = this_process(seeds) if provenance is None else {**provenance, "seeds": seeds}
    write_json(
        out_dir / SETUP_FILE, {"cache": record, "search": dataclasses.asdict(search), "provenance": made_by}
    )


def write_outcome(out_dir: Path, result: Portfolios) -> list[Path]:
    """Write the front, the arms and the scenario files of the front's policies (atomically)."""
    from sim.results import write_json, write_parquet

    write_parquet(out_dir / PARETO_FILE, result.front.drop(columns=["policy_key"]))
    write_parquet(out_dir / ARMS_FILE, result.arms.drop(columns=["policy_key"]))
    setup = json.loads((out_dir / SETUP_FILE).read_text(encoding="utf-8"))
    setup["result"] = {
        "front": len(result.front),
        "simulated": result.simulated,
        "arms_dominated": {r.policy: r.dominated_by for r in result.arms.itertuples()},
    }
    write_json(out_dir / SETUP_FILE, setup)
    return write_scenarios(out_dir / "scenario", result.front, float(result.front["budget"].iloc[0]))


def write_scenarios(folder: Path, front: pd.DataFrame, budget: float) -> list[Path]:
    """One scenario file per front policy, as in ``sim/configs/scenario/`` (for sim-run and sim-app).

    ``sim-run --config-dir DIR scenario=pareto_01`` runs one; ``sim-app --scenarios DIR`` shows them.
    """
    from omegaconf import OmegaConf

    from sim.results import write_text

    paths = []
    for i, row in enumerate(front.to_dict("records"), start=1):
        name = f"pareto_{i:02d}"
        levers: dict[str, Any] = {}
        for key in (k for k in row if k.startswith("levers.")):
            _, lever, param = key.split(".")
            levers.setdefault(lever, {})[param] = float(row[key])
        mix = ", ".join(f"{k.split('.')[1]} {v:.2f}" for k, v in row.items() if k.endswith(".intensity"))
        mix_zh = "，".join(
            f"{_ZH[k.split('.')[1]]} {v:.2f}" for k, v in row.items() if k.endswith(".intensity")
        )
        data = {
            "scenario": {
                "name": name,
                "title_en": f"Pareto policy {i} ({row['policy']}) at budget {budget:g}",
                "title_zh": f"预算 {budget:g} 下的帕累托组合 {i}（{row['policy']}）",
                "description_en": (
                    f"A robust lever portfolio found by sim-optimise ({row['robustness']} over the "
                    f"uncertainty draws), weekly cost {row['weekly_cost']:.2f}: {mix}."
                ),
                "description_zh": (
                    f"sim-optimise 在不确定情形下找到的稳健举措组合（{row['robustness']}），"
                    f"每周成本 {row['weekly_cost']:.2f}：{mix_zh}。"
                ),
            },
            "budget": budget,
            "levers": levers,
        }
        text = "# @package _global_\n# Written by sim-optimise: one policy of its Pareto front.\n"
        text += OmegaConf.to_yaml(OmegaConf.create(data))
        path = folder / f"{name}.yaml"
        write_text(path, text)
        paths.append(path)
    return paths


_ZH = {name: zh for name, (_en, zh) in LEVER_TITLES.items()}


# ------------------------------------------------------------------------------ re-evaluation
REEVALUATION_DIR = "reevaluation"


def extreme_policies(front: pd.DataFrame, frame: Frame, robustness: str) -> pd.DataFrame:
    """The front's policy that is best on each objective (without repeats), in objective order."""
    f = objective_matrix(front, frame, robustness)
    picks = list(dict.fromkeys(int(np.argmin(f[:, j])) for j in range(f.shape[1])))
    return front.iloc[picks].reset_index(drop=True)


def reevaluate(
    frame: Frame,
    overrides: Sequence[str],
    policies: pd.DataFrame,
    draws: int,
    search: Search,
    out_dir: Path | None = None,
    provenance: dict[str, Any] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Evaluate ``policies`` on ``draws`` fresh uncertainty draws (not those of the search).

    The draws come from a seed derived from the search's, so a re-evaluation is an
    out-of-sample check of the front and the input of scenario discovery (``sim-discover
    DIR/reevaluation CONDITION``). Returns (one row per policy × draw, the draws); cached and
    resumable like the search when ``out_dir`` is given, with its ``optimise.json`` as the
    search's (``provenance`` with the re-evaluation's seeds).
    """
    from sim.results import write_parquet

    seed = int(np.random.SeedSequence([search.seed, 1]).generate_state(1, np.uint64)[0] >> np.uint64(1))
    again = dataclasses.replace(search, draws=draws, seed=seed)
    again.check()
    table = sample_draws(frame, draws, seed)
    configs = draw_configs(frame, table, overrides)
    if out_dir is not None:
        record = setup_record(frame, overrides, again, None)
        check_resumable(out_dir, record)
        write_setup(out_dir, record, again, provenance)
        write_parquet(out_dir / DRAWS_FILE, table)
    decisions = policies[frame.decision_keys].to_numpy()
    # the policies keep their names (an arm's, or the front's id) in the cache and the rows
    names = dict(zip((policy_key(v) for v in decisions), policies["policy"], strict=True))
    evaluator = Evaluator(frame, table, configs, search.budget, out_dir, names=names)
    try:
        rows = evaluator.evaluate(decisions, label="reevaluation")
    finally:
        evaluator.flush()
    rows["policy"] = rows["policy_key"].map(names)
    return rows, table


def best_by_group(
    evaluations: pd.DataFrame,
    draws: pd.DataFrame,
    front: pd.DataFrame,
    group: str,
    outcome: Any,
    percentile: float = 10.0,
) -> pd.DataFrame:
    """For each option of ``group`` (a community type), the front policy most robust there.

    Robust here is the ``percentile``-th worst value of ``outcome`` over that option's draws
    only (10: the value 90% of its draws reach). One row per option: the option, the policy,
    its decisions, that value and the number of draws it rests on.
    """
    table = evaluations[evaluations["policy"].isin(front["policy"])].merge(draws[["draw", group]], on="draw")
    rows = []
    for option, cases in table.groupby(group, sort=True):
        value = {
            policy: robust_value(
                part[outcome.metric].to_numpy(dtype=float), outcome, "percentile", percentile
            )
            for policy, part in cases.groupby("policy", sort=True)
        }
        best = max(value, key=lambda p: outcome.sign * value[p])
        decisions = front.loc[front["policy"] == best].iloc[0]
        rows.append(
            {
                group: option,
                "policy": best,
                **{k: float(v) for k, v in decisions.items() if str(k).startswith("levers.")},
                "weekly_cost": float(decisions["weekly_cost"]),
                f"{outcome.name}_p{percentile:g}": value[best],
                "draws": int((cases["policy"] == best).sum()),
            }
        )
    return pd.DataFrame(rows)
