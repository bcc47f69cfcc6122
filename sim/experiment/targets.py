"""The specification of a calibration: the *targets file* read and checked.

A targets file (YAML, see ``sim/configs/targets/`` and ``docs/calibration.md``) names

- ``parameters:`` config keys to calibrate, each with a uniform prior on the key's documented
  ``param`` range, or on ``{lo: , hi: }`` inside it;
- ``targets:`` observed figures, each a model metric (:data:`sim.core.metrics.METRICS`), a
  statistic of its weekly series (``final`` by default: the final-week community mean), a
  ``value`` and its uncertainty ``sd``, with the definition, population, year, citation and
  confidence of the figure;
- ``plausibility:`` (optional) ranges ``{lo: , hi: }`` the model should fall in, checked on the
  posterior predictive, never fitted.

:func:`load_spec` reads one into a :class:`Spec`; every mistake is one line naming the entry,
the value and what is allowed. :mod:`sim.experiment.calibrate` runs the calibration.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.core.config import Config, ConfigError
from sim.core.metrics import METRICS

CONFIDENCE = ("high", "medium", "low")
#: descriptive fields a target or plausibility entry may carry (kept in the outputs, not used)
DESCRIPTIVE = ("definition", "question", "population", "year", "citation", "url", "confidence", "mapping")
TARGET_FIELDS = ("metric", "statistic", "value", "sd", *DESCRIPTIVE)
RANGE_FIELDS = ("metric", "statistic", "lo", "hi", *DESCRIPTIVE)
PRIOR_FIELDS = ("lo", "hi")
_STATISTIC = re.compile(r"^(final|mean|min|max|(?:mean|sum)_last_(\d+))$")
STATISTICS_HELP = "final, mean, min, max, mean_last_N or sum_last_N (N weeks)"


# ------------------------------------------------------------------------------ the specification
@dataclass(frozen=True)
class Prior:
    """A uniform prior on one config key (``dynamics.trust_up``, ``dynamics.need_weights[2]``)."""

    key: str
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass(frozen=True)
class MetricStatistic:
    """A named statistic (:data:`STATISTICS_HELP`) of a model metric's weekly series."""

    name: str
    metric: str
    statistic: str


@dataclass(frozen=True)
class Target(MetricStatistic):
    """An observed figure: a statistic of a model metric, its value and its uncertainty (sd)."""

    value: float
    sd: float
    info: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Plausible(MetricStatistic):
    """A range a statistic of a model metric should fall in; checked, never fitted."""

    low: float
    high: float
    info: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Spec:
    """What to calibrate (priors), against what (targets), and what to check (plausibility)."""

    priors: tuple[Prior, ...]
    targets: tuple[Target, ...]
    plausibility: tuple[Plausible, ...] = ()
    source: str = ""

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.priors]

    def observed(self) -> dict[str, float]:
        return {t.name: t.value for t in self.targets}

    def fingerprint(self) -> dict[str, Any]:
        """What must not change for a history to be resumed: priors and targets (values, sd)."""
        return {
            "priors": [[p.key, p.low, p.high] for p in self.priors],
            "targets": [[t.name, t.metric, t.statistic, t.value, t.sd] for t in self.targets],
        }


_KEY_PART = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$")


def resolve_key(cfg: Config, key: str) -> tuple[Any, str, int | None, dataclasses.Field]:
    """The object, attribute, list index and dataclass field a dotted config key names.

    Raises ConfigError (one line) for a key the configuration does not declare.
    """
    node: Any = cfg
    parts = key.split(".")
    for depth, part in enumerate(parts):
        match = _KEY_PART.match(part)
        fields = {f.name: f for f in dataclasses.fields(node)} if dataclasses.is_dataclass(node) else {}
        if match is None or match.group(1) not in fields:
            where = ".".join(parts[:depth]) or "the top level"
            allowed = ", ".join(sorted(fields)) or "none (not a config section)"
            raise ConfigError(f"parameters: {key} is not a config key; allowed at {where}: {allowed}")
        name, index = match.group(1), match.group(2)
        value = getattr(node, name)
        if depth < len(parts) - 1:
            if index is not None or not dataclasses.is_dataclass(value):
                raise ConfigError(f"parameters: {key} is not a config key ({part} is not a section)")
            node = value
            continue
        f = fields[name]
        if dataclasses.is_dataclass(value):
            raise ConfigError(f"parameters: {key} is a section, not a parameter; name one of its keys")
        if isinstance(value, list):
            if index is None or int(index) >= len(value):
                raise ConfigError(
                    f"parameters: {key} holds {len(value)} values; "
                    f"allowed: {name}[0] to {name}[{len(value) - 1}]"
                )
            element = value[int(index)]
        elif index is not None:
            raise ConfigError(f"parameters: {key} is not a list; allowed: {name}")
        else:
            element = value
        if isinstance(element, bool) or not isinstance(element, float):
            kind = type(element).__name__
            raise ConfigError(
                f"parameters: {key}={element!r} is not real-valued ({kind}); allowed: real-valued parameters"
            )
        return node, name, None if index is None else int(index), f
    raise ConfigError(f"parameters: {key!r} is not a config key")  # empty key


def key_range(cfg: Config, key: str) -> tuple[float, float]:
    """The documented range of a config key (its ``param`` lo and hi; ±inf where open)."""
    _, _, _, f = resolve_key(cfg, key)
    lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
    return (-math.inf if lo is None else float(lo), math.inf if hi is None else float(hi))


def _number(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where}={value!r} is not a finite number; allowed: a finite number")
    return float(value)


def _check_fields(where: str, entry: Any, allowed: Sequence[str]) -> dict[str, Any]:
    if entry is None:
        entry = {}
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: {entry!r} is not a mapping; allowed: a mapping of {', '.join(allowed)}")
    unknown = sorted(set(entry) - set(allowed))
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: not a known field; allowed: {', '.join(allowed)}")
    return entry


def _metric_and_statistic(where: str, name: str, entry: dict[str, Any], steps: int) -> tuple[str, str]:
    metric = str(entry.get("metric", name))
    if metric not in METRICS:
        raise ConfigError(f"{where}: metric {metric!r} is not a model metric; allowed: {', '.join(METRICS)}")
    statistic = str(entry.get("statistic", "final"))
    match = _STATISTIC.match(statistic)
    if match is None or (match.group(2) is not None and int(match.group(2)) < 1):
        raise ConfigError(f"{where}.statistic={statistic!r} is not known; allowed: {STATISTICS_HELP}")
    if match.group(2) is not None and int(match.group(2)) > steps:
        raise ConfigError(
            f"{where}.statistic={statistic} needs {match.group(2)} weeks; allowed: a window of at most "
            f"steps={steps} weeks (or run more steps)"
        )
    confidence = entry.get("confidence")
    if confidence is not None and confidence not in CONFIDENCE:
        raise ConfigError(f"{where}.confidence={confidence!r} is not known; allowed: {', '.join(CONFIDENCE)}")
    return metric, statistic


def parse_spec(data: Any, cfg: Config, params: Sequence[str] | None = None, source: str = "") -> Spec:
    """Check a targets file's content against ``cfg`` and return its :class:`Spec`.

    ``params`` (``key`` or ``key:lo:hi``) replaces the file's ``parameters:`` (keeping the file's
    bounds for a key named without them). Every problem raises ConfigError with one line
    naming the entry, the value and what is allowed.
    """
    data = _check_fields("targets file", data, ("parameters", "targets", "plausibility", "description"))
    file_priors = data.get("parameters") or {}
    if not isinstance(file_priors, dict):
        raise ConfigError(f"parameters: {file_priors!r} is not a mapping; allowed: key: {{lo: , hi: }}")
    if params:
        chosen: dict[str, Any] = {}
        for item in params:
            key, *bounds = item.split(":")
            if bounds and len(bounds) != 2:
                raise ConfigError(f"params: {item!r} is not key or key:lo:hi; allowed: key or key:lo:hi")
            entry = dict(file_priors.get(key) or {})
            if bounds:
                try:
                    entry = {"lo": float(bounds[0]), "hi": float(bounds[1])}
                except ValueError:
                    raise ConfigError(f"params: {item!r} has bounds that are not numbers") from None
            chosen[key] = entry
        file_priors = chosen
    if not file_priors:
        raise ConfigError("parameters: none given; allowed: at least one config key (or params=KEY,...)")
    priors = []
    for key, entry in file_priors.items():
        entry = _check_fields(f"parameters.{key}", entry, PRIOR_FIELDS)
        lo_doc, hi_doc = key_range(cfg, str(key))
        lo = _number(f"parameters.{key}.lo", entry["lo"]) if "lo" in entry else lo_doc
        hi = _number(f"parameters.{key}.hi", entry["hi"]) if "hi" in entry else hi_doc
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ConfigError(
                f"parameters.{key}: the documented range [{lo_doc:g}, {hi_doc:g}] is open; "
                "allowed: give finite lo and hi"
            )
        if lo < lo_doc or hi > hi_doc:
            raise ConfigError(
                f"parameters.{key}: bounds [{lo:g}, {hi:g}] leave the key's range; "
                f"allowed: within [{lo_doc:g}, {hi_doc:g}]"
            )
        if not lo < hi:
            raise ConfigError(f"parameters.{key}: lo={lo:g} is not below hi={hi:g}; allowed: lo < hi")
        priors.append(Prior(str(key), lo, hi))

    raw_targets = data.get("targets") or {}
    if not isinstance(raw_targets, dict) or not raw_targets:
        raise ConfigError("targets: none given; allowed: a mapping of name: {value: , sd: }")
    targets = []
    for name, entry in raw_targets.items():
        where = f"targets.{name}"
        entry = _check_fields(where, entry, TARGET_FIELDS)
        metric, statistic = _metric_and_statistic(where, str(name), entry, cfg.steps)
        for needed in ("value", "sd"):
            if needed not in entry:
                raise ConfigError(f"{where}: no {needed}; allowed: a target needs value and sd")
        value = _number(f"{where}.value", entry["value"])
        sd = _number(f"{where}.sd", entry["sd"])
        if sd <= 0:
            raise ConfigError(f"{where}.sd={sd:g} is not positive; allowed: a number > 0")
        if entry.get("confidence") == "low":
            raise ConfigError(
                f"{where}: confidence low; allowed: high or medium (a low-confidence figure belongs "
                "under plausibility:, as a range)"
            )
        info = {k: entry[k] for k in DESCRIPTIVE if k in entry}
        targets.append(Target(str(name), metric, statistic, value, sd, info))

    raw_ranges = data.get("plausibility") or {}
    if not isinstance(raw_ranges, dict):
        raise ConfigError(f"plausibility: {raw_ranges!r} is not a mapping; allowed: name: {{lo: , hi: }}")
    ranges = []
    for name, entry in raw_ranges.items():
        where = f"plausibility.{name}"
        entry = _check_fields(where, entry, RANGE_FIELDS)
        metric, statistic = _metric_and_statistic(where, str(name), entry, cfg.steps)
        lo = _number(f"{where}.lo", entry.get("lo", -math.inf)) if "lo" in entry else -math.inf
        hi = _number(f"{where}.hi", entry.get("hi", math.inf)) if "hi" in entry else math.inf
        if not lo < hi:
            raise ConfigError(f"{where}: lo={lo:g} is not below hi={hi:g}; allowed: lo < hi")
        info = {k: entry[k] for k in DESCRIPTIVE if k in entry}
        ranges.append(Plausible(str(name), metric, statistic, lo, hi, info))
    return Spec(tuple(priors), tuple(targets), tuple(ranges), source)


def load_spec(path: str | Path, cfg: Config, params: Sequence[str] | None = None) -> Spec:
    """Read and check a targets file (raises ConfigError with one line naming the entry)."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"targets={path}: cannot be read ({exc.strerror}); allowed: a YAML file") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0]
        raise ConfigError(f"targets={path}: not valid YAML ({first})") from None
    return parse_spec(data, cfg, params, source=str(path))
