"""Experimental designs drawn with SALib: Sobol (Saltelli), Morris, Latin hypercube, full factorial.

Kept free of Hydra and of the simulation so that the analysis side (``sim.analysis``) rebuilds
exactly the SALib ``problem`` a sweep was drawn from, and tests can compare against SALib itself.

A parameter is given by name with either bounds or a list of values::

    embedding: {key: levers.embedding.intensity, lo: 0.0, hi: 1.0}   # continuous
    budget: {key: budget, values: [2, 4, 8]}                          # discrete (factorial)
    x: [0, 0.5, 1]                                                    # shorthand: values, key = name
    synergy: {key: dynamics.synergy, lo: 1.0, hi: 2.0, group: converging}   # a SALib group

``key`` (the config path a value is written to) defaults to the parameter's name. ``group``
makes Sobol and Morris designs grouped (SALib's ``groups``): indices are estimated per group,
and a Sobol design has N·(G + 2) rows for G groups instead of N·(D + 2). When any parameter
has a group, a parameter without one is a group of its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

METHODS = ("sobol", "morris", "latin", "factorial")


class DesignError(ValueError):
    """A design specification is not usable; the message names the key and what is allowed."""


@dataclass(frozen=True)
class Param:
    """One input of a design: its name, the config key it sets, and its bounds or values."""

    name: str
    key: str
    lo: float | None = None
    hi: float | None = None
    values: tuple[Any, ...] | None = None
    integer: bool = False
    group: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "key": self.key}
        if self.values is not None:
            out["values"] = list(self.values)
        else:
            out["lo"], out["hi"] = self.lo, self.hi
        if self.integer:
            out["integer"] = True
        if self.group:
            out["group"] = self.group
        return out


def parse_params(spec: Mapping[str, Any] | None) -> list[Param]:
    """Turn the sweeper's ``params`` mapping into :class:`Param` objects, checking each entry."""
    params = []
    for name, entry in (spec or {}).items():
        where = f"hydra.sweeper.params.{name}"
        if entry is None:
            continue  # a parameter switched off with `hydra.sweeper.params.NAME=null`
        if isinstance(entry, list | tuple):
            entry = {"values": list(entry)}
        if not isinstance(entry, Mapping):
            raise DesignError(
                f"{where}={entry!r}; allowed: a list of values or a mapping with lo/hi or values"
            )
        key = str(entry.get("key") or name)
        integer = bool(entry.get("integer", False))
        group = entry.get("group")
        if group is not None and (not isinstance(group, str) or not group):
            raise DesignError(f"{where}.group={group!r}; allowed: a non-empty name")
        if entry.get("values") is not None:
            values = tuple(entry["values"])
            if not values:
                raise DesignError(f"{where}.values is empty; allowed: at least one value")
            params.append(Param(name, key, values=values, integer=integer))
            continue
        lo, hi = entry.get("lo"), entry.get("hi")
        if lo is None or hi is None:
            raise DesignError(
                f"{where} has no lo/hi bounds and no values; allowed: both lo and hi, or values"
            )
        lo, hi = float(lo), float(hi)
        if not lo < hi:
            raise DesignError(f"{where}: lo={lo:g} is not below hi={hi:g}; allowed: lo < hi")
        params.append(Param(name, key, lo=lo, hi=hi, integer=integer, group=group))
    return params


def salib_problem(params: list[Param]) -> dict[str, Any]:
    """The SALib problem dict of the continuous parameters (with ``groups`` when any has one)."""
    problem: dict[str, Any] = {
        "num_vars": len(params),
        "names": [p.name for p in params],
        "bounds": [[p.lo, p.hi] for p in params],
    }
    if any(p.group for p in params):
        problem["groups"] = [p.group or p.name for p in params]
    return problem


def draw(
    method: str,
    params: list[Param],
    n: int,
    seed: int,
    *,
    calc_second_order: bool = False,
    num_levels: int = 4,
    optimal_trajectories: int | None = None,
    levels: int = 5,
) -> np.ndarray:
    """The design matrix (rows = samples, columns = ``params``) of ``method``.

    Args:
        method: ``sobol`` (Saltelli's extension of the Sobol' sequence, N·(D+2) rows, or
            N·(2D+2) with second-order indices), ``morris`` (N trajectories, N·(D+1) rows),
            ``latin`` (N rows) or ``factorial`` (every combination of the parameters' values;
            a parameter given by bounds contributes ``levels`` evenly spaced values).
        params: the inputs; sampling methods need bounds on every one.
        n: SALib's N (base samples or trajectories); unused by ``factorial``.
        seed: seed of the random parts of the design (scrambling, trajectories, hypercube).
    """
    if method not in METHODS:
        raise DesignError(f"hydra.sweeper.method={method!r}; allowed: {', '.join(METHODS)}")
    if method == "factorial":
        axes = []
        for p in params:
            axes.append(list(p.values) if p.values is not None else list(np.linspace(p.lo, p.hi, levels)))
        rows = list(itertools.product(*axes)) if axes else [()]
        return np.array(rows, dtype=object).reshape(len(rows), len(params))
    if not params:
        raise DesignError(f"hydra.sweeper.params is empty; allowed: method={method} needs at least one input")
    for p in params:
        if p.values is not None:
            raise DesignError(
                f"hydra.sweeper.params.{p.name} gives values; allowed: method={method} needs lo/hi bounds"
            )
    if n < 1:
        raise DesignError(f"hydra.sweeper.n={n}; allowed: a positive integer")
    problem = salib_problem(params)
    if method == "sobol":
        from SALib.sample import sobol

        if n & (n - 1):
            raise DesignError(f"hydra.sweeper.n={n}; allowed for sobol: a power of 2 (e.g. 64, 128)")
        x = sobol.sample(problem, n, calc_second_order=calc_second_order, scramble=True, seed=seed)
    elif method == "morris":
        from SALib.sample import morris

        x = morris.sample(
            problem, n, num_levels=num_levels, optimal_trajectories=optimal_trajectories, seed=seed
        )
    else:
        from SALib.sample import latin

        x = latin.sample(problem, n, seed=seed)
    x = np.asarray(x, dtype=np.float64)
    for j, p in enumerate(params):
        if p.integer:
            x[:, j] = np.round(x[:, j])
    return x


def native(value: Any) -> Any:
    """A numpy scalar as the plain Python value that JSON and OmegaConf accept."""
    if isinstance(value, np.generic):
        return value.item()
    return value
