"""Figures of one community: the map of its buildings, the network of its actors and the flow of
services to needs."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from sim.core.config import CHANNELS, NEED_CATEGORIES
from sim.core.metrics import label
from sim.vocab import CATEGORY_WORDS, CHANNEL_WORDS, PROFILE_WORDS, check_lang, domain_word

if TYPE_CHECKING:
    from sim.core.model import CommunityModel

from sim.present.plots.style import (
    BUILDING_COLUMNS,
    GREY,
    PALETTE,
    SEQUENTIAL,
    _metric_label,
    _require,
    _rgba,
    _style,
    text,
)


def _tile_layout(compound_of_building: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int, int]:
    """Grid cell (row, col) of every building: compounds as blocks, buildings as tiles in them."""
    n_compounds = int(compound_of_building.max()) + 1
    counts = np.bincount(compound_of_building, minlength=n_compounds)
    width = max(1, math.ceil(math.sqrt(counts.max())))
    height = max(1, math.ceil(counts.max() / width))
    per_row = max(1, math.ceil(math.sqrt(n_compounds * height / width)))
    # rank of each building inside its compound, without a Python loop over buildings
    order = np.argsort(compound_of_building, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size) - starts[compound_of_building[order]]
    block_r, block_c = np.divmod(compound_of_building, per_row)
    rows = block_r * (height + 1) + rank // width
    cols = block_c * (width + 1) + rank % width
    return rows, cols, width, height, per_row


def community_map(
    buildings: pd.DataFrame,
    metric: str = "satisfaction",
    step: int | None = None,
    lang: str = "en",
    replicate: int | None = None,
) -> go.Figure:
    """Compounds as blocks and buildings as tiles, coloured by a building metric.

    Args:
        buildings: buildings table (replicate × step × building).
        metric: one of satisfaction, participation, trust, unmet_need, need_information,
            conflicts_open.
        step: the week to show (default: the last).
        replicate: one replicate; None averages over replicates.

    Hovering a tile shows its compound, building, households and every building metric.
    One heatmap trace holds all tiles (gaps between compounds are empty cells).
    """
    check_lang(lang)
    if metric not in BUILDING_COLUMNS:
        raise ValueError(f"metric={metric!r}; allowed: {', '.join(BUILDING_COLUMNS)}")
    _require(buildings, ["step", "building", "compound", metric], "buildings table")
    if buildings.empty:
        raise ValueError("the buildings table is empty; allowed: a run made with record_buildings=true")
    step = int(buildings["step"].max()) if step is None else int(step)
    sel = buildings[buildings["step"] == step]
    if sel.empty:
        steps = buildings["step"]
        raise ValueError(f"step={step} is not in the table; allowed: {steps.min()}..{steps.max()}")
    if replicate is not None:
        sel = sel[sel["replicate"] == replicate]
        if sel.empty:
            raise ValueError(
                f"replicate={replicate} is not in the table; allowed: {sorted(buildings.replicate.unique())}"
            )
    shown = [c for c in ("households", *BUILDING_COLUMNS) if c in sel.columns]
    table = sel.groupby("building", sort=True).agg(
        compound=("compound", "first"), **{c: (c, "mean") for c in shown}
    )
    b_compound = table["compound"].to_numpy(dtype=np.int64)
    rows, cols, width, height, per_row = _tile_layout(b_compound)
    n_rows, n_cols = int(rows.max()) + 1, int(cols.max()) + 1
    z = np.full((n_rows, n_cols), np.nan)
    z[rows, cols] = table[metric].to_numpy(dtype=float)
    custom = np.full((n_rows, n_cols, 2 + len(shown)), np.nan)
    custom[rows, cols, 0] = b_compound
    custom[rows, cols, 1] = table.index.to_numpy()
    for k, col in enumerate(shown):
        custom[rows, cols, 2 + k] = table[col].to_numpy(dtype=float)
    hover = [
        f"{text('compound', lang)} %{{customdata[0]:.0f}}",
        f"{text('building', lang)} %{{customdata[1]:.0f}}",
    ]
    for k, col in enumerate(shown):
        name = text(col, lang) if col in ("households", "conflicts_open") else _metric_label(col, lang)
        fmt = ".0f" if col == "households" else ".3f"
        hover.append(f"{name}: %{{customdata[{2 + k}]:{fmt}}}")
    mlabel = text(metric, lang) if metric == "conflicts_open" else _metric_label(metric, lang)
    bounded = metric in ("satisfaction", "participation", "trust", "need_information")
    fig = go.Figure(
        go.Heatmap(
            z=z,
            customdata=custom,
            hovertemplate="<br>".join(hover) + "<extra></extra>",
            colorscale=SEQUENTIAL,
            reversescale=metric in ("unmet_need", "conflicts_open"),  # dark = worse everywhere
            zmin=0.0 if bounded else None,
            zmax=1.0 if bounded else None,
            xgap=3,
            ygap=3,
            colorbar={"title": {"text": mlabel}},
            hoverongaps=False,
            name=mlabel,
        )
    )
    n_compounds = int(b_compound.max()) + 1
    block_r, block_c = np.divmod(np.arange(n_compounds), per_row)
    fig.add_trace(
        go.Scatter(
            x=block_c * (width + 1) + (width - 1) / 2,
            y=block_r * (height + 1) - 0.75,
            mode="text",
            text=[f"{text('compound', lang)} {c}" for c in range(n_compounds)],
            textfont={"size": 11, "color": "#333333"},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    _style(fig, text("map_title", lang, metric=mlabel, step=step), lang, plot_bgcolor="white")
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, title_text="")
    fig.update_yaxes(
        showticklabels=False,
        showgrid=False,
        zeroline=False,
        autorange="reversed",
        scaleanchor="x",
        title_text="",
    )
    return fig


def network(model: CommunityModel, compound: int = 0, lang: str = "en") -> go.Figure:
    """The social network of one compound, households coloured by participation.

    Buildings sit on a circle and their households on a small ring around each building, so
    the dense within-building ties and the cross-building short cuts are both visible; the
    layout needs no random numbers and no iteration. Party members are diamonds.
    Traces: ties, non-participants, participants.
    """
    check_lang(lang)
    c = model.community
    if not 0 <= compound < c.n_compounds:
        raise ValueError(f"compound={compound}; allowed: 0..{c.n_compounds - 1}")
    members = np.flatnonzero(c.compound == compound)
    local = {"index": np.full(c.n_households, -1)}
    local["index"][members] = np.arange(members.size)
    sub = c.network[members][:, members].tocoo()
    keep = sub.row < sub.col
    a, b = sub.row[keep], sub.col[keep]

    building = c.building[members]
    b_ids, b_local = np.unique(building, return_inverse=True)
    n_b = b_ids.size
    angle_b = 2 * np.pi * np.arange(n_b) / max(n_b, 1)
    centre = np.column_stack([np.cos(angle_b), np.sin(angle_b)]) * (1.0 if n_b > 1 else 0.0)
    counts = np.bincount(b_local, minlength=n_b)
    order = np.argsort(b_local, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size) - starts[b_local[order]]
    theta = 2 * np.pi * rank / np.maximum(counts[b_local], 1)
    radius = 0.9 * math.sin(math.pi / max(n_b, 2)) if n_b > 1 else 1.0
    xy = centre[b_local] + radius * np.column_stack([np.cos(theta), np.sin(theta)])

    ex = np.column_stack([xy[a, 0], xy[b, 0], np.full(a.size, np.nan)]).ravel()
    ey = np.column_stack([xy[a, 1], xy[b, 1], np.full(a.size, np.nan)]).ravel()
    hh = model.households
    participating = hh.participating[members]
    is_member = c.is_member[members]
    profile_names = np.array([domain_word(PROFILE_WORDS, p, lang) for p in PROFILE_WORDS])
    fig = go.Figure(
        go.Scatter(
            x=ex,
            y=ey,
            mode="lines",
            line={"color": "rgba(120,120,120,0.35)", "width": 0.6},
            hoverinfo="skip",
            name=text("ties", lang),
        )
    )
    for flag, key, colour in ((False, "not_participating", PALETTE[0]), (True, "participating", PALETTE[1])):
        idx = np.flatnonzero(participating == flag)
        custom = np.column_stack(
            [
                members[idx],
                building[idx],
                profile_names[c.profile[members[idx]]],
                np.where(is_member[idx], text("yes", lang), text("no", lang)),
                hh.trust[members[idx]].round(3),
                hh.satisfaction[members[idx]].round(3),
            ]
        )
        fig.add_trace(
            go.Scatter(
                x=xy[idx, 0],
                y=xy[idx, 1],
                mode="markers",
                name=text(key, lang),
                marker={
                    "color": colour,
                    "size": np.where(is_member[idx], 10, 7),
                    "symbol": np.where(is_member[idx], "diamond", "circle"),
                    "line": {"color": "white", "width": 0.5},
                },
                customdata=custom,
                hovertemplate=(
                    f"{text('household', lang)} %{{customdata[0]}}<br>"
                    f"{text('building', lang)} %{{customdata[1]}}<br>"
                    f"{text('profile', lang)}: %{{customdata[2]}}<br>"
                    f"{text('party_member', lang)}: %{{customdata[3]}}<br>"
                    f"{label('trust', lang)}: %{{customdata[4]}}<br>"
                    f"{label('satisfaction', lang)}: %{{customdata[5]}}<extra>{text(key, lang)}</extra>"
                ),
            )
        )
    _style(
        fig,
        text("network_title", lang, compound=compound, week=model.week),
        lang,
        plot_bgcolor="white",
        height=600,
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x")
    return fig


def _served(source: pd.DataFrame | CommunityModel, step: int | None) -> tuple[np.ndarray, np.ndarray, Any]:
    """Served need by channel and by category, and the channel × category matrix if known."""
    if isinstance(source, pd.DataFrame):
        cols_ch = [f"served_{ch}" for ch in CHANNELS]
        cols_k = [f"served_{k}" for k in NEED_CATEGORIES]
        _require(source, [*cols_ch, *cols_k])
        data = source if step is None or "step" not in source.columns else source[source["step"] == step]
        if data.empty:
            raise ValueError(f"step={step} is not in the table")
        return data[cols_ch].mean().to_numpy(), data[cols_k].mean().to_numpy(), None
    flow = source.flow
    matrix = getattr(flow, "served_matrix", None)
    return np.asarray(flow.served_by_channel), np.asarray(flow.served_by_category), matrix


def service_sankey(
    source: pd.DataFrame | CommunityModel, lang: str = "en", step: int | None = None
) -> go.Figure:
    """Service flows from the four channels to the five need categories, as a Sankey diagram.

    Args:
        source: a metrics table (its ``served_<channel>`` and ``served_<category>`` columns,
            averaged over replicates and over all weeks or ``step``) or a
            :class:`~sim.core.model.CommunityModel` (this week's flows).

    The model records how much each channel delivered and how much each category received.
    When the channel × category split itself is not recorded (a ``served_matrix`` on the
    model's flows), each channel's delivery is spread over categories in proportion to what
    they received; node totals are exact, the split of each link is that estimate.
    """
    check_lang(lang)
    by_channel, by_category, matrix = _served(source, step)
    estimated = matrix is None
    if matrix is None:
        total = by_category.sum()
        share = by_category / total if total > 0 else np.zeros_like(by_category)
        matrix = np.outer(by_channel, share)
    matrix = np.asarray(matrix, dtype=float)
    i_ch, i_k = np.nonzero(matrix > 0)
    n_ch = len(CHANNELS)
    pick = 1 if lang == "zh" else 0
    labels = [CHANNEL_WORDS[ch][pick] for ch in CHANNELS] + [CATEGORY_WORDS[k][pick] for k in NEED_CATEGORIES]
    node_colours = [PALETTE[i] for i in range(n_ch)] + [GREY] * len(NEED_CATEGORIES)
    fig = go.Figure(
        go.Sankey(
            arrangement="fixed",
            valueformat=".4f",
            node={
                "label": labels,
                "color": node_colours,
                "pad": 18,
                "thickness": 18,
                "line": {"color": "white", "width": 0.5},
            },
            link={
                "source": i_ch.tolist(),
                "target": (n_ch + i_k).tolist(),
                "value": matrix[i_ch, i_k].tolist(),
                "color": [_rgba(PALETTE[i], 0.45) for i in i_ch],
                "hovertemplate": "%{source.label} → %{target.label}: %{value}"
                + (f" ({text('estimated_split', lang)})" if estimated else "")
                + "<extra></extra>",
            },
        )
    )
    _style(fig, text("sankey_title", lang), lang)
    return fig
