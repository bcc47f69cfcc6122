"""``sim-discover``: the conditions under which an outcome happens (PRIM boxes and a CART tree).

    sim-discover results/optimise/b4-1a2b3c4d "satisfaction_gain < 0.02"
    sim-discover results/optimise/b4-1a2b3c4d "trust falls" policy=p45186da0ce
    sim-discover results/sweeps/budget_frontier/<timestamp> "cost_effectiveness < 0.005" inputs=budget,arm

PATH is an optimisation directory (``evaluations.parquet`` and ``draws.parquet`` of
``sim-optimise``: one case per policy × uncertainty draw, inputs the uncertainties and the
decisions that vary), a collected sweep (a directory with ``collected.parquet`` or the file
itself: one case per point × arm × replicate, inputs the parameters that vary, the arm and
the replicate, i.e. the community draw). Keys:
``inputs=a,b`` (default: as said), ``policy=ID`` (an optimisation's cases of one policy),
``density=0.8`` (the least density of a chosen box), ``boxes=2``, ``depth=3`` (of the tree),
``out=DIR`` or ``-o/--out DIR`` (default ``PATH/discovery``). Writes ``discovery.json``
(boxes, rules, the words in English and Chinese), ``discovery.md`` and ``tradeoff.html``;
prints the words.
Exit codes: 0 done; 2 bad input (one line, nothing written); 74 a file could not be written.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from sim.analysis.discovery import DiscoveryError, case_table, discover, varying_inputs
from sim.cli.guide import error_line, key_value_argv
from sim.core.config import ConfigError, parse_number
from sim.results.failure import EXIT_BAD_INPUT, EXIT_IO

KEYS = ("inputs", "policy", "density", "boxes", "depth", "out", "lang")


def cases(path: Path, policy: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The case table under ``path`` and its default inputs (raises DiscoveryError)."""
    from sim.results import COLLECTED_FILE, CorruptResultError, read_parquet

    try:
        if (path / "evaluations.parquet").exists() and (path / "draws.parquet").exists():
            evaluations = read_parquet(path / "evaluations.parquet")
            draws = read_parquet(path / "draws.parquet")
            if policy is not None:
                known = sorted(set(evaluations["policy"]))
                if policy not in known:
                    raise DiscoveryError(
                        f"policy={policy} is not in {path}; allowed: {', '.join(known[:12])}"
                    )
                evaluations = evaluations[evaluations["policy"] == policy]
            uncertain = [c for c in draws.columns if c not in ("draw", "seed")]
            table = evaluations.merge(draws, on="draw", suffixes=("", "_draw"))
            decisions = [c for c in evaluations.columns if c.startswith("levers.") and c not in uncertain]
            return table.reset_index(drop=True), varying_inputs(table, [*uncertain, *decisions])
        file = path / COLLECTED_FILE if path.is_dir() else path
        if not file.is_file():
            raise DiscoveryError(
                f"{path}: neither an optimisation (evaluations.parquet, draws.parquet) nor a collected sweep "
                f"({COLLECTED_FILE}; run sim-collect first)"
            )
        if policy is not None:
            raise DiscoveryError(f"policy={policy}: allowed only on an optimisation directory")
        table = case_table(read_parquet(file))
    except CorruptResultError as exc:
        raise DiscoveryError(str(exc)) from None
    from sim.core.config import Config
    from sim.experiment.simulate import flatten

    params = [c for c in flatten(Config()) if c != "seed"]
    if "replicate" in table.columns:
        # replicate r is one community draw (structure and chance), the same at every point: a
        # condition that follows the community rather than the design shows up as a replicate box
        table["replicate"] = "r" + table["replicate"].astype(int).astype(str)
    return table, varying_inputs(table, ["arm", "replicate", *params])


def cli(argv: list[str] | None = None) -> None:
    """Console entry point ``sim-discover PATH CONDITION [key=value ...]``."""
    from sim.results import WriteError, write_json, write_text

    given = key_value_argv(sys.argv[1:] if argv is None else argv, __doc__)
    if given is None:
        return
    args = given
    try:
        positional = [a for a in args if a.partition("=")[0] not in KEYS]
        own = dict(a.split("=", 1) for a in args if a not in positional)
        if len(positional) != 2:
            raise DiscoveryError(
                "usage: sim-discover PATH CONDITION [inputs=a,b] [policy=ID] [density=0.8] [boxes=2] "
                "[depth=3] [out=DIR]"
            )
        path, condition = Path(positional[0]), positional[1]
        if not path.exists():
            raise DiscoveryError(f"{path}: no such file or directory")
        table, inputs = cases(path, own.get("policy"))
        if "inputs" in own:
            inputs = [c.strip() for c in own["inputs"].split(",") if c.strip()]
        density = parse_number(
            "density", own.get("density"), lo=0, hi=1, default=0.8, allowed="a number in (0, 1]"
        )
        if density == 0:
            raise DiscoveryError("density=0 is out of range; allowed: a number in (0, 1]")
        boxes = parse_number("boxes", own.get("boxes"), int, lo=1, default=2)
        depth = parse_number("depth", own.get("depth"), int, lo=1, default=3)
        lang = own.get("lang", "en")
        if lang not in ("en", "zh"):
            raise DiscoveryError(f"lang={lang}; allowed: en or zh")
        found = discover(table, condition, inputs, min_density=density, max_boxes=boxes, max_depth=depth)
    except (DiscoveryError, ConfigError) as exc:
        sys.exit(error_line("sim-discover", str(exc), EXIT_BAD_INPUT))
    out = Path(own.get("out") or ((path if path.is_dir() else path.parent) / "discovery"))
    words_en, words_zh = found.words("en"), found.words("zh")
    head = f"{found.condition.text}: {found.of_interest} of {found.cases} cases"
    try:
        from sim.present.portfolios import tradeoff_figure
        from sim.results import atomic_write

        write_json(out / "discovery.json", found.record())
        text = f"# {head}\n\n" + "\n".join(f"- {w}" for w in words_en) + "\n\n"
        text += "\n".join(f"- {w}" for w in words_zh) + "\n"
        write_text(out / "discovery.md", text)
        fig = tradeoff_figure(found, lang)
        atomic_write(out / "tradeoff.html", lambda tmp: fig.write_html(tmp, include_plotlyjs="directory"))
    except WriteError as exc:
        sys.exit(error_line("sim-discover", f"{exc}; no file was left half-written", EXIT_IO))
    print(head)
    for line in words_zh if lang == "zh" else words_en:
        print(f"  {line}")
    if not found.boxes and not found.rules:
        print(
            "  no box or rule found (the condition holds in no case, in every case, or nowhere in particular)"
        )
    print(f"results: {out}")


if __name__ == "__main__":
    cli()
