"""Shared helpers of the experiment notebooks: settings, composed configs, cached runs.

Every notebook reads its size from the environment so that the test suite can run it small:

    SIM_PRESET      community preset (default ``workshop``)
    SIM_STEPS       weeks per run (default 104)
    SIM_REPLICATES  replicates per parameter point (default 5)
    SIM_RESULTS     where results are kept (default: the per-user data folder, see
                    :func:`default_results`; never inside the repository)
    SIM_LANG        language of the figures, ``en`` or ``zh`` (default ``en``)
    SIM_SWEEPS      where ``sim-run -m experiment=NAME`` sweeps are (default ``results/sweeps``)

Runs are made with the library API (Hydra's compose API on ``sim/configs/`` and
:func:`sim.experiment.simulate.simulate`) and written with :func:`sim.results.write_run`; a notebook that
finds a complete run made from the same configuration loads it instead of running again.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import OmegaConf

from sim.core.config import Config
from sim.experiment import compose
from sim.experiment.compose import CONFIG_DIR, compose_config
from sim.experiment.simulate import simulate
from sim.experiment.sweep import point_config
from sim.results import CONFIG_FILE, check_run, load, write_run

ROOT = CONFIG_DIR.parent.parent
#: the application name of the per-user data folder (as platformdirs spells the folder)
APP_NAME = "community-governance-sim"


def default_results() -> Path:
    """Where the notebooks keep their runs unless SIM_RESULTS says otherwise: the per-user data
    folder (``~/.local/share/community-governance-sim/experiments`` on Linux, the matching
    folders on macOS and Windows), outside the repository so results never end up in git."""
    try:
        from platformdirs import user_data_path
    except ImportError:  # platformdirs comes with Jupyter; without it, the XDG default
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / APP_NAME
    else:
        base = user_data_path(APP_NAME, appauthor=False)
    return base / "experiments"


@dataclass(frozen=True)
class Settings:
    """Size of the experiments and where their results live."""

    preset: str
    steps: int
    replicates: int
    results: Path
    lang: str


def settings(name: str) -> Settings:
    """Settings from the environment; results go to ``<SIM_RESULTS>/<name>`` (printed)."""
    chosen = os.environ.get("SIM_RESULTS")
    base = Path(chosen).expanduser() if chosen else default_results()
    lang = os.environ.get("SIM_LANG", "en")
    if lang not in ("en", "zh"):
        raise ValueError(f"SIM_LANG={lang!r}; allowed: 'en' or 'zh'")
    s = Settings(
        preset=os.environ.get("SIM_PRESET", "workshop"),
        steps=int(os.environ.get("SIM_STEPS", "104")),
        replicates=int(os.environ.get("SIM_REPLICATES", "5")),
        results=base / name,
        lang=lang,
    )
    how = "SIM_RESULTS" if chosen else "the per-user data folder; set SIM_RESULTS to change it"
    print(f"results of {name} are kept in {s.results} ({how})")
    return s


def config(s: Settings, *overrides: str) -> Config:
    """A validated Config composed from ``sim/configs/`` like ``sim-run`` would, plus overrides."""
    base = [f"community={s.preset}", f"steps={s.steps}", f"replicates={s.replicates}"]
    return compose_config([*base, *overrides])


def with_values(cfg: Config, values: dict[str, Any]) -> Config:
    """A copy of ``cfg`` with dotted keys (``levers.linking.intensity``) set, validated."""
    return point_config(cfg, values)


def scenario_names() -> list[str]:
    """Every workshop scenario in ``sim/configs/scenario/``, the baseline first."""
    return compose.scenario_names()


def experiment(name: str) -> dict[str, Any]:
    """The plain contents of ``sim/configs/experiment/<name>.yaml`` (to reuse its arms and ranges)."""
    return OmegaConf.to_container(OmegaConf.load(CONFIG_DIR / "experiment" / f"{name}.yaml"))


def _dotted(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_dotted(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


# keys of an experiment file that describe the sweep, or its size, rather than the model
_SWEEP_KEYS = ("defaults", "hydra", "experiment", "replicates", "steps")


def experiment_config(s: Settings, name: str, *overrides: str) -> Config:
    """The base configuration of ``sim/configs/experiment/<name>.yaml`` at the notebook's size.

    Its model settings (levers switched on, series recorded, baseline twin) are applied; its
    sweep (``hydra.sweeper``) and its size (replicates) are left to the notebook.
    """
    spec = experiment(name)
    values = _dotted({k: v for k, v in spec.items() if k not in _SWEEP_KEYS})
    return with_values(config(s, *overrides), values)


def latest_sweep(name: str) -> Path | None:
    """The newest collected sweep directory of ``sim-run -m experiment=NAME``, or None."""
    from sim.results import COLLECTED_FILE

    base = Path(os.environ.get("SIM_SWEEPS", ROOT / "results" / "sweeps")) / name
    found = sorted(base.glob(f"*/{COLLECTED_FILE}"), key=lambda p: p.stat().st_mtime)
    return found[-1].parent if found else None


def collected_sweep(name: str) -> pd.DataFrame | None:
    """The newest collected table of ``sim-run -m experiment=NAME`` (after ``sim-collect``), or None.

    Looks for ``<SIM_SWEEPS>/<name>/<time>/collected.parquet``; parameters that were the same at
    every point (kept in the file's metadata) are put back as columns.
    """
    from sim.results import COLLECTED_FILE, collected_constants

    directory = latest_sweep(name)
    if directory is None:
        return None
    path = directory / COLLECTED_FILE
    table = load(path)  # verified against the sweep: an edited, stale or partial table is refused
    constants = {
        k: v
        for k, v in collected_constants(path).items()
        if k not in table.columns and not isinstance(v, list | dict)
    }
    if constants:
        table = pd.concat([table, pd.DataFrame(constants, index=table.index)], axis=1)
    print(f"using the collected sweep {path}")
    return table


def _yaml(cfg: Config) -> str:
    import yaml  # PyYAML (OmegaConf's own); with libyaml far quicker than OmegaConf.structured

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(dataclasses.asdict(cfg), Dumper=dumper, sort_keys=False, allow_unicode=True)


def run_or_load(cfg: Config, directory: Path) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The metrics and buildings tables of ``cfg``: loaded when ``directory`` holds a complete run
    of exactly this configuration, otherwise simulated and written there (atomically)."""
    directory = Path(directory)
    text = _yaml(cfg)
    saved = directory / CONFIG_FILE
    if check_run(directory) and saved.read_text(encoding="utf-8") == text:
        metrics = load(directory, verbose=False)
        buildings = load(directory, "buildings", verbose=False) if cfg.record_buildings else None
        return metrics, buildings
    result = simulate(cfg)
    write_run(directory, result.metrics, result.buildings, result.summary, text)
    return result.metrics, (result.buildings if cfg.record_buildings else None)


def grid_or_load(cfg: Config, axes: dict[str, list[Any]], path: Path) -> pd.DataFrame:
    """Metrics of every point of a full factorial grid over ``axes`` (dotted key → values), in one table.

    The table is written once to ``path`` (atomically) with the configuration and the axes in a
    ``.json`` beside it, and loaded instead of simulated when both are unchanged.
    """
    import itertools
    import json

    from sim.results import write_parquet, write_text

    path = Path(path)
    stamp_path = path.with_suffix(".json")
    stamp = json.dumps({"config": _yaml(cfg), "axes": axes}, sort_keys=True, default=str)
    if path.exists() and stamp_path.exists() and stamp_path.read_text(encoding="utf-8") == stamp:
        return pd.read_parquet(path)
    frames = []
    for point, values in enumerate(itertools.product(*axes.values())):
        metrics = simulate(with_values(cfg, dict(zip(axes, values, strict=True)))).metrics
        metrics.insert(0, "point", point)
        frames.append(metrics)
    table = pd.concat(frames, ignore_index=True)
    write_parquet(path, table)
    write_text(stamp_path, stamp)
    return table


def quiet(cfg: Config, **changes: Any) -> Config:
    """``cfg`` with top-level fields replaced (e.g. no per-building series, no baseline twin)."""
    return dataclasses.replace(cfg, **changes)
