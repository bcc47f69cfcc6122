"""``sim-run``: the Hydra entry point. One job = one parameter point × its replicates.

    sim-run                                   # the default community, 104 weeks
    sim-run community=workshop steps=52       # any key can be overridden
    sim-run scenario=all_six                  # a named workshop scenario
    sim-run -m levers.linking.intensity=0,0.5,1   # a sweep (one job per point)
    sim-run -m experiment=lever_ablation      # a named sweep (configs/experiment/)
    sim-run -m experiment=lever_ablation resume=true   # finish the newest such sweep

Before Hydra creates any directory, the overrides of a single run are composed and
validated; a bad key or value ends with one line naming it and exit code 2.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim.config import Config, ConfigError, config_error_message, from_dict

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
EXIT_BAD_CONFIG = 2

ConfigStore.instance().store(name="config_schema", node=Config)


def to_config(cfg: DictConfig) -> Config:
    """A composed Hydra config → a validated :class:`Config` (raises ConfigError)."""
    from omegaconf.errors import OmegaConfBaseException

    try:
        data = OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as exc:
        raise ConfigError(config_error_message(exc)) from None
    # Re-merging onto the schema also refuses keys appended with `+key=value`.
    return from_dict(data)


def run_job(config: Config, out_dir: Path, config_yaml: str) -> dict:
    """Simulate every replicate of ``config`` and write the run into ``out_dir``."""
    from sim.results import write_run
    from sim.simulate import simulate

    result = simulate(config)
    write_run(out_dir, result.metrics, result.buildings, result.summary, config_yaml)
    return result.summary


def format_summary(summary: dict) -> str:
    """A short table of the headline metrics at the final step."""
    keys = [
        "participation",
        "satisfaction",
        "trust",
        "unmet_need",
        "need_information",
        "conflicts_open",
        "satisfaction_gain",
        "cost_effectiveness",
    ]
    lines = [
        f"scenario={summary['scenario']} preset={summary['preset']} steps={summary['steps']} "
        f"replicates={summary['replicates']} ({summary['elapsed_seconds']:.1f} s)",
        f"{'metric (final week)':<24}{'mean':>10}{'95% interval':>24}",
    ]
    for key in keys:
        row = summary["final"].get(key)
        if row is None or row["mean"] is None or row["mean"] != row["mean"]:
            continue
        lines.append(f"{key:<24}{row['mean']:>10.3f}    [{row['ci95_low']:.3f}, {row['ci95_high']:.3f}]")
    return "\n".join(lines)


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def main(cfg: DictConfig) -> Any:
    """Hydra task: validate, simulate, write, print a summary; returns final satisfaction.

    A job of the design sweeper runs its batch of points instead (see :mod:`sim.sweep`) and
    returns what ran, was skipped and failed. In any other sweep a job whose directory already
    holds a complete run of the same config is skipped, so re-running a sweep resumes it.
    """
    hydra_cfg = HydraConfig.get()
    out_dir = Path(hydra_cfg.runtime.output_dir)
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    points = OmegaConf.select(hydra_cfg, "sweeper.points", default=None)
    if points is not None:
        from sim.sweep import run_points

        return run_points(cfg, out_dir, Path(hydra_cfg.sweep.dir), list(points))
    try:
        config = to_config(cfg)
    except ConfigError as exc:
        _remove_if_only_hydra_record(out_dir)
        print(f"sim-run: error: {exc}", file=sys.stderr)
        sys.exit(EXIT_BAD_CONFIG)
    config_yaml = OmegaConf.to_yaml(cfg)
    if hydra_cfg.mode == RunMode.MULTIRUN and _complete_with(out_dir, config_yaml):
        from sim.results import load_summary

        print(f"skipped (already complete): {out_dir}")
        return float(load_summary(out_dir)["final"]["satisfaction"]["mean"])
    summary = run_job(config, out_dir, config_yaml)
    print(format_summary(summary))
    print(f"results: {out_dir}")
    if config.report:
        from sim.report import write_report

        print(f"report: {write_report(out_dir)[0]}")
    return float(summary["final"]["satisfaction"]["mean"])


def _complete_with(out_dir: Path, config_yaml: str) -> bool:
    """Whether ``out_dir`` holds a complete, undamaged run of exactly this config."""
    from sim.results import CONFIG_FILE, check_run

    if check_run(out_dir) is not None:
        return False
    return (out_dir / CONFIG_FILE).read_text(encoding="utf-8") == config_yaml


def _remove_if_only_hydra_record(out_dir: Path) -> None:
    """Undo the directory Hydra made for a job that failed validation (results are never touched)."""
    if not out_dir.is_dir():
        return
    allowed = {".hydra", "run.log", "sim-run.log"}
    if all(p.name in allowed or p.suffix == ".log" for p in out_dir.iterdir()):
        import shutil

        shutil.rmtree(out_dir, ignore_errors=True)


def precheck(overrides: list[str]) -> None:
    """Compose and validate a single run's overrides without writing anything."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    user = [o for o in overrides if not o.lstrip("+~").startswith(("hydra.", "hydra/"))]
    try:
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            cfg = compose(config_name="config", overrides=user)
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(explain_hydra_error(exc, user)) from None
    to_config(cfg)


def explain_hydra_error(exc: Exception, overrides: list[str]) -> str:
    """One line from a Hydra composition error: the key, the value and what is allowed."""
    from hydra.errors import MissingConfigException

    text = str(exc)
    if isinstance(exc, MissingConfigException) or "Could not find" in text:
        for override in overrides:
            key, _, value = override.partition("=")
            group_dir = CONFIG_DIR / key
            if group_dir.is_dir() and not (group_dir / f"{value}.yaml").exists():
                options = sorted(p.stem for p in group_dir.glob("*.yaml"))
                return f"{key}={value} is not a known {key}; allowed: {', '.join(options)}"
    cause = exc.__cause__ or exc.__context__
    key = getattr(cause, "full_key", None) or getattr(exc, "full_key", None)
    detail = (str(cause) if cause else text).splitlines()[0]
    if key:
        value = next(
            (o.partition("=")[2] for o in overrides if o.lstrip("+~").partition("=")[0] == key),
            None,
        )
        shown = f"{key}={value}" if value is not None else key
        return f"{shown}: {detail}"
    return text.splitlines()[0]


def cli() -> None:
    """Console entry point: validate up front, resolve ``resume=``, then hand over to Hydra."""
    args, resume = _pop_resume(sys.argv[1:])
    multirun = any(a in ("-m", "--multirun") for a in args)
    single_run = not any(a.startswith("-") for a in args)
    try:
        if resume is not None and not multirun:
            raise ConfigError(f"resume={resume}: allowed only with a sweep (sim-run -m ...)")
        if single_run:
            precheck(args)
        elif multirun:
            precheck(_fixed_overrides(args))
        if resume is not None and resume.lower() not in ("false", "no", "0"):
            args = [*args, *_resume_dir_override(args, resume)]
    except ConfigError as exc:
        print(f"sim-run: error: {exc}", file=sys.stderr)
        sys.exit(EXIT_BAD_CONFIG)
    sys.argv = [sys.argv[0], *args]
    main()


def _pop_resume(args: list[str]) -> tuple[list[str], str | None]:
    """Take ``resume=VALUE`` off the command line (it steers sim-run, it is not a model key)."""
    rest, resume = [], None
    for a in args:
        if a.startswith("resume="):
            resume = a.partition("=")[2]
        else:
            rest.append(a)
    return rest, resume


def _fixed_overrides(args: list[str]) -> list[str]:
    """The overrides of a sweep that are the same for every job (no sweep syntax, no hydra keys)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    plain = [a for a in args if not a.startswith("-")]
    try:
        parsed = OverridesParser.create().parse_overrides(plain)
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(str(exc).splitlines()[0]) from None
    return [o.input_line for o in parsed if not o.is_sweep_override() and not o.is_hydra_override()]


def _resume_dir_override(args: list[str], resume: str) -> list[str]:
    """``hydra.sweep.dir=...`` of the sweep to resume: a given path, or the newest matching sweep."""
    from sim.sweep import find_resume_dir

    explicit = [a for a in args if a.lstrip("+").startswith("hydra.sweep.dir=")]
    if resume.lower() not in ("true", "yes", "1"):
        path = Path(resume)
        if not path.is_dir():
            raise ConfigError(
                f"resume={resume}: no such sweep directory; allowed: true, false or a sweep directory"
            )
        return [f"hydra.sweep.dir={path}"]
    if explicit:
        return []  # the same directory: the sweep resumes there by itself
    parent = _sweep_parent(args)
    found = find_resume_dir(args, parent)
    if found is None:
        print(f"sim-run: resume: no earlier sweep of this command under {parent}; starting a new one")
        return []
    print(f"sim-run: resuming {found}")
    return [f"hydra.sweep.dir={found}"]


def _sweep_parent(args: list[str]) -> Path:
    """Where this command's sweeps go: the parent of its (timestamped) hydra.sweep.dir."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=[
                *_fixed_overrides(args),
                *[a for a in args if a.startswith(("hydra.sweep.", "hydra/"))],
            ],
            return_hydra_config=True,
        )
    return Path(str(cfg.hydra.sweep.dir)).parent


if __name__ == "__main__":
    cli()
