"""Figures of an optimisation (``sim-optimise``): the front, its policies, their outcomes by community type.

Each figure is a Plotly figure built from the tables ``sim-optimise`` writes (``pareto.parquet``,
``arms.parquet``, ``evaluations.parquet``, ``draws.parquet``); :func:`write_figures` saves them
as HTML files that work offline (plotly.js is written once beside them).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from sim.core.levers import LEVER_TITLES
from sim.core.metrics import METRICS, label

FIGURES = ("front", "policies", "by_type")
#: the dashboard's extra scenario folder (``sim-app --scenarios DIR``), passed to its page process
SCENARIOS_ENV = "SIM_APP_SCENARIOS"


def scenario_dir() -> str | None:
    """The directory whose ``scenario/`` the dashboard offers besides the shipped scenarios, if any."""
    return os.environ.get(SCENARIOS_ENV) or None


def check_scenario_dir(path: str | os.PathLike[str]) -> str:
    """``path`` resolved, if it holds ``scenario/*.yaml`` (as sim-optimise writes); else ConfigError."""
    from sim.core.config import ConfigError

    folder = Path(path).resolve()
    if not any((folder / "scenario").glob("*.yaml")):
        raise ConfigError(
            f"--scenarios={path}: no scenario/*.yaml in it; allowed: a directory written by sim-optimise"
        )
    return str(folder)


def _outcome_label(name: str, lang: str) -> str:
    return label(name, lang) if name in METRICS else name.replace("_", " ")


def _decision_label(key: str, lang: str) -> str:
    parts = key.split(".")
    if len(parts) == 3 and parts[1] in LEVER_TITLES:
        en, zh = LEVER_TITLES[parts[1]]
        lever = zh if lang == "zh" else en
        return lever if parts[2] == "intensity" else f"{lever} {parts[2]}"
    return key


def front_figure(
    front: pd.DataFrame, arms: pd.DataFrame, objectives: list[str], lang: str = "en"
) -> go.Figure:
    """Scatter matrix of the robust objectives: the front's policies and the budget_frontier arms."""
    dims = [f"{o}_robust" for o in objectives]
    fig = go.Figure()
    for table, name, symbol in (
        (front, "Pareto policies" if lang == "en" else "帕累托组合", "circle"),
        (arms, "budget_frontier arms" if lang == "en" else "预算前沿方案", "x"),
    ):
        fig.add_trace(
            go.Splom(
                dimensions=[
                    {"label": _outcome_label(o, lang), "values": table[d]}
                    for o, d in zip(objectives, dims, strict=True)
                ],
                text=table["policy"],
                name=name,
                marker={"symbol": symbol, "size": 8},
                diagonal_visible=False,
            )
        )
    robustness = str(front["robustness"].iloc[0]) if len(front) else ""
    title = (
        f"Pareto front at weekly budget {front['budget'].iloc[0]:g} ({robustness})"
        if lang == "en"
        else f"每周预算 {front['budget'].iloc[0]:g} 下的帕累托前沿（{robustness}）"
    )
    fig.update_layout(title=title, height=220 * len(objectives) + 120)
    return fig


def policies_figure(
    front: pd.DataFrame, decision_keys: list[str], objectives: list[str], lang: str = "en"
) -> go.Figure:
    """Parallel coordinates of the front: each policy's decisions, then its robust objectives."""
    dims = [{"label": _decision_label(k, lang), "values": front[k], "range": [0, 1]} for k in decision_keys]
    dims += [{"label": _outcome_label(o, lang), "values": front[f"{o}_robust"]} for o in objectives]
    colour = front[f"{objectives[0]}_robust"]
    fig = go.Figure(
        go.Parcoords(dimensions=dims, line={"color": colour, "colorscale": "Viridis", "showscale": True})
    )
    fig.update_layout(title="Policies of the front" if lang == "en" else "前沿上的举措组合")
    return fig


def by_type_figure(
    evaluations: pd.DataFrame,
    draws: pd.DataFrame,
    policies: list[str],
    metric: str,
    group: str,
    lang: str = "en",
) -> go.Figure:
    """Each policy's outcome over the draws, by community type (the frame's group option)."""
    table = evaluations[evaluations["policy"].isin(policies)].merge(draws[["draw", group]], on="draw")
    fig = go.Figure()
    for policy in policies:
        rows = table[table["policy"] == policy]
        fig.add_trace(go.Box(x=rows[group], y=rows[metric], name=policy, boxpoints="all"))
    fig.update_layout(
        boxmode="group",
        title=(
            f"{_outcome_label(metric, lang)} by {group}"
            if lang == "en"
            else f"{_outcome_label(metric, lang)}（按{group}）"
        ),
        yaxis_title=_outcome_label(metric, lang),
    )
    return fig


def write_figures(
    out_dir: Path,
    front: pd.DataFrame,
    arms: pd.DataFrame,
    evaluations: pd.DataFrame,
    draws: pd.DataFrame,
    decision_keys: list[str],
    objectives: list[tuple[str, str]],
    group: str | None,
    lang: str = "en",
) -> list[Path]:
    """Write ``front.html``, ``policies.html`` and ``by_type.html`` into ``out_dir`` (atomically).

    ``objectives`` are (outcome name, metric) pairs; ``group`` is the draws' column that names
    the community type (the first group of the frame), or None to group every draw together.
    """
    from sim.results import atomic_write

    names = [name for name, _ in objectives]
    figures = {
        "front": front_figure(front, arms, names, lang),
        "policies": policies_figure(front, decision_keys, names, lang),
    }
    metric = next((m for _, m in objectives if m != "cost"), objectives[0][1])
    column = group
    if column is None:
        draws = draws.assign(all="all")
        column = "all"
    figures["by_type"] = by_type_figure(evaluations, draws, list(front["policy"]), metric, column, lang)
    paths = []
    for name, fig in figures.items():
        path = Path(out_dir) / f"{name}.html"
        atomic_write(
            path, lambda tmp, fig=fig: fig.write_html(tmp, include_plotlyjs="directory", full_html=True)
        )
        paths.append(path)
    return paths


def tradeoff_figure(discovery, lang: str = "en") -> go.Figure:
    """PRIM's peeling trajectories: coverage against density, the chosen box of each marked."""
    fig = go.Figure()
    for i, box in enumerate(discovery.boxes, start=1):
        name = f"box {i}" if lang == "en" else f"框 {i}"
        fig.add_trace(
            go.Scatter(
                x=box.trajectory["coverage"],
                y=box.trajectory["density"],
                mode="lines+markers",
                name=name,
                text=[f"{k} restricted" for k in box.trajectory["res_dim"]],
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[box.coverage],
                y=[box.density],
                mode="markers",
                marker={"size": 14, "symbol": "star"},
                name=f"{name} ✓",
            )
        )
    fig.update_layout(
        title=discovery.condition.text,
        xaxis={"title": "coverage" if lang == "en" else "覆盖率", "range": [0, 1.02]},
        yaxis={"title": "density" if lang == "en" else "密度", "range": [0, 1.02]},
    )
    return fig
