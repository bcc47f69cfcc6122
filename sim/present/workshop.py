"""The model behind the dashboard: scenarios composed as ``sim-run`` composes them, a setting
(arm) per side of an A/B comparison, and :class:`Workshop`, the Mesa model that steps them
together with the baseline on one random draw, with the figures of its current week.

Every model is built as ``sim-run`` builds replicate 0 of a job (:func:`make_model`): the
scenario, the community preset and the changed levers are composed with Hydra's compose API
from ``sim/configs/``, validated, and seeded with ``replicate_seeds(seed, replicates)[0]``.
User input is never evaluated: scenario and preset names are checked against the files in
``sim/configs/``, and numbers reach Hydra only as numbers this module formats. What was
composed is kept (keyed by the overrides and the modification times of the config files), as
a room of participants composes the same settings again and again.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import mesa
import numpy as np
import pandas as pd

from sim.core.config import Config, ConfigError
from sim.core.levers import LEVERS
from sim.core.model import CommunityModel
from sim.experiment import compose, ensemble
from sim.experiment.compose import CONFIG_DIR, group_options
from sim.experiment.compose import compose_config as compose_overrides
from sim.experiment.simulate import replicate_seeds
from sim.present import live
from sim.present.portfolios import scenario_dir
from sim.vocab import PRESET_WORDS

SERIES_METRICS = ("participation", "satisfaction", "trust", "unmet_need")
DEFAULT_PRESET = "community"
FIGURE_HEIGHT = 300
PRESENTER_HEIGHT = 460
_PRESET_ORDER = tuple(PRESET_WORDS)

_log = logging.getLogger(__name__)


def scenario_names() -> list[str]:
    """Named scenarios in ``sim/configs/scenario/`` (read at every call: files may be added live)."""
    return compose.scenario_names(scenario_dir())  # with sim-app --scenarios DIR, DIR's too


def presets() -> list[str]:
    """Community size presets in ``sim/configs/community/``, smallest first."""
    names = set(group_options("community"))
    known = [n for n in _PRESET_ORDER if n in names]
    return known + sorted(names - set(known))


def _check_choice(key: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ConfigError(f"{key}={value!r} is not known; allowed: {', '.join(allowed)}")


#: names the calibrated parameter set (``sim/configs/calibrated/NAME.yaml``) every model uses
CALIBRATED_ENV = "SIM_APP_CALIBRATED"


def compose_config(
    scenario: str = "baseline",
    overrides: Sequence[str] = (),
    seed: int | None = None,
    preset: str | None = None,
) -> Config:
    """The validated config ``sim-run scenario=NAME [community=PRESET] [seed=N] OVERRIDES`` runs.

    Raises ConfigError (one line naming the key, the value and what is allowed).
    """
    _check_choice("scenario", scenario, scenario_names())
    items = [f"scenario={scenario}"]
    calibrated = os.environ.get(CALIBRATED_ENV)
    if calibrated:  # a calibrated parameter set (sim-calibrate); it wins where it and the scenario overlap
        _check_choice("calibrated", calibrated, group_options("calibrated"))
        items.append(f"+calibrated={calibrated}")
    if preset is not None:
        _check_choice("community", preset, presets())
        items.append(f"community={preset}")
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ConfigError(f"seed={seed!r} is not an integer; allowed: an integer from 0 to 2^63-1")
        items.append(f"seed={seed}")
    folder = scenario_dir()
    # Composing takes Hydra about 0.3 s of CPU, and a page composes two configs for every new
    # setting (the arm and the baseline): the same overrides on the same files give a copy of
    # the config composed before.
    return copy.deepcopy(_composed((*items, *overrides), folder, _config_stamp(folder)))


def _config_stamp(folder: str | None) -> tuple[tuple[str, int], ...]:
    """Every YAML file composition may read, with its modification time: a file added, removed
    or edited while the dashboard runs gives another stamp (and so a fresh composition).
    Looked at again at most once a second (a room's pages compose in bursts)."""
    now = time.monotonic()
    seen = _STAMPS.get(folder)
    if seen is not None and now - seen[0] < 1.0:
        return seen[1]
    roots = [CONFIG_DIR, *([Path(folder)] if folder else [])]
    stamp = tuple(sorted((str(p), _mtime_ns(p)) for root in roots for p in root.rglob("*.yaml")))
    _STAMPS[folder] = (now, stamp)
    return stamp


_STAMPS: dict[str | None, tuple[float, tuple[tuple[str, int], ...]]] = {}


def _mtime_ns(path: Path) -> int:
    """When ``path`` last changed (0 when it cannot be read): part of a cache key."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


@lru_cache(maxsize=512)
def _composed(items: tuple[str, ...], folder: str | None, _stamp: tuple) -> Config:
    return compose_overrides(list(items), config_dir=folder)


def make_model(
    scenario: str = "baseline",
    overrides: Sequence[str] = (),
    seed: int | None = None,
    preset: str | None = None,
) -> CommunityModel:
    """The model ``sim-run`` runs as replicate 0 for the same scenario, overrides and seed.

    Args:
        scenario: a name from :func:`scenario_names`.
        overrides: Hydra overrides as on the ``sim-run`` command line
            (``levers.linking.intensity=0.5``).
        seed: root seed (default: the config's); replicate 0 draws from
            ``replicate_seeds(seed, replicates)[0]`` exactly as :func:`sim.experiment.simulate.simulate`.
        preset: community size preset (default: the config's).
    """
    cfg = compose_config(scenario, overrides, seed, preset)
    return CommunityModel(cfg, rng=member_seed(cfg))


def member_seed(cfg: Config) -> np.random.SeedSequence:
    """The seed of ``cfg``'s replicate 0, as :func:`sim.experiment.simulate.simulate` gives it."""
    return replicate_seeds(cfg.seed, cfg.replicates)[0]


@lru_cache(maxsize=256)
def _scenario_config(scenario: str, preset: str | None, _mtime_ns: int) -> Config:
    return compose_config(scenario, preset=preset)


def scenario_config(scenario: str, preset: str | None = None) -> Config:
    """The composed config of a scenario as its file says (cached until the file changes)."""
    return _scenario_config(scenario, preset, _mtime_ns(CONFIG_DIR / "scenario" / f"{scenario}.yaml"))


def scenario_catalogue(preset: str | None = None) -> dict[str, Config]:
    """Every scenario that composes and validates, by name; broken files are logged and left out."""
    out = {}
    for name in scenario_names():
        try:
            out[name] = scenario_config(name, preset)
        except ConfigError as exc:
            _log.warning("scenario %s left out of the dashboard: %s", name, exc)
    return out


def _number(value: float) -> str:
    """A float as a Hydra override value (``inf`` for an unbounded budget)."""
    value = float(value)
    return "inf" if math.isinf(value) else repr(value)


@dataclass(frozen=True)
class Arm:
    """One setting: a scenario and the lever intensities and budget the facilitator chose.

    ``intensities`` (in :data:`sim.core.levers.LEVERS` order) and ``budget`` left as None keep
    the scenario's own values.
    """

    scenario: str = "baseline"
    intensities: tuple[float, ...] | None = None
    budget: float | None = None

    def overrides(self, preset: str | None = None) -> list[str]:
        """Hydra overrides for what differs from the scenario's own config."""
        base = scenario_config(self.scenario, preset)
        out = []
        if self.intensities is not None:
            if len(self.intensities) != len(LEVERS):
                raise ConfigError(
                    f"intensities has {len(self.intensities)} values; allowed: one per lever ({len(LEVERS)})"
                )
            for name, value in zip(LEVERS, self.intensities, strict=True):
                if float(value) != getattr(base.levers, name).intensity:
                    out.append(f"levers.{name}.intensity={_number(value)}")
        if self.budget is not None and float(self.budget) != base.budget:
            out.append(f"budget={_number(self.budget)}")
        return out

    def resolved(self, preset: str | None = None) -> tuple[tuple[float, ...], float]:
        """The intensities and budget in effect (the scenario's where not chosen)."""
        base = scenario_config(self.scenario, preset)
        intensities = self.intensities or tuple(getattr(base.levers, n).intensity for n in LEVERS)
        return tuple(float(v) for v in intensities), float(
            base.budget if self.budget is None else self.budget
        )


@dataclass(frozen=True)
class Settings:
    """Everything that defines what the dashboard runs: one or two arms, size and seed."""

    a: Arm = Arm()
    b: Arm | None = None
    preset: str = DEFAULT_PRESET
    seed: int | None = None

    def arms(self) -> dict[str, Arm]:
        return {"A": self.a} if self.b is None else {"A": self.a, "B": self.b}


#: the key of the baseline reference among a workshop's members
BASELINE = "baseline"


class Workshop(mesa.Model):
    """What the dashboard steps: setting A, in A/B mode setting B, and the baseline, on one seed.

    Each arm is the model :func:`make_model` makes, so it is the model ``sim-run`` would run.
    The arms and the baseline reference (drawn as a grey ghost line) are members of one
    ensemble (docs/design.md §9) when their communities have the same shape, and of one
    ensemble per shape otherwise; a member's weeks are its single run's to the bit, so sharing
    changes nothing but the time a week takes. One step of the workshop is one week of every
    member. The play loop steps in a worker thread while the page reads the results: both hold
    :attr:`lock`, so a figure never sees a week half recorded (:meth:`snapshot`).

    Lever and budget changes during a run apply from the current week (:meth:`change`);
    :meth:`branch` copies A into B at the current week, so two futures run on from the same
    state and the same random stream.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        settings = settings or Settings()
        super().__init__(rng=settings.seed)
        self.settings = settings
        self.lock = threading.RLock()
        self.events: list[live.Event] = []
        initial = {
            key: compose_config(arm.scenario, arm.overrides(settings.preset), settings.seed, settings.preset)
            for key, arm in settings.arms().items()
        }
        initial[BASELINE] = compose_config("baseline", [], settings.seed, settings.preset)
        #: per member: its config at week 0 and every change since, as (week, config)
        self.history: dict[str, list[tuple[int, Config]]] = {k: [(0, cfg)] for k, cfg in initial.items()}
        self._build()
        self._version = 0  # counts every write (step, change, branch): snapshots are reused until it moves
        self._snapshot: tuple[tuple, live.Snapshot] | None = None

    def _build(self) -> None:
        """The members' ensembles from their week-0 configs, grouped by community shape, each
        within the runner's limits (a metro community runs alone, as in a sweep)."""
        groups: dict[tuple, list[str]] = {}
        for key, changes in self.history.items():
            groups.setdefault(ensemble.group_key(changes[0][1]), []).append(key)
        self.models: list[CommunityModel] = []
        #: where each member lives: its ensemble and its index there
        self.members: dict[str, tuple[CommunityModel, int]] = {}
        for group in groups.values():
            most = ensemble.most_members(self.history[group[0]][0][1])
            for start in range(0, len(group), most):
                keys = group[start : start + most]
                configs = [self.history[k][0][1] for k in keys]
                model = CommunityModel.ensemble(configs, [member_seed(cfg) for cfg in configs])
                self.models.append(model)
                self.members.update({k: (model, m) for m, k in enumerate(keys)})

    def step(self) -> None:
        """One week of every arm and of the baseline."""
        with self.lock:
            self._version += 1
            for model in self.models:
                model.step()

    @property
    def week(self) -> int:
        return self.models[0].week

    @property
    def arm_keys(self) -> list[str]:
        """The arms in play: ``["A"]`` or ``["A", "B"]``."""
        return [k for k in self.members if k != BASELINE]

    def config(self, key: str) -> Config:
        """The config member ``key`` (an arm, or ``"baseline"``) runs with this week."""
        model, member = self.members[key]
        return model.configs[member]

    def frame(self, key: str) -> pd.DataFrame:
        """Member ``key``'s recorded weeks, as ``recorder.frame()`` of its single run."""
        model, member = self.members[key]
        return model.recorder.frame(member=member)

    def change(self, key: str, arm: Arm) -> None:
        """Set arm ``key``'s levers and budget to ``arm``'s from the current week on.

        The arm keeps its community, its state and its random stream; only the intensities and
        the budget, which the model reads every week, change. The week is recorded as an event
        (a marker on the charts). Raises ConfigError for a refused setting (nothing changes) and
        ValueError when ``arm`` names another scenario (a new scenario starts a new run).
        """
        s = self.settings
        with self.lock:
            model, member = self.members[key]
            running = model.configs[member].scenario.name
            if arm.scenario != running:
                raise ValueError(f"scenario={arm.scenario!r}; allowed mid-run: {running!r}")
            cfg = compose_config(arm.scenario, arm.overrides(s.preset), s.seed, s.preset)
            model.set_config(member, cfg)
            self.history[key].append((self.week, cfg))
            self._version += 1
            self.settings = dataclasses.replace(s, **{key.lower(): arm})
            event = live.Event(self.week, key, "change")
            # several nudges of a slider in one week are one intervention, one mark on the charts
            if self.week > 0 and event not in self.events:
                self.events.append(event)

    def branch(self) -> None:
        """B := a copy of A at this week (same state, same random stream); B's changes come next.

        B joins A's ensemble: the members are built again and run to this week with every
        change at the week it was made. Each member's weeks do not depend on its company, so A
        and the baseline come back to the bit where they were, and B is A's double.
        """
        with self.lock:
            self._version += 1
            week = self.week
            self.history = {
                "A": self.history["A"],
                "B": list(self.history["A"]),
                BASELINE: self.history[BASELINE],
            }
            self._build()
            for w in range(week):
                for key, changes in self.history.items():
                    model, member = self.members[key]
                    for _, cfg in (c for c in changes[1:] if c[0] == w):
                        model.set_config(member, cfg)
                for model in self.models:
                    model.step()
            self.settings = dataclasses.replace(self.settings, b=self.settings.a)
            self.events.append(live.Event(week, "B", "branch"))

    def snapshot(self, metrics: Sequence[str] = SERIES_METRICS) -> live.Snapshot:
        """Copies of everything the page shows at the current week, taken under the lock.

        Every chart of a redraw asks for one; they share the copy taken first, until the next
        write (a snapshot is never changed once taken).
        """
        with self.lock:
            key = (
                self._version,
                tuple(id(model) for model in self.models),
                self.week,
                len(self.events),
                tuple(metrics),
            )
            if self._snapshot is not None and self._snapshot[0] == key:
                return self._snapshot[1]
            arms = {k: live.take_arm(k, *self.members[k], metrics=metrics) for k in self.arm_keys}
            base_model, base_member = self.members[BASELINE]
            snap = live.Snapshot(
                week=self.week,
                steps=self.config("A").steps,
                arms=arms,
                baseline=live.take_series(base_model, base_member, metrics),
                preset=self.settings.preset,
                seed=self.config("A").seed,
                events=tuple(self.events),
            )
            self._snapshot = (key, snap)
            return snap


def series_figures(workshop: Workshop, lang: str = "en", presenter: bool = False) -> list[dict]:
    """Participation, satisfaction, trust and unmet need over the weeks: baseline ghost and arms."""
    snap = workshop.snapshot()
    return [live.series_figure(snap, m, lang, **_sizes(presenter)) for m in SERIES_METRICS]


def difference_figures(workshop: Workshop, lang: str = "en", presenter: bool = False) -> list[dict]:
    """B − A of the four series, week by week (same seed, so the difference is the settings')."""
    snap = workshop.snapshot()
    return [live.difference_figure(snap, m, lang, **_sizes(presenter)) for m in SERIES_METRICS]


def map_figures(workshop: Workshop, metric: str, lang: str = "en", presenter: bool = False) -> list[dict]:
    """The community map of every arm at the current week."""
    snap = workshop.snapshot()
    size = _sizes(presenter)
    return [
        live.map_figure(arm, metric, lang, size["height"] + 60, size["font"]) for arm in snap.arms.values()
    ]


def render_figures(
    workshop: Workshop | live.Snapshot, metric: str, lang: str = "en", presenter: bool = False
) -> list[dict]:
    """Every figure the page shows for the current week: maps, series, differences (none at week 0)."""
    snap = workshop.snapshot() if isinstance(workshop, Workshop) else workshop
    if snap.week == 0:
        return []
    size = _sizes(presenter)
    figs = [
        live.map_figure(arm, metric, lang, size["height"] + 60, size["font"]) for arm in snap.arms.values()
    ]
    figs += [live.series_figure(snap, m, lang, **size) for m in SERIES_METRICS]
    if len(snap.arms) > 1:
        figs += [live.difference_figure(snap, m, lang, **size) for m in SERIES_METRICS]
    return figs


def _sizes(presenter: bool) -> dict[str, int]:
    """Chart height and font: presenter mode is for the back of the room."""
    return {"height": PRESENTER_HEIGHT, "font": 18} if presenter else {"height": FIGURE_HEIGHT, "font": 12}
