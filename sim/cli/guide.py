"""What the command line says to people: ``sim-run --help`` before Hydra's, "did you mean", -o, -v.

Kept apart from the commands themselves so that every command (``sim-run``, ``sim-report``,
``sim-app``) explains itself and corrects typos the same way:

* :data:`RUN_HELP` is printed by ``sim-run --help`` before Hydra's own help;
* :func:`did_you_mean` turns a one-line ConfigError about an unknown key or group option into
  the same line with the allowed names and the closest ones (``difflib``);
* :func:`pop_out` and :func:`pop_verbose` take ``-o/--out DIR`` and ``-v/--verbose`` off a
  Hydra command line;
* :func:`analysis_for` names the analysis a sweep's design calls for (for ``sim-analyse``);
* :func:`plain` turns a command's docstring into plain text for ``--help``, and
  :func:`key_value_argv` gives the ``key=value`` commands (``sim-calibrate``, ``sim-optimise``,
  ``sim-discover``, ``sim-validate``) the same ``-h/--help`` and ``-o/--out DIR``, and
  :func:`command_provenance` the provenance record of what they were asked.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from omegaconf import DictConfig

__all__ = [
    "RUN_HELP",
    "VERBOSE_ENV",
    "analysis_for",
    "command_provenance",
    "did_you_mean",
    "error_line",
    "is_verbose",
    "key_value_argv",
    "plain",
    "pop_out",
    "pop_verbose",
]

VERBOSE_ENV = "SIM_VERBOSE"  # set by -v, read by every job (also in other processes)

RUN_HELP = """\
sim-run: simulate urban communities under the six levers of Party-building-led governance (六入).

Usage:
  sim-run [OVERRIDE ...]             one run: every replicate of one configuration
  sim-run -m [OVERRIDE ...]          a sweep: one job per point (values a,b,c or an experiment)
  sim-run -o DIR ...                 write into DIR (a run's folder, or a sweep's with -m)
  sim-run -v ...                     say more (each job's table, Hydra's log)

Main groups (choose one file of each, NAME=OPTION):
  community=workshop|community|street|metro     size of the community (households, compounds)
  scenario=baseline|all_six|...                 a named workshop scenario (sim/configs/scenario/)
  experiment=lever_ablation|lever_grid|sobol|morris|tipping|budget_frontier
                                                a named sweep design (use with -m)

Main keys:
  levers.NAME.intensity=0..1     NAME: embedding converging linking immersion conduction integration
  budget=N|inf                   weekly budget per 1,000 households
  steps=N  replicates=N  seed=N  weeks, replicates (common random numbers), root seed

Examples:
  sim-run community=workshop steps=52
  sim-run scenario=all_six replicates=20
  sim-run -m levers.linking.intensity=0,0.5,1 community=workshop
  sim-run -m experiment=lever_ablation -o ~/sim-results/ablation
  sim-run -m experiment=lever_ablation resume=true       finish the newest such sweep

Then: sim-collect DIR, sim-analyse DIR, sim-report DIR, and sim-app for the workshop dashboard.
Exit codes: 0 done, 2 bad input (nothing written), 74 write failure, 130/143 stopped.

Hydra's own help follows (every key of the composed configuration).
"""

_GROUP_ERROR = re.compile(
    r"^(?P<key>[\w./-]+)=(?P<value>\S+) is not a known (?P<group>[\w/]+); allowed: (?P<allowed>.+)$"
)
_KEY_ERROR = re.compile(r"Key '(?P<name>[^']+)' not in '(?P<parent>[^']+)'")


def _closest(name: str, allowed: Sequence[str]) -> list[str]:
    return difflib.get_close_matches(name, list(allowed), n=3, cutoff=0.6)


def _suggestion(names: Sequence[str]) -> str:
    return "did you mean " + " or ".join(repr(n) for n in names) + "?"


@functools.lru_cache(maxsize=4)
def _defaults(config_dir: str | None) -> DictConfig:
    from sim.experiment.compose import compose

    return compose([], config_dir=config_dir)


def _keys_at(path: Sequence[str], config_dir: str | None) -> list[str] | None:
    """The keys of the default config's node at ``path`` (None when the path is not a node)."""
    from sim.experiment.compose import group_dirs

    node = _defaults(config_dir)
    for part in path:
        if not isinstance(node, DictConfig) or part not in node:
            return None
        node = node[part]
    if not isinstance(node, DictConfig):
        return None
    keys = [str(k) for k in node]
    if not path:  # at the top, the config groups are names too
        keys += [g for g in ("community", "scenario", "experiment") if group_dirs(g, config_dir)]
    return sorted(set(keys))


def did_you_mean(message: str, overrides: Sequence[str] = (), config_dir: str | None = None) -> str:
    """``message`` with the allowed names and the closest ones when it is about an unknown name.

    Two kinds of message are completed: a group option that does not exist
    (``community=worksop is not a known community; allowed: ...``) and a key that does not
    exist (``levers.embeding: Key 'embeding' not in 'LeversConfig'``); any other message is
    returned unchanged. Still one line.
    """
    group = _GROUP_ERROR.match(message)
    if group:
        allowed = [a.strip() for a in group["allowed"].split(",")]
        close = _closest(group["value"], allowed)
        return f"{message}; {_suggestion(close)}" if close else message
    key = _KEY_ERROR.search(message)
    if not key:
        return message
    name = key["name"]
    for override in overrides:
        dotted = override.lstrip("+~").partition("=")[0].split(".")
        if name not in dotted:
            continue
        path = dotted[: dotted.index(name)]
        allowed = _keys_at(path, config_dir)
        if allowed is None:
            continue
        close = _closest(name, allowed)
        where = ".".join(path) or "the top level"
        out = f"{message}; allowed at {where}: {', '.join(allowed)}"
        return f"{out}; {_suggestion(['.'.join([*path, c]) for c in close])}" if close else out
    return message


def pop_out(args: Sequence[str], multirun: bool) -> tuple[list[str], list[str]]:
    """Take ``-o DIR`` / ``--out DIR`` / ``--out=DIR`` off ``args``: (rest, Hydra overrides).

    The directory becomes ``hydra.run.dir`` for one run, ``hydra.sweep.dir`` for a sweep.
    Raises ValueError when the flag has no directory after it, or is given twice (like a
    repeated key: the last would otherwise win silently).
    """
    rest: list[str] = []
    out: str | None = None
    given: str | None = None  # the first -o as written, to name it if another follows

    def take(flag: str, value: str) -> None:
        nonlocal out, given
        if given is not None:
            raise ValueError(
                f"-o/--out is given twice ({given} and {flag} {value}); allowed: one output directory"
            )
        out, given = value, f"{flag} {value}"

    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("-o", "--out"):
            if i + 1 >= len(args) or not args[i + 1] or args[i + 1].startswith("-"):
                raise ValueError(f"{arg}: a directory must follow; allowed: {arg} DIR")
            take(arg, args[i + 1])
            i += 2
            continue
        if arg.startswith("--out="):
            value = arg.partition("=")[2]
            if not value:
                raise ValueError("--out=: the directory is empty; allowed: --out=DIR")
            take("--out", value)
        else:
            rest.append(arg)
        i += 1
    if out is None:
        return rest, []
    path = os.path.abspath(os.path.expanduser(out))
    return rest, [f"hydra.{'sweep' if multirun else 'run'}.dir={path}"]


def pop_verbose(args: Sequence[str]) -> tuple[list[str], bool]:
    """Take ``-v`` / ``--verbose`` off ``args``; True when it was there."""
    rest = [a for a in args if a not in ("-v", "--verbose")]
    return rest, len(rest) != len(args)


def is_verbose() -> bool:
    """Whether ``-v`` was given to the command that started this job."""
    return os.environ.get(VERBOSE_ENV, "") not in ("", "0")


def analysis_for(design: Mapping[str, Any] | None, experiment: str | None = None) -> str:
    """The analysis a sweep's design record (``design.json`` of the design sweeper) calls for.

    * ``sobol`` or ``morris`` → ``"sensitivity"`` (indices with bootstrap intervals);
    * an experiment named ``tipping`` → ``"tipping"`` (curves along the swept input);
    * arms over a ``budget`` input → ``"budget_frontier"`` (gain against cost, per arm);
    * a factorial over two or more inputs → ``"main_effects"`` (main effects and interaction);
    * a factorial over one input → ``"tipping"`` (the curve along it and its steepest rise);
    * named arms and no inputs (ablation, scenario sets), or no design record at all (a
      command-line sweep) → ``"compare_arms"`` (paired differences from the reference arm).

    ``experiment`` is the sweep's ``experiment`` key (its folder under ``results/sweeps/``).
    ``sim-analyse`` calls this to choose; it is the one place the choice is made.
    """
    if not design:
        return "compare_arms"
    method = str(design.get("method", "factorial")).lower()
    if method in ("sobol", "morris"):
        return "sensitivity"
    if experiment == "tipping":
        return "tipping"
    inputs = design.get("params") or []
    keys = {str(p.get("key", p.get("name", ""))) for p in inputs if isinstance(p, Mapping)}
    if design.get("arms") and "budget" in keys:
        return "budget_frontier"
    if len(inputs) >= 2:
        return "main_effects"
    if len(inputs) == 1:
        return "tipping"
    return "compare_arms"


_ROLE = re.compile(r":(?:mod|func|class|data|meth|attr):`~?([^`]+)`")
_LITERAL = re.compile(r"``([^`]+)``")


def plain(doc: str | None) -> str:
    """A docstring as a person reads it in a terminal: no reST roles or double backquotes."""
    text = _ROLE.sub(r"\1", doc or "")
    return _LITERAL.sub(r"\1", text).strip()


def key_value_argv(argv: Sequence[str], doc: str | None) -> list[str] | None:
    """The arguments of a ``key=value`` command with ``-o/--out DIR`` spelled ``out=DIR``;
    None after printing the plain-text help for ``-h/--help``."""
    args = list(argv)
    if any(a in ("-h", "--help") for a in args):
        print(plain(doc))
        return None
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("-o", "--out") and i + 1 < len(args):
            out.append(f"out={args[i + 1]}")
            i += 2
            continue
        if arg.startswith("--out="):
            arg = "out=" + arg.removeprefix("--out=")
        out.append(arg)
        i += 1
    return out


def command_provenance(program: str, argv: Sequence[str], seeds: Mapping[str, Any]) -> dict[str, Any]:
    """The provenance record (:func:`sim.results.provenance.provenance`) of ``program argv``.

    The command line is the one given (``argv`` after :func:`key_value_argv`), not the
    interpreter's, so that a command called from Python records its own arguments; like every
    recorded command line it leaves out where the results went (``out=DIR``).
    """
    from sim.results.provenance import command_line, provenance

    kept = [a for a in argv if not a.startswith("out=")]
    return {**provenance(dict(seeds)), "command_line": command_line([program, *kept])}


def error_line(command: str, message: str, code: int) -> int:
    """Say ``command: error: message`` in one line on stderr; return ``code``, the exit code."""
    print(f"{command}: error: {message}", file=sys.stderr)
    return code
