"""Structured configuration: dataclasses with defaults, documented ranges and validation.

Every numeric field is declared with :func:`param`, which records its allowed range and a
one-line meaning (docs/ODD.md's parameter tables carry the same words, with a source or an
assumption). Hydra uses the dataclasses as schemas (so unknown keys and wrong types are
refused while composing); :func:`validate` then checks every range and the few cross-field
rules, and raises :class:`ConfigError` with a message naming the key, the value and what is
allowed. :func:`parse_number` reads a number typed on a command line or set in the environment
with the same words.

The lever configs live beside their mechanisms in :mod:`sim.core.levers`; this module gathers
them into :class:`LeversConfig`.

Why one module of this length: three quarters of it is the schema itself, the community's and
the dynamics' parameters, each with its default, range and meaning, which Hydra reads as one
tree; the rest is the one validation of that tree and of numbers given as text.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.core.levers.conduction import ConductionConfig
from sim.core.levers.converging import ConvergingConfig
from sim.core.levers.embedding import EmbeddingConfig
from sim.core.levers.immersion import ImmersionConfig
from sim.core.levers.integration import IntegrationConfig
from sim.core.levers.linking import LinkingConfig
from sim.core.members import MembersConfig
from sim.core.params import ConfigError, param
from sim.core.trust import TrustConfig

__all__ = [
    "CHANNELS",
    "COMMUNITY_TYPES",
    "NEED_CATEGORIES",
    "PROFILES",
    "CommunityConfig",
    "Config",
    "ConfigError",
    "DynamicsConfig",
    "LeversConfig",
    "MembersConfig",
    "ScenarioInfo",
    "ShockConfig",
    "TrustConfig",
    "from_dict",
    "validate",
]

NEED_CATEGORIES: tuple[str, ...] = ("care", "family", "property", "safety", "dispute")
CHANNELS: tuple[str, ...] = ("government", "social", "volunteer", "market")
PROFILES: tuple[str, ...] = ("elderly", "family", "worker")
#: the community types of ``sim/configs/community/type/`` (docs/community_types.md)
COMMUNITY_TYPES: tuple[str, ...] = (
    "mixed",
    "old_compound",
    "commercial_estate",
    "resettlement",
    "migrant_rental",
)
#: where the shipped community presets live (package data, read by :func:`from_dict`)
_COMMUNITY_CONFIGS = Path(__file__).resolve().parent.parent / "configs" / "community"
#: a larger community does not fit in memory (about 1 kB of state per household) or int32 indices
MAX_HOUSEHOLDS = 10_000_000


@dataclass
class CommunityConfig:
    """Size and make-up of the synthetic community.

    Size comes from the config group ``community`` (workshop, community, street, metro), the
    type's shares from ``community/type`` (docs/community_types.md). Counts are allocated
    deterministically from the shares; ``seed`` places households, ties and members.
    """

    preset: str = param("community", doc="name of the size preset this came from")
    type: str = param("mixed", doc="community type (community/type): " + ", ".join(COMMUNITY_TYPES))
    seed: int = param(
        20261201, 0, 2**63 - 1, "structure seed: places households, ties, members, traits (not behaviour)"
    )
    vary_structure: bool = param(
        False, doc="give replicates their own structure seeds (structural uncertainty, reported apart)"
    )
    runs_per_structure: int = param(
        2, 1, 1000, "with vary_structure: replicates sharing one structure (to separate the two spreads)"
    )
    n_compounds: int = param(4, 1, 2000, "compounds (小区) in the community")
    buildings_per_compound: int = param(6, 1, 500, "buildings (楼院) per compound")
    households_per_building: int = param(50, 1, 2000, "mean households per building")
    building_size_spread: float = param(0.4, 0.0, 0.9, "building sizes are uniform in mean·(1 ± spread)")
    party_share: float = param(0.08, 0.0, 1.0, "share of households that are Party-member households")
    building_leader_share: float = param(
        0.3, 0.0, 1.0, "share of Party members who act as building leaders (楼栋长)"
    )
    elderly_share: float = param(0.30, 0.0, 1.0, "share of elderly households")
    family_share: float = param(0.35, 0.0, 1.0, "share of families with children; the rest are workers")
    young_share: float = param(
        0.35,
        0.0,
        1.0,
        "share of non-elderly households that are young (under 35; the Youth League's constituency)",
    )
    ring_degree: int = param(6, 0, 40, "ties to nearest neighbours within a building (ring lattice, even)")
    cross_building_ties: float = param(
        0.75, 0.0, 10.0, "mean ties a household starts to other buildings of its compound"
    )
    cross_compound_ties: float = param(0.15, 0.0, 10.0, "mean ties a household starts to other compounds")
    property_managed_share: float = param(0.75, 0.0, 1.0, "share of compounds served by a property company")
    compounds_per_company: int = param(2, 1, 1000, "compounds one property company serves")
    owners_committee_share: float = param(
        0.5, 0.0, 1.0, "share of compounds that have formed an owners' committee (业委会)"
    )
    social_orgs_per_1000: float = param(3.0, 0.0, 100.0, "social organisations per 1,000 households")
    enterprises_per_1000: float = param(3.0, 0.0, 100.0, "non-public enterprises per 1,000 households")
    new_business_per_1000: float = param(
        2.0, 0.0, 100.0, "new business forms and commercial areas per 1,000 households"
    )
    stationed_units_per_1000: float = param(
        1.5, 0.0, 100.0, "public institutions stationed in the area (驻区单位) per 1,000 households"
    )
    street_departments: int = param(3, 0, 100, "street departments sinking down (vertical actors)")
    initial_trust: float = param(0.5, 0.0, 1.0, "mean initial trust T in the community Party organisation")
    initial_satisfaction: float = param(0.5, 0.0, 1.0, "mean initial satisfaction S")
    initial_expectation: float = param(0.55, 0.0, 1.0, "mean initial expectation E")
    civic_resources_mean: float = param(
        0.4, 0.01, 0.99, "mean civic resources r (time, skills, money), Beta-distributed"
    )
    company_quality: float = param(
        0.6, 0.0, 1.0, "mean initial (and replacement) service quality of property companies"
    )
    fee_payment_shift: float = param(
        0.0, -0.5, 0.5, "shift of the fee collection rate from dynamics.fee_base by payment habits"
    )

    @property
    def expected_households(self) -> int:
        return self.n_compounds * self.buildings_per_compound * self.households_per_building


@dataclass
class ShockConfig:
    """A service failure imposed from outside, to study recovery (pattern 4)."""

    week: int = param(-1, -1, 10_000, "week the failure starts; -1 for none")
    duration: int = param(4, 1, 10_000, "weeks the failure lasts")
    depth: float = param(0.8, 0.0, 1.0, "share of every channel's capacity lost during the failure")
    conflicts: int = param(0, 0, 1000, "conflicts opened in every compound when the failure starts")


@dataclass
class DynamicsConfig:
    """Parameters of the residents' submodels and service supply (docs/design.md §2–3)."""

    need_rates_elderly: list[float] = param(
        [0.040, 0.006, 0.018, 0.012, 0.008],
        0.0,
        1.0,
        "weekly need arrival ν by category (care, family, property, safety, dispute), elderly",
        per="need category",
    )
    need_rates_family: list[float] = param(
        [0.010, 0.035, 0.018, 0.012, 0.008],
        0.0,
        1.0,
        "weekly need arrival ν by category, families",
        per="need category",
    )
    need_rates_worker: list[float] = param(
        [0.004, 0.010, 0.018, 0.012, 0.008],
        0.0,
        1.0,
        "weekly need arrival ν by category, workers",
        per="need category",
    )
    need_decay: float = param(
        0.05, 0.0, 1.0, "weekly share of unmet need that households settle themselves or give up on"
    )
    need_weights: list[float] = param(
        [1.0, 1.0, 1.0, 1.0, 1.0],
        0.0,
        10.0,
        "weight w_k of each category in perceived performance",
        per="need category",
    )
    government_capacity: float = param(
        0.10,
        0.0,
        1.0,
        "need units per household per week delivered by a full-strength community workforce",
    )
    social_capacity: float = param(
        0.03,
        0.0,
        1.0,
        "need units per household per week from social organisations outside the joint game",
    )
    volunteer_capacity: float = param(0.15, 0.0, 1.0, "need units per participant per week of mutual aid")
    market_capacity: float = param(
        0.06, 0.0, 1.0, "need units per household per week a quality-1 property company delivers"
    )
    channel_overlap: float = param(
        0.25,
        0.0,
        0.9,
        "share of channel effort lost to duplicated service when channels do not coordinate",
    )
    base_need_information: float = param(
        0.3, 0.0, 1.0, "need information A without any reporting or consultation"
    )
    satisfaction_rate: float = param(0.2, 0.1, 0.3, "λ_S, weight of this week's experience in S")
    satisfaction_base: float = param(0.2, -1.0, 1.0, "s₀, satisfaction at zero performance and no surprise")
    satisfaction_performance: float = param(0.6, 0.0, 2.0, "a_Q, weight of performance Q")
    satisfaction_disconfirmation: float = param(0.5, 0.0, 2.0, "a_D, weight of disconfirmation Q − E")
    expectation_floor: float = param(0.3, 0.0, 1.0, "E_norm, normative floor of expectations")
    expectation_up: float = param(0.03, 0.0, 0.2, "η⁺, weekly rate at which E rises toward Q")
    expectation_down_ratio: float = param(2.0, 1.0, 5.0, "η⁻/η⁺, how much faster E falls than rises")
    trust_up: float = param(0.03, 0.0, 0.2, "α⁺, weekly rate at which trust rises toward S")
    trust_down_ratio: float = param(3.0, 1.0, 10.0, "α⁻/α⁺, how much faster trust falls")
    trust_neighbour: float = param(0.02, 0.0, 0.2, "μ, pull toward neighbours' mean trust")
    conflict_trust_shock: float = param(
        0.01, 0.0, 0.5, "weekly share of its trust a household loses per open conflict of its compound (≤ 3)"
    )
    threshold_mean: float = param(0.65, -1.0, 2.0, "μ_θ, mean participation threshold")
    threshold_sd: float = param(0.4, 0.0, 2.0, "σ_θ, spread of participation thresholds")
    resource_effect: float = param(0.2, 0.0, 2.0, "β_R, threshold lowered per unit of civic resources")
    trust_effect: float = param(0.2, 0.0, 2.0, "β_T, push of trust above ½ toward participating")
    recruitment_effect: float = param(0.2, 0.0, 1.0, "ρ, push of being asked by a Party member")
    fee_sensitivity: float = param(
        0.8,
        0.0,
        5.0,
        "rise in a company's fee collection per unit of compound satisfaction above ½",
    )
    fee_base: float = param(0.65, 0.0, 1.0, "fee collection rate at satisfaction ½")
    fee_break_even: float = param(0.7, 0.0, 1.0, "fee collection at which a company keeps its quality")
    quality_reversion: float = param(
        0.02, 0.0, 1.0, "weekly pull of a company's quality back toward its own standard"
    )
    quality_adjustment: float = param(0.05, 0.0, 1.0, "weekly quality change per unit of fee surplus")
    service_floor: float = param(
        0.2, 0.0, 1.0, "lowest service quality the street's property office lets a company fall to"
    )
    quality_response: float = param(
        0.05,
        0.0,
        1.0,
        "weekly quality a company adds per unit of complaint pressure (unrepaired need × fees)",
    )
    owners_committee_pressure: float = param(
        1.0,
        0.0,
        10.0,
        "extra complaint pressure, relative, where an owners' committee presses the company (1 = doubled)",
    )
    replacement_threshold: float = param(
        0.35, 0.0, 1.0, "compound satisfaction below which its owners' committee moves to replace the company"
    )
    replacement_patience: int = param(
        12, 1, 1000, "weeks of satisfaction below the threshold before a replacement can be voted"
    )
    replacement_rate: float = param(
        0.05, 0.0, 1.0, "weekly chance of replacing the company once the patience has run out"
    )
    replacement_risk_response: float = param(
        0.01, 0.0, 1.0, "weekly quality a company adds at full risk of replacement (patience run out)"
    )
    red_property_weight: float = param(
        0.1,
        0.0,
        1.0,
        "weekly quality a company with a Party branch (红色物业) adds per unit of satisfaction below ½",
    )
    conflict_intercept: float = param(-5.0, -20.0, 5.0, "γ₀, log-odds of a weekly conflict at no gap")
    conflict_gap: float = param(4.0, 0.0, 20.0, "γ₁, log-odds per unit of E − company quality")
    conflict_repairs: float = param(
        5.0, 0.0, 50.0, "γ_R, log-odds per unit of mean property need left unrepaired in the compound"
    )
    conflict_arrears: float = param(
        2.0, 0.0, 20.0, "γ_A, log-odds per unit of fee arrears (1 − the company's fee collection)"
    )
    mediation_rate: float = param(
        0.08, 0.0, 1.0, "weekly chance that community mediation (人民调解) resolves an open conflict"
    )
    resolution_owners_committee: float = param(
        0.05, 0.0, 1.0, "weekly chance that negotiation through the owners' committee resolves a conflict"
    )
    resolution_legal: float = param(
        0.01, 0.0, 1.0, "weekly chance that the legal channel (slow, sure) settles a conflict"
    )
    resolution_street: float = param(
        0.1, 0.0, 1.0, "weekly chance that the street settles a conflict open longer than street_after_weeks"
    )
    street_after_weeks: int = param(8, 0, 1000, "weeks a conflict stays open before the street steps in")
    conflict_dispute_need: float = param(
        0.05,
        0.0,
        1.0,
        "dispute need added per week per unit of grievance (service gap + unrepaired need) in conflict",
    )
    no_management_property_need: float = param(
        0.5, 0.0, 5.0, "extra property need arrival in compounds without property management (×ν)"
    )
    synergy: float = param(1.5, 1.0, 2.0, "r, synergy of pooled organisational contributions")
    coordination_cost: float = param(0.3, 0.0, 0.9, "share of joint capacity lost to coordination")
    joint_capacity_scale: float = param(
        0.01,
        0.0,
        1.0,
        "need units per household per week per unit of pooled resources per household",
    )
    learning_rate: float = param(0.2, 0.0, 1.0, "l, Bush–Mosteller learning rate of organisations")
    aspiration: float = param(0.1, -10.0, 10.0, "A, organisations' payoff aspiration")
    initial_propensity: float = param(0.15, 0.0, 1.0, "x₀, organisations' initial contribution propensity")
    shock: ShockConfig = field(default_factory=ShockConfig)


@dataclass
class LeversConfig:
    """The six levers (六入); each has an ``intensity`` in [0, 1]. All zero is the baseline."""

    embedding: EmbeddingConfig = field(default_factory=EmbeddingConfig)
    converging: ConvergingConfig = field(default_factory=ConvergingConfig)
    linking: LinkingConfig = field(default_factory=LinkingConfig)
    immersion: ImmersionConfig = field(default_factory=ImmersionConfig)
    conduction: ConductionConfig = field(default_factory=ConductionConfig)
    integration: IntegrationConfig = field(default_factory=IntegrationConfig)

    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(self))


@dataclass
class ScenarioInfo:
    """What a facilitator reads out about the scenario in use (config group ``scenario``)."""

    name: str = "baseline"
    title_en: str = "Baseline"
    title_zh: str = "基线"
    description_en: str = "The community as it is, with no lever switched on."
    description_zh: str = "社区现状，不启用任何举措。"


@dataclass
class Config:
    """Top-level configuration of one job: a parameter point and its replicates."""

    community: CommunityConfig = field(default_factory=CommunityConfig)
    dynamics: DynamicsConfig = field(default_factory=DynamicsConfig)
    levers: LeversConfig = field(default_factory=LeversConfig)
    members: MembersConfig = field(default_factory=MembersConfig)
    trust: TrustConfig = field(default_factory=TrustConfig)
    scenario: ScenarioInfo = field(default_factory=ScenarioInfo)
    budget: float = param(
        math.inf,
        0.0,
        math.inf,
        "weekly budget per 1,000 households for all levers (inf: unbounded)",
    )
    seed: int = param(20261128, 0, 2**63 - 1, "root seed; replicate r uses SeedSequence(seed).spawn()[r]")
    steps: int = param(104, 1, 100_000, "weeks to simulate")
    replicates: int = param(5, 1, 100_000, "independent replicates of this parameter point")
    interval_half_width: float = param(
        0.02, 1e-4, 1.0, "target half-width of the 95% interval for the mean of a proportion"
    )
    baseline_comparison: bool = param(
        True, doc="also run the baseline with the same seeds to measure gain and cost-effectiveness"
    )
    record_buildings: bool = param(True, doc="record per-building series for maps")
    check_finite: bool = param(False, doc="debug mode: check every state array for NaN/inf each step")
    report: bool = param(False, doc="also write report.html (sim-report) next to the results")
    experiment: str = param(
        "adhoc", doc="name of the sweep (sim/configs/experiment/); names results/sweeps/NAME"
    )


def _walk(obj: Any, prefix: str = ""):
    """Yield (dotted key, dataclass field, value) for every leaf of a config tree."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            yield from _walk(value, key + ".")
        else:
            yield key, f, value


def _fmt(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def _allowed(lo: float | None, hi: float | None, noun: str = "a number") -> str:
    if lo is not None and hi is not None:
        return f"{noun} from {_fmt(lo)} to {_fmt(hi)}"
    if lo is not None:
        return f"{noun} ≥ {_fmt(lo)}"
    if hi is not None:
        return f"{noun} ≤ {_fmt(hi)}"
    return noun


def _outside(value: float, lo: float | None, hi: float | None) -> bool:
    return math.isnan(value) or (lo is not None and value < lo) or (hi is not None and value > hi)


def _check_number(key: str, value: Any, lo: float | None, hi: float | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{key}={value!r} is not a number; allowed: {_allowed(lo, hi)}")
    if _outside(value, lo, hi):
        raise ConfigError(f"{key}={value!r} is out of range; allowed: {_allowed(lo, hi)}")


def parse_number(
    key: str,
    text: str | None,
    kind: type[int] | type[float] = float,
    lo: float | None = None,
    hi: float | None = None,
    default: Any = None,
    allowed: str | None = None,
) -> Any:
    """``text`` typed for ``key`` on a command line or set in the environment, as ``kind`` in [lo, hi].

    ``default`` when ``text`` is None (not given). Raises ConfigError with one line naming the key,
    the text and what is allowed (``allowed``, or the range in words); NaN is out of every range.
    """
    if text is None:
        return default
    noun = "an integer" if kind is int else "a number"
    allowed = allowed or _allowed(lo, hi, noun)
    try:
        value = kind(text)
    except ValueError:
        raise ConfigError(f"{key}={text} is not {noun}; allowed: {allowed}") from None
    if _outside(value, lo, hi):
        raise ConfigError(f"{key}={text} is out of range; allowed: {allowed}")
    return value


def validate(cfg: Config) -> Config:
    """Check every range and cross-field rule of ``cfg``; return it unchanged or raise ConfigError."""
    for key, f, value in _walk(cfg):
        lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
        if lo is None and hi is None:
            continue
        if isinstance(value, list):
            for i, item in enumerate(value):
                _check_number(f"{key}[{i}]", item, lo, hi)
            expected = f.metadata.get("length")
            if expected is not None and len(value) != expected:
                raise ConfigError(
                    f"{key} has {len(value)} values; allowed: exactly {expected} "
                    f"(one per {f.metadata.get('per', 'item')})"
                )
        else:
            _check_number(key, value, lo, hi)

    c = cfg.community
    if c.type not in COMMUNITY_TYPES:
        raise ConfigError(
            f"community.type={c.type!r} is not a community type; allowed: {', '.join(COMMUNITY_TYPES)}"
        )
    if c.elderly_share + c.family_share > 1.0 + 1e-12:
        raise ConfigError(
            f"community.elderly_share + community.family_share = "
            f"{c.elderly_share + c.family_share:g}; allowed: at most 1 (workers are the rest)"
        )
    largest = (
        c.n_compounds
        * c.buildings_per_compound
        * round(c.households_per_building * (1 + c.building_size_spread))
    )
    if largest > MAX_HOUSEHOLDS:
        raise ConfigError(
            f"community.n_compounds × community.buildings_per_compound × community.households_per_building"
            f" = {c.n_compounds}×{c.buildings_per_compound}×{c.households_per_building} (up to {largest:,}"
            f" households); allowed: at most {MAX_HOUSEHOLDS:,} households"
        )
    if c.ring_degree % 2:
        raise ConfigError(f"community.ring_degree={c.ring_degree}; allowed: an even number")
    for lever_name in cfg.levers.names():
        getattr(cfg.levers, lever_name).check(f"levers.{lever_name}")
    return cfg


#: the community size presets (config group ``community``), shipped inside the package
PRESET_DIR = _COMMUNITY_CONFIGS
#: the keys a size preset sets; a community that gives all of them needs no preset file
PRESET_SIZE_KEYS = ("n_compounds", "buildings_per_compound", "households_per_building")


def preset_names() -> list[str]:
    """Names of the community size presets in ``sim/configs/community/``."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def from_dict(data: dict[str, Any] | None = None) -> Config:
    """Build and validate a :class:`Config` from a (possibly partial, nested) plain dict.

    This is the notebook-friendly way in: ``from_dict({"community": {"preset": "workshop"}})``.
    A shipped size preset (``community.preset``) and community type (``community.type``) bring
    their values, as ``community=NAME`` and ``community/type=NAME`` do in Hydra; keys given in
    ``data`` win over them. Keys missing from ``data`` keep their defaults; unknown keys raise
    ConfigError.
    """
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        layers = _community_presets(data or {})
        merged = OmegaConf.merge(_schema(), *layers, OmegaConf.create(data or {}))
        cfg = OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        raise ConfigError(config_error_message(exc)) from None
    assert isinstance(cfg, Config)
    return validate(cfg)


@functools.cache
def _schema() -> Any:
    """The typed, empty :class:`Config` tree values are merged onto. Built once: building it takes
    about three times as long as the copy ``OmegaConf.merge`` makes of it for every config."""
    from omegaconf import OmegaConf

    return OmegaConf.structured(Config)


def _community_presets(data: dict[str, Any]) -> list[Any]:
    """The shipped size preset's and type's values named in ``data`` (as OmegaConf layers).

    A preset name with no shipped file (a user's own ``--config-dir`` preset) is only a label,
    accepted when ``data`` gives every size itself; otherwise it is refused in one line. An
    unknown type is refused by :func:`validate`.
    """
    from omegaconf import OmegaConf

    community = data.get("community") if isinstance(data, dict) else None
    if not isinstance(community, dict):
        return []
    layers = []
    type_name = community.get("type")
    if isinstance(type_name, str) and type_name in COMMUNITY_TYPES:
        path = _COMMUNITY_CONFIGS / "type" / f"{type_name}.yaml"
        layers.append({"community": OmegaConf.to_container(OmegaConf.load(path))})
    preset = community.get("preset")
    if preset is not None:
        name = str(preset)
        if name in preset_names():
            layers.append({"community": OmegaConf.to_container(OmegaConf.load(PRESET_DIR / f"{name}.yaml"))})
        elif not all(key in community for key in PRESET_SIZE_KEYS):
            raise ConfigError(
                f"community.preset={name!r} is not a size preset; allowed: {', '.join(preset_names())} "
                f"(or give {', '.join('community.' + k for k in PRESET_SIZE_KEYS)} yourself)"
            )
    return [OmegaConf.create(layer) for layer in layers]


def config_error_message(exc: Exception) -> str:
    """One line from an OmegaConf error: the key, the value and what is allowed."""
    key = getattr(exc, "full_key", None) or "?"
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{key}: {msg}"
