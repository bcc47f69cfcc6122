"""``sim-validate [seed=N] [seeds=N] [out=DIR] [patterns=a,b] [community=NAME]``: the pattern harness.

Runs every pattern of :mod:`sim.experiment.validate` (or those named) with its knock-out on
``seeds`` independent seeds (default 20) from the seed base ``seed``, prints one line per
pattern as it finishes, and writes ``DIR/validation.parquet`` (one row per pattern),
``DIR/validation.json`` (the settings, verdicts and provenance: version, git commit, command
line) and ``DIR/validation.html`` (default DIR: ``results/validation``). Bad input stops with
one line and exit code 2 before anything runs; a failed write exits with 74. ``-o/--out DIR``
is ``out=DIR``.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from sim.cli.guide import command_provenance, error_line, key_value_argv
from sim.experiment import validate as harness

USAGE = "usage: sim-validate [seed=N] [seeds=N] [out=DIR] [patterns=NAME,...] [community=PRESET]"
KEYS = ("seed", "seeds", "out", "patterns", "community")


def _error(message: str) -> int:
    return error_line("sim-validate", message, 2)


def cli(argv: list[str] | None = None) -> int:
    """Parse ``key=value`` arguments, run the harness, write the table and the report."""
    given = key_value_argv(sys.argv[1:] if argv is None else argv, f"{USAGE}\n\n{__doc__}")
    if given is None:
        return 0
    argv = given
    args: dict[str, str] = {}
    for a in argv:
        key, sep, value = a.partition("=")
        if not sep or key not in KEYS:
            return _error(f"{a!r} is not understood; allowed: {', '.join(k + '=…' for k in KEYS)}")
        args[key] = value
    try:
        seed = int(args.get("seed", harness.DEFAULT_SEED))
        seeds = int(args.get("seeds", harness.DEFAULT_SEEDS))
    except ValueError:
        return _error(f"seed={args.get('seed')!r} / seeds={args.get('seeds')!r}; allowed: integers")
    if not 0 <= seed < 2**63:
        return _error(f"seed={seed} is out of range; allowed: an integer from 0 to 2^63-1")
    if seeds < 2:
        return _error(
            f"seeds={seeds} is too few; allowed: an integer of at least 2 (20 or more for verdicts)"
        )
    names = [n for n in args.get("patterns", "").split(",") if n]
    unknown = [n for n in names if n not in harness.BY_NAME]
    if unknown:
        return _error(f"patterns={','.join(unknown)} is not known; allowed: {', '.join(harness.BY_NAME)}")
    community = args.get("community", "workshop")
    from sim.core.config import ConfigError
    from sim.experiment.compose import group_options

    if community not in group_options("community"):
        return _error(f"community={community} is not known; allowed: {', '.join(group_options('community'))}")
    out = Path(args.get("out", "results/validation"))
    if out.exists() and not out.is_dir():
        return _error(f"out={out} is a file; allowed: a directory")
    if seeds < harness.DEFAULT_SEEDS:
        print(f"sim-validate: note: {seeds} seeds; verdicts are meant for {harness.DEFAULT_SEEDS} or more")
    base = (f"community={community}",)
    try:
        table, results = harness.validate(
            names or None, seeds, seed, base, progress=lambda line: print(line, flush=True)
        )
    except ConfigError as exc:
        return _error(str(exc))
    from sim.present.validation import render
    from sim.results import WriteError, write_json, write_parquet, write_text

    command = shlex.join(["sim-validate", *argv])
    made_by = command_provenance("sim-validate", argv, harness.seeds_of(seed, seeds))
    try:
        write_parquet(out / harness.TABLE_FILE, table)
        write_json(out / harness.RECORD_FILE, harness.record(table, seeds, seed, base, made_by))
        write_text(out / "validation.html", render(results, table, command))
    except (OSError, WriteError) as exc:
        return error_line("sim-validate", f"cannot write to {out}: {exc}", 74)
    print(table[["pattern", "mean", "low", "high", "verdict", "knockout_verdict"]].to_string(index=False))
    print(f"wrote {out / harness.TABLE_FILE}, {out / harness.RECORD_FILE} and {out / 'validation.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(cli())
