"""Figures of a calibration: marginal and pairwise posteriors, posterior predictive checks.

Everything goes into one self-contained HTML file (plotly.js inline, no CDN) beside the
posterior, so that it opens offline.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.core.metrics import label

FIGURES_FILE = "calibration.html"


def marginals(post: pd.DataFrame, priors: pd.DataFrame) -> go.Figure:
    """One weighted histogram per calibrated key over its prior range, with the 90% interval."""
    keys = list(priors["key"])
    fig = make_subplots(rows=1, cols=len(keys), subplot_titles=keys)
    for col, row in enumerate(priors.itertuples(), start=1):
        edges = np.linspace(row.prior_low, row.prior_high, 31)
        density, _ = np.histogram(post[row.key], bins=edges, weights=post["weight"], density=True)
        centres = (edges[:-1] + edges[1:]) / 2
        fig.add_trace(go.Bar(x=centres, y=density, name="posterior", showlegend=col == 1), row=1, col=col)
        prior_density = 1 / (row.prior_high - row.prior_low)
        fig.add_trace(
            go.Scatter(
                x=[row.prior_low, row.prior_high],
                y=[prior_density] * 2,
                mode="lines",
                line={"dash": "dash", "color": "grey"},
                name="prior",
                showlegend=col == 1,
            ),
            row=1,
            col=col,
        )
        for x in (row.low, row.high):
            fig.add_vline(x=x, line={"color": "black", "width": 1, "dash": "dot"}, row=1, col=col)
    fig.update_layout(title="Marginal posteriors (dotted: 90% credible interval; dashed: prior)", bargap=0)
    return fig


def pairwise(post: pd.DataFrame, priors: pd.DataFrame) -> go.Figure | None:
    """Particles of every pair of keys, sized by weight (None with one key)."""
    keys = list(priors["key"])
    if len(keys) < 2:
        return None
    n = len(keys)
    fig = make_subplots(rows=n - 1, cols=n - 1, horizontal_spacing=0.05, vertical_spacing=0.05)
    size = 4 + 16 * post["weight"] / post["weight"].max()
    for i in range(1, n):
        for j in range(i):
            fig.add_trace(
                go.Scatter(
                    x=post[keys[j]],
                    y=post[keys[i]],
                    mode="markers",
                    marker={"size": size, "opacity": 0.5},
                    showlegend=False,
                ),
                row=i,
                col=j + 1,
            )
            lo_x, hi_x = priors.iloc[j][["prior_low", "prior_high"]]
            lo_y, hi_y = priors.iloc[i][["prior_low", "prior_high"]]
            fig.update_xaxes(range=[lo_x, hi_x], title_text=keys[j] if i == n - 1 else None, row=i, col=j + 1)
            fig.update_yaxes(range=[lo_y, hi_y], title_text=keys[i] if j == 0 else None, row=i, col=j + 1)
    fig.update_layout(title="Pairwise posteriors (marker size: weight; axes: prior range)")
    return fig


def predictive_check(pred: pd.DataFrame, checks: Sequence[dict[str, Any]]) -> go.Figure:
    """Each target and range: the posterior predictive distribution against the observed figure."""
    fig = make_subplots(rows=1, cols=len(checks), subplot_titles=[c["name"] for c in checks])
    for col, check in enumerate(checks, start=1):
        column = f"{check['name']}@observed" if check["kind"] == "target" else check["name"]
        values = pred[column].to_numpy()
        fig.add_trace(
            go.Histogram(x=values, name="posterior predictive", showlegend=col == 1, marker_color="#4c78a8"),
            row=1,
            col=col,
        )
        if check["kind"] == "target":
            fig.add_vline(x=check["observed"], line={"color": "crimson", "width": 2}, row=1, col=col)
            for x in (check["observed"] - 2 * check["sd"], check["observed"] + 2 * check["sd"]):
                fig.add_vline(x=x, line={"color": "crimson", "width": 1, "dash": "dot"}, row=1, col=col)
        else:
            for x in (check["low"], check["high"]):
                if math.isfinite(x):
                    edge = {"color": "darkorange", "width": 2, "dash": "dash"}
                    fig.add_vline(x=x, line=edge, row=1, col=col)
        fig.update_xaxes(title_text=f"{label(check['metric'])} ({check['statistic']})", row=1, col=col)
    fig.update_layout(
        title="Posterior predictive check (red: target ± 2 sd; orange: plausibility range)", bargap=0.02
    )
    return fig


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda x: f"{x:.4g}", border=0, classes="t")


def write_figures(
    out_dir: str | Path,
    post: pd.DataFrame,
    priors: pd.DataFrame,
    pred: pd.DataFrame,
    checks: Sequence[dict[str, Any]],
    diagnostics: pd.DataFrame,
    title: str = "Calibration",
) -> Path:
    """Write ``calibration.html`` (self-contained) into ``out_dir``; return its path."""
    from sim.results import write_text

    figures = [marginals(post, priors), pairwise(post, priors), predictive_check(pred, checks)]
    parts = []
    for i, fig in enumerate(f for f in figures if f is not None):
        parts.append(fig.to_html(full_html=False, include_plotlyjs=(i == 0)))  # inline: works offline
    body = "\n".join(
        [
            f"<h1>{html.escape(title)}</h1>",
            "<h2>Posterior</h2>",
            _table(priors),
            parts[0],
            *parts[1:-1],
            "<h2>Posterior predictive check</h2>",
            _table(pd.DataFrame(checks)),
            parts[-1],
            "<h2>Generations</h2>",
            _table(diagnostics),
        ]
    )
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em} table.t{border-collapse:collapse}"
        " table.t td,table.t th{padding:2px 8px;border-bottom:1px solid #ddd}</style>"
        f"</head><body>{body}</body></html>"
    )
    path = Path(out_dir) / FIGURES_FILE
    write_text(path, page)
    return path
