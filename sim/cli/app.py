"""``sim-app``: serve the workshop dashboard (:mod:`sim.present.app`) with Solara's server.

sim-app                       # http://127.0.0.1:8765
sim-app --port 9000           # another port
sim-app --host 0.0.0.0        # reachable from the room's network (only when asked)
sim-app --calibrated field    # every model starts from sim/configs/calibrated/NAME.yaml
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import solara

from sim.core.config import ConfigError
from sim.experiment.compose import group_options
from sim.present import app
from sim.present.app import DEFAULT_HOST, DEFAULT_PORT
from sim.present.portfolios import SCENARIOS_ENV, check_scenario_dir
from sim.present.room import ROOM
from sim.present.workshop import CALIBRATED_ENV, DEFAULT_PRESET, scenario_catalogue


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="sim-app",
        description="The workshop dashboard: pick a scenario, move the six levers, watch the community "
        "week by week; change levers mid-run, branch a counterfactual, present full-screen, hand out a "
        "one-page summary. In Chinese and English.",
        epilog="examples:\n"
        "  sim-app                     http://127.0.0.1:8765 (this computer only)\n"
        "  sim-app --port 9000\n"
        "  sim-app --host 0.0.0.0      reachable from the room's network (only when asked)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}: this computer only)",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free port)"
    )
    from sim.present import serve

    parser.add_argument("--allow-remote", action="store_true", help="allow a --host beyond this computer")
    parser.add_argument(
        "--allowed-host", action="append", default=[], help="a name clients may use (repeatable; see serve)"
    )
    parser.add_argument(
        "--calibrated",
        metavar="NAME",
        help="start every model from a calibrated parameter set (sim/configs/calibrated/NAME.yaml)",
    )
    parser.add_argument(
        "--scenarios",
        metavar="DIR",
        help="also offer the scenarios in DIR/scenario/ (e.g. the Pareto policies sim-optimise writes)",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port={args.port} is out of range; allowed: 0 to 65535")
    try:
        args.warning = serve.check_bind(args.host, args.allow_remote)
    except serve.BindRefused as exc:
        parser.error(str(exc))
    if args.calibrated is not None and args.calibrated not in group_options("calibrated"):
        allowed = ", ".join(group_options("calibrated")) or "none yet (sim-calibrate ... install=true)"
        parser.error(f"--calibrated={args.calibrated} is not known; allowed: {allowed}")
    if args.scenarios is not None:
        try:
            os.environ[SCENARIOS_ENV] = check_scenario_dir(args.scenarios)
        except ConfigError as exc:
            parser.error(str(exc))
    return args


def _plotly_js() -> Path:
    """plotly.js as shipped inside the plotly package (served at :data:`PLOTLY_JS_URL`)."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise FileNotFoundError(f"plotly.js not found at {path}; reinstall the plotly package")
    return path


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


#: the Solara page ``sim-app`` serves
APP_PAGE = f"{app.__name__}:Page"


def cli(argv: Sequence[str] | None = None) -> None:
    """Console entry point ``sim-app``: serve the dashboard with Solara's server."""
    args = _parse(argv)
    port = args.port or _free_port(args.host)
    if args.calibrated:
        os.environ[CALIBRATED_ENV] = args.calibrated  # read by compose_config in the page's process
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    import solara.server.settings as solara_settings
    from solara.__main__ import cli as solara_cli

    solara_settings.telemetry.mixpanel_enable = False  # nothing leaves the machine
    solara_settings.assets.extra_locations.append(str(_plotly_js().parent))  # serves PLOTLY_JS_URL
    # Compose every scenario once now: a broken scenario file is reported at start, and Hydra
    # scans its plugins here rather than inside a page render.
    catalogue = scenario_catalogue(DEFAULT_PRESET)
    print(f"sim-app: {len(catalogue)} scenarios: {', '.join(catalogue)}", flush=True)
    print(f"sim-app: the workshop dashboard is at http://{args.host}:{port}/ (Ctrl+C stops it)", flush=True)
    from sim.present import serve

    serve.warn(args.warning)
    # Solara registers the page it serves when its server module is first imported, from
    # SOLARA_APP; the guard imports that module before `solara run` would set the variable.
    os.environ["SOLARA_APP"] = APP_PAGE
    solara.lab.on_kernel_start(ROOM.session_started)  # sessions counted in the log, memory handed back
    ROOM.start()
    serve.install(args.host, port, args.allowed_host)  # Host/Origin checked, no /resourcez
    solara_cli.main(
        [
            "run",
            APP_PAGE,
            "--host",
            args.host,
            "--port",
            str(port),
            "--production",
            "--no-open",
            "--no-check-version",
        ],
        prog_name="sim-app",
    )


if __name__ == "__main__":
    cli(sys.argv[1:])
