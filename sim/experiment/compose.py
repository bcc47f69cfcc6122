"""One way to turn Hydra overrides into a validated :class:`~sim.core.config.Config`.

Every command (``sim-run``, the dashboard, notebooks, benchmarks, tests) composes through
:func:`compose`; errors become one-line :class:`~sim.core.config.ConfigError` messages naming
the key, the value and what is allowed. Config-group options are names of files in the group's
folder, never paths (:func:`check_group_choices`).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from sim.core.config import Config, ConfigError, config_error_message, from_dict

#: the package's own configs (``config.yaml`` and the groups); shipped inside the wheel
CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"

ConfigStore.instance().store(name="config_schema", node=Config)

_LOCK = threading.RLock()  # Hydra's global state admits one composition at a time


def to_config(cfg: DictConfig) -> Config:
    """A composed Hydra config → a validated :class:`Config` (raises ConfigError)."""
    from omegaconf.errors import OmegaConfBaseException

    try:
        data = OmegaConf.to_container(task_part(cfg) if "hydra" in cfg else cfg, resolve=True)
    except OmegaConfBaseException as exc:
        raise ConfigError(config_error_message(exc)) from None
    # Re-merging onto the schema also refuses keys appended with `+key=value`.
    return from_dict(data)


def parse_overrides(overrides: Sequence[str]) -> list[Any]:
    """Hydra's parsed overrides (raises ConfigError on a syntax error)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    try:
        return OverridesParser.create().parse_overrides(list(overrides))
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(str(exc).strip().splitlines()[0]) from None


def search_path(config_dir: str | None) -> list[str]:
    """The override that makes compose see ``--config-dir DIR`` as Hydra's command line does."""
    if config_dir is None:
        return []
    path = Path(config_dir).resolve()
    if not path.is_dir():
        raise ConfigError(f"--config-dir={config_dir}: no such directory; allowed: a directory of configs")
    return [f"hydra.searchpath=[file://{path}]"]


def compose(
    overrides: Sequence[str] = (),
    config_name: str = "config",
    config_dir: str | None = None,
    with_hydra: bool = False,
) -> DictConfig:
    """The config ``sim-run OVERRIDES`` composes (with its ``hydra`` node if ``with_hydra``).

    ``config_dir`` adds a directory of configs to the search path (``--config-dir``).
    Raises ConfigError with one line naming the key, the value and what is allowed.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    items = [*overrides, *search_path(config_dir)]
    check_group_choices(items, config_dir)
    with _LOCK:
        try:
            with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
                return hydra_compose(config_name=config_name, overrides=items, return_hydra_config=with_hydra)
        except (HydraException, OmegaConfBaseException) as exc:
            raise ConfigError(explain_hydra_error(exc, items, config_dir)) from None
        except ConfigError:
            raise
        except Exception as exc:  # e.g. a YAML file that does not parse (or asks for a Python object)
            raise ConfigError(f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}") from None


def compose_config(overrides: Sequence[str] = (), config_dir: str | None = None) -> Config:
    """The validated :class:`Config` that ``sim-run OVERRIDES`` runs."""
    return to_config(compose(overrides, config_dir=config_dir))


def task_part(cfg: DictConfig) -> DictConfig:
    """``cfg`` without its ``hydra`` node: what the task function receives."""
    task = copy.deepcopy(cfg)
    with read_write(task), open_dict(task):
        task.pop("hydra", None)
    return task


def group_dirs(group: str, config_dir: str | None = None) -> list[Path]:
    """The folders that hold config group ``group`` (the package's, then ``--config-dir``'s)."""
    roots = [CONFIG_DIR, *([Path(config_dir).resolve()] if config_dir else [])]
    return [r / group for r in roots if (r / group).is_dir()]


def group_options(group: str, config_dir: str | None = None) -> list[str]:
    """The names a config group admits: its folder's ``*.yaml`` files, without the suffix."""
    return sorted({p.stem for d in group_dirs(group, config_dir) for p in d.glob("*.yaml")})


def scenario_names(config_dir: str | None = None) -> list[str]:
    """The named workshop scenarios (``sim/configs/scenario/``), the baseline first."""
    return sorted(group_options("scenario", config_dir), key=lambda n: n != "baseline")


def check_group_choices(overrides: Sequence[str], config_dir: str | None = None) -> None:
    """Refuse a config-group option that is a path rather than a name from the group's folder.

    ``community=../scenario/all_six`` would otherwise load another group's file under this
    group's name (and record the wrong scenario); ``community=/tmp/x`` any YAML file at all.
    Sweeps (``community=a,b``) are checked value by value.
    """
    for override in overrides:
        key, sep, value = override.lstrip("+~").partition("=")
        key = key.partition("@")[0]  # `community@pkg=x` chooses from the same folder
        if not sep or key.startswith("hydra") or not group_dirs(key, config_dir):
            continue
        for choice in _choices(value):
            if (
                "/" in choice
                or "\\" in choice
                or choice.startswith(".")
                or choice not in group_options(key, config_dir)
            ):
                allowed = ", ".join(group_options(key, config_dir))
                raise ConfigError(f"{key}={choice} is not a known {key}; allowed: {allowed}")


def _choices(value: str) -> list[str]:
    """The option names in a group override's value (``a``, ``a,b``, ``choice(a,b)``)."""
    text = value.strip()
    for prefix in ("choice(", "shuffle(", "glob("):
        if text.startswith(prefix) and text.endswith(")"):
            if prefix == "glob(":
                return []  # matched against the folder by Hydra itself
            text = text[len(prefix) : -1]
    return [c.strip().strip("'\"") for c in text.split(",") if c.strip()]


def explain_hydra_error(exc: Exception, overrides: Sequence[str], config_dir: str | None = None) -> str:
    """One line from a Hydra composition error: the key, the value and what is allowed."""
    from hydra.errors import MissingConfigException

    text = str(exc)
    if isinstance(exc, MissingConfigException) or "Could not find" in text:
        for override in overrides:
            key, _, value = override.lstrip("+~").partition("=")
            dirs = group_dirs(key, config_dir)
            if dirs and not any((g / f"{value}.yaml").exists() for g in dirs):
                allowed = ", ".join(group_options(key, config_dir))
                return f"{key}={value} is not a known {key}; allowed: {allowed}"
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
