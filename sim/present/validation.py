"""The validation report of ``sim-validate``: one offline HTML page, one section per pattern.

Each section gives the hypothesis, its source, the design, a figure (the mean over seeds with
the 95% interval for the mean, with and without the knock-out), the effect with its interval,
the verdict and the test used, and the knock-out's verdict.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.analysis import stats
from sim.experiment.validate import PatternResult

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
_COLOURS = {"holds": "#1a7f37", "fails": "#b42318", "inconclusive": "#9a6700"}

_CSS = """
body { font-family: "Noto Sans CJK SC", Arial, sans-serif; margin: 2rem auto; max-width: 1100px;
  color: #222; line-height: 1.45; padding: 0 1rem; }
h2 { margin-top: 2.4rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: .9rem; margin: .6rem 0; }
th, td { border: 1px solid #ddd; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; width: 12rem; } .verdict { font-weight: bold; }
"""


def figure(result: PatternResult) -> go.Figure:
    """The pattern's series: mean over seeds with its 95% interval, the experiment beside its knock-out."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("experiment", "knock-out"), shared_yaxes=True)
    for col, measured in ((1, result.measured), (2, result.knocked_measured)):
        data = measured.figure
        table = stats.interval_table(data, ["series", "x"], "value", bounds=stats.UNBOUNDED)
        for i, (series, part) in enumerate(table.groupby("series", sort=False)):
            colour = PALETTE[i % len(PALETTE)]
            part = part.sort_values("x")
            x = part["x"].to_numpy()
            fig.add_trace(
                go.Scatter(
                    x=list(x) + list(x[::-1]),
                    y=list(part["high"].fillna(part["mean"])) + list(part["low"].fillna(part["mean"])[::-1]),
                    fill="toself",
                    mode="lines",
                    line={"width": 0},
                    fillcolor=colour,
                    opacity=0.2,
                    hoverinfo="skip",
                    showlegend=False,
                ),
                row=1,
                col=col,
            )
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=part["mean"],
                    mode="lines+markers" if len(x) < 20 else "lines",
                    name=str(series),
                    line={"color": colour},
                    legendgroup=str(series),
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(title_text=measured.x_label, row=1, col=col)
    fig.update_yaxes(title_text=result.measured.y_label, row=1, col=1)
    fig.update_layout(height=360, margin={"t": 40, "b": 40, "l": 60, "r": 20}, template="plotly_white")
    return fig


def _effect_text(result: PatternResult, knocked: bool = False) -> str:
    v = result.knocked if knocked else result.main
    iv = v.interval
    return (
        f"{iv.mean:+.4g} [{iv.low:+.4g}, {iv.high:+.4g}] ({iv.level:.0%} interval for the mean, {iv.method})"
    )


def render(results: Sequence[PatternResult], table: pd.DataFrame, command: str) -> str:
    """The whole report as one HTML string (plotly.js inlined once: the file works offline)."""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Pattern validation</title><style>{_CSS}</style></head><body>",
        "<h1>Pattern validation</h1>",
        f"<p>Made by <code>{html.escape(command)}</code>. Each effect is computed per seed (arms paired "
        "by seed) and judged by its 95% interval for the mean against the pattern's smallest effect of "
        "interest δ: <b>holds</b> if the interval lies above δ, <b>fails</b> if below, "
        "<b>inconclusive</b> otherwise. Each knock-out switches off the mechanism that should produce "
        "the pattern; it should fail.</p>",
        "<table><tr><th>pattern</th><th>effect [95%]</th><th>verdict</th><th>knock-out verdict</th></tr>",
    ]
    for row in table.itertuples():
        parts.append(
            f"<tr><td><a href='#{row.pattern}'>{html.escape(row.title)}</a></td>"
            f"<td>{row.mean:+.4g} [{row.low:+.4g}, {row.high:+.4g}]</td>"
            f"<td class='verdict' style='color:{_COLOURS[row.verdict]}'>{row.verdict}</td>"
            f"<td style='color:{_COLOURS[row.knockout_verdict]}'>{row.knockout_verdict}</td></tr>"
        )
    parts.append("</table>")
    for i, result in enumerate(results):
        p = result.pattern
        fig_html = figure(result).to_html(full_html=False, include_plotlyjs=(i == 0))
        ko_ok = result.knocked.verdict == "fails"
        rows = [
            ("hypothesis", html.escape(p.hypothesis)),
            ("source", html.escape(p.source)),
            ("design", html.escape(p.design)),
            ("effect", html.escape(p.effect)),
            ("effect, measured", html.escape(_effect_text(result))),
            (
                "verdict",
                f"<span class='verdict' style='color:{_COLOURS[result.main.verdict]}'>"
                f"{result.main.verdict}</span>",
            ),
            ("test", html.escape(table.loc[table["pattern"] == p.name, "test"].iloc[0])),
            ("knock-out", html.escape(f"{p.knockout_text} ({' '.join(p.knockout)})")),
            ("knock-out effect", html.escape(_effect_text(result, knocked=True))),
            (
                "knock-out verdict",
                f"<span style='color:{_COLOURS[result.knocked.verdict]}'>{result.knocked.verdict}</span>"
                + ("" if ko_ok else " — the knock-out does not make the pattern fail"),
            ),
        ]
        if result.measured.notes:
            rows.append(("note", html.escape(result.measured.notes)))
        parts.append(f"<h2 id='{p.name}'>{html.escape(p.title)}</h2><table>")
        parts += [f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows]
        parts.append(f"</table><figure>{fig_html}</figure>")
    parts.append("</body></html>")
    return "\n".join(parts)
