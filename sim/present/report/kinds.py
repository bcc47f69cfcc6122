"""``sim-report`` on the folders of ``sim-calibrate``, ``sim-validate`` and ``sim-optimise``.

:func:`detect` tells such a folder by the files its command writes; :func:`read_kind` loads
them (one line naming the path when a file is missing or unreadable); :func:`takeaways` says
in three to five sentences, in English or Chinese, what the files show; :func:`figures` draws
the figures chosen for the kind; :func:`build_page` makes the page: takeaways, what was run,
figures, tables and the provenance footer of :mod:`sim.present.report`.

- calibration: each key's posterior median and central 90% credible interval against its
  prior and how much the data narrowed it; each target against its posterior predictive
  median and 90% interval (for one simulated observation, measurement noise included, kept in
  the metric's range); generations, particles, final epsilon and ESS, with a warning when few.
- validation: how many patterns hold, fail or are inconclusive, whether each knock-out
  removes its pattern, and the seeds each verdict rests on.
- optimisation: the robust front, its portfolio with the best worst case (or least regret),
  its cheapest portfolio, the budget_frontier arms it beats, and the uncertainty draws.

One module per kind (:mod:`.calibration`, :mod:`.validation`, :mod:`.optimisation`), each with
its ``takeaways``, ``facts``, ``tables`` and ``figures``; :mod:`.common` holds what they share
(reading a folder, the English/Chinese strings); this module dispatches and builds the page.
"""

from __future__ import annotations

import html

import pandas as pd

from sim.present.report import calibration, optimisation, validation
from sim.present.report.folder import (
    ALLOWED,
    KINDS,
    MAX_TABLE_ROWS,
    Figure,
    KindSource,
    _t,
    detect,
    read_kind,
)
from sim.vocab import check_lang

__all__ = [
    "ALLOWED",
    "KINDS",
    "KindSource",
    "build_page",
    "detect",
    "facts",
    "figures",
    "read_kind",
    "tables",
    "takeaways",
]

_MODULES = {"calibration": calibration, "validation": validation, "optimisation": optimisation}


def takeaways(src: KindSource, lang: str = "en") -> list[str]:
    """Three to five plain sentences about a calibration, validation or optimisation folder."""
    check_lang(lang)
    return _MODULES[src.kind].takeaways(src, lang)[:5]


def facts(src: KindSource, lang: str) -> list[tuple[str, str]]:
    """(label, plain text) rows of "What was run" for the folder."""
    from sim.present.report.results import _t as rt

    rows = [(rt("kind", lang), _t(f"kind_{src.kind}", lang)), (rt("source", lang), str(src.path))]
    return rows + _MODULES[src.kind].facts(src, lang)


def tables(src: KindSource, lang: str) -> list[tuple[str, pd.DataFrame]]:
    """(title, table) of the folder's numbers, empty columns left out."""
    return [(title, table.head(MAX_TABLE_ROWS)) for title, table in _MODULES[src.kind].tables(src, lang)]


def figures(src: KindSource, lang: str = "en") -> list[Figure]:
    """(name, figure, caption) of the figures chosen for the folder's kind (≤ 8 series a chart)."""
    return _MODULES[src.kind].figures(src, lang)


def build_page(src: KindSource, lang: str = "en", figs: list[Figure] | None = None) -> str:
    """The report as one HTML string: takeaways, what was run, figures, tables, provenance."""
    from sim.present.report.results import _t as rt
    from sim.present.report.results import figure_blocks, page, provenance_html

    check_lang(lang)
    figs = figures(src, lang) if figs is None else figs
    title = rt("title", lang, name=src.path.name or str(src.path))
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts(src, lang)
    )
    parts = "".join(
        f"<h3>{html.escape(name)}</h3>"
        + table.to_html(index=False, classes=f"summary {src.kind}", border=0, escape=True)
        for name, table in tables(src, lang)
    )
    body = f"""<h2>{rt("what", lang)}</h2>
<table class="facts">{rows}</table>
<h2>{rt("figures", lang)}</h2>
{figure_blocks(figs)}
<h2>{_t("tables", lang)}</h2>
{parts}"""
    return page(title, lang, takeaways(src, lang), body, provenance_html(src.provenance, lang), str(src.path))
