"""Every figure of sim.present.plots on real small runs: traces, values and labels in both languages."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from sim.core.config import CHANNELS, NEED_CATEGORIES, from_dict
from sim.core.metrics import label
from sim.core.model import CommunityModel
from sim.experiment.simulate import simulate
from sim.present import plots

WORKSHOP = {
    "preset": "workshop",
    "n_compounds": 2,
    "buildings_per_compound": 5,
    "households_per_building": 40,
}
LANGS = ("en", "zh")


def _cfg(name: str = "baseline", levers: dict | None = None, **extra):
    data = {
        "community": WORKSHOP,
        "replicates": 3,
        "steps": 20,
        "levers": levers or {},
        "scenario": {"name": name, "title_en": name.title(), "title_zh": f"情景{name}"},
    }
    data.update(extra)
    return from_dict(data)


@pytest.fixture(scope="module")
def scenarios():
    """Baseline and two lever scenarios on the same seeds (common random numbers)."""
    runs = [
        simulate(_cfg("baseline")),
        simulate(_cfg("linking", {"linking": {"intensity": 1.0}})),
        simulate(_cfg("immersion", {"immersion": {"intensity": 1.0}, "embedding": {"intensity": 1.0}})),
    ]
    return pd.concat([r.metrics for r in runs], ignore_index=True), runs[1].buildings


@pytest.fixture(scope="module")
def grid():
    """A 2 × 3 lever grid, 2 replicates per point, as a sweep table."""
    frames = []
    for i, (a, b) in enumerate(itertools.product([0.0, 1.0], [0.0, 0.5, 1.0])):
        levers = {"linking": {"intensity": a}, "immersion": {"intensity": b}}
        m = simulate(_cfg("grid", levers, replicates=2, steps=12)).metrics
        m.insert(0, "run", str(i))
        frames.append(m)
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def model():
    m = CommunityModel(_cfg(steps=8), rng=7)
    m.run()
    return m


def _titles(fig: go.Figure) -> tuple[str, str]:
    return fig.layout.xaxis.title.text, fig.layout.yaxis.title.text


@pytest.mark.parametrize("lang", LANGS)
def test_time_series_has_band_and_mean_per_scenario(scenarios, lang):
    df, _ = scenarios
    fig = plots.time_series(df, "satisfaction", by="scenario.name", lang=lang)
    assert len(fig.data) == 2 * 3
    bands, lines = fig.data[0::2], fig.data[1::2]
    assert [t.fill for t in bands] == ["toself"] * 3
    assert [t.name for t in lines] == (
        ["Baseline", "Linking", "Immersion"]
        if lang == "en"
        else ["情景baseline", "情景linking", "情景immersion"]
    )
    assert _titles(fig) == (plots.text("week", lang), label("satisfaction", lang))
    assert label("satisfaction", lang) in fig.layout.title.text
    # the line is the replicate mean, and the band surrounds it
    base = df[df["scenario.name"] == "baseline"].groupby("step")["satisfaction"].mean()
    np.testing.assert_allclose(lines[0].y, base.to_numpy())
    n = len(lines[0].x)
    high, low = np.asarray(bands[0].y[:n]), np.asarray(bands[0].y[n:])[::-1]
    assert np.all(low <= lines[0].y + 1e-12) and np.all(lines[0].y <= high + 1e-12)
    assert np.any(high > low)
    assert {t.line.color for t in lines} <= set(plots.PALETTE)


def test_time_series_single_line_and_bad_input(scenarios):
    df, _ = scenarios
    fig = plots.time_series(df, "trust")
    assert len(fig.data) == 2 and fig.data[1].name == label("trust")
    with pytest.raises(ValueError, match="'no_such_metric'"):
        plots.time_series(df, "no_such_metric")
    with pytest.raises(ValueError, match="lang='fr'"):
        plots.time_series(df, "trust", lang="fr")


@pytest.mark.parametrize("lang", LANGS)
def test_scenario_comparison_is_paired_by_replicate(scenarios, lang):
    df, _ = scenarios
    fig = plots.scenario_comparison(df, ["satisfaction", "participation"], lang=lang)
    assert len(fig.data) == 2  # one panel per metric
    assert fig.layout.xaxis.title.text == plots.text("difference", lang, metric=label("satisfaction", lang))
    assert fig.layout.xaxis2.title.text == plots.text("difference", lang, metric=label("participation", lang))
    assert fig.layout.yaxis.title.text == plots.text("scenario", lang)
    assert len(fig.data[0].y) == 2  # the two arms, not the baseline
    # the bars are the mean of per-replicate differences at the final week
    final = df[df["step"] == df["step"].max()].pivot(
        index="replicate", columns="scenario.name", values="satisfaction"
    )
    expected = (final["linking"] - final["baseline"]).mean()
    assert fig.data[0].x[0] == pytest.approx(expected)
    diffs = plots.paired_differences(df, "satisfaction")
    row = diffs.set_index("scenario.name").loc["linking"]
    assert row["low"] <= row["mean"] <= row["high"] and row["n"] == 3


def test_scenario_comparison_rejects_unknown_baseline(scenarios):
    df, _ = scenarios
    with pytest.raises(ValueError, match="baseline='nothing'"):
        plots.scenario_comparison(df, "satisfaction", baseline="nothing")


@pytest.mark.parametrize("lang", LANGS)
def test_community_map_tiles_every_building(scenarios, lang):
    _, buildings = scenarios
    fig = plots.community_map(buildings, "participation", lang=lang)
    heat = fig.data[0]
    z = np.asarray(heat.z, dtype=float)
    n_buildings = buildings["building"].nunique()
    assert np.isfinite(z).sum() == n_buildings
    last = buildings[buildings["step"] == buildings["step"].max()]
    expected = np.sort(last.groupby("building")["participation"].mean().to_numpy())
    np.testing.assert_allclose(np.sort(z[np.isfinite(z)]), expected)
    assert heat.colorbar.title.text == label("participation", lang)
    assert label("participation", lang) in fig.layout.title.text
    assert plots.text("households", lang) in heat.hovertemplate
    # hover data of a tile name its compound and building consistently with the table
    custom = np.asarray(heat.customdata, dtype=float)
    r, c = np.argwhere(np.isfinite(z))[0]
    b = int(custom[r, c, 1])
    assert int(custom[r, c, 0]) == int(last.loc[last["building"] == b, "compound"].iloc[0])
    # compound labels
    assert len(fig.data[1].text) == buildings["compound"].nunique()


def test_community_map_step_and_errors(scenarios):
    _, buildings = scenarios
    early = plots.community_map(buildings, "unmet_need", step=1, replicate=0)
    assert "week 1" in early.layout.title.text
    with pytest.raises(ValueError, match="metric='cost'"):
        plots.community_map(buildings, "cost")
    with pytest.raises(ValueError, match="step=999"):
        plots.community_map(buildings, "trust", step=999)


@pytest.mark.parametrize("lang", LANGS)
def test_network_colours_nodes_by_participation(model, lang):
    compound = 1
    fig = plots.network(model, compound, lang=lang)
    assert [t.name for t in fig.data] == [
        plots.text("ties", lang),
        plots.text("not_participating", lang),
        plots.text("participating", lang),
    ]
    in_compound = model.community.compound == compound
    assert len(fig.data[1].x) + len(fig.data[2].x) == in_compound.sum()
    assert len(fig.data[2].x) == (model.households.participating & in_compound).sum()
    assert fig.data[1].marker.color != fig.data[2].marker.color
    # one edge = two points and a gap; ties are those inside the compound
    idx = np.flatnonzero(in_compound)
    ties = model.community.network[idx][:, idx].nnz // 2
    assert len(fig.data[0].x) == 3 * ties
    assert str(compound) in fig.layout.title.text
    with pytest.raises(ValueError, match="compound=9"):
        plots.network(model, 9)


@pytest.mark.parametrize("lang", LANGS)
def test_lever_grid_heatmap(grid, lang):
    x, y = "levers.linking.intensity", "levers.immersion.intensity"
    fig = plots.lever_grid_heatmap(grid, x, y, "satisfaction", lang=lang)
    z = np.asarray(fig.data[0].z, dtype=float)
    assert z.shape == (3, 2)
    assert _titles(fig) == (label("intensity_linking", lang), label("intensity_immersion", lang))
    final = grid[grid["step"] == grid["step"].max()]
    cell = final[(final[x] == 1.0) & (final[y] == 0.5)]["satisfaction"].mean()
    assert z[1, 1] == pytest.approx(cell)


@pytest.mark.parametrize("lang", LANGS)
def test_budget_frontier_is_not_dominated(grid, lang):
    fig = plots.budget_frontier(grid, "satisfaction_gain", lang=lang)
    assert len(fig.data) == 2
    points, frontier = fig.data
    assert len(points.x) == 6
    fx, fy = np.asarray(frontier.x), np.asarray(frontier.y)
    assert np.all(np.diff(fx) >= 0) and np.all(np.diff(fy) > 0)
    # nothing beats a frontier point on both cost and gain
    px, py = np.asarray(points.x), np.asarray(points.y)
    for a, b in zip(fx, fy, strict=True):
        assert not np.any((px <= a) & (py > b))
    assert _titles(fig) == (plots.text("cost", lang), plots.param_label("satisfaction_gain", lang))
    assert min(px) == pytest.approx(0.0)  # the all-off point costs nothing


@pytest.mark.parametrize("lang", LANGS)
def test_tipping_curve(grid, lang):
    x = "levers.immersion.intensity"
    fig = plots.tipping_curve(grid, x, "participation", by="levers.linking.intensity", lang=lang)
    assert len(fig.data) == 3 * 2  # replicates, band, mean for each arm
    assert _titles(fig) == (label("intensity_immersion", lang), label("participation", lang))
    assert len(fig.data[0].x) == 3 * 2  # three intensities × two replicates
    assert list(fig.data[2].x) == [0.0, 0.5, 1.0]


@pytest.fixture(scope="module")
def sobol_indices():
    """A real (tiny) Sobol analysis of two levers on final satisfaction."""
    from SALib.analyze import sobol
    from SALib.sample import sobol as sobol_sample

    problem = {
        "num_vars": 2,
        "names": ["levers.linking.intensity", "levers.immersion.intensity"],
        "bounds": [[0.0, 1.0], [0.0, 1.0]],
    }
    sample = sobol_sample.sample(problem, 8, calc_second_order=False, seed=3)
    y = []
    for a, b in sample:
        cfg = _cfg(
            "s",
            {"linking": {"intensity": float(a)}, "immersion": {"intensity": float(b)}},
            replicates=1,
            steps=8,
            baseline_comparison=False,
            record_buildings=False,
        )
        y.append(simulate(cfg).metrics["satisfaction"].iloc[-1])
    result = sobol.analyze(problem, np.asarray(y), calc_second_order=False, seed=3)
    return plots.sensitivity_table(result, problem["names"], output="satisfaction")


@pytest.mark.parametrize("lang", LANGS)
def test_sensitivity_bars(sobol_indices, lang):
    fig = plots.sensitivity_bars(sobol_indices, lang=lang)
    assert len(fig.data) == 2  # S1 and ST
    assert {t.name for t in fig.data} == (
        {"First order S1", "Total order ST"} if lang == "en" else {"一阶 S1", "总效应 ST"}
    )
    assert set(fig.data[0].x) == {label("intensity_linking", lang), label("intensity_immersion", lang)}
    assert _titles(fig) == (plots.text("input", lang), plots.text("index", lang))
    assert label("satisfaction", lang) in fig.layout.title.text
    assert np.all(np.asarray(fig.data[1].error_y.array) >= 0)
    morris = pd.DataFrame(
        {"input": ["a", "b"], "index": ["mu_star", "mu_star"], "value": [0.2, 0.1], "conf": [0.05, np.nan]}
    )
    assert list(plots.sensitivity_bars(morris, lang=lang).data[0].x) == ["a", "b"]


@pytest.mark.parametrize("lang", LANGS)
def test_service_sankey_from_table_keeps_totals(scenarios, lang):
    df, _ = scenarios
    fig = plots.service_sankey(df, lang=lang)
    sankey = fig.data[0]
    assert len(sankey.node.label) == len(CHANNELS) + len(NEED_CATEGORIES)
    source, target, value = (
        np.asarray(v) for v in (sankey.link.source, sankey.link.target, sankey.link.value)
    )
    out_of = np.bincount(source, weights=value, minlength=len(CHANNELS))[: len(CHANNELS)]
    into = np.bincount(target, weights=value, minlength=9)[len(CHANNELS) :]
    np.testing.assert_allclose(out_of, df[[f"served_{c}" for c in CHANNELS]].mean().to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(
        into, df[[f"served_{k}" for k in NEED_CATEGORIES]].mean().to_numpy(), rtol=1e-9
    )
    assert fig.layout.title.text == plots.text("sankey_title", lang)


def test_service_sankey_from_model(model):
    fig = plots.service_sankey(model, lang="zh")
    assert "政府" in fig.data[0].node.label
    assert sum(fig.data[0].link.value) == pytest.approx(model.flow.served_by_category.sum())
    # the model keeps the channel × category split itself: links are exact, not estimated
    matrix = model.flow.served_matrix
    np.testing.assert_allclose(matrix.sum(axis=1), model.flow.served_by_channel, rtol=1e-12)
    np.testing.assert_allclose(matrix.sum(axis=0), model.flow.served_by_category, rtol=1e-12)
    assert sorted(fig.data[0].link.value) == pytest.approx(sorted(matrix[matrix > 0]))
    assert plots.text("estimated_split", "zh") not in fig.data[0].link.hovertemplate


def test_time_series_drops_bands_when_many_lines(grid):
    with_bands = plots.time_series(grid, "participation", by="run")  # six points: bands kept
    assert len(with_bands.data) == 12
    lines_only = plots.time_series(grid, "participation", by="run", band=False)
    assert len(lines_only.data) == 6 and all(t.fill is None for t in lines_only.data)
    many = pd.concat([grid, grid.assign(run=grid["run"] + "b")], ignore_index=True)
    assert len(plots.time_series(many, "participation", by="run").data) == 12  # twelve lines, no bands


def test_sensitivity_bars_accept_the_wide_tables_of_sim_analysis(sobol_indices):
    """sim.analysis.sobol_indices gives one row per input with S1/ST and their interval bounds."""
    wide = sobol_indices.pivot_table(index=["output", "input"], columns="index", values=["value", "conf"])
    table = pd.DataFrame(
        {
            "group": "",
            "output": wide.index.get_level_values("output"),
            "input": [name.split(".")[1] for name in wide.index.get_level_values("input")],
            **{k: wide[("value", k)].to_numpy() for k in ("S1", "ST")},
            **{f"{k}_low": (wide[("value", k)] - wide[("conf", k)]).to_numpy() for k in ("S1", "ST")},
            **{f"{k}_high": (wide[("value", k)] + wide[("conf", k)]).to_numpy() for k in ("S1", "ST")},
        }
    )
    tidy = plots.sensitivity_bars(sobol_indices, lang="zh")
    fig = plots.sensitivity_bars(table, lang="zh")
    assert [t.name for t in fig.data] == [t.name for t in tidy.data]
    for a, b in zip(fig.data, tidy.data, strict=True):
        np.testing.assert_allclose(a.y, b.y)
        np.testing.assert_allclose(a.error_y.array, b.error_y.array)
    # short design names ("linking") get the same labels as the dotted keys
    assert list(fig.data[0].x) == list(tidy.data[0].x)
    with pytest.raises(ValueError, match="group=None"):
        plots.sensitivity_bars(pd.concat([table, table.assign(group="cell 2")]))
    with pytest.raises(ValueError, match="allowed: input, index, value, conf"):
        plots.sensitivity_bars(pd.DataFrame({"input": ["a"], "weight": [1.0]}))
