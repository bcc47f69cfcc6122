"""The pattern harness behind ``sim-validate``: each pattern a designed experiment across seeds.

A :class:`Pattern` names a hypothesis about what the model does, where it comes from, and a
design (arms as Hydra overrides, the community, the weeks). Its ``measure`` runs the arms on
every seed (replicate s of every arm uses the same seed: common random numbers, so per-seed
differences between arms are paired) and returns one effect per seed, oriented so that a
larger effect means the pattern is there. The verdict compares the 95% interval for the mean
effect with the pattern's smallest effect of interest δ (``margin``):

- ``holds`` when the whole interval lies above δ;
- ``fails`` when the whole interval lies below δ (the effect is credibly smaller than
  anything that would count, or of the other sign);
- ``inconclusive`` otherwise (more seeds would decide).

Each pattern also has a *knock-out*: overrides that switch off the mechanism that should
produce it (a lever's intensity or sub-mechanism, a rate set to 0). The same experiment is run
with the knock-out added to every arm; its verdict should be ``fails``. A pattern whose
knock-out does not fail is not tested by its experiment, and the harness says so.

δ is 0.01 (one percentage point) for effects on a proportion unless the pattern states
another threshold; δ is set from what would matter, never from what a run gave. Patterns the
model does not reproduce are reported as such (docs/validation.md).

Everything is written against config keys and metrics, so the harness runs on whatever model
the configs describe.

Why one module of this length: a quarter of it is :data:`PATTERNS`, the table of patterns with
their sources, and the experiments that measure them sit beside the table, so that a pattern, its
experiment and its knock-out are read in one place.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis import stats
from sim.core.config import Config
from sim.experiment import ensemble
from sim.experiment.compose import compose_config
from sim.experiment.ensemble import ID_COLUMNS, Job
from sim.experiment.simulate import replicate_seeds

DEFAULT_SEEDS = 20
DEFAULT_SEED = 20261202
DEFAULT_MARGIN = 0.01
TABLE_FILE = "validation.parquet"
RECORD_FILE = "validation.json"

#: half of every channel's default capacity: supply falls short of need (see the lever patterns)
STRETCHED = (
    "dynamics.government_capacity=0.05",
    "dynamics.social_capacity=0.015",
    "dynamics.volunteer_capacity=0.075",
    "dynamics.market_capacity=0.03",
    "levers.conduction.city_funds=0.03",
)


# ------------------------------------------------------------------------------ running arms
class Runner:
    """Runs a configuration on every seed once and keeps its weekly metrics (per seed).

    ``base`` overrides come first (e.g. ``community=workshop``), then the arm's, then the
    knock-out's; the same overrides are run once per harness even when patterns share them.
    """

    def __init__(self, seeds: int, seed: int, base: Sequence[str] = ("community=workshop",)) -> None:
        if seeds < 2:
            raise ValueError(f"seeds={seeds}; allowed: at least 2 (an interval needs two)")
        self.n_seeds = seeds
        self.seed = seed
        self.base = tuple(base)
        self._seeds = replicate_seeds(seed, seeds)
        self._cache: dict[tuple[str, ...], list[pd.DataFrame]] = {}
        self.runs = 0

    def config(self, overrides: Sequence[str]) -> Config:
        return compose_config([*self.base, "record_buildings=false", *overrides])

    def frames(self, overrides: Sequence[str]) -> list[pd.DataFrame]:
        """Weekly metrics (index = week) of the configuration on every seed."""
        key = tuple(overrides)
        if key not in self._cache:
            cfg = self.config(overrides)
            jobs = [Job(cfg, s, replicate=r) for r, s in enumerate(self._seeds)]
            # the seeds run as one ensemble; each frame is that of a single run on its seed
            out = [result.metrics.drop(columns=ID_COLUMNS).set_index("step") for result in ensemble.run(jobs)]
            self.runs += len(out)
            self._cache[key] = out
        return self._cache[key]

    def outcome(self, overrides: Sequence[str], metric: str, weeks: slice | None = None) -> np.ndarray:
        """Per seed: the mean of ``metric`` over ``weeks`` (a slice of week numbers; default the last)."""
        values = []
        for f in self.frames(overrides):
            series = f[metric]
            part = series.iloc[[-1]] if weeks is None else series.loc[weeks]
            values.append(float(part.mean()))
        return np.array(values)

    def difference(
        self, first: Sequence[str], second: Sequence[str], metric: str, weeks: slice | None = None
    ) -> np.ndarray:
        """Per seed: :meth:`outcome` of ``first`` minus that of ``second`` (paired by seed)."""
        return self.outcome(first, metric, weeks) - self.outcome(second, metric, weeks)

    def curve(self, overrides: Sequence[str], metric: str, label: str) -> pd.DataFrame:
        """The weekly series of every seed, tidy: week, seed, value, series."""
        parts = [
            pd.DataFrame({"x": f.index, "seed": s, "value": f[metric].to_numpy(), "series": label})
            for s, f in enumerate(self.frames(overrides))
        ]
        return pd.concat(parts, ignore_index=True)


@dataclass
class Measured:
    """What a pattern's experiment gives: one effect per seed and the data of its figure."""

    effects: np.ndarray
    figure: pd.DataFrame  # x, seed, value, series
    x_label: str = "week"
    y_label: str = ""
    notes: str = ""


Measure = Callable[[Runner, tuple[str, ...]], Measured]


@dataclass(frozen=True)
class Pattern:
    """A hypothesis about the model's behaviour, its experiment and its knock-out."""

    name: str
    title: str
    hypothesis: str
    source: str
    design: str
    effect: str
    measure: Measure
    knockout: tuple[str, ...]
    knockout_text: str
    margin: float = DEFAULT_MARGIN
    bounds: stats.Bounds = stats.UNBOUNDED


@dataclass
class Verdict:
    """The interval of a pattern's mean effect and what it says about the hypothesis."""

    interval: stats.Interval
    verdict: str
    n: int
    effects: np.ndarray = field(repr=False)


def judge(effects: np.ndarray, margin: float, bounds: stats.Bounds, level: float = 0.95) -> Verdict:
    """holds / fails / inconclusive from the interval for the mean effect against δ = ``margin``."""
    x = np.asarray(effects, dtype=float)
    x = x[np.isfinite(x)]
    iv = stats.mean_interval(x, bounds, level)
    if x.size < 2 or math.isnan(iv.low):
        verdict = "inconclusive"
    elif iv.low > margin:
        verdict = "holds"
    elif iv.high < margin:
        verdict = "fails"
    else:
        verdict = "inconclusive"
    return Verdict(iv, verdict, int(x.size), x)


TEST = (
    "95% {method} interval for the mean of the per-seed effects (n = {n} seeds, paired by seed) "
    "against the smallest effect of interest δ = {margin:g}: holds if low > δ, fails if high < δ"
)


# ------------------------------------------------------------------------------ the patterns
def _with(ko: tuple[str, ...], *overrides: str) -> tuple[str, ...]:
    return (*overrides, *ko)


def _weekly(
    runner: Runner,
    effects: np.ndarray,
    arms: dict[str, tuple[str, ...]],
    metric: str,
    y_label: str,
    notes: str = "",
) -> Measured:
    """``effects``, shown by the weekly ``metric`` of every arm (its label the series)."""
    figure = pd.concat([runner.curve(o, metric, label) for label, o in arms.items()], ignore_index=True)
    return Measured(effects, figure, "week", y_label, notes)


SPREADS = (0.02, 0.05, 0.08, 0.11, 0.14, 0.2, 0.3)


def _tipping(r: Runner, ko: tuple[str, ...]) -> Measured:
    common = (
        "steps=40",
        "dynamics.threshold_mean=0.25",
        "dynamics.trust_effect=0",
        "dynamics.resource_effect=0",
        "levers.embedding.member_activity=0",
    )
    finals = np.array(
        [r.outcome(_with(ko, *common, f"dynamics.threshold_sd={sd}"), "participation") for sd in SPREADS]
    )  # (spread, seed)
    rise = finals.max(axis=0) - finals.min(axis=0)
    largest = np.diff(finals, axis=0).max(axis=0)
    # share of the whole rise made between two neighbouring spreads; no rise at all is no tipping
    share = np.where(rise > 0.05, np.clip(largest, 0, None) / np.where(rise > 0, rise, 1), 0.0)
    figure = pd.DataFrame(
        [
            {"x": sd, "seed": s, "value": finals[i, s], "series": "final participation"}
            for i, sd in enumerate(SPREADS)
            for s in range(finals.shape[1])
        ]
    )
    return Measured(share, figure, "threshold spread σ_θ", "participation, week 40")


def _diminishing(r: Runner, ko: tuple[str, ...]) -> Measured:
    uncapped = (
        "levers.linking.max_resources=30",
        "levers.linking.venue_capacity=1",
        "levers.linking.team_capacity=1",
    )
    arms = {
        f"linking {k}": _with(ko, *STRETCHED, *uncapped, f"levers.linking.intensity={k}") for k in (0, 0.5, 1)
    }
    window = slice(53, 104)
    sat = {k: r.outcome(o, "satisfaction", window) for k, o in arms.items()}
    half = sat["linking 0.5"] - sat["linking 0"]
    full = sat["linking 1"] - sat["linking 0"]
    return _weekly(r, 2 * half - full, arms, "satisfaction", "satisfaction")


def _attenuation(r: Runner, ko: tuple[str, ...]) -> Measured:
    low = ("levers.conduction.retention=[0.6,0.6,0.6]",)
    only_standardise = (
        "levers.conduction.intensity=1",
        "levers.conduction.special_funds=0",
        "levers.conduction.burden_cut=0",
        "levers.conduction.social_worker_posts=0",
    )
    arms = {
        "retention 0.6": _with(ko, *STRETCHED, *low),
        "retention 0.6, standardised": _with(ko, *STRETCHED, *low, *only_standardise),
    }
    window = slice(53, 104)
    base = r.outcome(arms["retention 0.6"], "served_government", window)
    std = r.outcome(arms["retention 0.6, standardised"], "served_government", window)
    return _weekly(r, (std - base) / base, arms, "served_government", "served by government")


SHOCK_WEEK = 60


def _half_time(series: pd.Series, start: int, target: float, falling: bool) -> int:
    after = series.loc[start:]
    crossed = after <= target if falling else after >= target
    return int(crossed.idxmax() - start) if crossed.any() else int(series.index.max() - start + 1)


def _hysteresis(r: Runner, ko: tuple[str, ...]) -> Measured:
    arm = _with(
        ko,
        "steps=160",
        f"dynamics.shock.week={SHOCK_WEEK}",
        "dynamics.shock.duration=6",
        "dynamics.shock.depth=0.9",
    )
    ratios = []
    for f in r.frames(arm):
        trust = f["trust"]
        before = trust.loc[SHOCK_WEEK - 10 : SHOCK_WEEK].mean()
        trough = int(trust.loc[SHOCK_WEEK:].idxmin())
        drop = before - trust.loc[trough]
        if drop <= 0.01:  # no fall to recover from
            ratios.append(0.0)
            continue
        fall = _half_time(trust, SHOCK_WEEK, before - drop / 2, falling=True)
        rise = _half_time(trust, trough, trust.loc[trough] + drop / 2, falling=False)
        ratios.append(rise / max(fall, 1))
    return Measured(np.array(ratios), r.curve(arm, "trust", "service failure at week 60"), "week", "trust")


def _treadmill(r: Runner, ko: tuple[str, ...]) -> Measured:
    arms = {
        "baseline": _with(ko, "steps=160"),
        "linking from week 40": _with(
            ko, "steps=160", "levers.linking.intensity=1", "levers.linking.start_week=40"
        ),
    }
    linking, baseline = arms["linking from week 40"], arms["baseline"]
    gain_early = r.difference(linking, baseline, "satisfaction", slice(41, 60))
    gain_late = r.difference(linking, baseline, "satisfaction", slice(141, 160))
    return _weekly(r, gain_early - gain_late, arms, "satisfaction", "satisfaction")


def _stratification(r: Runner, ko: tuple[str, ...]) -> Measured:
    arms = {
        "embedding, even asks": _with(ko, "levers.embedding.intensity=1"),
        "embedding, targeted asks": _with(ko, "levers.embedding.intensity=1", "levers.embedding.targeting=1"),
    }
    targeted, even = arms["embedding, targeted asks"], arms["embedding, even asks"]
    gap = r.difference(targeted, even, "participation_gap", slice(79, 104))
    return _weekly(r, gap, arms, "participation_gap", "participation gap (rich − poor)")


def _coverage(r: Runner, ko: tuple[str, ...]) -> Measured:
    arms = {}
    for activity in (0.0, 0.3):
        arms[f"activity {activity}"] = _with(ko, f"levers.embedding.member_activity={activity}")
        arms[f"covered, activity {activity}"] = _with(
            ko, f"levers.embedding.member_activity={activity}", "levers.embedding.intensity=1"
        )
    gain = {
        a: r.difference(arms[f"covered, activity {a}"], arms[f"activity {a}"], "participation")
        for a in (0.0, 0.3)
    }
    notes = (
        f"participation gain of full coverage with passive members (activity 0): "
        f"{gain[0.0].mean():+.4f} on average over seeds"
    )
    return _weekly(r, gain[0.3] - gain[0.0], arms, "participation", "participation", notes)


def _complementarity(r: Runner, ko: tuple[str, ...]) -> Measured:
    arms = {
        "stretched": _with(ko, *STRETCHED),
        "embedding": _with(ko, *STRETCHED, "levers.embedding.intensity=1"),
        "immersion": _with(ko, *STRETCHED, "levers.immersion.intensity=1"),
        "both": _with(ko, *STRETCHED, "levers.embedding.intensity=1", "levers.immersion.intensity=1"),
    }
    t = {k: r.outcome(o, "trust") for k, o in arms.items()}
    interaction = t["both"] - t["embedding"] - t["immersion"] + t["stretched"]
    return _weekly(r, interaction, arms, "trust", "trust")


def _rebound(r: Runner, ko: tuple[str, ...]) -> Measured:
    campaign = (
        "levers.conduction.intensity=1",
        "levers.conduction.standardisation=0",
        "levers.conduction.special_funds=0",
        "levers.conduction.social_worker_posts=0",
        "levers.conduction.duration_weeks=26",
    )
    arms = {"baseline": _with(ko), "burden cut, weeks 1–26": _with(ko, *campaign)}
    cut, baseline = arms["burden cut, weeks 1–26"], arms["baseline"]
    at_26 = r.difference(cut, baseline, "effective_capacity", slice(26, 26))
    at_end = r.difference(cut, baseline, "effective_capacity")
    return _weekly(r, at_26 - at_end, arms, "effective_capacity", "effective capacity W_eff")


def _crowd_out(r: Runner, ko: tuple[str, ...]) -> Measured:
    arms = {
        "no task growth": _with(ko, "levers.conduction.task_growth=[0,0,0]"),
        "task growth 0.25 per hand-off": _with(ko, "levers.conduction.task_growth=[0.25,0.25,0.25]"),
    }
    loss = r.difference(
        arms["no task growth"], arms["task growth 0.25 per hand-off"], "satisfaction", slice(53, 104)
    )
    return _weekly(r, loss, arms, "satisfaction", "satisfaction")


def _public_goods_decay(r: Runner, ko: tuple[str, ...]) -> Measured:
    arm = _with(ko)
    decline = r.outcome(arm, "contribution_rate", slice(1, 4)) - r.outcome(
        arm, "contribution_rate", slice(93, 104)
    )
    return Measured(
        decline, r.curve(arm, "contribution_rate", "no joint meeting"), "week", "contribution rate"
    )


def _recognition(r: Runner, ko: tuple[str, ...]) -> Measured:
    arms = {
        "no joint meeting": _with(ko),
        "joint meeting (converging 1)": _with(ko, "levers.converging.intensity=1"),
    }
    meeting, none = arms["joint meeting (converging 1)"], arms["no joint meeting"]
    lift = r.difference(meeting, none, "contribution_rate", slice(93, 104))
    return _weekly(r, lift, arms, "contribution_rate", "contribution rate")


PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        name="tipping",
        title="1 · Tipping of participation",
        hypothesis="Participation does not creep up with the spread of thresholds but jumps: most of the "
        "rise happens between two neighbouring spreads (a threshold cascade).",
        source="Granovetter (1978) threshold models of collective behaviour; docs/ODD.md §1 pattern 1, §7.7.",
        design="Thresholds ~ N(0.25, σ_θ), no pull of trust or resources, passive members; σ_θ ∈ "
        "{0.02, 0.05, 0.08, 0.11, 0.14, 0.2, 0.3}; workshop community, 40 weeks; final participation.",
        effect="largest rise between neighbouring spreads as a share of the whole rise (0 if participation "
        "rises by less than 0.05 overall); δ = 0.5 (a smooth rise over six intervals gives about 1/6)",
        measure=_tipping,
        knockout=(
            "community.ring_degree=0",
            "community.cross_building_ties=0",
            "community.cross_compound_ties=0",
        ),
        knockout_text="no network ties: nobody sees neighbours take part, so nothing cascades",
        margin=0.5,
        bounds=(0.0, 1.0),
    ),
    Pattern(
        name="diminishing_returns",
        title="2 · Diminishing returns of linked resources",
        hypothesis="Each further unit of brokered resources buys less satisfaction: the gain of half the "
        "linking effort is more than half the gain of the full effort.",
        source="Saturating service production (docs/ODD.md §7.9.3, Q_max(1 − e^(−L/L_half))); "
        "docs/ODD.md §1 pattern 2.",
        design="Stretched community (channel capacities halved), linking caps lifted; linking intensity "
        "0, 0.5, 1; 104 weeks; satisfaction averaged over weeks 53–104.",
        effect="2·gain(0.5) − gain(1) in satisfaction (concavity; 0 for a straight line)",
        measure=_diminishing,
        knockout=("levers.linking.intensity=0",),
        knockout_text="linking off (intensity 0 in every arm): no brokered resources",
        bounds=(-3.0, 3.0),
    ),
    Pattern(
        name="attenuation",
        title="3 · Attenuation down the hierarchy",
        hypothesis="Resources are lost at every hand-off (city → district → street → community); where "
        "retention is low, standardising the hand-offs raises the services government delivers.",
        source="O'Brien & Li (1999) selective policy implementation; 李辉 (2022); docs/ODD.md §7.9.5.",
        design="Stretched community, retention 0.6 at each of three hand-offs; conduction at intensity 1 "
        "with standardisation only, against none; 104 weeks; weeks 53–104.",
        effect="relative rise in need served by the government channel; δ = 0.05 (5%)",
        measure=_attenuation,
        knockout=("levers.conduction.standardisation=0",),
        knockout_text="standardisation 0: the lever runs but keeps no more of any hand-off",
        margin=0.05,
        bounds=(-1.0, math.inf),
    ),
    Pattern(
        name="trust_hysteresis",
        title="4 · Trust falls fast and recovers slowly",
        hypothesis="After a service failure trust halves its loss several times more slowly than it lost it.",
        source="Slovic (1993) the asymmetry principle of trust; docs/ODD.md §1 pattern 4, §7.6.",
        design="A 6-week failure (90% of every channel's capacity lost) from week 60; workshop, 160 weeks.",
        effect="weeks to recover half the drop ÷ weeks to lose half of it; δ = 2 ('several times')",
        measure=_hysteresis,
        knockout=("dynamics.trust_down_ratio=1",),
        knockout_text="trust falls as fast as it rises (α⁻ = α⁺)",
        margin=2.0,
        bounds=(0.0, math.inf),
    ),
    Pattern(
        name="expectation_treadmill",
        title="5 · The expectation treadmill",
        hypothesis="A lasting improvement in services lifts satisfaction at first; as expectations catch up, "
        "the gain fades.",
        source="Oliver (1980) expectancy–disconfirmation; James (2011); Van Ryzin (2006); "
        "docs/ODD.md §1 pattern 5.",
        design="Linking at intensity 1 from week 40 against the baseline; workshop, 160 weeks.",
        effect="satisfaction gain in weeks 41–60 minus the gain in weeks 141–160",
        measure=_treadmill,
        knockout=("dynamics.expectation_up=0",),
        knockout_text="expectations do not move toward experience (η⁺ = η⁻ = 0)",
        bounds=(-2.0, 2.0),
    ),
    Pattern(
        name="stratification",
        title="6 · Stratification under targeted recruitment",
        hypothesis="Steering members' asks to likely participants widens the gap between resource-rich and "
        "resource-poor households' participation.",
        source="Brady, Verba & Schlozman (1999) prospecting for participants; docs/ODD.md §1 pattern 6.",
        design="Embedding at intensity 1, asks even against asks targeted (targeting 1); 104 weeks; "
        "weeks 79–104.",
        effect="change in the rich − poor participation gap",
        measure=_stratification,
        knockout=("levers.embedding.targeting=0",),
        knockout_text="no targeting: asks are spread evenly in both arms",
        bounds=(-2.0, 2.0),
    ),
    Pattern(
        name="coverage_on_paper",
        title="7 · Coverage is necessary, not sufficient",
        hypothesis="Full Party-organisation coverage with passive members changes participation little; the "
        "same coverage with active members raises it.",
        source="The essay's 'cells' image against 'coverage on paper' (docs/ODD.md §7.9.1, pattern 7).",
        design="Embedding at intensity 1 against none, with member activity 0 and 0.3; 104 weeks; "
        "final week.",
        effect="participation gain of coverage with active members minus that with passive members",
        measure=_coverage,
        knockout=("dynamics.recruitment_effect=0",),
        knockout_text="being asked no longer pushes a household toward taking part (ρ = 0)",
        bounds=(-2.0, 2.0),
    ),
    Pattern(
        name="complementarity",
        title="8 · Complementarity of levers",
        hypothesis="Embedding and immersion together raise trust by more than the sum of their separate "
        "effects (mobilisation works through members' asks).",
        source="docs/ODD.md §1 pattern 8, §7.9.8.",
        design="Stretched community; baseline, embedding 1, immersion 1, both; 104 weeks; final week.",
        effect="interaction on trust: both − embedding − immersion + baseline",
        measure=_complementarity,
        knockout=("levers.embedding.member_activity=0",),
        knockout_text="passive members: no asks for mobilisation to strengthen",
        bounds=(-2.0, 2.0),
    ),
    Pattern(
        name="burden_rebound",
        title="9 · Burden rebound",
        hypothesis="A one-off burden cut (减负) raises the community's effective capacity, which falls back "
        "as tasks drift back once the campaign ends.",
        source="docs/ODD.md §1 pattern 9, §7.9.5.",
        design="Conduction's burden cut alone for weeks 1–26, against the baseline; 104 weeks.",
        effect="W_eff gain at week 26 minus the gain at week 104; δ = 0.05",
        measure=_rebound,
        knockout=("levers.conduction.rebound=0",),
        knockout_text="no drift back (ω = 0): task growth stays where the campaign left it",
        margin=0.05,
        bounds=(-math.inf, math.inf),
    ),
    Pattern(
        name="crowd_out",
        title="10 · Growing tasks crowd out services",
        hypothesis="Tasks added at each hand-off (层层加码) take the community workforce away from "
        "residents: satisfaction falls.",
        source="docs/ODD.md §7.9.5 (B = B₀ Π(1 + φ_ℓ), W_eff = (1 − B/B_max)⁺).",
        design="Task growth 0 against 0.25 per hand-off; 104 weeks; weeks 53–104.",
        effect="satisfaction lost to task growth",
        measure=_crowd_out,
        knockout=("levers.conduction.base_burden=0",),
        knockout_text="no tasks from above (B₀ = 0): growth multiplies nothing",
        bounds=(-1.0, 1.0),
    ),
    Pattern(
        name="public_goods_decay",
        title="11 · Contributions decay without recognition",
        hypothesis="In a repeated public-goods game without recognition or sanctions, contributions fall "
        "over the rounds.",
        source="Isaac, Walker & Thomas (1984); Ledyard (1995); Fehr & Gächter (2000); "
        "Macy & Flache (2002) for the learning rule.",
        design="Baseline (no joint meeting); contribution rate in weeks 1–4 against weeks 93–104.",
        effect="fall in the share of organisations contributing",
        measure=_public_goods_decay,
        knockout=("dynamics.learning_rate=0",),
        knockout_text="organisations do not learn (l = 0): propensities stay where they start",
        bounds=(-1.0, 1.0),
    ),
    Pattern(
        name="recognition_sustains",
        title="12 · Recognition sustains contributions",
        hypothesis="With recognition for contributors (the Party-led joint meeting), contributions are "
        "sustained well above the game without it.",
        source="Fehr & Gächter (2000) sanctions; Andreoni & Petrie (2004) recognition; docs/ODD.md §7.9.2.",
        design="Converging at intensity 1 against none; contribution rate in weeks 93–104.",
        effect="rise in the share of organisations contributing",
        measure=_recognition,
        knockout=("levers.converging.pooled_recognition=0", "levers.embedding.recognition=0"),
        knockout_text="no recognition (δ = 0 and embedding's ρ_e = 0); the meeting still cuts coordination "
        "costs and brings street resources down",
        bounds=(-1.0, 1.0),
    ),
)

BY_NAME = {p.name: p for p in PATTERNS}


@dataclass
class PatternResult:
    """A pattern's verdict, its knock-out's verdict and the data of their figures."""

    pattern: Pattern
    main: Verdict
    knocked: Verdict
    measured: Measured
    knocked_measured: Measured
    seconds: float

    def row(self, seed: int) -> dict[str, Any]:
        p, m, k = self.pattern, self.main, self.knocked
        return {
            "pattern": p.name,
            "title": p.title,
            "effect": p.effect,
            "seeds": m.n,
            "seed": seed,
            "mean": m.interval.mean,
            "low": m.interval.low,
            "high": m.interval.high,
            "level": m.interval.level,
            "kind": m.interval.kind,
            "method": m.interval.method,
            "margin": p.margin,
            "verdict": m.verdict,
            "test": TEST.format(method=m.interval.method, n=m.n, margin=p.margin),
            "knockout": " ".join(p.knockout),
            "knockout_mean": k.interval.mean,
            "knockout_low": k.interval.low,
            "knockout_high": k.interval.high,
            "knockout_verdict": k.verdict,
            "knockout_fails": k.verdict == "fails",
            "notes": self.measured.notes,
            "seconds": self.seconds,
        }


def run_pattern(pattern: Pattern, runner: Runner) -> PatternResult:
    """The pattern's experiment and its knock-out on the runner's seeds."""
    started = time.perf_counter()
    measured = pattern.measure(runner, ())
    knocked = pattern.measure(runner, pattern.knockout)
    return PatternResult(
        pattern,
        judge(measured.effects, pattern.margin, pattern.bounds),
        judge(knocked.effects, pattern.margin, pattern.bounds),
        measured,
        knocked,
        time.perf_counter() - started,
    )


def validate(
    names: Sequence[str] | None = None,
    seeds: int = DEFAULT_SEEDS,
    seed: int = DEFAULT_SEED,
    base: Sequence[str] = ("community=workshop",),
    progress: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, list[PatternResult]]:
    """Run the patterns (all, or those named) and return one row per pattern plus the details."""
    chosen = list(names) if names else [p.name for p in PATTERNS]
    unknown = [n for n in chosen if n not in BY_NAME]
    if unknown:
        raise ValueError(f"patterns={','.join(unknown)} is not known; allowed: {', '.join(BY_NAME)}")
    runner = Runner(seeds, seed, base)
    results = []
    for i, name in enumerate(chosen, 1):
        result = run_pattern(BY_NAME[name], runner)
        results.append(result)
        if progress:
            progress(
                f"[{i}/{len(chosen)}] {name}: {result.main.verdict} (knock-out: {result.knocked.verdict}), "
                f"{result.seconds:.0f} s, {runner.runs} runs so far"
            )
    table = pd.DataFrame([r.row(seed) for r in results])
    return table, results


def seeds_of(seed: int, seeds: int) -> dict[str, Any]:
    """The seeds of a validation, for its provenance."""
    return {"seed": seed, "seeds": seeds, "replicate_streams": "SeedSequence(seed).spawn(seeds), every arm"}


def record(
    table: pd.DataFrame,
    seeds: int,
    seed: int,
    base: Sequence[str],
    provenance: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What ``validation.json`` keeps beside the table: the settings, each pattern's verdicts and
    the ``provenance`` given (default: this process's, see :mod:`sim.results.provenance`)."""
    if provenance is None:
        from sim.results.provenance import provenance as this_process

        provenance = this_process(seeds_of(seed, seeds))
    return {
        "seeds": seeds,
        "seed": seed,
        "base": list(base),
        "verdicts": {
            row.pattern: {"verdict": row.verdict, "knockout_verdict": row.knockout_verdict}
            for row in table.itertuples()
        },
        "provenance": provenance,
    }
