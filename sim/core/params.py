"""Declaring parameters: a default, an allowed range and a one-line meaning in one place.

Kept apart from :mod:`sim.core.config` so that the lever modules can declare their own configs
without importing the whole configuration tree.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any


class ConfigError(ValueError):
    """A configuration value is not allowed. The message names the key, value and allowed range."""


def param(
    default: Any,
    lo: float | None = None,
    hi: float | None = None,
    doc: str = "",
    *,
    length: int | None = None,
    per: str | None = None,
) -> Any:
    """A dataclass field with its allowed range [lo, hi] and meaning kept in the metadata.

    List defaults are copied per instance. ``length`` fixes how many values a list holds.
    """
    metadata = {"lo": lo, "hi": hi, "doc": doc}
    if isinstance(default, list):
        metadata["length"] = len(default) if length is None else length
        metadata["per"] = per or "value"
        return field(default_factory=lambda: copy.copy(default), metadata=metadata)
    return field(default=default, metadata=metadata)


def lever_cost(default: float) -> Any:
    """A lever's ``cost_per_unit``: each lever declares its own default, all share range and meaning."""
    return param(default, 0.0, 1e6, "budget units per 1,000 households per week at intensity 1")


@dataclass
class LeverConfig:
    """What every lever has: how strongly it is applied, when, and what it costs."""

    intensity: float = param(0.0, 0.0, 1.0, "how strongly the lever is applied (0 = not at all)")
    start_week: int = param(0, 0, 100_000, "first week the lever acts")
    duration_weeks: int = param(0, 0, 100_000, "weeks the lever acts; 0 = to the end of the run")
    cost_per_unit: float = lever_cost(1.0)

    def check(self, prefix: str) -> None:
        """Cross-field rules of this lever; ranges are checked generically."""

    def active(self, week: int) -> bool:
        """Whether the lever acts in ``week`` (its time window, whatever its intensity)."""
        if week < self.start_week:
            return False
        return self.duration_weeks == 0 or week < self.start_week + self.duration_weeks


def describe(config_type: type) -> list[dict[str, Any]]:
    """The documented parameters of a config dataclass: name, default, range and meaning."""
    rows = []
    for f in dataclasses.fields(config_type):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[operator]
        rows.append(
            {
                "name": f.name,
                "default": default,
                "lo": f.metadata.get("lo"),
                "hi": f.metadata.get("hi"),
                "doc": f.metadata.get("doc", ""),
            }
        )
    return rows


def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted keys → scalar values of a config tree (lists become key[i])."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            out.update(flatten(value, key + "."))
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                out[f"{key}[{i}]"] = item
        else:
            out[key] = value
    return out
