"""``sim-run``: the Hydra entry point. One job = one parameter point × its replicates.

    sim-run                                   # the default community, 104 weeks
    sim-run community=workshop steps=52       # any key can be overridden
    sim-run scenario=all_six                  # a named workshop scenario
    sim-run -m levers.linking.intensity=0,0.5,1   # a sweep (one job per point)
    sim-run -m experiment=lever_ablation      # a named sweep (sim/configs/experiment/)
    sim-run -m experiment=lever_ablation resume=true   # finish the newest such sweep
    sim-run -o DIR ...                        # write into DIR (hydra.run.dir, or hydra.sweep.dir with -m)
    sim-run -v -m ...                         # each job's table (default: one line per job)
    sim-run --help                            # what the tool does, then Hydra's own help

A typo in a key or a group option gets the allowed names and the closest ones (see
:mod:`sim.cli.guide`).

Before Hydra creates any directory, the command is composed and validated: a single run's
config, and in a sweep every point it will run (each value of a command-line sweep, every
point of a design). A bad key or value, an unknown preset/scenario/experiment, an empty sweep
or a setting that would make the configuration run code ends with one line naming it and
exit code 2, and nothing is written.

Exit codes: 0 done; 2 bad input (nothing written); 74 a result could not be written (disk
full, permissions, a missing or read-only parent; one line naming the path, no half-written
files); 75 the run or sweep directory is being written by another process (named; nothing
written); 130/143 stopped by SIGINT/SIGTERM (finished replicates kept in a run marked
incomplete, see :mod:`sim.results`); 1 anything else. Every failure ends with one line on
stderr; ``sim-run -v ...`` also prints the traceback.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim.cli import guide
from sim.core.config import Config, ConfigError
from sim.experiment.compose import CONFIG_DIR, compose, parse_overrides, to_config
from sim.experiment.precheck import precheck
from sim.results.failure import EXIT_BAD_INPUT, EXIT_IO, EXIT_LOCKED, report_failure


def run_job(config: Config, out_dir: Path, config_yaml: str) -> tuple[dict, float]:
    """Simulate every replicate of ``config`` and write the run into ``out_dir``.

    Interrupted (:class:`sim.experiment.simulate.RunInterrupted`), it writes the finished replicates as a
    run marked incomplete and re-raises. A signal that arrives while the run is being written
    waits until the run is whole (then :class:`sim.experiment.stopping.Interrupt` is raised).
    Returns the run's summary and the seconds it took (logged, never written into the results).
    """
    from sim.experiment.simulate import RunInterrupted, simulate
    from sim.experiment.stopping import signals_deferred
    from sim.results import write_incomplete, write_run
    from sim.results.lock import writer_lock

    with writer_lock(out_dir):
        try:
            result = simulate(config)
        except RunInterrupted as stop:
            write_incomplete(out_dir, stop, config_yaml)
            raise
        with signals_deferred():
            write_run(out_dir, result.metrics, result.buildings, result.summary, config_yaml)
    logging.getLogger(__name__).info("simulated in %.2f s", result.elapsed_seconds)
    return result.summary, result.elapsed_seconds


def _bracket(low: float, high: float) -> str:
    return "unknown (1 replicate)" if low is None or low != low else f"[{low:.3f}, {high:.3f}]"


def format_summary(summary: dict, elapsed_seconds: float | None = None) -> str:
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
        f"replicates={summary['replicates']}"
        + (f" ({elapsed_seconds:.1f} s)" if elapsed_seconds is not None else ""),
        f"{'metric (final week)':<24}{'mean':>10}{'95% for the mean':>24}{'95% one community':>24}",
    ]
    for key in keys:
        row = summary["final"].get(key)
        if row is None or row["mean"] is None or row["mean"] != row["mean"]:
            continue
        pred = row["prediction"]
        lines.append(
            f"{key:<24}{row['mean']:>10.3f}    {_bracket(row['low'], row['high']):>20}"
            f"    {_bracket(pred['low'], pred['high']):>20}"
        )
    from sim.experiment.simulate import replication_warning

    warning = replication_warning(summary)
    if warning:
        lines.append(warning)
    return "\n".join(lines)


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def main(cfg: DictConfig) -> Any:
    """Hydra task: validate, simulate, write, print a summary; returns final satisfaction.

    A job of the design sweeper runs its batch of points instead (see :mod:`sim.experiment.sweep`) and
    returns what ran, was skipped and failed. In any other sweep a job whose directory already
    holds a complete run of the same config is skipped, so re-running a sweep resumes it.
    """
    hydra_cfg = HydraConfig.get()
    out_dir = Path(hydra_cfg.runtime.output_dir)
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    with _stop_cleanly(out_dir):
        points = OmegaConf.select(hydra_cfg, "sweeper.points", default=None)
        if points is not None:
            from sim.experiment.sweep import run_points

            return run_points(cfg, out_dir, Path(hydra_cfg.sweep.dir), list(points))
        try:
            config = to_config(cfg)
        except ConfigError as exc:
            _remove_if_only_hydra_record(out_dir)
            sys.exit(guide.error_line("sim-run", str(exc), EXIT_BAD_INPUT))
        config_yaml = OmegaConf.to_yaml(cfg)
        if hydra_cfg.mode == RunMode.MULTIRUN and _complete_with(out_dir, config_yaml):
            from sim.results import load_summary

            print(f"skipped (already complete): {out_dir}")
            return float(load_summary(out_dir)["final"]["satisfaction"]["mean"])
        summary, elapsed = run_job(config, out_dir, config_yaml)
        if hydra_cfg.mode == RunMode.MULTIRUN and not guide.is_verbose():
            final = summary["final"]["satisfaction"]["mean"]  # one line per job (-v: the table)
            print(f"done: satisfaction {final:.3f} ({elapsed:.1f} s) -> {out_dir}")
        else:
            print(format_summary(summary, elapsed))
            print(f"results: {out_dir}")
        if config.report:
            from sim.present.report import write_report

            print(f"report: {write_report(out_dir)[0]}")
        return float(summary["final"]["satisfaction"]["mean"])


@contextlib.contextmanager
def _stop_cleanly(out_dir: Path) -> Iterator[None]:
    """Turn a stop or a failed write inside a job into one line on stderr and its exit code."""
    from sim.core.model import NonFiniteStateError
    from sim.experiment.simulate import RunInterrupted
    from sim.experiment.stopping import Interrupt
    from sim.results import INCOMPLETE, WriteError
    from sim.results.lock import DirectoryLocked

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
        sys.exit(guide.error_line("sim-run", f"{exc}; no result was left half-written", EXIT_IO))
    except DirectoryLocked as exc:
        sys.exit(guide.error_line("sim-run", f"{exc}; nothing written", EXIT_LOCKED))
    except NonFiniteStateError as exc:
        sys.exit(guide.error_line("sim-run", f"check_finite: {exc}; nothing was written", 1))


def _complete_with(out_dir: Path, config_yaml: str) -> bool:
    """Whether ``out_dir`` holds a complete, undamaged run of exactly this config."""
    from sim.results import CONFIG_FILE, check_run

    if not check_run(out_dir):
        return False
    return (out_dir / CONFIG_FILE).read_text(encoding="utf-8") == config_yaml


def _remove_if_only_hydra_record(out_dir: Path) -> None:
    """Undo the directory Hydra made for a job that failed validation (results are never touched)."""
    if not out_dir.is_dir():
        return
    from sim.results.lock import LOCK_FILE

    allowed = {".hydra", "run.log", "sim-run.log", LOCK_FILE}
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
                else "the primary config lives in sim/configs/"
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


def cli() -> None:
    """Console entry point: validate up front, resolve ``resume=``, then hand over to Hydra.

    SIGINT and SIGTERM stop the run cleanly (see :func:`sim.experiment.stopping.stop_on_signals`).
    """

    from sim.experiment.stopping import checkpoint, stop_on_signals
    from sim.results.lock import writer_lock

    args, resume = _pop_resume(sys.argv[1:])
    args, verbose = guide.pop_verbose(args)
    if verbose:
        os.environ[guide.VERBOSE_ENV] = "1"  # jobs run in this or other processes: they read it
    if any(a in ("-h", "--help") for a in args):
        print(guide.RUN_HELP, flush=True)  # what the tool is, before Hydra's list of keys
    line = None
    lock_dir: Path | None = None
    try:
        args, out = guide.pop_out(args, multirun=any(a in ("-m", "--multirun") for a in args))
        args = [*args, *out]
        line = parse_command_line(args)
        if resume is not None and not line.multirun:
            raise ConfigError(f"resume={resume}: allowed only with a sweep (sim-run -m ...)")
        if resume is not None and resume.lower() not in ("false", "no", "0"):
            # the folder to resume is known before the checks, so that they see it (a different
            # sweep in it is refused like one named with -o)
            args = [*args, *_resume_dir_override(line.overrides, resume)]
            line = parse_command_line(args)
        if not line.runs_nothing:
            precheck(line.overrides, line.multirun, line.config_dir, line.config_name)
        if not line.runs_nothing:
            lock_dir = _given_output_dir(parse_command_line(args).overrides, line.multirun)
    except (ConfigError, ValueError) as exc:
        overrides, config_dir = (line.overrides, line.config_dir) if line else (args, None)
        message = guide.did_you_mean(str(exc), overrides, config_dir)
        sys.exit(guide.error_line("sim-run", message, EXIT_BAD_INPUT))
    except Exception as exc:  # a sweep record that cannot be read: say which, in one line
        sys.exit(report_failure(exc, verbose, "sim-run"))
    sys.argv = [sys.argv[0], *args]
    # Hydra would print its own traceback of any error; let errors reach report_failure instead.
    os.environ["HYDRA_FULL_ERROR"] = "1"
    with stop_on_signals():
        try:
            with contextlib.ExitStack() as stack:
                if lock_dir is not None:  # before Hydra writes .hydra/: a second writer changes nothing
                    stack.enter_context(writer_lock(lock_dir))
                main()
            checkpoint()  # a stop a callback swallowed after the last week still ends in 130/143
        except KeyboardInterrupt as exc:  # stopped outside a job (composing, launching)
            signum = getattr(exc, "signum", signal.SIGINT)
            print(f"sim-run: stopped by {signal.Signals(signum).name}", file=sys.stderr)
            sys.exit(128 + signum)
        except Exception as exc:
            sys.exit(report_failure(exc, verbose, "sim-run"))


def _given_output_dir(overrides: list[str], multirun: bool) -> Path | None:
    """The run (or sweep) directory the command names with ``hydra.run.dir=`` (``hydra.sweep.dir=``).

    Only a directory given on the command line can be shared by two commands by accident; the
    default ones are time-stamped (a run's to the microsecond), and a job locks its own
    directory in any case.
    """
    key = "hydra.sweep.dir=" if multirun else "hydra.run.dir="
    given = [a.lstrip("+").partition("=")[2] for a in overrides if a.lstrip("+").startswith(key)]
    if not given or "${" in given[-1]:
        return None
    return Path(given[-1].strip("'\""))


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
    parsed = parse_overrides([a for a in args if not a.startswith("-")])
    return [o.input_line for o in parsed if not o.is_sweep_override() and not o.is_hydra_override()]


def _resume_dir_override(args: list[str], resume: str) -> list[str]:
    """``hydra.sweep.dir=...`` of the sweep to resume: a given path, or the newest matching sweep."""
    from sim.experiment.sweep import find_resume_dir

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
    overrides = [*_fixed_overrides(args), *[a for a in args if a.startswith(("hydra.sweep.", "hydra/"))]]
    cfg = compose(overrides, with_hydra=True)
    return Path(str(cfg.hydra.sweep.dir)).parent


if __name__ == "__main__":
    cli()
