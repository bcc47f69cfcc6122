"""``sim-run``: the Hydra entry point. One job = one parameter point × its replicates.

    sim-run                                   # the default community, 104 weeks
    sim-run community=workshop steps=52       # any key can be overridden
    sim-run scenario=all_six                  # a named workshop scenario
    sim-run -m levers.linking.intensity=0,0.5,1   # a sweep (one job per point)
    sim-run -m experiment=lever_ablation      # a named sweep (configs/experiment/)
    sim-run -m experiment=lever_ablation resume=true   # finish the newest such sweep

Before Hydra creates any directory, the command is composed and validated: a single run's
config, and in a sweep every point it will run (each value of a command-line sweep, every
point of a design). A bad key or value, an unknown preset/scenario/experiment, an empty sweep
or a setting that would make the configuration run code ends with one line naming it and
exit code 2, and nothing is written.

Exit codes: 0 done; 2 bad input (nothing written); 74 a result could not be written (disk
full, permissions; one line naming the path, no half-written files); 130/143 stopped by
SIGINT/SIGTERM (finished replicates kept in a run marked incomplete, see :mod:`sim.results`).
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import logging
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from sim.config import Config, ConfigError, config_error_message, from_dict

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
EXIT_BAD_CONFIG = 2
EXIT_WRITE_ERROR = 74  # sysexits EX_IOERR
#: sweeps with more points than this are checked value by value, not point by point
MAX_CHECKED_POINTS = 20_000

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
    """Simulate every replicate of ``config`` and write the run into ``out_dir``.

    Interrupted (:class:`sim.simulate.RunInterrupted`), it writes the finished replicates as a
    run marked incomplete and re-raises. A signal that arrives while the run is being written
    waits until the run is whole (then :class:`sim.simulate.Interrupt` is raised).
    """
    from sim.results import write_incomplete, write_run
    from sim.simulate import RunInterrupted, signals_deferred, simulate

    try:
        result = simulate(config)
    except RunInterrupted as stop:
        write_incomplete(out_dir, stop, config_yaml)
        raise
    with signals_deferred():
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
    with _stop_cleanly(out_dir):
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


@contextlib.contextmanager
def _stop_cleanly(out_dir: Path) -> Iterator[None]:
    """Turn a stop or a failed write inside a job into one line on stderr and its exit code."""
    from sim.model import NonFiniteStateError
    from sim.results import INCOMPLETE, WriteError
    from sim.simulate import Interrupt, RunInterrupted

    try:
        yield
    except RunInterrupted as exc:
        total = len(exc.done) + len(exc.missing)
        print(
            f"sim-run: stopped by {exc.signal_name}: kept {len(exc.done)} finished replicate(s) of "
            f"{total} in {exc.where or out_dir}, marked incomplete ({INCOMPLETE}); rerun to redo it",
            file=sys.stderr,
        )
        sys.exit(128 + exc.signum)
    except Interrupt as exc:
        print(f"sim-run: stopped by {signal.Signals(exc.signum).name}", file=sys.stderr)
        sys.exit(128 + exc.signum)
    except WriteError as exc:
        print(f"sim-run: error: {exc}; no result was left half-written", file=sys.stderr)
        sys.exit(EXIT_WRITE_ERROR)
    except NonFiniteStateError as exc:
        print(f"sim-run: error: check_finite: {exc}; nothing was written", file=sys.stderr)
        sys.exit(1)


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


@dataclass
class CommandLine:
    """What ``sim-run`` was asked to do: overrides and the Hydra flags that matter before it runs."""

    overrides: list[str] = field(default_factory=list)
    multirun: bool = False
    config_dir: str | None = None
    config_name: str = "config"
    #: --help, --cfg, --info ...: Hydra prints something and runs nothing
    runs_nothing: bool = False


_RUNS_NOTHING = {"-h", "--help", "--hydra-help", "--version", "-c", "--cfg", "-i", "--info"}
_RUNS_NOTHING |= {"-sc", "--shell-completion", "--resolve", "-p", "--package"}
_REFUSED = {
    "-cp": "--config-path",
    "--config-path": "--config-path",
    "--experimental-rerun": "--experimental-rerun",
}


def parse_command_line(args: list[str]) -> CommandLine:
    """Split ``sim-run`` arguments into overrides and flags (raises ConfigError on refused flags)."""
    line = CommandLine()
    i = 0
    while i < len(args):
        arg = args[i]
        flag, has_value, value = arg.partition("=") if arg.startswith("--") else (arg, False, "")
        if flag in ("-m", "--multirun"):
            line.multirun = True
        elif flag in ("-r", "--run"):
            pass
        elif flag in ("-cd", "--config-dir", "-cn", "--config-name"):
            if not has_value:
                i += 1
                value = args[i] if i < len(args) else ""
            if flag in ("-cd", "--config-dir"):
                line.config_dir = value
            else:
                line.config_name = value
        elif flag in _REFUSED:
            why = (
                "it loads a pickled config, which can run code"
                if flag == "--experimental-rerun"
                else "the primary config lives in configs/"
            )
            raise ConfigError(
                f"{_REFUSED[flag]}: not accepted by sim-run ({why}); allowed: overrides, -m, "
                "--config-dir DIR (more config files)"
            )
        elif flag in _RUNS_NOTHING:
            line.runs_nothing = True
        elif arg.startswith("-"):
            line.runs_nothing = True  # unknown to us: Hydra's own argument parser explains it
        else:
            line.overrides.append(arg)
        i += 1
    return line


def precheck(
    overrides: list[str],
    multirun: bool = False,
    config_dir: str | None = None,
    config_name: str = "config",
) -> None:
    """Compose and validate a command without writing anything (raises ConfigError).

    A single run: its config. A sweep: the settings every job shares and then every point it
    would run (up to :data:`MAX_CHECKED_POINTS`; beyond that every swept value on its own),
    so that no job fails on a value the command line could have been refused for.
    In both, no setting may name code to run (see :func:`check_no_code`).
    """
    from hydra import initialize_config_dir

    parsed = _parse_overrides(overrides)
    fixed = [o.input_line for o in parsed if not o.is_sweep_override()]
    sweeps = [o for o in parsed if o.is_sweep_override()]
    if sweeps and not multirun:
        o = sweeps[0]
        raise ConfigError(
            f"{o.input_line}: a list of values is a sweep; allowed: one value, or sim-run -m to sweep"
        )
    extra = _search_path(config_dir)
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = _compose(config_name, [*fixed, *extra], config_dir)
        check_no_code(cfg)
        base = to_config(_task_part(cfg))
        if not multirun:
            return
        task_sweeps = [o for o in sweeps if not o.is_hydra_override()]
        if _is_design_sweeper(cfg):
            _check_design(cfg, [*fixed, *extra], task_sweeps, [o for o in parsed], config_name, config_dir)
        else:
            _check_plain_sweep(cfg, base, [*fixed, *extra], task_sweeps, config_name, config_dir)


def _parse_overrides(overrides: list[str]) -> list[Any]:
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    try:
        return OverridesParser.create().parse_overrides(overrides)
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(str(exc).strip().splitlines()[0]) from None


def _search_path(config_dir: str | None) -> list[str]:
    """The override that makes compose see ``--config-dir DIR`` as Hydra's command line does."""
    if config_dir is None:
        return []
    path = Path(config_dir).resolve()
    if not path.is_dir():
        raise ConfigError(f"--config-dir={config_dir}: no such directory; allowed: a directory of configs")
    return [f"hydra.searchpath=[file://{path}]"]


def _compose(config_name: str, overrides: list[str], config_dir: str | None = None) -> DictConfig:
    """The composed config, Hydra's part included (call inside initialize_config_dir)."""
    from hydra import compose
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    try:
        return compose(config_name=config_name, overrides=overrides, return_hydra_config=True)
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(explain_hydra_error(exc, overrides, config_dir)) from None
    except Exception as exc:  # e.g. a YAML file that does not parse (or asks for a Python object)
        raise ConfigError(f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}") from None


def _task_part(cfg: DictConfig) -> DictConfig:
    """``cfg`` without its ``hydra`` node: what the task function receives."""
    task = copy.deepcopy(cfg)
    with read_write(task), open_dict(task):
        task.pop("hydra", None)
    return task


#: Hydra plugins live in these packages; Hydra refuses to instantiate any other class as one
_PLUGIN_PACKAGES = ("hydra._internal.core_plugins.", "hydra_plugins.")
#: hooks of the design sweeper (module:function) may only name functions of this package
_HOOK_PACKAGES = ("sim.", "sim:")


def check_no_code(cfg: DictConfig) -> None:
    """Refuse any setting that would make composing or running the config import or call code.

    The model's configuration is plain data (typed dataclasses; an unknown key such as
    ``_target_`` is refused by the schema). In Hydra's own settings, ``_target_`` may only name a
    sweeper or launcher plugin, ``hydra.callbacks`` must be empty (Hydra instantiates them),
    logging configs may only use the ``logging`` package's classes and no ``()`` factories,
    and the design sweeper's ``check``/``validate`` hooks may only name functions of ``sim``.
    """
    hydra_part = OmegaConf.to_container(cfg.hydra, resolve=False) if "hydra" in cfg else {}
    callbacks = hydra_part.get("callbacks") or {}
    if callbacks:
        name = next(iter(callbacks))
        raise ConfigError(f"hydra.callbacks.{name}: callbacks run code named in the config; allowed: none")

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                where = f"{path}.{key}" if path else str(key)
                _check_setting(where, str(key), value)
                walk(value, where)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{path}[{i}]")

    walk({"hydra": hydra_part}, "")
    task = OmegaConf.to_container(_task_part(cfg), resolve=False)
    walk(task, "")
    sweeper = hydra_part.get("sweeper") or {}
    for hook in ("check", "validate"):
        value = sweeper.get(hook)
        if value is not None and not str(value).startswith(_HOOK_PACKAGES):
            raise ConfigError(
                f"hydra.sweeper.{hook}={value}: allowed: a function of the sim package (sim.module:function)"
            )


def _check_setting(where: str, key: str, value: Any) -> None:
    """One key of a composed config (dotted path ``where``) against :func:`check_no_code`'s rules."""
    if key == "_target_":
        plugin = where in ("hydra.sweeper._target_", "hydra.launcher._target_")
        if not (plugin and str(value).startswith(_PLUGIN_PACKAGES)):
            raise ConfigError(
                f"{where}={value}: a config may not name a class to instantiate; allowed: "
                "a Hydra sweeper or launcher plugin (hydra/sweeper=..., hydra/launcher=...)"
            )
    in_logging = where.startswith(("hydra.job_logging.", "hydra.hydra_logging."))
    if key == "()":
        raise ConfigError(f"{where}={value}: a factory in a config runs code; allowed: none")
    if in_logging and key == "class" and not str(value).startswith("logging."):
        raise ConfigError(f"{where}={value}: allowed: a class of the logging package (logging.*)")
    external = isinstance(value, str) and value.startswith("ext://")
    if in_logging and external and not value.startswith("ext://sys."):
        raise ConfigError(f"{where}={value}: allowed: ext://sys.stdout or ext://sys.stderr")


def _is_design_sweeper(cfg: DictConfig) -> bool:
    target = OmegaConf.select(cfg, "hydra.sweeper._target_", default="")
    return str(target).endswith("design_sweeper.DesignSweeper")


def _sweep_values(o: Any) -> list[tuple[str, Any]]:
    """(text, value) of every value of a command-line sweep; ConfigError if there are none."""
    key = o.get_key_element()
    if not o.is_discrete_sweep():
        raise ConfigError(
            f"{o.input_line}: {key} is swept over an interval; "
            "allowed: a list a,b,c, choice(...) or range(...)"
        )
    texts = list(o.sweep_string_iterator())
    if not texts:
        raise ConfigError(f"{o.input_line}: the sweep of {key} has no values; allowed: at least one value")
    return list(zip(texts, o.sweep_iterator(), strict=True))


def _check_plain_sweep(
    cfg: DictConfig,
    base: Config,
    fixed: list[str],
    sweeps: list[Any],
    config_name: str,
    config_dir: str | None,
) -> None:
    """Every job of a basic (Hydra) sweep composes and validates."""
    from sim.sweep import point_config

    groups = set(cfg.hydra.runtime.choices.keys())
    group_axes: list[list[str]] = []
    value_axes: list[tuple[str, list[Any]]] = []
    for o in sweeps:
        values = _sweep_values(o)
        key = o.get_key_element()
        if o.key_or_group in groups or o.package is not None:
            group_axes.append([f"{key}={text}" for text, _ in values])
        else:
            value_axes.append((key, [v for _, v in values]))
    cells = [list(c) for c in itertools.product(*group_axes)] or [[]]
    if len(cells) > 50:  # compose each choice once rather than every combination
        cells = [[choice] for axis in group_axes for choice in axis]
    n_values = 1
    for _, vals in value_axes:
        n_values *= len(vals)
    for cell in cells:
        cell_base = (
            base if not cell else to_config(_task_part(_compose(config_name, [*fixed, *cell], config_dir)))
        )
        if n_values <= MAX_CHECKED_POINTS:
            combos = itertools.product(*[vals for _, vals in value_axes])
            points = [dict(zip([k for k, _ in value_axes], combo, strict=True)) for combo in combos]
        else:
            points = [{k: v} for k, vals in value_axes for v in vals]
        for point in points:
            try:
                point_config(cell_base, point)
            except ConfigError as exc:
                raise ConfigError(f"{exc}{_in_cell(cell)}") from None


def _in_cell(cell: list[str]) -> str:
    return f" (with {' '.join(cell)})" if cell else ""


def _check_design(
    cfg: DictConfig,
    fixed: list[str],
    task_sweeps: list[Any],
    parsed: list[Any],
    config_name: str,
    config_dir: str | None,
) -> None:
    """The design sweeper's points: at least one, and every one a valid config."""
    from hydra.errors import HydraException

    from hydra_plugins.design_sweeper.design_sweeper import DesignSweeper
    from sim.sweep import point_config

    for o in task_sweeps:
        _sweep_values(o)  # empty or interval sweeps: a clear message before the design is drawn
    settings = OmegaConf.to_container(cfg.hydra.sweeper, resolve=True)
    settings.pop("_target_", None)
    batch = settings.get("batch_size")
    if isinstance(batch, int) and batch < 0:
        raise ConfigError(f"hydra.sweeper.batch_size={batch}; allowed: 0 (automatic) or a positive integer")
    sweeper = DesignSweeper(**settings)
    sweeper.config = cfg
    arguments = [o.input_line for o in parsed if not o.is_hydra_override()]
    try:
        design = sweeper.build(arguments)
    except (HydraException, ValueError, TypeError) as exc:
        raise ConfigError(str(exc).strip().splitlines()[0]) from None
    points = design["points"]
    if not points:
        raise ConfigError(
            "hydra.sweeper: the design has no points (an empty list of values or arms); "
            "allowed: a design with at least one point"
        )
    hydra_fixed = [f for f in fixed if f.lstrip("+~").startswith(("hydra.", "hydra/"))]
    # each input at its declared bounds or values first: a bad bound is named as written
    bounds = [
        {"overrides": {p["key"]: v}}
        for p in design["params"]
        for v in (p["values"] if "values" in p else [p["lo"], p["hi"]])
    ]
    for ci, cell in enumerate(design["cells"]):
        job = _compose(config_name, [*hydra_fixed, *design["fixed"], *cell], config_dir)
        base = to_config(_task_part(job))
        mine = [p for p in points if p["cell"] == ci]
        if len(mine) > MAX_CHECKED_POINTS:
            mine = [{"point": None, "overrides": o} for o in _extremes(mine)]
        mine = [*bounds, *mine]
        for p in mine:
            try:
                point_config(base, p["overrides"])
            except ConfigError as exc:
                arm = f" (arm {p['arm']})" if p.get("arm") else ""
                raise ConfigError(f"{exc}{arm}{_in_cell(cell)}") from None


def _extremes(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One-key probes for a design too large to check point by point: each numeric key at its
    smallest and largest value, each other key at its distinct values (up to 100)."""
    values: dict[str, dict[str, Any]] = {}
    for p in points:
        for key, value in p["overrides"].items():
            values.setdefault(key, {}).setdefault(repr(value), value)
    probes = []
    for key, seen in values.items():
        items = list(seen.values())
        numbers = [v for v in items if isinstance(v, int | float) and not isinstance(v, bool)]
        chosen = [min(numbers), max(numbers)] if len(numbers) == len(items) else items[:100]
        probes.extend({key: v} for v in chosen)
    return probes


def explain_hydra_error(exc: Exception, overrides: list[str], config_dir: str | None = None) -> str:
    """One line from a Hydra composition error: the key, the value and what is allowed."""
    from hydra.errors import MissingConfigException

    text = str(exc)
    if isinstance(exc, MissingConfigException) or "Could not find" in text:
        dirs = [CONFIG_DIR, *([Path(config_dir)] if config_dir else [])]
        for override in overrides:
            key, _, value = override.lstrip("+~").partition("=")
            group_dirs = [d / key for d in dirs if (d / key).is_dir()]
            if group_dirs and not any((g / f"{value}.yaml").exists() for g in group_dirs):
                options = sorted({p.stem for g in group_dirs for p in g.glob("*.yaml")})
                return f"{key}={value} is not a known {key}; allowed: {', '.join(options)}"
    cause = exc.__cause__ or exc.__context__
    key = getattr(cause, "full_key", None) or getattr(exc, "full_key", None)
    detail = (str(cause) if cause else text).strip().splitlines()[0]
    if key:
        value = next(
            (o.partition("=")[2] for o in overrides if o.lstrip("+~").partition("=")[0] == key),
            None,
        )
        shown = f"{key}={value}" if value is not None else key
        return f"{shown}: {detail}"
    return text.strip().splitlines()[0]


def cli() -> None:
    """Console entry point: validate up front, resolve ``resume=``, then hand over to Hydra.

    SIGINT and SIGTERM stop the run cleanly (see :func:`sim.simulate.stop_on_signals`).
    """
    from sim.simulate import stop_on_signals

    args, resume = _pop_resume(sys.argv[1:])
    try:
        line = parse_command_line(args)
        if resume is not None and not line.multirun:
            raise ConfigError(f"resume={resume}: allowed only with a sweep (sim-run -m ...)")
        if not line.runs_nothing:
            precheck(line.overrides, line.multirun, line.config_dir, line.config_name)
        if resume is not None and resume.lower() not in ("false", "no", "0"):
            args = [*args, *_resume_dir_override(line.overrides, resume)]
    except ConfigError as exc:
        print(f"sim-run: error: {exc}", file=sys.stderr)
        sys.exit(EXIT_BAD_CONFIG)
    sys.argv = [sys.argv[0], *args]
    with stop_on_signals():
        try:
            main()
        except KeyboardInterrupt as exc:  # stopped outside a job (composing, launching)
            signum = getattr(exc, "signum", signal.SIGINT)
            print(f"sim-run: stopped by {signal.Signals(signum).name}", file=sys.stderr)
            sys.exit(128 + signum)


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
