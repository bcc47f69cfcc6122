"""Calibration to observed targets: likelihood-free ABC-SMC (pyabc) over any documented parameter.

What is calibrated, against which figures, is a *targets file*, read by
:func:`sim.experiment.targets.load_spec` (parameters with their priors, targets with their
measurement error, plausibility ranges checked but never fitted).

Each particle simulates ``replicates`` communities of the base configuration (seeded, as
everywhere in the project, by :func:`sim.experiment.simulate.replicate_seeds` from a root seed
drawn for that particle) and averages the statistics over them. Gaussian noise with each
target's ``sd`` is added to the simulated statistic (noisy ABC, Wilkinson 2013), so that as the
tolerance falls the ABC posterior approaches the posterior under the stated measurement error,
not a posterior that pretends the figure is exact.

The history is an SQLite database in the output directory: a calibration that is stopped
resumes from its last complete generation when the same command is run again.

Why one module of this length: the ABC run, its resumption and what it yields (posterior,
diagnostics, predictive check, files) share one specification and one history.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.core.config import Config, ConfigError, validate
from sim.experiment import ensemble
from sim.experiment.ensemble import Job
from sim.experiment.simulate import flatten, replicate_seeds
from sim.experiment.targets import (  # noqa: F401 (the specification, re-exported for callers of calibrate)
    CONFIDENCE,
    DESCRIPTIVE,
    PRIOR_FIELDS,
    RANGE_FIELDS,
    STATISTICS_HELP,
    TARGET_FIELDS,
    MetricStatistic,
    Plausible,
    Prior,
    Spec,
    Target,
    key_range,
    load_spec,
    parse_spec,
    resolve_key,
)

HISTORY_FILE = "history.db"
SPEC_FILE = "calibration.json"
POSTERIOR_FILE = "posterior.parquet"
DIAGNOSTICS_FILE = "diagnostics.parquet"
PREDICTIVE_FILE = "predictive.parquet"
SUMMARY_FILE = "summary.json"
CALIBRATED_GROUP = "calibrated"
#: the statistic of a particle that cannot produce one: far beyond any tolerance, so never accepted
UNREACHABLE = 1e9

log = logging.getLogger("sim.calibrate")


# ------------------------------------------------------------------------------ the simulator
def with_values(cfg: Config, values: dict[str, float]) -> Config:
    """A validated copy of ``cfg`` with each dotted key set to its value."""
    new = copy.deepcopy(cfg)
    for key, value in values.items():
        node, name, index, _ = resolve_key(new, key)
        if index is None:
            setattr(node, name, float(value))
        else:
            getattr(node, name)[index] = float(value)
    return validate(new)


def statistic(series: np.ndarray, name: str) -> float:
    """A named statistic of a weekly series (:data:`STATISTICS_HELP`)."""
    if name == "final":
        return float(series[-1])
    if name == "mean":
        return float(series.mean())
    if name == "min":
        return float(series.min())
    if name == "max":
        return float(series.max())
    kind, _, weeks = name.rpartition("_")
    window = series[-int(weeks) :]
    return float(window.sum() if kind == "sum_last" else window.mean())


class Simulator:
    """Parameter values → the statistics the targets (and ranges) name, for one particle.

    Each call simulates ``base.replicates`` communities with seeds
    ``replicate_seeds(root, replicates)``, ``root`` drawn from numpy's global generator (which
    pyabc seeds), and averages each statistic over them.
    """

    def __init__(self, base: Config, spec: Spec, noise: bool = True) -> None:
        self.base = dataclasses.replace(base, record_buildings=False, check_finite=False)
        self.spec = spec
        self.noise = noise
        #: runs a particle's replicates: as an ensemble of their own, or handed to the
        #: :class:`sim.experiment.abc_sampler.EnsembleSampler`'s batch while one is evaluated
        self.runner: Callable[[list[Job]], Any] = ensemble.run
        self.wanted = [(t.name, t.metric, t.statistic) for t in spec.targets]
        self.wanted += [(r.name, r.metric, r.statistic) for r in spec.plausibility]

    def exact(self, values: dict[str, float], root: int) -> dict[str, float]:
        """Statistics of every target and range without observation noise (nan if invalid)."""
        return self.exact_many([(values, root)])[0]

    def exact_many(self, particles: Sequence[tuple[dict[str, float], int]]) -> list[dict[str, float]]:
        """:meth:`exact` of each (values, root), with all their replicates run together."""
        names = [name for name, _, _ in self.wanted]
        configs: list[Config | None] = []
        jobs = []
        for p, (values, root) in enumerate(particles):
            try:
                cfg = with_values(self.base, values)
            except ConfigError:
                configs.append(None)
                continue
            configs.append(cfg)
            seeds = replicate_seeds(root, cfg.replicates)
            jobs += [Job(cfg, seed, replicate=r, key=p) for r, seed in enumerate(seeds)]
        per_community = {
            p: np.empty((cfg.replicates, len(self.wanted)))
            for p, cfg in enumerate(configs)
            if cfg is not None
        }
        for result in self.runner(jobs):  # with the generation's other particles, if in a batch
            table = per_community[result.job.key]
            for j, (_, metric, stat) in enumerate(self.wanted):
                table[result.job.replicate, j] = statistic(result.metrics[metric].to_numpy(), stat)
        out = []
        for p in range(len(particles)):
            if p not in per_community:
                out.append({name: math.nan for name in names})
                continue
            # a community without the quantity (no property company: no fee collection) is left
            # out of the mean, as a collection rate averages over managed compounds only
            finite = np.isfinite(per_community[p])
            counts = finite.sum(axis=0)
            means = np.where(finite, per_community[p], 0.0).sum(axis=0) / np.maximum(counts, 1)
            out.append({n: float(m) if c else math.nan for n, m, c in zip(names, means, counts, strict=True)})
        return out

    def noisy(self, stats: dict[str, float], rng: np.random.Generator | None = None) -> dict[str, float]:
        """The targets' statistics with Gaussian measurement noise of each target's sd added."""
        # pyabc draws particles from numpy's global generator, always in this process and in the
        # particles' order (sim.experiment.abc_sampler), so the noise follows the same stream
        draw = rng.standard_normal if rng is not None else np.random.standard_normal
        noise = {t.name: t.sd * float(draw()) if self.noise else 0.0 for t in self.spec.targets}
        return {t.name: stats[t.name] + noise[t.name] for t in self.spec.targets}

    def __call__(self, parameters: Any) -> dict[str, float]:
        values = {key: float(parameters[key]) for key in self.spec.keys}
        root = int(np.random.randint(0, 2**62))  # noqa: NPY002 (pyabc's generator, see noisy)
        stats = self.noisy(self.exact(values, root))
        # A particle whose communities cannot produce a statistic (or break a cross-field rule)
        # is placed far beyond any tolerance: always rejected, and the adaptive distance's
        # scale (a median absolute deviation) is robust to it.
        return {name: value if math.isfinite(value) else UNREACHABLE for name, value in stats.items()}


def warm_up(simulator: Simulator, spec: Spec) -> dict[str, float]:
    """Runs at the prior's centre: compile the kernels into numba's cache before any worker
    process starts (they load them from it), and show whether the community produces every
    statistic (three communities, so that one without, say, a property company does not decide)."""
    centre = {p.key: (p.low + p.high) / 2 for p in spec.priors}
    one = dataclasses.replace(simulator.base, replicates=3)
    return Simulator(one, spec, noise=False).exact(centre, simulator.base.seed)


# ------------------------------------------------------------------------------ running ABC-SMC
@dataclass
class Settings:
    """How hard to work: particles per generation, generations, processes."""

    population: int = 100
    generations: int = 5
    cores: int = 1

    def check(self) -> None:
        for name, lo in (("population", 2), ("generations", 1), ("cores", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < lo:
                raise ConfigError(f"{name}={value!r} is out of range; allowed: an integer ≥ {lo}")


def fingerprint(spec: Spec, base: Config, settings: Settings) -> dict[str, Any]:
    """What a resumed calibration must share with the one in the history (not generations, cores)."""
    model = {k: v for k, v in flatten(base).items() if k not in ("experiment", "report")}
    digest = hashlib.sha256(json.dumps(model, sort_keys=True, default=str).encode()).hexdigest()
    return {**spec.fingerprint(), "population": settings.population, "model_sha256": digest}


def seeds_of(base: Config) -> dict[str, Any]:
    """The seeds of a calibration, for its provenance: the root and the streams drawn from it."""
    return {"seed": base.seed, "streams": "SeedSequence([seed, generation]); predictive [seed, 7]"}


def _provenance(given: dict[str, Any] | None, base: Config) -> dict[str, Any]:
    """``given``, or the provenance of this process (its command line) with the calibration's seeds."""
    from sim.results.provenance import provenance

    return given if given is not None else provenance(seeds_of(base))


def _prior(spec: Spec) -> Any:
    import pyabc

    return pyabc.Distribution(**{p.key: pyabc.RV("uniform", p.low, p.width) for p in spec.priors})


def _sampler(cores: int, simulator: Simulator) -> Any:
    """A generation's particles simulated together as ensembles, spread over ``cores``
    processes; the same posterior for any number of cores."""
    from sim.experiment.abc_sampler import EnsembleSampler

    return EnsembleSampler(simulator, workers=cores)


def check_resumable(out_dir: Path, spec: Spec, base: Config, settings: Settings) -> bool:
    """Whether ``out_dir`` holds a history of this calibration (raises ConfigError if of another)."""
    spec_file = out_dir / SPEC_FILE
    history = out_dir / HISTORY_FILE
    if not spec_file.exists():
        if history.exists():
            raise ConfigError(
                f"out={out_dir}: holds {HISTORY_FILE} without {SPEC_FILE}; allowed: an empty or new directory"
            )
        return False
    stored = json.loads(spec_file.read_text(encoding="utf-8"))
    wanted = json.loads(json.dumps(fingerprint(spec, base, settings)))
    if stored.get("fingerprint") != wanted:
        changed = sorted(k for k in wanted if stored.get("fingerprint", {}).get(k) != wanted[k])
        raise ConfigError(
            f"out={out_dir}: holds a calibration with other {', '.join(changed)}; "
            "allowed: the same targets, parameters, population and model to resume, or a new out="
        )
    return history.exists()


def run_abc(
    spec: Spec,
    base: Config,
    out_dir: str | Path,
    settings: Settings,
    on_generation: Callable[[int, float, float], None] | None = None,
    provenance: dict[str, Any] | None = None,
) -> Any:
    """Run (or resume) ABC-SMC until the history holds ``settings.generations`` generations.

    Returns the pyabc History. The history lives in ``out_dir/history.db``; rerunning after a
    stop continues from its last complete generation. ``calibration.json`` records what the
    history must match and the ``provenance`` of the command that started it (default: this
    process's). The result is the same for the same seed and inputs, whatever ``cores`` is
    (the processes share the simulations; proposing and accepting stay in this process).
    """
    import pyabc

    from sim.results import write_json

    settings.check()
    out_dir = Path(out_dir)
    resuming = check_resumable(out_dir, spec, base, settings)
    simulator = Simulator(base, spec)
    at_centre = warm_up(simulator, spec)
    missing = [name for name, value in at_centre.items() if not math.isfinite(value)]
    if missing:
        raise ConfigError(
            f"targets.{missing[0]}: the model gives no value at the prior's centre (e.g. a company "
            "metric in a community without property companies); allowed: a metric this community has"
        )
    db = f"sqlite:///{(out_dir / HISTORY_FILE).resolve()}"
    abc = pyabc.ABCSMC(
        simulator,
        _prior(spec),
        pyabc.AdaptivePNormDistance(p=2),
        population_size=settings.population,
        sampler=_sampler(settings.cores, simulator),
    )
    if resuming:
        history = abc.load(db, 1)
        done = history.n_populations
    else:
        write_json(
            out_dir / SPEC_FILE,
            {
                "fingerprint": fingerprint(spec, base, settings),
                "source": spec.source,
                "provenance": _provenance(provenance, base),
            },
        )
        history = abc.new(db, spec.observed())
        done = 0
    remaining = settings.generations - done
    if remaining <= 0:
        log.info("history already holds %d generation(s); nothing to run", done)
        return history
    # numpy's global generator draws the particles (pyabc) and each particle's root seed
    np.random.seed(np.random.SeedSequence([base.seed, done]).generate_state(1)[0])  # noqa: NPY002
    log.info(
        "%s generation(s) %d..%d of %d, %d particles, %d process(es)",
        "resuming:" if resuming else "starting:",
        done,
        settings.generations - 1,
        settings.generations,
        settings.population,
        settings.cores,
    )
    return abc.run(max_nr_populations=remaining)


# ------------------------------------------------------------------------------ what a run yields
def posterior(history: Any, spec: Spec, t: int | None = None) -> pd.DataFrame:
    """The particles of generation ``t`` (default: the last): one column per key, and ``weight``."""
    frame, weights = history.get_distribution(m=0, t=t)
    out = frame[spec.keys].reset_index(drop=True).astype(np.float64)
    out["weight"] = np.asarray(weights, dtype=np.float64) / np.sum(weights)
    return out


def diagnostics(history: Any) -> pd.DataFrame:
    """Per generation: tolerance epsilon, acceptance rate, effective sample size, simulations."""
    from pyabc.weighted_statistics import effective_sample_size

    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].sort_values("t")
    rows = []
    for row in pops.itertuples():
        _, weights = history.get_distribution(m=0, t=int(row.t))
        weights = np.asarray(weights, dtype=np.float64)
        rows.append(
            {
                "generation": int(row.t),
                "epsilon": float(row.epsilon),
                "particles": int(row.particles),
                "simulations": int(row.samples),
                "acceptance_rate": float(row.particles) / float(row.samples) if row.samples else math.nan,
                "effective_sample_size": float(effective_sample_size(weights / weights.sum())),
                "seconds": float(row.wall_time) if row.wall_time is not None else math.nan,
            }
        )
    return pd.DataFrame(rows)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float | np.ndarray) -> np.ndarray:
    """Quantiles of a weighted sample (midpoint rule on the sorted cumulative weights)."""
    order = np.argsort(values)
    v, w = np.asarray(values)[order], np.asarray(weights)[order]
    cum = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cum, v)


def summarise_posterior(post: pd.DataFrame, spec: Spec, level: float = 0.9) -> pd.DataFrame:
    """Per key: weighted mean, median, the central ``level`` credible interval, width vs prior."""
    tail = (1 - level) / 2
    rows = []
    for prior in spec.priors:
        x, w = post[prior.key].to_numpy(), post["weight"].to_numpy()
        lo, median, hi = weighted_quantile(x, w, np.array([tail, 0.5, 1 - tail]))
        rows.append(
            {
                "key": prior.key,
                "prior_low": prior.low,
                "prior_high": prior.high,
                "mean": float(np.average(x, weights=w)),
                "median": float(median),
                "low": float(lo),
                "high": float(hi),
                "level": level,
                "width_vs_prior": float((hi - lo) / (level * prior.width)),
            }
        )
    return pd.DataFrame(rows)


def predictive(
    post: pd.DataFrame,
    spec: Spec,
    base: Config,
    draws: int = 50,
    seed: int | None = None,
    workers: int = 1,
) -> pd.DataFrame:
    """Posterior predictive: ``draws`` particles resampled by weight, each simulated afresh.

    One row per draw: its parameter values, each target's and range's statistic without noise
    (``NAME``) and each target's statistic with measurement noise (``NAME@observed``). The
    draws' replicates run together as ensembles, on ``workers`` processes (the same numbers
    for any number).
    """
    rng = np.random.default_rng(np.random.SeedSequence([base.seed if seed is None else seed, 7]))
    pick = rng.choice(len(post), size=draws, p=post["weight"].to_numpy())
    simulator = Simulator(base, spec)
    simulator.runner = functools.partial(ensemble.run_spread, workers=workers)
    roots = rng.integers(0, 2**62, size=draws)
    picked = [{key: float(post[key].iloc[i]) for key in spec.keys} for i in pick]
    exacts = simulator.exact_many([(values, int(root)) for values, root in zip(picked, roots, strict=True)])
    rows = []
    for draw, (values, exact) in enumerate(zip(picked, exacts, strict=True)):
        observed = simulator.noisy(exact, rng)
        rows.append(
            {
                "draw": draw,
                **values,
                **exact,
                **{f"{name}@observed": value for name, value in observed.items()},
            }
        )
    return pd.DataFrame(rows)


def check_predictive(pred: pd.DataFrame, spec: Spec) -> list[dict[str, Any]]:
    """Per target: where the observed value falls in the posterior predictive; per range: share inside."""
    rows: list[dict[str, Any]] = []
    for t in spec.targets:
        sim = pred[f"{t.name}@observed"].to_numpy()
        sim = sim[np.isfinite(sim)]
        lo, hi = np.quantile(sim, [0.05, 0.95]) if sim.size else (math.nan, math.nan)
        rows.append(
            {
                "name": t.name,
                "kind": "target",
                "metric": t.metric,
                "statistic": t.statistic,
                "observed": t.value,
                "sd": t.sd,
                "predictive_mean": float(sim.mean()) if sim.size else math.nan,
                "predictive_5": float(lo),
                "predictive_95": float(hi),
                "tail_probability": float(min((sim <= t.value).mean(), (sim >= t.value).mean()))
                if sim.size
                else math.nan,
                "verdict": "inside 90% predictive" if lo <= t.value <= hi else "outside 90% predictive",
            }
        )
    for r in spec.plausibility:
        sim = pred[r.name].to_numpy()
        sim = sim[np.isfinite(sim)]
        inside = float(((sim >= r.low) & (sim <= r.high)).mean()) if sim.size else math.nan
        rows.append(
            {
                "name": r.name,
                "kind": "plausibility",
                "metric": r.metric,
                "statistic": r.statistic,
                "low": r.low,
                "high": r.high,
                "predictive_mean": float(sim.mean()) if sim.size else math.nan,
                "predictive_5": float(np.quantile(sim, 0.05)) if sim.size else math.nan,
                "predictive_95": float(np.quantile(sim, 0.95)) if sim.size else math.nan,
                "share_inside": inside,
                "verdict": "plausible" if inside >= 0.5 else "implausible",
            }
        )
    return rows


def calibrated_values(summary: pd.DataFrame, base: Config) -> dict[str, Any]:
    """The calibrated keys at their posterior medians, as a nested mapping for a config file.

    A list element (``key[i]``) is written as the whole list, its other elements from ``base``.
    Raises ConfigError if the medians together break a cross-field rule.
    """
    medians = {row.key: round(float(row.median), 6) for row in summary.itertuples()}
    cfg = with_values(base, medians)
    tree: dict[str, Any] = {}
    for key in medians:
        node_cfg, attr, _, _ = resolve_key(cfg, key)
        value = getattr(node_cfg, attr)
        node = tree
        for part in key.split(".")[:-1]:
            node = node.setdefault(part, {})
        node[attr] = [float(v) for v in value] if isinstance(value, list) else float(value)
    return tree


def shown_path(path: str | Path) -> str:
    """A path as a reader of a shipped file can use it: the package's own files as ``sim/...``."""
    package = Path(__file__).resolve().parent.parent
    resolved = Path(path).resolve()
    if resolved.is_relative_to(package):
        return str(Path(package.name) / resolved.relative_to(package))
    return str(path)


def calibrated_yaml(summary: pd.DataFrame, spec: Spec, base: Config, name: str, note: str = "") -> str:
    """A config-group file (``+calibrated=NAME``) setting every key to its posterior median."""
    import yaml

    header = [
        "# @package _global_",
        f"# Calibrated parameter set {name!r}: each key at its marginal posterior median.",
        f"# Targets: {shown_path(spec.source) if spec.source else '(given in code)'}",
    ]
    header += [f"# {line}" for line in note.splitlines() if line]
    for row in summary.itertuples():
        header.append(
            f"#   {row.key}: median {row.median:.4g}, {row.level:.0%} credible interval "
            f"[{row.low:.4g}, {row.high:.4g}] (prior [{row.prior_low:g}, {row.prior_high:g}])"
        )
    body = yaml.safe_dump(calibrated_values(summary, base), sort_keys=False, allow_unicode=True)
    return "\n".join(header) + "\n" + body


def elapsed(started: float) -> str:
    seconds = time.perf_counter() - started
    return f"{seconds / 60:.1f} min" if seconds >= 120 else f"{seconds:.1f} s"


@dataclass
class Outputs:
    """What :func:`write_outputs` wrote and computed."""

    posterior: pd.DataFrame
    summary: pd.DataFrame
    diagnostics: pd.DataFrame
    predictive: pd.DataFrame
    checks: list[dict[str, Any]]
    calibrated: Path | None
    files: list[Path]


def write_outputs(
    history: Any,
    spec: Spec,
    base: Config,
    out_dir: str | Path,
    name: str,
    draws: int = 50,
    install_dir: Path | None = None,
    provenance: dict[str, Any] | None = None,
    workers: int = 1,
) -> Outputs:
    """Posterior, diagnostics, posterior predictive and the calibrated config group, into ``out_dir``.

    Files (each written atomically): ``posterior.parquet`` (one column per key, ``weight``
    summing to 1), ``diagnostics.parquet`` (one row per generation), ``predictive.parquet``,
    ``summary.json`` and ``calibrated/NAME.yaml`` (also into ``install_dir`` if given), which
    ``sim-run --config-dir OUT +calibrated=NAME`` loads. ``summary.json`` carries the
    ``provenance`` given (default: this process's, see :mod:`sim.results.provenance`).
    The predictive draws are simulated on ``workers`` processes (the same numbers for any).
    """
    from sim.results import write_json, write_parquet, write_text

    out_dir = Path(out_dir)
    post = posterior(history, spec)
    table = summarise_posterior(post, spec)
    diag = diagnostics(history)
    pred = predictive(post, spec, base, draws=draws, workers=workers)
    checks = check_predictive(pred, spec)
    files = [out_dir / POSTERIOR_FILE, out_dir / DIAGNOSTICS_FILE, out_dir / PREDICTIVE_FILE]
    write_parquet(files[0], post)
    write_parquet(files[1], diag)
    write_parquet(files[2], pred)
    calibrated = None
    try:
        text = calibrated_yaml(table, spec, base, name, note=f"Posterior of {out_dir / POSTERIOR_FILE}")
    except ConfigError as exc:
        log.warning("no calibrated config written: the posterior medians break a rule (%s)", exc)
    else:
        calibrated = out_dir / CALIBRATED_GROUP / f"{name}.yaml"
        write_text(calibrated, text)
        files.append(calibrated)
        if install_dir is not None:
            installed = install_dir / CALIBRATED_GROUP / f"{name}.yaml"
            write_text(installed, text)
            files.append(installed)
    summary = {
        "targets_file": spec.source,
        "name": name,
        "generations": len(diag),
        # every simulation, the prior sample that first scales the adaptive distance included
        "simulations": int(history.total_nr_simulations),
        "particles": len(post),
        "model": {"preset": base.community.preset, "steps": base.steps, "replicates": base.replicates},
        "posterior": table.to_dict(orient="records"),
        "predictive_check": checks,
        "targets": [{**dataclasses.asdict(t)} for t in spec.targets],
        "plausibility": [{**dataclasses.asdict(r)} for r in spec.plausibility],
        "provenance": _provenance(provenance, base),
    }
    files.append(out_dir / SUMMARY_FILE)
    write_json(files[-1], summary)
    return Outputs(post, table, diag, pred, checks, calibrated, files)
