"""Writing a report: the HTML page of a result (atomically) and, on request, its figures as PNG
images through the system Chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import plotly.graph_objects as go

from sim.present.report import kinds
from sim.present.report.results import CHROMIUM_NAMES, REPORT_FILE, _figures, build_report, read_source
from sim.results import remove_orphan_temporaries, write_text
from sim.vocab import check_lang


def default_output(path: Path) -> Path:
    """report.html inside a run or sweep directory, or beside a collected table."""
    return path.with_name(REPORT_FILE) if path.is_file() else path / REPORT_FILE


def write_report(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    lang: str = "en",
    allow_missing: bool = False,
) -> tuple[Path, list[tuple[str, go.Figure, str]]]:
    """Write the HTML report of ``path`` (atomically) and return its path and its figures.

    The folder of sim-calibrate, sim-validate or sim-optimise (or one of its files) gets the
    report of its kind (:mod:`sim.present.reports`)."""

    check_lang(lang)
    found = kinds.detect(path)
    if found is not None:
        kind = kinds.read_kind(*found)
        figures = kinds.figures(kind, lang)
        target = Path(out) if out is not None else found[0] / REPORT_FILE
        page = kinds.build_page(kind, lang, figures)
    else:
        src = read_source(path, allow_missing)
        figures = _figures(src, lang)
        target = Path(out) if out is not None else default_output(src.path)
        page = build_report(src, lang, figures)
    remove_orphan_temporaries(target.parent)  # a killed sim-report's half-written file
    write_text(target, page)
    umask = os.umask(0)
    os.umask(umask)
    target.chmod(0o666 & ~umask)  # written through mkstemp (owner-only); a report is for sharing
    return target, figures


# ------------------------------------------------------------------------------ images
def find_chromium() -> str | None:
    """Path of a system Chromium/Chrome (``BROWSER_PATH`` wins), or None."""
    env = os.environ.get("BROWSER_PATH")
    if env and Path(env).exists():
        return env
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


NO_BROWSER = (
    "static images need a Chromium browser and none was found; install one with "
    "`apt-get install -y chromium` (Debian/Ubuntu) or set BROWSER_PATH to a Chrome/Chromium executable"
)


def write_pngs(figures: list[tuple[str, go.Figure, str]], folder: Path) -> list[Path]:
    """Every figure as a PNG in ``folder`` through kaleido and the system Chromium."""
    import plotly.io as pio

    browser = find_chromium()
    if browser is None:
        raise RuntimeError(NO_BROWSER)
    os.environ["BROWSER_PATH"] = browser  # kaleido must use this browser, never fetch its own
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{i:02d}_{key}.png" for i, (key, _, _) in enumerate(figures, start=1)]
    pio.write_images([fig for _, fig, _ in figures], paths, width=1100, height=650, scale=1)
    return paths
