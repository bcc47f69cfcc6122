"""The XLRM frame of a decision question: levers (policies), uncertainties, outcomes (measures).

A frame is a YAML file in ``sim/configs/xlrm/`` (``default.yaml`` documents every field),
named without its suffix (``xlrm=default``), or a YAML file of the user's own given by its path
(``xlrm=frames/mine.yaml``: a value ending in ``.yaml``/``.yml`` or containing a ``/``), which is
checked exactly like the shipped ones:

- **levers** — the decisions of a policy: config keys with a range. Each ``levers.<name>.intensity``
  costs its lever's ``cost_per_unit`` per 1,000 households per week at intensity 1; any other
  lever parameter named here is a decision at no cost.
- **uncertainties** — what a policy must work under: config-group options (e.g. the context
  scenarios, or the shipped community types as ``community/type: [old_compound, ...]``), a
  community structure seed per draw, and behavioural parameters by config key,
  drawn by Latin hypercube over stated ranges (or the key's whole allowed range), or from a
  calibrated posterior (``posterior.parquet``: one column per config key and ``weight``).
- **outcomes** — named metrics with a direction; those marked ``objective`` are searched on.

:func:`load_frame` reads and checks a frame against the composed configuration; every problem
is a :class:`~sim.core.config.ConfigError` with one line naming the key, the value and what is
allowed, raised before anything runs. :func:`sample_draws` draws the uncertainty sample and
:func:`draw_configs` turns it into one validated config per draw: every policy is evaluated
on these same draws (common random numbers).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.core.config import Config, ConfigError
from sim.core.levers import LEVERS
from sim.core.metrics import METRICS
from sim.experiment.compose import CONFIG_DIR, compose_config, group_options
from sim.experiment.sweep import point_config

XLRM_DIR = CONFIG_DIR / "xlrm"
#: outcomes may name a metric, its gain over the paired baseline, or the weekly cost
GAIN_SUFFIX = "_gain"


@dataclass(frozen=True)
class Decision:
    """One decision of a policy: a config key and the range the search may set it in."""

    key: str
    lo: float
    hi: float

    @property
    def lever(self) -> str | None:
        """The lever whose intensity this is (it costs), or None for a free lever parameter."""
        parts = self.key.split(".")
        if len(parts) == 3 and parts[0] == "levers" and parts[2] == "intensity":
            return parts[1]
        return None


@dataclass(frozen=True)
class Uncertainty:
    """A behavioural parameter a policy must work under: a config key and its range."""

    key: str
    lo: float
    hi: float


@dataclass(frozen=True)
class Outcome:
    """A named measure: the metric it reads, whether more is better, and a satisficing threshold."""

    name: str
    metric: str
    direction: str  # "max" or "min"
    objective: bool = True
    threshold: float | None = None

    @property
    def sign(self) -> float:
        """+1 when more is better, -1 when less is: ``sign * value`` is always 'higher is better'."""
        return 1.0 if self.direction == "max" else -1.0


@dataclass(frozen=True)
class Frame:
    """Levers, uncertainties and outcomes of one decision question (see the module docstring)."""

    name: str
    decisions: tuple[Decision, ...]
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    structure_seed: bool = True
    uncertainties: tuple[Uncertainty, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    posterior: pd.DataFrame | None = None

    @property
    def decision_keys(self) -> list[str]:
        return [d.key for d in self.decisions]

    @property
    def objectives(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.objective)

    @property
    def uncertainty_keys(self) -> list[str]:
        """Numeric uncertain keys: the stated ranges and the posterior's columns."""
        keys = [u.key for u in self.uncertainties]
        if self.posterior is not None:
            keys += [c for c in self.posterior.columns if c != "weight" and c not in keys]
        return keys

    def describe(self) -> dict[str, Any]:
        """A plain-data record of the frame (written beside the results, compared on resume)."""
        return {
            "name": self.name,
            "levers": {d.key: [d.lo, d.hi] for d in self.decisions},
            "groups": {g: list(o) for g, o in self.groups.items()},
            "structure_seed": self.structure_seed,
            "parameters": {u.key: [u.lo, u.hi] for u in self.uncertainties},
            "posterior": None if self.posterior is None else sorted(self.posterior.columns),
            "outcomes": {
                o.name: {
                    "metric": o.metric,
                    "direction": o.direction,
                    "objective": o.objective,
                    "threshold": o.threshold,
                }
                for o in self.outcomes
            },
        }


# ----------------------------------------------------------------------------- reading a frame
def frame_names() -> list[str]:
    """The frames shipped in ``sim/configs/xlrm/``."""
    return sorted(p.stem for p in XLRM_DIR.glob("*.yaml"))


def is_frame_path(name: str) -> bool:
    """Whether ``xlrm=name`` is the path of a YAML file rather than the name of a shipped frame."""
    return name.endswith((".yaml", ".yml")) or "/" in name or "\\" in name


def read_frame_file(name: str) -> Any:
    """The plain data of frame ``name``: a shipped frame's name or a YAML file's path (ConfigError)."""
    from omegaconf import OmegaConf

    if is_frame_path(name):
        path = Path(name)
        if not path.is_file():
            raise ConfigError(
                f"xlrm={name}: no such file; allowed: the name of a frame in sim/configs/xlrm/ "
                f"({', '.join(frame_names())}) or the path of a .yaml file"
            )
    elif name in frame_names():
        path = XLRM_DIR / f"{name}.yaml"
    else:
        raise ConfigError(
            f"xlrm={name} is not a known frame; allowed: {', '.join(frame_names())}, "
            "or the path of a .yaml file"
        )
    try:
        return OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    except Exception as exc:  # YAML syntax, an unresolvable interpolation, an unreadable file
        reason = " ".join(str(exc).split())[:160]
        raise ConfigError(
            f"xlrm={name}: not a readable YAML frame ({type(exc).__name__}: {reason}); "
            "allowed: a mapping of levers, uncertainties, outcomes as in sim/configs/xlrm/default.yaml"
        ) from None


def load_frame(
    name: str = "default",
    base: Config | None = None,
    posterior: str | Path | None = None,
    data: dict[str, Any] | None = None,
) -> Frame:
    """Read frame ``name`` (or ``data``, the same structure as a dict) and check it against ``base``.

    ``name`` is a frame of ``sim/configs/xlrm/`` or the path of a YAML file (see the module
    docstring). ``posterior`` is a Parquet file with one column per config key and a ``weight``
    column. Raises ConfigError (one line) on an unknown frame or unreadable file, an unknown
    key, group option or metric, a range outside a key's allowed range, and on a posterior that
    does not fit.
    """
    if data is None:
        data = read_frame_file(name)
    if not isinstance(data, dict):
        raise ConfigError(
            f"xlrm={name}: the frame is not a mapping; allowed: levers, uncertainties, outcomes"
        )
    base = base if base is not None else compose_config()
    unknown = set(data) - {"levers", "uncertainties", "outcomes"}
    if unknown:
        raise ConfigError(
            f"xlrm.{sorted(unknown)[0]}: not a part of a frame; allowed: levers, uncertainties, outcomes"
        )
    levers = _mapping("xlrm.levers", data.get("levers"), "levers.<name>.<parameter>: [low, high]")
    decisions = tuple(_decision(str(k), v, base) for k, v in levers.items())
    if not decisions:
        raise ConfigError(
            "xlrm.levers is empty; allowed: at least one levers.<name>.<parameter> with a range"
        )
    unc = _mapping("xlrm.uncertainties", data.get("uncertainties"), ", ".join(UNCERTAINTY_PARTS))
    unknown = set(unc) - set(UNCERTAINTY_PARTS)
    if unknown:
        raise ConfigError(
            f"xlrm.uncertainties.{sorted(map(str, unknown))[0]}: not a part of the uncertainties; "
            f"allowed: {', '.join(UNCERTAINTY_PARTS)}"
        )
    structure_seed = unc.get("structure_seed", True)
    if not isinstance(structure_seed, bool):
        raise ConfigError(f"xlrm.uncertainties.structure_seed={structure_seed!r}; allowed: true or false")
    group_specs = _mapping("xlrm.uncertainties.groups", unc.get("groups"), "<group>: [option, ...]")
    groups = {str(g): _group(str(g), opts) for g, opts in group_specs.items()}
    param_specs = _mapping(
        "xlrm.uncertainties.parameters", unc.get("parameters"), "<config key>: [low, high] or null"
    )
    params = tuple(_uncertainty(str(k), v, base) for k, v in param_specs.items())
    overlap = {d.key for d in decisions} & {u.key for u in params}
    if overlap:
        key = sorted(overlap)[0]
        raise ConfigError(f"xlrm: {key} is both a lever and an uncertainty; allowed: one of the two")
    outcome_specs = _mapping("xlrm.outcomes", data.get("outcomes"), "<name>: {metric: , direction: max|min}")
    outcomes = tuple(_outcome(str(n), spec) for n, spec in outcome_specs.items())
    if not any(o.objective for o in outcomes):
        raise ConfigError(
            "xlrm.outcomes has no objective; allowed: at least one outcome with objective: true"
        )
    post = read_posterior(posterior, base, {d.key for d in decisions}) if posterior else None
    return Frame(
        name=name,
        decisions=decisions,
        groups=groups,
        structure_seed=structure_seed,
        uncertainties=params,
        outcomes=outcomes,
        posterior=post,
    )


UNCERTAINTY_PARTS = ("groups", "structure_seed", "parameters")


def _mapping(where: str, value: Any, allowed: str) -> dict:
    """``value`` as a mapping (None or empty: an empty one); ConfigError naming ``where`` otherwise."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}={value!r} is not a mapping; allowed: {allowed}")
    return value


def key_range(key: str, base: Config) -> tuple[float, float]:
    """The allowed [lo, hi] of a numeric config key (raises ConfigError for any other key)."""
    *path, leaf = key.split(".")
    node: Any = base
    for part in path:
        node = getattr(node, part, None)
    fields = {f.name: f for f in dataclasses.fields(node)} if dataclasses.is_dataclass(node) else {}
    f = fields.get(leaf)
    if f is None or dataclasses.is_dataclass(getattr(node, leaf)):
        raise ConfigError(f"{key}: no such numeric key in the configuration; allowed: a key of sim-run")
    value = getattr(node, leaf)
    lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
    if isinstance(value, bool) or not isinstance(value, int | float) or lo is None or hi is None:
        raise ConfigError(f"{key}: not a number with an allowed range; allowed: a numeric key of sim-run")
    return float(lo), float(hi)


def _range(where: str, key: str, spec: Any, base: Config) -> tuple[float, float]:
    lo, hi = key_range(key, base)
    if spec is None:
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ConfigError(f"{where}.{key}: its allowed range is unbounded; allowed: a [low, high] range")
        return lo, hi
    if not isinstance(spec, list | tuple) or len(spec) != 2:
        raise ConfigError(f"{where}.{key}={spec!r}: not a range; allowed: [low, high] or null")
    a, b = spec
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in (a, b)) or not a <= b:
        raise ConfigError(f"{where}.{key}={list(spec)}: not a range; allowed: [low, high] with low ≤ high")
    if a < lo or b > hi:
        raise ConfigError(
            f"{where}.{key}={list(spec)} is outside the key's allowed range; allowed: within [{lo:g}, {hi:g}]"
        )
    return float(a), float(b)


def _decision(key: str, spec: Any, base: Config) -> Decision:
    if not key.startswith("levers.") or key.split(".")[1] not in LEVERS:
        raise ConfigError(f"xlrm.levers.{key}: not a lever parameter; allowed: levers.<name>.<parameter>")
    lo, hi = _range("xlrm.levers", key, spec, base)
    return Decision(key, lo, hi)


def _uncertainty(key: str, spec: Any, base: Config) -> Uncertainty:
    lo, hi = _range("xlrm.uncertainties.parameters", key, spec, base)
    return Uncertainty(key, lo, hi)


def _group(group: str, options: Any) -> tuple[str, ...]:
    allowed = group_options(group)
    if not allowed:
        raise ConfigError(
            f"xlrm.uncertainties.groups.{group}: not a config group; "
            "allowed: community, community/type, scenario"
        )
    if not isinstance(options, list | tuple) or not options:
        raise ConfigError(f"xlrm.uncertainties.groups.{group}={options!r}; allowed: a list of options")
    for option in options:
        if str(option) not in allowed:
            raise ConfigError(
                f"xlrm.uncertainties.groups.{group}: {option} is not a known {group}; "
                f"allowed: {', '.join(allowed)}"
            )
    return tuple(str(o) for o in options)


def outcome_metrics() -> list[str]:
    """Every name an outcome may read: the metrics, their gains, and ``cost``."""
    return [*METRICS, *(f"{m}{GAIN_SUFFIX}" for m in METRICS)]


def _outcome(name: str, spec: Any) -> Outcome:
    if not isinstance(spec, dict):
        raise ConfigError(f"xlrm.outcomes.{name}={spec!r}; allowed: {{metric: , direction: max|min}}")
    metric = str(spec.get("metric", name))
    if metric not in outcome_metrics():
        raise ConfigError(
            f"xlrm.outcomes.{name}: metric={metric} is not a metric; allowed: a metric of "
            "sim/core/metrics.py (e.g. satisfaction, trust, unmet_need, satisfaction_gini, "
            "conflicts_open, cost) or <metric>_gain"
        )
    direction = str(spec.get("direction", "max"))
    if direction not in ("max", "min"):
        raise ConfigError(f"xlrm.outcomes.{name}.direction={direction}; allowed: max or min")
    threshold = spec.get("threshold")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int | float)):
        raise ConfigError(f"xlrm.outcomes.{name}.threshold={threshold!r}; allowed: a number or null")
    return Outcome(
        name,
        metric,
        direction,
        bool(spec.get("objective", True)),
        None if threshold is None else float(threshold),
    )


def read_posterior(path: str | Path, base: Config, decisions: set[str] = frozenset()) -> pd.DataFrame:
    """A calibrated posterior: one column per config key plus ``weight`` (checked, weights normalised)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"posterior={path}: no such file; allowed: a posterior.parquet written by sim-calibrate"
        )
    try:
        table = pd.read_parquet(path)
    except Exception as exc:  # a file that is not Parquet
        raise ConfigError(f"posterior={path}: not a Parquet table ({type(exc).__name__})") from None
    if "weight" not in table.columns or len(table) == 0:
        raise ConfigError(
            f"posterior={path}: no weight column or no rows; allowed: config-key columns and weight"
        )
    weight = table["weight"].to_numpy(dtype=float)
    if not np.all(np.isfinite(weight)) or np.any(weight < 0) or weight.sum() <= 0:
        raise ConfigError(f"posterior={path}: weight must be finite, ≥ 0 and not all 0")
    for key in (c for c in table.columns if c != "weight"):
        if key in decisions:
            raise ConfigError(f"posterior={path}: {key} is a lever of the frame; allowed: behavioural keys")
        lo, hi = key_range(key, base)
        values = table[key].to_numpy(dtype=float)
        if np.any(values < lo) or np.any(values > hi) or not np.all(np.isfinite(values)):
            raise ConfigError(
                f"posterior={path}: {key} has values outside its allowed range; "
                f"allowed: within [{lo:g}, {hi:g}]"
            )
    out = table.reset_index(drop=True).copy()
    out["weight"] = weight / weight.sum()
    return out


# ----------------------------------------------------------------------- drawing uncertainties
def sample_draws(frame: Frame, draws: int, seed: int) -> pd.DataFrame:
    """``draws`` uncertainty draws: one row each with ``draw``, ``seed``, group options and values.

    Group options are balanced (draw d takes option d mod n); parameters with a range are a
    Latin hypercube; posterior keys are rows of the posterior drawn by weight. The same
    ``seed`` gives the same draws.
    """
    if draws < 1:
        raise ConfigError(f"draws={draws}; allowed: an integer ≥ 1")
    root = np.random.SeedSequence(seed)
    structure, lhs_seed, post_seed = root.spawn(3)
    table: dict[str, Any] = {"draw": np.arange(draws, dtype=np.int64)}
    if frame.structure_seed:
        table["seed"] = [
            int(s.generate_state(1, np.uint64)[0] >> np.uint64(1)) for s in structure.spawn(draws)
        ]
    else:
        table["seed"] = [int(seed)] * draws
    for group, options in frame.groups.items():
        table[group] = [options[d % len(options)] for d in range(draws)]
    if frame.uncertainties:
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(frame.uncertainties), seed=np.random.default_rng(lhs_seed)).random(
            draws
        )
        for j, u in enumerate(frame.uncertainties):
            table[u.key] = u.lo + unit[:, j] * (u.hi - u.lo)
    if frame.posterior is not None:
        rng = np.random.default_rng(post_seed)
        rows = rng.choice(len(frame.posterior), size=draws, p=frame.posterior["weight"].to_numpy())
        for key in (c for c in frame.posterior.columns if c != "weight"):
            table[key] = frame.posterior[key].to_numpy(dtype=float)[rows]
    return pd.DataFrame(table)


def check_overrides(frame: Frame, overrides: Sequence[str]) -> None:
    """Refuse a command-line override of something the frame varies (it would be overwritten)."""
    varied = {*frame.groups, *frame.uncertainty_keys, *frame.decision_keys}
    for item in overrides:
        key = item.lstrip("+~").partition("=")[0]
        if key in varied:
            raise ConfigError(
                f"{item}: {key} is a lever or an uncertainty of xlrm={frame.name}; "
                "allowed: leave it out, or use a frame that does not vary it"
            )


def draw_configs(frame: Frame, table: pd.DataFrame, overrides: Sequence[str] = ()) -> list[Config]:
    """One validated config per draw: ``overrides``, the draw's group options, seed and values.

    Each distinct combination of group options is composed once (through
    :func:`~sim.experiment.compose.compose_config`); the numeric values are then set on the
    dataclasses. Every draw runs one replicate with no baseline or building records: the
    optimiser pairs policies with its own baseline per draw.
    """
    check_overrides(frame, overrides)
    composed: dict[tuple[str, ...], Config] = {}
    out = []
    numeric = frame.uncertainty_keys
    for values in table.to_dict("records"):
        choice = tuple(f"{g}={values[g]}" for g in frame.groups)
        if choice not in composed:
            composed[choice] = compose_config([*overrides, *choice])
        point: dict[str, Any] = {key: float(values[key]) for key in numeric}
        point.update(
            seed=int(values["seed"]), replicates=1, record_buildings=False, baseline_comparison=False
        )
        out.append(point_config(composed[choice], point))
    return out
