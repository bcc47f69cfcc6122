"""What the reports of ``sim-calibrate``, ``sim-validate`` and ``sim-optimise`` folders share: the
kinds and the files that mark them, reading a folder, the English/Chinese strings, and the
words and numbers of a sentence."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from sim.analysis.stats import bounds_of
from sim.present import plots
from sim.present.report import story
from sim.vocab import LEVER_WORDS, domain_word, strings

#: kind -> (the command, files that mark its folder, files a report needs, files it may use)
KINDS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "calibration": (
        "sim-calibrate",
        ("calibration.json", "posterior.parquet"),
        ("posterior.parquet", "diagnostics.parquet", "summary.json"),
        ("predictive.parquet", "calibration.json"),
    ),
    "validation": ("sim-validate", ("validation.parquet",), ("validation.parquet",), ("validation.json",)),
    "optimisation": (
        "sim-optimise",
        ("optimise.json", "pareto.parquet"),
        ("optimise.json", "pareto.parquet", "evaluations.parquet"),
        ("arms.parquet", "draws.parquet"),
    ),
}

#: columns a report reads from each table
COLUMNS: dict[str, tuple[str, ...]] = {
    "posterior.parquet": ("weight",),
    "diagnostics.parquet": ("generation", "epsilon", "particles", "simulations", "effective_sample_size"),
    "validation.parquet": ("pattern", "title", "seeds", "mean", "low", "high", "margin", "verdict"),
    "pareto.parquet": ("policy", "weekly_cost", "budget", "robustness"),
    "arms.parquet": ("policy", "weekly_cost", "dominated"),
    "evaluations.parquet": ("policy_key", "policy", "draw"),
}

COLUMNS["validation.parquet"] += ("knockout_mean", "knockout_low", "knockout_high", "knockout_verdict")

ALLOWED = (
    "allowed: a run directory, a folder of runs, a collected .parquet, or the folder written by "
    "sim-calibrate, sim-validate or sim-optimise"
)

MIN_GENERATIONS, MIN_ESS, MIN_DRAWS = 3, 50, 20  # a calibration with less is rough

MIN_SEEDS = 20  # what sim-validate's verdicts are meant for

MIN_UNCERTAINTY_DRAWS = 8  # sim-optimise's default

MAX_TABLE_ROWS = 200

ALGORITHMS = {"nsga2": "NSGA-II", "nsga3": "NSGA-III"}

_t = strings("report_folder")


@dataclass
class KindSource:
    """The files of one calibration, validation or optimisation folder."""

    path: Path
    kind: str
    tables: dict[str, pd.DataFrame]
    record: dict[str, Any] = field(default_factory=dict)
    #: provenance blocks of the folder's JSON records: "run" for the command that wrote the results,
    #: "history" for the one that started a calibration's history (calibration.json)
    provenance: list[dict[str, Any]] = field(default_factory=list)


def detect(path: str | Path) -> tuple[Path, str] | None:
    """(folder, kind) when ``path`` is such a folder (or one of its files), else None."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    for kind, (_, markers, needed, extra) in KINDS.items():
        ours = path.is_dir() or path.name in (*markers, *needed, *extra)
        if ours and any((folder / m).is_file() for m in markers):
            return folder, kind
    return None


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"PATH={path} is not readable JSON ({exc.__class__.__name__}); {ALLOWED}") from None
    if not isinstance(data, dict):
        raise ValueError(f"PATH={path} is not a JSON object; {ALLOWED}")
    return data


def read_kind(folder: str | Path, kind: str) -> KindSource:
    """The tables (by file stem) and JSON record of a ``kind`` folder; one-line errors naming it."""
    from sim.results import read_parquet

    folder = Path(folder)
    command, _, needed, extra = KINDS[kind]
    missing = [name for name in needed if not (folder / name).is_file()]
    if missing and kind == "optimisation" and (folder.parent / "pareto.parquet").is_file():
        raise FileNotFoundError(
            f"PATH={folder} is the re-evaluation inside a sim-optimise folder; allowed: that folder, "
            f"{folder.parent} (or sim-discover {folder} CONDITION)"
        )
    if missing:
        raise FileNotFoundError(
            f"PATH={folder} is a {command} folder without {', '.join(missing)} (not finished, or not the "
            f"folder {command} wrote); {ALLOWED}"
        )
    found = [n for n in (*needed, *extra) if (folder / n).is_file()]
    tables = {}
    for name in (n for n in found if n.endswith(".parquet")):
        try:
            tables[Path(name).stem] = table = read_parquet(folder / name)
        except ValueError as exc:  # damaged: one line naming the file
            raise ValueError(f"{exc}; allowed: the files {command} wrote, unedited") from None
        lacking = [c for c in COLUMNS.get(name, ()) if c not in table.columns]
        if lacking:
            raise ValueError(
                f"PATH={folder / name} has no column {lacking[0]!r}, so {command} did not write it; "
                f"allowed: the files {command} wrote, unedited"
            )
    records = {Path(n).stem: _json(folder / n) for n in found if n.endswith(".json")}
    record = records.get("summary") or records.get("optimise") or {}
    if kind == "calibration":
        record = {**record, "spec": records.get("calibration", {})}
    provenance = [
        {**r["provenance"], "origin": "history" if stem == "calibration" else "run"}
        for stem, r in records.items()
        if isinstance(r.get("provenance"), dict)
    ]
    return KindSource(folder, kind, tables, record, provenance)


def _g(value: float) -> str:
    return f"{value:.3g}" if math.isfinite(value) else "–"


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%" if math.isfinite(value) else "–"


def _names(items: list[str], lang: str, limit: int = 3) -> str:
    items = list(dict.fromkeys(items))
    shown = ("、" if lang == "zh" else ", ").join(items[:limit])
    return shown + (" " + _t("more", lang, n=len(items) - limit) if len(items) > limit else "")


def _levers(row: pd.Series, keys: list[str], lang: str) -> str:
    """A portfolio's decisions in words: "Embedding 80%, Linking 40%" (intensities above 0.5%)."""
    parts = []
    for key in keys:
        value = float(row[key])
        bits = key.split(".")
        if len(bits) == 3 and bits[2] == "intensity":
            if value >= 0.005:
                parts.append(f"{domain_word(LEVER_WORDS, bits[1], lang)} {_pct(value)}")
        else:
            parts.append(f"{plots.param_label(key, lang)} {_g(value)}")
    return ("，" if lang == "zh" else ", ").join(parts) or _t("no_lever", lang)


def _statistic_bounds(metric: str, statistic: str) -> tuple[float, float]:
    """The range of a statistic of a metric: the metric's own, N times it for ``sum_last_N``."""
    lo, hi = bounds_of(metric)
    if statistic.startswith("sum_last_"):
        n = int(statistic.rsplit("_", 1)[1])
        return lo * n, hi * n
    return float(lo), float(hi)


def _quantiles(values: np.ndarray, bounds: tuple[float, float], qs=(0.05, 0.5, 0.95)) -> list[float]:
    """Quantiles of ``values`` (NaN left out) kept inside ``bounds``."""
    values = values[np.isfinite(values)]
    if not values.size:
        return [math.nan] * len(qs)
    return [float(np.clip(q, *bounds)) for q in np.quantile(values, qs)]


def _scenario_title(name: str, lang: str) -> str:
    """A scenario's (community type's) title from its config file, or its name."""
    import yaml

    from sim.experiment.compose import CONFIG_DIR

    try:
        data = yaml.safe_load((CONFIG_DIR / "scenario" / f"{name}.yaml").read_text(encoding="utf-8"))
        return str(data["scenario"][f"title_{lang}"])
    except (OSError, KeyError, TypeError, ValueError):
        return story.arm_title(name, lang)


def _drop_empty(table: pd.DataFrame) -> pd.DataFrame:
    """The table without columns that hold no value in any row."""
    empty = [
        c
        for c in table.columns
        if table[c].map(lambda v: v is None or str(v).strip() in ("", "nan", "—")).all()
    ]
    return table.drop(columns=empty)


def _interval(mid: float, low: float, high: float) -> str:
    return f"{_g(mid)} [{_g(low)}, {_g(high)}]"


Figure = tuple[str, go.Figure, str]


def _dot_intervals(
    rows: list[tuple[str, float, float, float]], name: str, colour: str, **marker: Any
) -> go.Scatter:
    """One trace of dots (``mid``) with horizontal intervals [low, high], one row per category."""
    ys, mids, lows, highs = (list(col) for col in zip(*rows, strict=True)) if rows else ([], [], [], [])
    return go.Scatter(
        x=mids,
        y=ys,
        mode="markers",
        name=name,
        marker={"color": colour, "size": 10, **marker},
        error_x={
            "type": "data",
            "symmetric": False,
            "color": colour,
            "thickness": 2,
            "array": [h - m for h, m in zip(highs, mids, strict=True)],
            "arrayminus": [m - lo for m, lo in zip(mids, lows, strict=True)],
        },
    )
