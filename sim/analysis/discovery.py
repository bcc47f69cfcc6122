"""Scenario discovery: under which conditions does something happen (PRIM boxes, a CART tree)?

Given a table with one row per case (a sweep's points × replicates, or an optimisation's
policies × uncertainty draws), a condition on an outcome ("satisfaction_gain < 0.02", "trust
falls") and the input columns that may explain it, this module finds

- **PRIM boxes** (Friedman & Fisher 1999, as implemented in ema-workbench's
  ``ema_workbench.analysis.prim``): ranges of a few inputs inside which the condition holds
  for a large share of cases (*density*) and which hold a large share of all the cases where
  it holds (*coverage*). PRIM peels the box step by step; the whole peeling trajectory (the
  coverage/density trade-off) is kept, and the box chosen is the one with the highest
  coverage whose density reaches ``min_density`` (the densest one if none does). Later boxes
  are searched among the cases the earlier ones left out.
  A sweep's table is first reduced to one row per case (:func:`case_table`: the mean over
  the last quarter of the weeks).
- **A CART tree** (scikit-learn's ``DecisionTreeClassifier``) as a second view: each leaf where
  the condition is the majority is a rule with its own coverage and density.

Both are reported in plain words ("when member activity ≤ 0.2 and threshold mean ≥ 0.7,
satisfaction_gain < 0.02: coverage 81%, density 74%"), in English or Chinese. Coverage and
density are shares of this table's cases (not estimates for a population of communities).
"""

from __future__ import annotations

import logging
import math
import operator
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_WORDS = {"falls": ("<", 0.0), "rises": (">", 0.0)}
_CONDITION = re.compile(r"^\s*([A-Za-z_][\w.\[\]]*)\s*(<=|>=|<|>)\s*([-+0-9.eE]+|inf|-inf)\s*$")
_WORDED = re.compile(r"^\s*([A-Za-z_][\w.\[\]]*)\s+(falls|rises)\s*$")


class DiscoveryError(ValueError):
    """A condition or an input that scenario discovery cannot use (one line, names it)."""


@dataclass(frozen=True)
class Condition:
    """``column op value``: which cases are of interest."""

    column: str
    op: str
    value: float
    text: str

    def holds(self, table: pd.DataFrame) -> np.ndarray:
        """The cases of ``table`` where the condition holds (NaN never does)."""
        values = table[self.column].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            return np.asarray(_OPS[self.op](values, self.value)) & np.isfinite(values)


def parse_condition(text: str, columns: list[str] | None = None) -> Condition:
    """``"satisfaction_gain < 0.02"``, ``"trust falls"`` (= ``trust_gain < 0``) → a Condition.

    "X falls" and "X rises" read the gain over the paired baseline, ``X_gain``, when the table
    has one, else X itself. Raises DiscoveryError naming the condition and what is allowed.
    """
    match = _CONDITION.match(text)
    if match:
        column, op, value = match.group(1), match.group(2), float(match.group(3))
    else:
        worded = _WORDED.match(text)
        if not worded:
            raise DiscoveryError(
                f"condition={text!r}; allowed: 'COLUMN < VALUE' (<, <=, >, >=) or 'COLUMN falls|rises'"
            )
        column, (op, value) = worded.group(1), _WORDS[worded.group(2)]
        if columns is not None and f"{column}_gain" in columns:
            column = f"{column}_gain"
    if columns is not None and column not in columns:
        near = ", ".join(c for c in columns if c.endswith("_gain")) or ", ".join(columns[:10])
        raise DiscoveryError(f"condition={text!r}: no column {column}; allowed e.g.: {near}")
    return Condition(column, op, value, text.strip())


@dataclass
class Box:
    """One PRIM box: the restricted inputs' limits and how well the box explains the condition."""

    limits: dict[str, Any]  # input -> (low, high) for numbers, sorted list of options for categories
    coverage: float
    density: float
    mass: float
    cases: int
    trajectory: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)


@dataclass
class Rule:
    """One CART leaf where the condition is the majority: its path and how well it explains it."""

    conditions: list[str]
    coverage: float
    density: float
    cases: int


@dataclass
class Discovery:
    """What :func:`discover` found for a condition on a table."""

    condition: Condition
    inputs: list[str]
    cases: int
    of_interest: int
    boxes: list[Box]
    rules: list[Rule]

    def words(self, lang: str = "en") -> list[str]:
        """Every box and rule in plain words."""
        lines = [describe_box(b, self.condition, lang) for b in self.boxes]
        lines += [describe_rule(r, self.condition, lang) for r in self.rules]
        return lines

    def record(self) -> dict[str, Any]:
        """A JSON-ready record (boxes, rules, shares and their plain-word descriptions)."""
        return {
            "condition": self.condition.text,
            "column": self.condition.column,
            "inputs": self.inputs,
            "cases": self.cases,
            "of_interest": self.of_interest,
            "boxes": [
                {
                    "limits": {k: list(v) for k, v in b.limits.items()},
                    "coverage": b.coverage,
                    "density": b.density,
                    "mass": b.mass,
                    "cases": b.cases,
                    "en": describe_box(b, self.condition, "en"),
                    "zh": describe_box(b, self.condition, "zh"),
                }
                for b in self.boxes
            ],
            "cart": [
                {
                    "conditions": r.conditions,
                    "coverage": r.coverage,
                    "density": r.density,
                    "cases": r.cases,
                    "en": describe_rule(r, self.condition, "en"),
                    "zh": describe_rule(r, self.condition, "zh"),
                }
                for r in self.rules
            ],
        }


def _inputs_frame(table: pd.DataFrame, inputs: list[str]) -> pd.DataFrame:
    """The inputs as PRIM wants them: floats, and text or categories as categories."""
    x = pd.DataFrame(index=range(len(table)))
    for column in inputs:
        values = table[column].reset_index(drop=True)
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            x[column] = values.astype(str).astype("category")
        else:
            x[column] = values.astype(np.float64)
    return x


def prim_boxes(
    x: pd.DataFrame,
    y: np.ndarray,
    min_density: float = 0.8,
    max_boxes: int = 2,
    mass_min: float = 0.05,
    peel_alpha: float = 0.05,
) -> list[Box]:
    """PRIM boxes of the cases ``y`` (bool) in inputs ``x`` (ema-workbench's implementation).

    Input columns are renamed for the library (it drops a column called ``scenario``) and
    named back in the result. A box must restrict at least one input and hold some cases of
    interest at a density above the whole table's share of them; the search stops at
    ``max_boxes`` or when no such box is left.
    """
    y = np.asarray(y, dtype=bool)
    names = {f"x{i}": c for i, c in enumerate(x.columns)}
    safe = x.rename(columns={c: k for k, c in names.items()})
    total = int(y.sum())
    if total == 0 or total == len(y):
        return []
    logging.getLogger("EMA").setLevel(logging.WARNING)
    logging.getLogger("ema_workbench").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the library warns at import about optional parts it lacks
        from ema_workbench.analysis import prim

        search = prim.Prim(safe, y, peel_alpha=peel_alpha, mass_min=mass_min)
        initial = search.box_init
        boxes = []
        for _ in range(max_boxes):
            box = search.find_box()
            if box is None:
                break
            trajectory = box.peeling_trajectory.copy()
            good = trajectory.index[trajectory["density"] >= min_density]
            pick = (
                int(trajectory.loc[good, "coverage"].idxmax())
                if len(good)
                else int(trajectory["density"].idxmax())
            )
            box.select(pick)
            limits = _limits(box.box_lims[pick], initial, names)
            stats = trajectory.loc[pick]
            if not limits or stats["coverage"] <= 0 or stats["density"] <= total / len(y):
                break  # a box no denser than the whole table explains nothing
            boxes.append(
                Box(
                    limits=limits,
                    coverage=float(stats["coverage"]),
                    density=float(stats["density"]),
                    mass=float(stats["mass"]),
                    cases=int(stats["n"]),
                    trajectory=trajectory[["coverage", "density", "mass", "res_dim"]].reset_index(drop=True),
                )
            )
    return boxes


def _limits(lims: pd.DataFrame, initial: pd.DataFrame, names: dict[str, str]) -> dict[str, Any]:
    """The inputs a box restricts: (low, high) or the options kept, by original name."""
    out: dict[str, Any] = {}
    for column in lims.columns:
        low, high = lims[column].iloc[0], lims[column].iloc[1]
        if isinstance(low, set):
            if low != initial[column].iloc[0]:
                out[names[column]] = sorted(str(v) for v in low)
        elif low != initial[column].iloc[0] or high != initial[column].iloc[1]:
            out[names[column]] = (
                float(low) if low != initial[column].iloc[0] else -math.inf,
                float(high) if high != initial[column].iloc[1] else math.inf,
            )
    return out


def cart_rules(x: pd.DataFrame, y: np.ndarray, max_depth: int = 3, min_leaf: float = 0.05) -> list[Rule]:
    """The leaves of a CART tree (scikit-learn) where the condition is the majority, as rules."""
    from sklearn.tree import DecisionTreeClassifier

    y = np.asarray(y, dtype=bool)
    total = int(y.sum())
    if total == 0 or total == len(y):
        return []
    encoded = pd.get_dummies(x, prefix_sep="=", dtype=float)
    tree = DecisionTreeClassifier(
        max_depth=max_depth, min_samples_leaf=max(1, int(min_leaf * len(y))), random_state=0
    ).fit(encoded.to_numpy(), y)
    t = tree.tree_
    columns = list(encoded.columns)
    rules = []

    def walk(node: int, path: list[str]) -> None:
        if t.children_left[node] == -1:
            counts = t.value[node][0] * t.n_node_samples[node]  # class shares × samples
            n = int(t.n_node_samples[node])
            hits = float(counts[list(tree.classes_).index(True)]) if True in tree.classes_ else 0.0
            if hits / n > 0.5:
                rules.append(Rule(list(path), coverage=hits / total, density=hits / n, cases=n))
            return
        name, threshold = columns[t.feature[node]], float(t.threshold[node])
        left, right = _split_words(name, threshold)
        walk(int(t.children_left[node]), [*path, left])
        walk(int(t.children_right[node]), [*path, right])

    walk(0, [])
    return sorted(rules, key=lambda r: -r.coverage)


def _split_words(name: str, threshold: float) -> tuple[str, str]:
    if "=" in name:  # a one-hot column of a category
        column, option = name.split("=", 1)
        return f"{column} is not {option}", f"{column} is {option}"
    return f"{name} ≤ {threshold:.3g}", f"{name} > {threshold:.3g}"


def discover(
    table: pd.DataFrame,
    condition: str | Condition,
    inputs: list[str],
    min_density: float = 0.8,
    max_boxes: int = 2,
    max_depth: int = 3,
    mass_min: float = 0.05,
) -> Discovery:
    """PRIM boxes and CART rules of ``condition`` over ``inputs`` in ``table`` (one row per case)."""
    cond = parse_condition(condition, list(table.columns)) if isinstance(condition, str) else condition
    missing = [c for c in inputs if c not in table.columns]
    if missing:
        raise DiscoveryError(
            f"inputs: no column {missing[0]}; allowed: {', '.join(map(str, table.columns[:20]))}"
        )
    if not inputs:
        raise DiscoveryError(
            "inputs: none vary in this table; allowed: at least one input column that varies"
        )
    y = cond.holds(table)
    x = _inputs_frame(table, inputs)
    return Discovery(
        condition=cond,
        inputs=list(inputs),
        cases=len(table),
        of_interest=int(y.sum()),
        boxes=prim_boxes(x, y, min_density, max_boxes, mass_min),
        rules=cart_rules(x, y, max_depth, mass_min),
    )


def case_table(
    collected: pd.DataFrame, keys: tuple[str, ...] = ("point", "arm", "replicate")
) -> pd.DataFrame:
    """One row per case of a collected sweep: every column's mean over the last quarter of the weeks.

    Non-numeric columns keep their (constant) value within a case.
    """
    if "step" not in collected.columns:
        return collected.reset_index(drop=True)
    by = [k for k in keys if k in collected.columns]
    steps = collected["step"].to_numpy()
    weeks = max(1, round((steps.max() - steps.min() + 1) / 4))
    tail = collected[steps > steps.max() - weeks]
    numeric = [c for c in tail.columns if c not in by and pd.api.types.is_numeric_dtype(tail[c])]
    other = [c for c in tail.columns if c not in by and c not in numeric]
    grouped = tail.groupby(by, sort=True, dropna=False)
    out = grouped[numeric].mean()
    if other:
        out = out.join(grouped[other].first())
    return out.reset_index()


def varying_inputs(table: pd.DataFrame, candidates: list[str]) -> list[str]:
    """The candidate columns that take more than one value in ``table``."""
    return [c for c in candidates if c in table.columns and table[c].nunique(dropna=False) > 1]


# ------------------------------------------------------------------------------- plain words
def _bound(name: str, limit: Any, lang: str) -> str:
    if isinstance(limit, list):
        options = ", ".join(limit)
        return f"{name} ∈ {{{options}}}" if lang == "en" else f"{name} 属于 {{{options}}}"
    low, high = limit
    if math.isinf(low):
        return f"{name} ≤ {high:.3g}"
    if math.isinf(high):
        return f"{name} ≥ {low:.3g}"
    return f"{low:.3g} ≤ {name} ≤ {high:.3g}"


def describe_box(box: Box, condition: Condition, lang: str = "en") -> str:
    """``when X ≤ a and Y ≥ b, CONDITION: coverage 81%, density 74%`` (or in Chinese)."""
    joiner = " and " if lang == "en" else "且"
    where = joiner.join(_bound(k, v, lang) for k, v in box.limits.items())
    if lang == "zh":
        return (
            f"当 {where} 时，{condition.text}：覆盖率 {box.coverage:.0%}，密度 {box.density:.0%}"
            f"（框内 {box.cases} 个案例）"
        )
    return (
        f"when {where}, {condition.text}: coverage {box.coverage:.0%}, density {box.density:.0%} "
        f"({box.cases} cases in the box)"
    )


def describe_rule(rule: Rule, condition: Condition, lang: str = "en") -> str:
    """A CART leaf in plain words, like :func:`describe_box`."""
    joiner = " and " if lang == "en" else "且"
    where = joiner.join(rule.conditions) or ("always" if lang == "en" else "总是")
    if lang == "zh":
        return f"（CART）当 {where} 时，{condition.text}：覆盖率 {rule.coverage:.0%}，密度 {rule.density:.0%}"
    return f"(CART) when {where}, {condition.text}: coverage {rule.coverage:.0%}, density {rule.density:.0%}"
