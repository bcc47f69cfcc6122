"""``sim-report PATH``: one self-contained HTML report of a result, in English or Chinese.

The report says what was run (presets, seeds, replicates, weeks, scenarios and the parameters
that vary), shows the key figures of :mod:`sim.present.plots` and ends with a summary table of the
final week (replicate mean and 95% interval). plotly.js is inlined once, and nothing is
loaded from the network, so the file works offline and can be sent by email.

    sim-report results/runs/2026-11-28/10-00-00-000000     # one run
    sim-report results/scenarios/                          # a directory of runs
    sim-report results/sweeps/x/collected.parquet --lang zh --png

The folder written by ``sim-calibrate``, ``sim-validate`` or ``sim-optimise`` gets a report of
its kind (:mod:`sim.present.report.kinds`): takeaways computed from its files, figures chosen
for it, its tables and the same footer.

A sweep of the design sweeper opens with what ``sim-analyse`` found (its tables in
``SWEEP/analysis/``: Sobol, Morris, tipping points). The footer says what made the results: the
provenance block of each run's ``summary.json`` and of a sweep's ``design.json`` (version, git
commit, command line, Python, platform, seeds, key dependency versions).

``--png`` also writes every figure as a PNG through Plotly's image export (kaleido), which
drives a Chromium installed on the system; without one it says what to install.

One module per kind of result: :mod:`.results` (a run, a scenario set, a sweep),
:mod:`.calibration`, :mod:`.validation` and :mod:`.optimisation` (the folders of those commands,
dispatched by :mod:`.kinds`, sharing :mod:`.folder`); :mod:`.output` writes the page and the
images; the command is :mod:`sim.cli.report`.
"""

from sim.present.report.output import NO_BROWSER, default_output, find_chromium, write_pngs, write_report
from sim.present.report.results import (
    PNG_DIR,
    REPORT_FILE,
    Source,
    build_report,
    provenance_html,
    read_source,
    summary_table,
)

__all__ = [
    "NO_BROWSER",
    "PNG_DIR",
    "REPORT_FILE",
    "Source",
    "build_report",
    "default_output",
    "find_chromium",
    "provenance_html",
    "read_source",
    "summary_table",
    "write_pngs",
    "write_report",
]
