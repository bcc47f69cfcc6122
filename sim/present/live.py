"""Figures for a live session: plain plotly.js JSON built from a snapshot of the running models.

The dashboard redraws every chart after every rendered week, for every participant in the room.
Building those charts through ``plotly.graph_objects`` and pandas cost about a second of server
CPU per week at the ``community`` preset, a hundred times the model's own step; here a figure is
a dict of numpy-derived lists handed straight to ``json.dumps``, a few milliseconds.

A :class:`Snapshot` is taken under the workshop's lock (see :class:`sim.present.workshop.Workshop`),
so a figure never sees a week half recorded; everything here reads the snapshot only.

The same snapshot makes the one-page bilingual handout of a session (:func:`handout_html`).

Why one module of this length: every chart of the page and the handout are drawn from one
:class:`Snapshot` in one JSON-ready form; splitting them would split that form.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np

from sim.core.levers import LEVER_TITLES, LEVERS
from sim.core.metrics import METRICS, label
from sim.present.plots import GREY, PALETTE, _tile_layout
from sim.vocab import COMPOUND_KINDS, strings, word

__all__ = [
    "BOUNDED",
    "ArmSnapshot",
    "Event",
    "Snapshot",
    "compound_kinds",
    "difference_figure",
    "figure_json",
    "handout_html",
    "map_figure",
    "percent",
    "series_figure",
]

# Metrics that are shares of households or means of [0, 1] attitudes: shown as percentages
# on a fixed 0–100% axis, so that a change of one point looks like one point.
BOUNDED = frozenset({"participation", "satisfaction", "trust", "need_information", "asks"})
MAP_METRICS = ("satisfaction", "participation", "trust", "unmet_need", "need_information", "conflicts_open")

#: a string of the live figures and the handout in English or Chinese: ``text(key, lang, **fields)``
text = strings("live")


def percent(value: float, digits: int = 0) -> str:
    """``0.328`` as ``33%`` (NaN as ``–``)."""
    if value is None or not math.isfinite(value):
        return "–"
    return f"{100 * value:.{digits}f}%"


def show(metric: str, value: float) -> str:
    """A metric's value as people read it: a percentage when bounded, else two decimals."""
    if metric in BOUNDED:
        return percent(value)
    return "–" if not math.isfinite(value) else f"{value:.2f}"


# ------------------------------------------------------------------------------ snapshots
@dataclass(frozen=True)
class Event:
    """Something the facilitator did during the run: ``kind`` is ``change`` or ``branch``."""

    week: int
    arm: str
    kind: str


@dataclass(frozen=True)
class ArmSnapshot:
    """One arm's record up to the current week, copied out of its model."""

    key: str
    title_en: str
    title_zh: str
    scenario: str
    intensities: tuple[float, ...]
    budget: float
    series: dict[str, np.ndarray]  # metric → values after weeks 1..week
    buildings: dict[str, np.ndarray]  # building metric → values at the current week
    covered: np.ndarray  # bool per building
    building_compound: np.ndarray
    building_size: np.ndarray
    compound_kind: np.ndarray  # index into compound_kinds() per compound

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en


@dataclass(frozen=True)
class Snapshot:
    """Every arm and the baseline reference at one week; ``steps`` is the run's planned length."""

    week: int
    steps: int
    arms: dict[str, ArmSnapshot]
    baseline: dict[str, np.ndarray]
    preset: str = ""
    seed: int = 0
    events: tuple[Event, ...] = field(default_factory=tuple)


def compound_kinds() -> tuple[str, ...]:
    """Keys of :data:`sim.vocab.COMPOUND_KINDS` in the order :class:`ArmSnapshot` indexes them."""
    return tuple(COMPOUND_KINDS)


def take_series(model, member: int = 0, metrics: Sequence[str] = ()) -> dict[str, np.ndarray]:
    """Copies of the recorded series of ``metrics`` (weeks 1..week) of a CommunityModel's member."""
    names = list(METRICS)
    rec = model.recorder
    values = rec.data[member, : rec.rows]
    return {m: values[:, names.index(m)].copy() for m in metrics}


def take_arm(key: str, model, member: int = 0, metrics: Sequence[str] = ()) -> ArmSnapshot:
    """An :class:`ArmSnapshot` of a CommunityModel's member (call it while the model is not
    stepping); a single model is its own member 0."""
    c = model.communities[member]
    cfg = model.configs[member]
    rec = model.recorder
    last = rec.rows - 1
    part = slice(member * c.n_buildings, (member + 1) * c.n_buildings)
    buildings: dict[str, np.ndarray] = {}
    if cfg.record_buildings and last >= 0:
        for name, values in rec.buildings.items():
            buildings[name] = values[last, part].copy()
        conflicts = rec.conflicts[last, member * c.n_compounds : (member + 1) * c.n_compounds]
        buildings["conflicts_open"] = conflicts[c.building_compound].astype(np.float64)
    kinds = np.where(
        c.compound_company < 0, 2, np.where(c.compound_owners_committee.astype(bool), 0, 1)
    ).astype(np.int8)
    info = cfg.scenario
    return ArmSnapshot(
        key=key,
        title_en=info.title_en,
        title_zh=info.title_zh,
        scenario=info.name,
        intensities=tuple(float(getattr(cfg.levers, n).intensity) for n in LEVERS),
        budget=float(cfg.budget),
        series=take_series(model, member, metrics),
        buildings=buildings,
        covered=model.buildings.covered[part].copy(),
        building_compound=c.building_compound,
        building_size=c.building_size,
        compound_kind=kinds,
    )


# ------------------------------------------------------------------------------ figures
def _values(a: np.ndarray) -> list[float | None]:
    """A float array as JSON-ready values (NaN as null)."""
    return [None if not math.isfinite(x) else round(float(x), 6) for x in a]


def _layout(title: str, height: int, font: int) -> dict:
    top, bottom = 45 + font, 60 + 4 * font
    # the legend sits below the x-axis title (tick labels and title take about 4 lines of type);
    # paper coordinates scale with the plot's own height, so the offset is worked out in pixels
    plot_height = max(height - top - bottom, 1)
    legend_y = -(4 * font + 10) / plot_height
    return {
        "title": {"text": title, "x": 0.02, "xanchor": "left", "font": {"size": font + 3}},
        "height": height,
        "margin": {"l": 60, "r": 20, "t": top, "b": bottom},
        "font": {"size": font, "family": "Noto Sans CJK SC, Microsoft YaHei, Arial, sans-serif"},
        "legend": {"orientation": "h", "yanchor": "top", "y": legend_y, "x": 0},
        "plot_bgcolor": "white",
        "uirevision": "keep",  # the browser keeps zoom and legend choices across redraws
    }


def _nice_ceiling(value: float) -> float:
    """The axis top for a non-negative metric: steps of 1, 2 or 5 times a power of ten."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for m in (1, 2, 5, 10):
        if value <= m * power:
            return m * power
    return 10 * power


#: weeks apart beyond which two event labels no longer stack (they cannot overlap)
EVENT_LABEL_GAP = 12


def _event_marks(events: Sequence[Event], lang: str, font: int) -> tuple[list[dict], list[dict]]:
    """A dotted line per week with events, labelled with every event of that week, one per
    line; labels of weeks close together stack downward instead of overlapping."""
    by_week: dict[int, list[str]] = {}
    for e in events:
        by_week.setdefault(e.week, []).append(f"{e.arm} {word(e.kind, lang)}")
    shapes, notes = [], []
    lines_above, last_week = 0, None
    for week, labels in sorted(by_week.items()):
        if last_week is not None and week - last_week > EVENT_LABEL_GAP:
            lines_above = 0
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": week,
                "x1": week,
                "y0": 0,
                "y1": 1,
                "line": {"color": "#444444", "width": 1, "dash": "dot"},
            }
        )
        notes.append(
            {
                "x": week,
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "yanchor": "top",
                "xanchor": "left",
                "align": "left",
                "yshift": -lines_above * (font + 2),
                "showarrow": False,
                "text": "<br>".join(labels),
                "font": {"size": font - 1, "color": "#444444"},
            }
        )
        lines_above += len(labels)
        last_week = week
    return shapes, notes


def series_figure(snap: Snapshot, metric: str, lang: str = "en", height: int = 300, font: int = 12) -> dict:
    """One metric over the weeks: the baseline as a grey ghost line, then every arm.

    Axes are fixed: weeks 0 to the run's length; bounded metrics 0–100%, others from 0 to a
    round ceiling of everything drawn, so that the axis moves only when a line would leave it.
    Changes during the run are dotted vertical marks labelled with the arm.
    """
    weeks = list(range(1, snap.week + 1))
    base = snap.baseline[metric]
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": weeks,
            "y": _values(base),
            "name": word("baseline", lang),
            "line": {"color": GREY, "width": 2, "dash": "dash"},
            "hovertemplate": "%{y:.1%}<extra></extra>" if metric in BOUNDED else "%{y:.2f}<extra></extra>",
        }
    ]
    top = float(np.nanmax(base)) if base.size else 0.0
    for i, (key, arm) in enumerate(snap.arms.items()):
        y = arm.series[metric]
        top = max(top, float(np.nanmax(y)) if y.size else 0.0)
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": weeks,
                "y": _values(y),
                "name": f"{key}: {arm.title(lang)}",
                "line": {"color": PALETTE[i % len(PALETTE)], "width": 3},
                "hovertemplate": (
                    "%{y:.1%}<extra></extra>" if metric in BOUNDED else "%{y:.2f}<extra></extra>"
                ),
            }
        )
    layout = _layout(label(metric, lang), height, font)
    layout["xaxis"] = {
        "range": [0, max(snap.steps, snap.week)],
        "title": {"text": text("week", lang)},
        "showgrid": True,
        "gridcolor": "#eeeeee",
        "zeroline": False,
    }
    if metric in BOUNDED:
        yaxis = {"range": [0, 1], "tickformat": ".0%", "dtick": 0.2}
    else:
        yaxis = {"range": [0, _nice_ceiling(top * 1.05)]}
    layout["yaxis"] = {**yaxis, "title": {"text": label(metric, lang)}, "gridcolor": "#eeeeee"}
    layout["shapes"], layout["annotations"] = _event_marks(snap.events, lang, font)
    return {"data": data, "layout": layout}


def difference_figure(
    snap: Snapshot, metric: str, lang: str = "en", height: int = 300, font: int = 12
) -> dict:
    """B − A of one metric week by week (same draw: the difference is the settings').

    Bounded metrics in percentage points. The axis is symmetric about zero and at least ±2
    points (±0.02 otherwise), so that noise-sized differences do not look like cliffs.
    """
    a, b = snap.arms["A"].series[metric], snap.arms["B"].series[metric]
    diff = b - a
    scale = 100.0 if metric in BOUNDED else 1.0
    shown = diff * scale
    reach = float(np.nanmax(np.abs(shown))) if shown.size else 0.0
    limit = _nice_ceiling(max(reach * 1.1, 2.0 if metric in BOUNDED else 0.02))
    name = text("difference", lang, metric=label(metric, lang))
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": list(range(1, snap.week + 1)),
            "y": _values(shown),
            "name": name,
            "line": {"color": PALETTE[1], "width": 3},
            "hovertemplate": "%{y:+.1f}<extra></extra>" if metric in BOUNDED else "%{y:+.3f}<extra></extra>",
        }
    ]
    layout = _layout(name, height, font)
    layout["showlegend"] = False
    layout["xaxis"] = {"range": [0, max(snap.steps, snap.week)], "title": {"text": text("week", lang)}}
    layout["yaxis"] = {
        "range": [-limit, limit],
        "zeroline": True,
        "zerolinecolor": GREY,
        "title": {"text": text("points", lang) if metric in BOUNDED else label(metric, lang)},
        "gridcolor": "#eeeeee",
    }
    layout["shapes"], layout["annotations"] = _event_marks(snap.events, lang, font)
    return {"data": data, "layout": layout}


def _tiles(compound: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int, int]:
    """:func:`sim.present.plots._tile_layout` of a community, computed once per community (a map
    is redrawn every few weeks, its tiles never move)."""
    return _tile_layout_of(compound.tobytes())


@lru_cache(maxsize=64)
def _tile_layout_of(compound: bytes) -> tuple[np.ndarray, np.ndarray, int, int, int]:
    rows, cols, width, height, per_row = _tile_layout(np.frombuffer(compound, dtype=np.int64))
    rows.setflags(write=False)
    cols.setflags(write=False)
    return rows, cols, width, height, per_row


def map_figure(arm: ArmSnapshot, metric: str, lang: str = "en", height: int = 360, font: int = 12) -> dict:
    """Compounds as blocks, buildings as tiles coloured by ``metric`` at the current week, with a key.

    The key: the colour bar (bounded metrics 0–100%; darker is worse for unmet need and
    conflicts), a white dot on every building a Party branch covers, and each compound's
    label saying who manages it (:data:`sim.vocab.COMPOUND_KINDS`). Labels are numbers with
    a short kind at street size and larger, so that they do not overlap.
    """
    if metric not in MAP_METRICS:
        raise ValueError(f"metric={metric!r}; allowed: {', '.join(MAP_METRICS)}")
    compound = arm.building_compound.astype(np.int64)
    rows, cols, width, tile_h, per_row = _tiles(compound)
    n_rows, n_cols = int(rows.max()) + 1, int(cols.max()) + 1
    z = np.full((n_rows, n_cols), np.nan)
    values = arm.buildings.get(metric, np.full(compound.size, np.nan))
    z[rows, cols] = values
    hover = np.full((n_rows, n_cols), "", dtype=object)
    value_text = [percent(v) for v in values] if metric in BOUNDED else [f"{v:.2f}" for v in values.tolist()]
    for r, c, comp, b, size, shown in zip(
        rows.tolist(),
        cols.tolist(),
        compound.tolist(),
        range(compound.size),
        arm.building_size.tolist(),
        value_text,
        strict=True,
    ):  # per building of the chart, not of the model: at most a few hundred tiles
        hover[r, c] = (
            f"{text('compound', lang)} {comp + 1} · {text('building', lang)} {b + 1}<br>"
            f"{text('households', lang)} {size}<br>{label(metric, lang)} {shown}"
        )
    bounded = metric in BOUNDED
    mlabel = text("conflicts_open", lang) if metric == "conflicts_open" else label(metric, lang)
    colorbar = {"title": {"text": mlabel, "side": "right"}, "thickness": 14}
    if bounded:
        colorbar["tickformat"] = ".0%"
    z_list = [[None if not math.isfinite(x) else round(float(x), 4) for x in row] for row in z]
    data: list[dict] = [
        {
            "type": "heatmap",
            "z": z_list,
            "text": hover.tolist(),
            "hovertemplate": "%{text}<extra></extra>",
            "colorscale": "Viridis",
            "reversescale": metric in ("unmet_need", "conflicts_open"),
            "zmin": 0.0,
            "zmax": 1.0 if bounded else max(1.0, float(np.nanmax(values)) if values.size else 1.0),
            "xgap": 2,
            "ygap": 2,
            "colorbar": colorbar,
            "hoverongaps": False,
            "showscale": True,
            "name": mlabel,
        }
    ]
    covered = arm.covered.astype(bool)
    data.append(
        {
            "type": "scatter",
            "mode": "markers",
            "x": cols[covered].tolist(),
            "y": rows[covered].tolist(),
            "marker": {
                "symbol": "circle",
                "size": 6,
                "color": "white",
                "line": {"color": "#222", "width": 1},
            },
            "name": text("covered", lang),
            "hoverinfo": "skip",
            "showlegend": True,
        }
    )
    n_compounds = int(compound.max()) + 1
    kinds = compound_kinds()
    long_labels = per_row <= 3
    block_r, block_c = np.divmod(np.arange(n_compounds), per_row)
    labels = []
    for i in range(n_compounds):
        en_zh = COMPOUND_KINDS[kinds[int(arm.compound_kind[i])]]
        kind = en_zh[1] if lang == "zh" else en_zh[0]
        labels.append(f"{text('compound', lang)} {i + 1}: {kind}" if long_labels else f"{i + 1} {kind[:12]}")
    data.append(
        {
            "type": "scatter",
            "mode": "text",
            "x": (block_c * (width + 1) + (width - 1) / 2).tolist(),
            "y": (block_r * (tile_h + 1) - 0.8).tolist(),
            "text": labels,
            "textfont": {"size": max(8, font - (0 if long_labels else 3)), "color": "#222222"},
            "hoverinfo": "skip",
            "showlegend": False,
        }
    )
    layout = _layout(f"{arm.key}: {arm.title(lang)}", height, font)
    layout["xaxis"] = {"visible": False, "range": [-1, n_cols]}
    layout["yaxis"] = {"visible": False, "autorange": "reversed", "scaleanchor": "x"}
    return {"data": data, "layout": layout}


def figure_json(fig: dict) -> str:
    """A live figure as the JSON plotly.js reads."""
    return json.dumps(fig, separators=(",", ":"), allow_nan=False)


# ------------------------------------------------------------------------------ handout
def _sparkline(series: Sequence[tuple[np.ndarray, str, bool]], steps: int, top: float) -> str:
    """An inline SVG of a few lines (values, colour, dashed) on a fixed 0..top axis."""
    w, h = 220, 60
    paths = []
    for values, colour, dashed in series:
        pts = [
            f"{w * (i + 1) / max(steps, 1):.1f},{h - h * min(max(v / top, 0.0), 1.0):.1f}"
            for i, v in enumerate(values.tolist())
            if math.isfinite(v)
        ]
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        paths.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{" ".join(pts)}"/>'
        )
    return (
        f'<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img">'
        f'<rect width="{w}" height="{h}" fill="white" stroke="#ccc"/>{"".join(paths)}</svg>'
    )


def _both(key: str, **fields: object) -> str:
    return f"{html.escape(text(key, 'zh', **fields))} / {html.escape(text(key, 'en', **fields))}"


def handout_html(snap: Snapshot, metrics: Sequence[str], preset_name: tuple[str, str] = ("", "")) -> str:
    """A one-page bilingual (中文 / English) summary of the session: settings, changes, results.

    Every label is given in both languages; numbers are the same in both. The page prints on
    one A4 sheet for up to two arms and four metrics.
    """
    esc = html.escape
    out = [
        "<!DOCTYPE html><html lang='zh'><head><meta charset='utf-8'>",
        f"<title>{_both('handout_title')}</title>",
        "<style>body{font-family:'Noto Sans CJK SC','Microsoft YaHei',Arial,sans-serif;max-width:60em;"
        "margin:1.5em auto;font-size:11pt}table{border-collapse:collapse;margin:.5em 0}"
        "td,th{border:1px solid #bbb;padding:.2em .5em;text-align:left}th{background:#f3f3f3}"
        "td.num{text-align:right}.note{color:#555;font-size:9pt}@page{size:A4;margin:12mm}</style>",
        "</head><body>",
        f"<h1>{_both('handout_title')}</h1>",
        f"<p class='note'>{_both('handout_made', when=datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC'))}</p>",
        f"<p>{esc(text('community', 'zh', name=preset_name[1], seed=snap.seed))} / "
        f"{esc(text('community', 'en', name=preset_name[0], seed=snap.seed))}</p>",
        "<h2>" + _both("setting") + "</h2><table><tr>",
        f"<th>{_both('setting')}</th><th>{_both('scenario')}</th>",
    ]
    out += [f"<th>{esc(LEVER_TITLES[n][1])} / {esc(LEVER_TITLES[n][0])}</th>" for n in LEVERS]
    out.append(f"<th>{_both('budget')}</th></tr>")
    for key, arm in snap.arms.items():
        budget = f"{arm.budget:g}" if math.isfinite(arm.budget) else _both("unbounded")
        out.append(
            f"<tr><td>{esc(key)}</td><td>{esc(arm.title_zh)} / {esc(arm.title_en)}</td>"
            + "".join(f"<td class='num'>{percent(v)}</td>" for v in arm.intensities)
            + f"<td class='num'>{budget}</td></tr>"
        )
    out.append("</table>")
    if snap.events:
        out.append(f"<h2>{_both('events')}</h2><ul>")
        for e in snap.events:
            key = "event_branch" if e.kind == "branch" else "event_change"
            out.append(f"<li>{_both(key, week=e.week, arm=e.arm)}</li>")
        out.append("</ul>")
    out.append(f"<h2>{_both('results', week=snap.week)}</h2><table><tr><th></th>")
    out.append(f"<th>{esc(word('baseline', 'zh'))} / {esc(word('baseline', 'en'))}</th>")
    out += [
        f"<th>{esc(key)}: {esc(arm.title_zh)} / {esc(arm.title_en)}</th>" for key, arm in snap.arms.items()
    ]
    out.append("<th></th></tr>")
    for metric in metrics:
        base = snap.baseline[metric]
        last = [base[-1] if base.size else math.nan] + [
            a.series[metric][-1] if a.series[metric].size else math.nan for a in snap.arms.values()
        ]
        top = (
            1.0
            if metric in BOUNDED
            else _nice_ceiling(
                max(
                    [float(np.nanmax(base)) if base.size else 0.0]
                    + [
                        float(np.nanmax(a.series[metric])) if a.series[metric].size else 0.0
                        for a in snap.arms.values()
                    ]
                )
            )
        )
        lines = [(base, GREY, True)] + [
            (a.series[metric], PALETTE[i % len(PALETTE)], False) for i, a in enumerate(snap.arms.values())
        ]
        out.append(
            f"<tr><th>{esc(label(metric, 'zh'))} / {esc(label(metric, 'en'))}</th>"
            + "".join(f"<td class='num'>{show(metric, v)}</td>" for v in last)
            + f"<td>{_sparkline(lines, snap.steps, top)}</td></tr>"
        )
    out.append("</table>")
    out.append(f"<p class='note'>{esc(text('note', 'zh'))}<br>{esc(text('note', 'en'))}</p>")
    out.append("</body></html>")
    return "\n".join(out)
