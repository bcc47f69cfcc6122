"""The model's flat keywords and seeds: how Mesa's own tools build a :class:`CommunityModel`.

Mesa's batch runner, SolaraViz and Mesa's examples make a model from keyword arguments
(``mesa.batch_run(CommunityModel, parameters={"converging": [0, 1]})``), never from a nested
config. So besides ``cfg``, the model takes *flat keywords*, each mapped to one config key:

- a lever's name sets its intensity: ``converging=1.0`` is ``levers.converging.intensity=1.0``;
- ``preset`` picks a community size preset (``sim/configs/community/``), its sizes included;
- the last part of any config key that no other key shares: ``steps``, ``seed``, ``budget``,
  ``replicates``, ``n_compounds``, ``threshold_mean``, ``mediation_rate``, …
  (:func:`keyword_keys` lists them all);
- any full dotted key, through ``**``: ``CommunityModel(**{"levers.linking.start_week": 8})``.

Keywords given with ``cfg`` are applied on top of it; without ``cfg`` on top of the defaults,
as :func:`sim.core.config.from_dict` does. An unknown keyword is refused in one line listing
the allowed ones, before anything is built.

Seeds (:func:`model_rng`): by default the model draws from the config's ``seed`` exactly as
replicate 0 of ``sim-run`` does (``SeedSequence(seed).spawn(R)[0]``), so ``CommunityModel()``
is reproducible. ``rng=None`` means what it means in Mesa: fresh entropy from the operating
system (``mesa.batch_run(..., iterations=n)`` passes it, so its iterations are independent);
the entropy drawn is kept in ``model.seed_sequence`` to repeat such a run.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
from typing import Any

import numpy as np

from sim.core.config import PRESET_SIZE_KEYS, Config, ConfigError, _walk, from_dict
from sim.core.levers import LEVERS


class _SeedFromConfig:
    """The default of ``rng``: draw from the config's seed (as replicate 0 of ``sim-run``)."""

    def __repr__(self) -> str:
        return "<the config's seed>"


#: ``rng``'s default: seed the model from ``cfg.seed`` (replicate 0)
SEED_FROM_CONFIG: Any = _SeedFromConfig()


@functools.cache
def keyword_keys() -> dict[str, str]:
    """Every flat keyword and the dotted config key it sets (full dotted keys not included)."""
    leaves = [key for key, _field, _value in _walk(Config())]
    last_parts: dict[str, list[str]] = {}
    for key in leaves:
        last_parts.setdefault(key.rsplit(".", 1)[-1], []).append(key)
    out = {name: f"levers.{name}.intensity" for name in LEVERS}
    for name, keys in last_parts.items():
        top_level = [k for k in keys if "." not in k]
        if name in out:
            continue
        if len(keys) == 1:
            out[name] = keys[0]
        elif len(top_level) == 1:  # `seed` is the run's seed; `community.seed` is named in full
            out[name] = top_level[0]
    return dict(sorted(out.items()))


@functools.cache
def _dotted_keys() -> frozenset[str]:
    return frozenset(key for key, _field, _value in _walk(Config()))


def resolve_keywords(keywords: dict[str, Any]) -> dict[str, Any]:
    """Flat keywords → {dotted config key: value}; raises ConfigError naming an unknown one."""
    short = keyword_keys()
    out: dict[str, Any] = {}
    for name, value in keywords.items():
        key = short.get(name) or (name if name in _dotted_keys() else None)
        if key is None:
            close = difflib.get_close_matches(name, [*short, *_dotted_keys()], n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ConfigError(
                f"CommunityModel({name}={value!r}): no such keyword{hint}; allowed: {', '.join(short)}, "
                "or any dotted config key such as levers.linking.start_week"
            )
        if key in out:
            raise ConfigError(f"CommunityModel({name}={value!r}): {key} is given twice; allowed: once")
        out[key] = value
    return out


def config_from_keywords(cfg: Config | None, keywords: dict[str, Any]) -> Config:
    """``cfg`` (default: the default config) with the flat ``keywords`` set, validated."""
    values = resolve_keywords(keywords)
    if cfg is None and not values:
        return from_dict({})
    base: dict[str, Any] = dataclasses.asdict(cfg) if cfg is not None else {}
    if "community.preset" in values and "community" in base:
        for key in PRESET_SIZE_KEYS:  # a new preset brings its own sizes
            base["community"].pop(key, None)
    for key, value in values.items():
        *path, leaf = key.split(".")
        node = base
        for part in path:
            node = node.setdefault(part, {})
        node[leaf] = value
    return from_dict(base)


def model_rng(cfg: Config, rng: Any) -> tuple[Any, np.random.SeedSequence | None]:
    """The ``rng`` to hand to ``mesa.Model`` and the SeedSequence it came from (if one).

    ``SEED_FROM_CONFIG`` → replicate 0 of ``cfg.seed``; ``None`` → fresh entropy (Mesa's meaning);
    a SeedSequence → a Generator on it; an int or Generator as given.
    """
    if rng is SEED_FROM_CONFIG:
        rng = np.random.SeedSequence(cfg.seed).spawn(1)[0]
    elif rng is None:
        rng = np.random.SeedSequence()
    if isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng), rng
    return rng, None
