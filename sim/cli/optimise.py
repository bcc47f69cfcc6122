"""``sim-optimise``: robust lever portfolios under a weekly budget (see :mod:`sim.experiment.optimise`).

    sim-optimise budget=4 community=workshop                       # the default frame and search
    sim-optimise budget=4 population=24 generations=10 draws=12 robustness=regret out=results/opt4
    sim-optimise budget=4 robustness=percentile percentile=10 xlrm=default posterior=post.parquet
    sim-optimise budget=4 -o results/opt4          # -o/--out DIR is out=DIR

Its own keys: ``budget`` (required, also the model's weekly budget), ``population`` (16),
``generations`` (8), ``draws`` (uncertainty draws per policy, 8), ``robustness``
(mean|percentile|regret|satisficing), ``percentile`` (10), ``algorithm`` (nsga2|nsga3),
``xlrm`` (the name of a frame in sim/configs/xlrm/, or the path of your own frame's .yaml file,
checked the same way), ``posterior`` (a sim-calibrate posterior.parquet),
``out`` (default ``results/optimise/b<budget>-<setup hash>``: the same command resumes there),
``lang`` (en|zh, of the figures), ``reevaluate`` (0; N > 0: the front's best policy on each
objective is evaluated again on N fresh draws, into ``out/reevaluation/``, which
``sim-discover`` reads). Every other argument is a model override as for ``sim-run``.

The budget_frontier arms at the budget are evaluated on the same draws and seed the first
generation; the front is non-dominated over every policy evaluated, arms included (an arm on it
keeps its name). The printed summary says which arms no front policy dominates.

Writes into ``out``: ``pareto.parquet``, ``arms.parquet`` (the budget_frontier arms, the
front's policies that dominate each or ``none``, and whether it is on the front),
``evaluations.parquet``, ``draws.parquet``,
``front.html``, ``policies.html``, ``by_type.html``, ``scenario/pareto_NN.yaml`` and
``optimise.json`` (the setup, the search, the result and the provenance: version, git commit,
command line). Exit codes: 0 done; 2 bad input (one line, nothing run or written); 74 a
file could not be written; 130/143 stopped (finished evaluations kept: rerun to resume).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import sys
from pathlib import Path

from sim.cli.guide import command_provenance, error_line, key_value_argv
from sim.core.config import ConfigError, parse_number
from sim.results.failure import EXIT_BAD_INPUT, EXIT_IO

OWN_KEYS = ("population", "generations", "draws", "robustness", "percentile", "algorithm")
OWN_KEYS += ("xlrm", "posterior", "out", "lang", "reevaluate")


def parse(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    """Split the arguments into this command's own keys and model overrides."""
    own: dict[str, str] = {}
    overrides: list[str] = []
    for arg in argv:
        key, sep, value = arg.partition("=")
        if arg.startswith("-"):
            raise ConfigError(f"{arg}: not an option of sim-optimise; allowed: key=value arguments")
        if not sep:
            raise ConfigError(f"{arg}: not key=value; allowed: key=value arguments")
        if key in OWN_KEYS:
            own[key] = value
        else:
            overrides.append(arg)
    return own, overrides


def prepare(argv: list[str]):
    """Everything checked before anything runs: frame, search, base config, output directory."""
    from sim.experiment.compose import compose_config
    from sim.experiment.optimise import Search, check_budget, check_resumable, lever_costs, setup_record
    from sim.experiment.xlrm import check_overrides, load_frame

    own, overrides = parse(argv)
    if not any(o.partition("=")[0] == "budget" for o in overrides):
        raise ConfigError("budget: missing; allowed: budget=B, a weekly budget per 1,000 households > 0")
    base = compose_config(overrides)
    posterior = own.get("posterior") or None
    frame = load_frame(own.get("xlrm", "default"), base, posterior)
    check_overrides(frame, overrides)
    search = Search(
        budget=float(base.budget),
        population=parse_number("population", own.get("population"), int, default=16),
        generations=parse_number("generations", own.get("generations"), int, default=8),
        draws=parse_number("draws", own.get("draws"), int, default=8),
        robustness=own.get("robustness", "mean"),
        percentile=parse_number("percentile", own.get("percentile"), default=10.0),
        algorithm=own.get("algorithm", "nsga2"),
        seed=int(base.seed),
    )
    search.check()
    check_budget(frame, lever_costs(base), search.budget)
    lang = own.get("lang", "en")
    if lang not in ("en", "zh"):
        raise ConfigError(f"lang={lang}; allowed: en or zh")
    reevaluate = parse_number(
        "reevaluate", own.get("reevaluate"), int, lo=0, default=0, allowed="0 (none) or a number of draws ≥ 1"
    )
    record = setup_record(frame, overrides, search, posterior)
    if "out" in own:
        out = Path(own["out"])
    else:
        digest = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:8]
        out = Path("results") / "optimise" / f"b{search.budget:g}-{digest}"
    if out.exists() and not out.is_dir():
        raise ConfigError(f"out={out}: not a directory; allowed: a directory (made if missing)")
    if out.is_dir():
        check_resumable(out, record)
    return frame, base, overrides, search, out, posterior, lang, reevaluate


def cli(argv: list[str] | None = None) -> None:
    """Console entry point ``sim-optimise``."""
    from sim.experiment.stopping import stop_on_signals
    from sim.results import WriteError

    args = key_value_argv(sys.argv[1:] if argv is None else argv, __doc__)
    if args is None:
        return
    logging.getLogger("MESA").setLevel(logging.WARNING)
    try:
        frame, base, overrides, search, out, posterior, lang, reevaluate = prepare(args)
    except ConfigError as exc:
        sys.exit(error_line("sim-optimise", str(exc), EXIT_BAD_INPUT))
    from sim.experiment.optimise import seeds_of

    made_by = command_provenance("sim-optimise", args, seeds_of(search))
    try:
        with stop_on_signals():
            run(frame, base, overrides, search, out, posterior, lang, reevaluate, made_by)
    except ConfigError as exc:
        sys.exit(error_line("sim-optimise", str(exc), EXIT_BAD_INPUT))
    except WriteError as exc:
        sys.exit(error_line("sim-optimise", f"{exc}; no file was left half-written", EXIT_IO))
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", 2)
        print(
            f"sim-optimise: stopped; finished evaluations are kept in {out}: "
            "rerun the same command to resume",
            file=sys.stderr,
        )
        sys.exit(128 + signum)


def run(
    frame, base, overrides, search, out: Path, posterior, lang: str, reevaluate: int = 0, provenance=None
) -> None:
    """Search, write the tables, figures and scenarios, print the front and the arms.

    ``provenance`` (default: this process's) goes into ``optimise.json`` and the re-evaluation's.
    """
    from sim.experiment.optimise import optimise, write_outcome
    from sim.present.portfolios import write_figures

    def log(message: str) -> None:
        print(f"sim-optimise: {message}", file=sys.stderr, flush=True)

    log(
        f"budget {search.budget:g}, {search.population} policies × {search.generations} generations × "
        f"{search.draws} draws, robustness={search.robustness}, into {out}"
    )
    result = optimise(
        frame,
        base,
        overrides,
        search,
        out,
        posterior,
        log=log,
        progress=sys.stderr.isatty(),
        provenance=provenance,
    )
    write_outcome(out, result)
    objectives = [(o.name, o.metric) for o in frame.objectives]
    group = next(iter(frame.groups), None)
    write_figures(
        out,
        result.front,
        result.arms,
        result.evaluations,
        result.draws,
        frame.decision_keys,
        objectives,
        group,
        lang,
    )
    print(format_result(result, frame))
    if reevaluate:
        from sim.experiment.optimise import REEVALUATION_DIR, extreme_policies
        from sim.experiment.optimise import reevaluate as evaluate_again

        chosen = extreme_policies(result.front, frame, search.robustness)
        log(f"re-evaluating {len(chosen)} policies of the front on {reevaluate} fresh draws")
        evaluate_again(frame, overrides, chosen, reevaluate, search, out / REEVALUATION_DIR, provenance)
        print(f"re-evaluation: {out / REEVALUATION_DIR} (sim-discover {out / REEVALUATION_DIR} CONDITION)")
    print(f"results: {out}")


def format_result(result, frame) -> str:
    """The front and the arms' comparison as rich tables (plain text when not a terminal)."""
    from rich.console import Console
    from rich.table import Table

    short = {k: k.split(".")[1][:5] if k.endswith(".intensity") else k for k in frame.decision_keys}
    robust = [f"{o.name}_robust" for o in frame.objectives]
    front = Table(
        title=f"Pareto front ({len(result.front)} policies, robustness {result.front['robustness'].iloc[0]})"
    )
    for col in ["policy", *short.values(), *robust, "weekly_cost"]:
        front.add_column(col.removesuffix("_robust"), justify="right")
    for row in result.front.to_dict("records"):
        front.add_row(
            row["policy"],
            *(f"{row[k]:.2f}" for k in short),
            *(f"{row[c]:.3f}" for c in robust),
            f"{row['weekly_cost']:.2f}",
        )
    arms = Table(title="budget_frontier arms at the same budget: dominated by a front policy?")
    for col in ["arm", *robust, "weekly_cost", "dominated by", "on front"]:
        arms.add_column(col.removesuffix("_robust"), justify="right")
    for row in result.arms.to_dict("records"):
        arms.add_row(
            row["policy"],
            *(f"{row[c]:.3f}" for c in robust),
            f"{row['weekly_cost']:.2f}",
            row["dominated_by"] or "none",
            "yes" if row.get("on_front") else "no",
        )
    console = Console(width=160, record=True, file=io.StringIO())
    console.print(front)
    console.print(arms)
    return console.export_text() + "\n".join(arm_verdicts(result.arms))


def arm_verdicts(arms) -> list[str]:
    """Plain sentences: which budget_frontier arms no front policy dominates (or that all are)."""
    lines = []
    for row in arms.to_dict("records"):
        if row["dominated"]:
            continue
        where = "it is on the front itself" if row.get("on_front") else "it is not on the front"
        lines.append(f"budget_frontier arm {row['policy']} is not dominated by any front policy: {where}.")
    if not lines:
        lines.append("every budget_frontier arm is dominated by at least one front policy.")
    return lines


if __name__ == "__main__":
    cli()
