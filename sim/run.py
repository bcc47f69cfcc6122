"""``sim-run``: the Hydra entry point. One job = one parameter point × its replicates.

    sim-run                                   # the default community, 104 weeks
    sim-run community=workshop steps=52       # any key can be overridden
    sim-run scenario=all_six                  # a named workshop scenario
    sim-run -m levers.linking.intensity=0,0.5,1   # a sweep (one job per point)

Before Hydra creates any directory, the overrides of a single run are composed and
validated; a bad key or value ends with one line naming it and exit code 2.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from sim.config import Config, ConfigError, config_error_message, validate

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
EXIT_BAD_CONFIG = 2

ConfigStore.instance().store(name="config_schema", node=Config)


def to_config(cfg: DictConfig) -> Config:
    """A composed Hydra config → a validated :class:`Config` (raises ConfigError)."""
    from omegaconf.errors import OmegaConfBaseException

    try:
        obj = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as exc:
        raise ConfigError(config_error_message(exc)) from None
    assert isinstance(obj, Config)
    return validate(obj)


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
def main(cfg: DictConfig) -> float:
    """Hydra task: validate, simulate, write, print a summary; returns final satisfaction."""
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    try:
        config = to_config(cfg)
    except ConfigError as exc:
        _remove_if_only_hydra_record(out_dir)
        print(f"sim-run: error: {exc}", file=sys.stderr)
        sys.exit(EXIT_BAD_CONFIG)
    summary = run_job(config, out_dir, OmegaConf.to_yaml(cfg))
    print(format_summary(summary))
    print(f"results: {out_dir}")
    if config.report:
        from sim.report import write_report

        print(f"report: {write_report(out_dir)[0]}")
    return float(summary["final"]["satisfaction"]["mean"])


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
    """Console entry point: validate single runs up front, then hand over to Hydra."""
    args = sys.argv[1:]
    single_run = not any(a in ("-m", "--multirun") or a.startswith("-") for a in args)
    if single_run:
        try:
            precheck(args)
        except ConfigError as exc:
            print(f"sim-run: error: {exc}", file=sys.stderr)
            sys.exit(EXIT_BAD_CONFIG)
    main()


if __name__ == "__main__":
    cli()
