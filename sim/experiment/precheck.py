"""Compose and validate a ``sim-run`` command before anything is written.

A single run: its config. A sweep: the settings every job shares and then every point it
would run, so that no job fails on a value the command line could have been refused for.
No setting may name code to run (:func:`check_no_code`).
"""

from __future__ import annotations

import itertools
from typing import Any

from omegaconf import DictConfig, OmegaConf

from sim.core.config import Config, ConfigError
from sim.experiment.compose import compose, parse_overrides, task_part, to_config

#: sweeps with more points than this are checked value by value, not point by point
MAX_CHECKED_POINTS = 20_000

#: Hydra plugins live in these packages; Hydra refuses to instantiate any other class as one
_PLUGIN_PACKAGES = ("hydra._internal.core_plugins.", "hydra_plugins.")
#: hooks of the design sweeper (module:function) may only name functions of this package
_HOOK_PACKAGES = ("sim.", "sim:")


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
    parsed = parse_overrides(overrides)
    refuse_repeated_keys(parsed, config_dir)
    fixed = [o.input_line for o in parsed if not o.is_sweep_override()]
    sweeps = [o for o in parsed if o.is_sweep_override()]
    if sweeps and not multirun:
        o = sweeps[0]
        raise ConfigError(
            f"{o.input_line}: a list of values is a sweep; allowed: one value, or sim-run -m to sweep"
        )
    from sim.experiment.compose import check_group_choices

    check_group_choices([o.input_line for o in sweeps], config_dir)
    cfg = compose(fixed, config_name, config_dir, with_hydra=True)
    check_no_code(cfg)
    base = to_config(cfg)
    if not multirun:
        return
    task_sweeps = [o for o in sweeps if not o.is_hydra_override()]
    if _is_design_sweeper(cfg):
        _check_design(cfg, fixed, task_sweeps, list(parsed), config_name, config_dir)
    else:
        _check_plain_sweep(cfg, base, fixed, task_sweeps, config_name, config_dir)
    refuse_another_sweep(cfg, list(parsed), config_name)


#: Hydra's record of a sweep, written into the sweep directory before its jobs run
MULTIRUN_RECORD = "multirun.yaml"
_BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"


def refuse_another_sweep(cfg: DictConfig, parsed: list[Any], config_name: str = "config") -> None:
    """Refuse a sweep into a ``hydra.sweep.dir`` (``-o DIR``) that holds a different sweep.

    Hydra numbers a plain sweep's jobs 0, 1, ... in every sweep, so ``sim-run -m steps=4,5 -o pl``
    into the folder of ``sim-run -m steps=2,3 -o pl`` would overwrite job 0 and 1 with other
    points. The same command again is allowed (it resumes: complete jobs are skipped); so is a
    directory that holds no sweep yet. The design sweeper makes the same check with its
    ``design.json``; here a plain sweep is compared job by job with the ``multirun.yaml`` Hydra
    wrote for the earlier one, and a plain and a design sweep never share a folder.
    """
    from pathlib import Path

    from sim.results.layout import DESIGN_FILE

    given = [o for o in parsed if o.get_key_element().lstrip("+") == "hydra.sweep.dir"]
    if not given:
        return  # a default sweep directory is new (time-stamped)
    text = given[-1].get_value_element_as_str().strip("'\"")
    if "${" in text:
        return
    sweep_dir = Path(text)
    record = sweep_dir / MULTIRUN_RECORD
    fresh = "allowed: the same command (it resumes that sweep), or a new directory (-o NEW_DIR)"
    design = _is_design_sweeper(cfg)
    if design:
        if record.is_file() and not (sweep_dir / DESIGN_FILE).is_file():
            raise ConfigError(
                f"hydra.sweep.dir={sweep_dir} holds a plain sweep (its {MULTIRUN_RECORD} has no "
                f"{DESIGN_FILE} beside it), not this design sweep; {fresh}"
            )
        return  # the design sweeper compares designs itself (and refuses a different one)
    if (sweep_dir / DESIGN_FILE).is_file():
        raise ConfigError(
            f"hydra.sweep.dir={sweep_dir} holds a design sweep ({DESIGN_FILE}), not this plain sweep; {fresh}"
        )
    target = str(OmegaConf.select(cfg, "hydra.sweeper._target_", default=""))
    if not record.is_file() or target != _BASIC_SWEEPER:
        return
    try:
        old = OmegaConf.load(record)
        old_jobs = _basic_jobs(
            OmegaConf.select(old, "hydra.sweeper.params"), list(old.hydra.overrides.task or [])
        )
        old_name = str(OmegaConf.select(old, "hydra.job.config_name", default="config"))
    except Exception:
        raise ConfigError(
            f"{record} cannot be read, so this sweep cannot be compared with the one in {sweep_dir}; "
            "allowed: a new directory (-o NEW_DIR)"
        ) from None
    tasks = [o.input_line for o in parsed if not o.is_hydra_override()]
    new_jobs = _basic_jobs(OmegaConf.select(cfg, "hydra.sweeper.params"), tasks)
    if old_jobs == new_jobs and old_name == config_name:
        return
    if old_name != config_name:
        what = f"it was made from config {old_name}, this command from {config_name}"
    elif len(old_jobs) != len(new_jobs):
        what = f"it has {len(old_jobs)} job(s), this command {len(new_jobs)}"
    else:
        j = next(i for i, (a, b) in enumerate(zip(old_jobs, new_jobs, strict=True)) if a != b)
        what = f"its job {j} ran {' '.join(old_jobs[j]) or 'the defaults'}, this command's job {j} is "
        what += " ".join(new_jobs[j]) or "the defaults"
    raise ConfigError(
        f"hydra.sweep.dir={sweep_dir} holds a different sweep ({what}; see its {MULTIRUN_RECORD}); {fresh}"
    )


def _basic_jobs(params: Any, overrides: list[str]) -> list[tuple[str, ...]]:
    """The jobs Hydra's basic sweeper launches for ``params`` (``hydra.sweeper.params``) and the
    command line's task ``overrides``, in job order: each job's overrides, sorted."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    container = OmegaConf.to_container(params, resolve=False) if isinstance(params, DictConfig) else None
    settings: dict[Any, Any] = container if isinstance(container, dict) else {}
    arguments = [f"{k!s}={v}" for k, v in settings.items()] + [str(o) for o in overrides]
    batches = BasicSweeper.split_arguments(parse_overrides(arguments), None)
    return [tuple(sorted(job)) for job in batches[0]]


def refuse_repeated_keys(parsed: list[Any], config_dir: str | None = None) -> None:
    """Refuse a key given twice (``steps=3 steps=4``), or together with one of its dotted parents
    (``levers.linking={intensity:1.0} levers.linking.intensity=0``): Hydra would keep the last
    one silently. A config-group choice and keys below it (``community=workshop
    community.households=50``) are not a repetition: the choice picks a file, the keys edit it.
    """
    from sim.experiment.compose import group_dirs

    seen: dict[str, str] = {}
    order: list[str] = []
    for o in parsed:
        key = o.get_key_element().lstrip("+~")
        if key in seen:
            raise ConfigError(
                f"{key} is given twice ({seen[key]} and {o.input_line}); allowed: each key once"
            )
        seen[key] = o.input_line
        order.append(key)
    for key in order:
        parts = key.split(".")
        for n in range(1, len(parts)):
            parent = ".".join(parts[:n])
            if parent in seen and not group_dirs(parent.partition("@")[0], config_dir):
                first, second = sorted((parent, key), key=order.index)
                raise ConfigError(
                    f"{key} is given together with {parent} ({seen[first]} and {seen[second]}), "
                    "so one would silently replace the other; allowed: each key once, either "
                    f"{parent}={{...}} or its keys one by one"
                )


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
    task = OmegaConf.to_container(task_part(cfg), resolve=False)
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
    from sim.experiment.sweep import point_config

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
            base
            if not cell
            else to_config(compose([*fixed, *cell], config_name, config_dir, with_hydra=True))
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
    from sim.experiment.sweep import point_config

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
        base = to_config(compose([*hydra_fixed, *design["fixed"], *cell], config_name, config_dir, True))
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
