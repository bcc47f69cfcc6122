"""``sim-calibrate``: fit config keys to observed targets with ABC-SMC (pyabc).

    sim-calibrate targets=field community=workshop steps=52     # sim/configs/targets/field.yaml
    sim-calibrate targets=T.yaml params=dynamics.fee_base,dynamics.fee_sensitivity:0:2
    sim-calibrate targets=T.yaml population=200 generations=8 cores=2 out=results/calibrations/x
    sim-calibrate targets=T.yaml recovery=20      # parameter recovery from synthetic targets
    sim-calibrate targets=field -o results/calibrations/mine   # -o/--out DIR is out=DIR

Arguments of the calibration itself: ``targets=`` (required: a YAML file, or the name of one in
``sim/configs/targets/``), ``params=`` (comma-separated
``key`` or ``key:lo:hi``; default the file's ``parameters:``), ``population=`` (particles per
generation, 100), ``generations=`` (5), ``cores=`` (processes, 1), ``out=`` (default
``results/calibrations/<targets file name>``), ``name=`` (of the calibrated config, default the
targets file's name), ``install=true`` (also write it into ``sim/configs/calibrated/``),
``draws=`` (posterior predictive simulations, 50) and ``recovery=N``. Every other argument is a
model override, as for ``sim-run`` (``community=workshop steps=52 replicates=2``; ``replicates``
is the number of communities each particle averages over, 1 unless given).

Running the same command again resumes from the history in ``out=`` (after a stop, from the
last complete generation; with a larger ``generations=``, it adds generations).

Exit codes: 0 done; 2 bad input (one line naming the entry; nothing run or written);
74 a result could not be written; 130/143 stopped (history kept; rerun to resume).
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sim.cli.guide import command_provenance, error_line, key_value_argv
from sim.core.config import ConfigError, parse_number
from sim.results.failure import EXIT_BAD_INPUT, EXIT_IO

if TYPE_CHECKING:
    from sim.experiment.calibrate import Outputs

OWN_KEYS = ("targets", "params", "population", "generations", "cores", "out", "name", "install", "draws")
OWN_KEYS += ("recovery",)


@dataclass
class Arguments:
    """The command line, split into the calibration's own settings and model overrides."""

    targets: str = ""
    params: list[str] = field(default_factory=list)
    population: int = 100
    generations: int = 5
    cores: int = 1
    out: str | None = None
    name: str | None = None
    install: bool = False
    draws: int = 50
    recovery: int = 0
    overrides: list[str] = field(default_factory=list)


def parse_arguments(argv: list[str]) -> Arguments:
    """Split ``argv`` (raises ConfigError with one line on a bad argument)."""
    args = Arguments()
    for item in argv:
        key, sep, value = item.partition("=")
        if key not in OWN_KEYS or item.startswith("-"):
            if item.startswith("-"):
                raise ConfigError(f"{item}: not an option of sim-calibrate; allowed: key=value arguments")
            args.overrides.append(item)
            continue
        if not sep or (not value and key != "params"):
            raise ConfigError(f"{key}: no value given; allowed: {key}=VALUE")
        if key in ("population", "generations", "cores", "draws", "recovery"):
            lo = {"population": 2, "generations": 1, "cores": 1, "draws": 1, "recovery": 1}[key]
            setattr(args, key, parse_number(key, value, int, lo=lo))
        elif key == "params":
            args.params = [p.strip() for p in value.split(",") if p.strip()]
        elif key == "install":
            if value.lower() not in ("true", "false", "yes", "no", "1", "0"):
                raise ConfigError(f"install={value} is not a truth value; allowed: true or false")
            args.install = value.lower() in ("true", "yes", "1")
        else:
            setattr(args, key, value)
    if not args.targets:
        raise ConfigError("targets: not given; allowed: targets=PATH.yaml (see sim/configs/targets/)")
    if args.name is not None and (not args.name.replace("_", "").replace("-", "").isalnum()):
        raise ConfigError(f"name={args.name} is not a plain name; allowed: letters, digits, - and _")
    if not any(o.lstrip("+").startswith("replicates=") for o in args.overrides):
        args.overrides.append("replicates=1")
    return args


def resolve_targets(value: str, config_dir: Path) -> Path:
    """``targets=`` as given, or the package's ``sim/configs/targets/NAME.yaml`` for a bare NAME."""
    path = Path(value)
    shipped = config_dir / "targets" / f"{value}.yaml"
    if not path.exists() and path.suffix == "" and "/" not in value and shipped.is_file():
        return shipped
    return path


def show_progress() -> None:
    """One line per generation on stderr: pyabc's own log (logger ``ABC``) and this command's."""
    own = logging.getLogger("sim.calibrate")
    if not own.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("sim-calibrate: %(message)s"))
        own.addHandler(handler)
        own.setLevel(logging.INFO)
        own.propagate = False
    logging.getLogger("ABC").setLevel(logging.INFO)  # pyabc logs each generation at INFO


def main(argv: list[str] | None = None) -> int:
    """Run ``sim-calibrate`` with ``argv``; return the exit code."""
    show_progress()
    logging.getLogger("MESA").setLevel(logging.WARNING)
    from sim.experiment import calibrate
    from sim.experiment.compose import CONFIG_DIR, compose_config
    from sim.results import WriteError

    started = time.perf_counter()
    given = key_value_argv(sys.argv[1:] if argv is None else argv, __doc__)
    if given is None:
        return 0
    try:
        args = parse_arguments(given)
        base = compose_config(args.overrides)
        args.targets = str(resolve_targets(args.targets, CONFIG_DIR))
        spec = calibrate.load_spec(args.targets, base, args.params or None)
        settings = calibrate.Settings(args.population, args.generations, args.cores)
        settings.check()
        stem = Path(args.targets).stem
        default_out = Path("results") / "calibrations" / (f"{stem}-recovery" if args.recovery else stem)
        out = Path(args.out) if args.out else default_out
        if not args.recovery:
            calibrate.check_resumable(out, spec, base, settings)
        made_by = command_provenance("sim-calibrate", given, calibrate.seeds_of(base))
    except ConfigError as exc:
        return error_line("sim-calibrate", str(exc), EXIT_BAD_INPUT)
    try:
        if args.recovery:
            from sim.experiment import recovery

            _, coverage = recovery.run_recovery(spec, base, out, settings, args.recovery, made_by)
            print(recovery.format_coverage(coverage, args.recovery, calibrate.elapsed(started)))
            print(f"results: {out}")
            return 0
        history = calibrate.run_abc(spec, base, out, settings, provenance=made_by)
        name = args.name or stem
        result = calibrate.write_outputs(
            history,
            spec,
            base,
            out,
            name,
            draws=args.draws,
            install_dir=CONFIG_DIR if args.install else None,
            provenance=made_by,
            workers=settings.cores,
        )
        from sim.present.calibration import write_figures

        figures = write_figures(
            out, result.posterior, result.summary, result.predictive, result.checks, result.diagnostics,
            title=f"Calibration to {args.targets}",
        )  # fmt: skip
    except ConfigError as exc:
        return error_line("sim-calibrate", str(exc), EXIT_BAD_INPUT)
    except WriteError as exc:
        return error_line("sim-calibrate", f"{exc}; no result was left half-written", EXIT_IO)
    except KeyboardInterrupt:
        print(
            f"sim-calibrate: stopped; the history in {out} keeps every complete generation; "
            "run the same command to resume",
            file=sys.stderr,
        )
        return 128 + signal.SIGINT
    print(format_result(result, calibrate.elapsed(started)))
    if result.calibrated is not None:
        print(f"calibrated config: {result.calibrated} (sim-run --config-dir {out} +calibrated={name})")
    print(f"figures: {figures}")
    print(f"results: {out}")
    return 0


def format_result(result: Outputs, took: str) -> str:
    """The posterior of each key and the predictive check of each target, as a short table."""
    lines = [f"{'key':<40}{'median':>10}{'90% credible interval':>28}{'width/prior':>13}"]
    for row in result.summary.itertuples():
        interval = f"[{row.low:.4g}, {row.high:.4g}]"
        lines.append(f"{row.key:<40}{row.median:>10.4g}{interval:>28}{row.width_vs_prior:>13.2f}")
    lines.append("")
    for check in result.checks:
        if check["kind"] == "target":
            lines.append(
                f"target {check['name']}: observed {check['observed']:.4g} ± {check['sd']:.3g}; "
                f"posterior predictive 90% [{check['predictive_5']:.4g}, {check['predictive_95']:.4g}]: "
                f"{check['verdict']}"
            )
        else:
            lines.append(
                f"plausibility {check['name']}: range [{check['low']:.4g}, {check['high']:.4g}]; "
                f"{check['share_inside']:.0%} of the posterior predictive inside: {check['verdict']}"
            )
    diag = result.diagnostics
    lines.append(
        f"{len(diag)} generation(s), {int(diag['simulations'].sum())} simulations, final epsilon "
        f"{diag['epsilon'].iloc[-1]:.4g}, ESS {diag['effective_sample_size'].iloc[-1]:.0f} ({took})"
    )
    return "\n".join(lines)


def cli() -> None:
    """Console entry point."""
    sys.exit(main())


if __name__ == "__main__":
    cli()
