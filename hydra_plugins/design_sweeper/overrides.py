"""Command-line sweeps under the design sweeper: which the job applies, in what order, as what text.

Hydra's basic sweeper hands each job the command line's overrides with every sweep replaced by
one of its values, in the order they were typed. The design sweeper keeps that contract:

- sweeps the job itself must apply (config-group choices, ``key@package``, and keys added or
  deleted with ``+``, ``++`` or ``~``) become *cells*: every job of a cell carries the choice;
- sweeps over existing values (``a=1,2,3``) become part of each *point*; a job of one point
  (``hydra.sweeper.batch_size=1``) carries the point's values as ordinary overrides too, so its
  ``JobReturn.overrides``, ``.cfg`` and ``hydra.job.override_dirname`` are the point's;
- the job's overrides follow the command line's order (:func:`job_overrides`);
- ``shuffle(...)`` is shuffled with the sweeper's ``seed``, so the same command draws the same
  design and a sweep can be resumed.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
from hydra.core.override_parser.types import (
    ChoiceSweep,
    Override,
    Quote,
    QuotedString,
    RangeSweep,
    Transformer,
)


def applied_by_job(override: Override, groups: set[str]) -> bool:
    """Whether a sweep must be applied when the job's config is composed (not per point)."""
    return (
        override.key_or_group in groups
        or override.package is not None
        or override.is_add()
        or override.is_force_add()
        or override.is_delete()
    )


def sweep_elements(override: Override, seed: int) -> list[Any]:
    """The elements of a discrete sweep in the order they run; a shuffle is seeded, not random."""
    value = override.value()
    if isinstance(value, ChoiceSweep | RangeSweep) and value.shuffle:
        items = list(value.list) if isinstance(value, ChoiceSweep) else list(value.range())
        # one permutation per override, fixed by the design's seed and the override's text
        rng = np.random.default_rng([seed, zlib.crc32((override.input_line or "").encode())])
        return [items[i] for i in rng.permutation(len(items))]
    return list(override.sweep_iterator())


def element_value(element: Any) -> Any:
    """An element of a sweep as the plain value a point records (quotes taken off strings)."""
    if isinstance(element, QuotedString):
        return element.text
    if isinstance(element, list):
        return [element_value(e) for e in element]
    if isinstance(element, dict):
        return {k: element_value(v) for k, v in element.items()}
    return element.item() if isinstance(element, np.generic) else element


def element_text(element: Any) -> str:
    """An element of a sweep as it is written after ``=`` on the command line."""
    return Transformer.str(element)


def value_text(value: Any) -> str:
    """A plain value (from a design or an arm) as Hydra's override grammar reads it back."""
    if isinstance(value, str):
        return QuotedString(text=value, quote=Quote.single).with_quotes()
    if isinstance(value, float) and not np.isfinite(value):
        return "nan" if np.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, list | tuple):
        return "[" + ",".join(value_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{value_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return repr(value) if isinstance(value, float) else str(value)


def job_overrides(
    template: list[dict[str, Any]], cell: list[str], point: dict[str, Any] | None, value_texts: dict[str, Any]
) -> list[str]:
    """One job's overrides in command-line order, then the point's own (a job of one point only).

    Args:
        template: the command line, in order: ``{"fixed": line}``, ``{"cell": axis}`` or
            ``{"value": key}`` (see the sweeper's ``build``).
        cell: the job's cell, one ``key=choice`` per cell axis.
        point: the job's only point, or None for a job of several points (which carries no
            per-point values; its task function applies them from ``design.json``).
        value_texts: for each swept key, ``{"values": [...], "texts": [...]}`` to write a value
            back exactly as it was typed.
    """
    out: list[str] = []
    written: set[str] = set()
    for entry in template:
        if "fixed" in entry:
            out.append(entry["fixed"])
        elif "cell" in entry:
            out.append(cell[entry["cell"]])
        elif point is not None:
            key = entry["value"]
            out.append(f"{key}={_typed_text(key, point['overrides'][key], value_texts)}")
            written.add(key)
    if point is not None:
        out += [f"{k}={value_text(v)}" for k, v in point["overrides"].items() if k not in written]
    return out


def _typed_text(key: str, value: Any, value_texts: dict[str, Any]) -> str:
    axis = value_texts.get(key)
    if axis is not None:
        for candidate, text in zip(axis["values"], axis["texts"], strict=True):
            if candidate == value and type(candidate) is type(value):
                return text
    return value_text(value)
