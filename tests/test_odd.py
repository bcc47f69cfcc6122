"""docs/ODD.md tables every parameter of the model with its default and a source or an assumption.

The standard is that every rate of the model has a source or a stated assumption in the ODD;
this holds the document to the code, so a parameter added, renamed or given a new default
without its row fails here. A parameter's meaning is written once, in its declaration
(``param(default, lo, hi, meaning)``); its row carries the same words.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from sim.core.config import Config

ODD = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"
#: the config trees whose parameters are rates or settings of the model
ROOTS = ("community", "dynamics", "members", "trust", "levers")
_PREFIX = re.compile(r"`([a-z_.]+)\.\*`")


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return text.replace("-", "−")


def _parameters(obj: Any, prefix: str) -> dict[str, tuple[Any, Any, Any, str]]:
    """Dotted key → (default, lo, hi, meaning) of every parameter below ``obj``."""
    out: dict[str, tuple[Any, Any, Any, str]] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            out.update(_parameters(value, f"{prefix}{f.name}."))
        else:
            meta = f.metadata
            out[f"{prefix}{f.name}"] = (value, meta.get("lo"), meta.get("hi"), meta.get("doc", ""))
    return out


def _range(cell: str) -> tuple[float, float] | None:
    """``[0, 10⁶]`` or ``[−1, 1] each`` as numbers; None for a cell that is not a numeric range."""
    found = re.fullmatch(r"\[(.+), (.+)\]( each)?", cell)
    if not found:
        return None
    words = {"−": "-", "10⁶": "1e6", "2⁶³ - 1": str(2**63 - 1), " ": ""}

    def number(text: str) -> float:
        for word, plain in words.items():
            text = text.replace(word, plain)
        return float(text)

    return number(found.group(1)), number(found.group(2))


def odd_rows() -> dict[str, list[tuple[str, str, str, str]]]:
    """Full key → its rows' (default, range, meaning, source) cells, in every table with a "source or
    assumption" column. A key can have two rows: its lever's table and its mechanism's (§7.12–§7.19).

    A row's key is read relative to the last ``prefix.*`` named in the lines above the table, unless
    it is written in full from a root of the config.
    """
    lines = ODD.read_text(encoding="utf-8").splitlines()
    rows: dict[str, list[tuple[str, str, str, str]]] = {}
    for i, line in enumerate(lines):
        if not (line.startswith("| parameter |") and line.rstrip().endswith("| source or assumption |")):
            continue
        prefixes = [m for above in lines[max(0, i - 12) : i] for m in _PREFIX.findall(above)]
        if not prefixes:  # §7.9.0: what every lever shares, tabled again under each lever
            continue
        prefix = prefixes[-1]
        for row in lines[i + 2 :]:
            if not row.startswith("|"):
                break
            cells = [c.strip() for c in row.strip().strip("|").split("|")]
            key = cells[0].split("`")[1]
            full = key if key.split(".")[0] in ROOTS else f"{prefix}.{key}"
            rows.setdefault(full, []).append((cells[1], cells[2], cells[3], cells[-1]))
    return rows


def test_every_parameter_has_a_row_with_its_default_range_meaning_and_a_source_or_assumption() -> None:
    rows = odd_rows()
    cfg = Config()
    missing, wrong, unsourced = [], [], []
    for root in ROOTS:
        for key, (default, lo, hi, meaning) in _parameters(getattr(cfg, root), f"{root}.").items():
            if key not in rows:
                missing.append(key)
                continue
            for shown, span, said, source in rows[key]:
                if shown != _shown(default):
                    wrong.append(f"{key}: default {shown} in the ODD, {_shown(default)} in the code")
                if lo is not None and _range(span) != (float(lo), float(hi)):
                    wrong.append(f"{key}: range {span} in the ODD, [{lo}, {hi}] in the code")
                if not meaning or said != meaning:
                    wrong.append(f"{key}: meaning {said!r} in the ODD, {meaning!r} in the code")
                if not source.strip(" –-"):
                    unsourced.append(key)
    assert not missing, f"no row in docs/ODD.md: {missing}"
    assert not wrong, f"docs/ODD.md differs from the code: {wrong}"
    assert not unsourced, f"no source or assumption: {unsourced}"


def test_the_rows_name_parameters_that_exist() -> None:
    known = _parameters(Config(), "")
    stale = [key for key in odd_rows() if key not in known]
    assert not stale, f"docs/ODD.md tables parameters the code does not have: {stale}"
