"""Plotly figures for every result: each function takes a tidy table and returns a ``Figure``.

One module per kind of result: :mod:`~sim.present.plots.runs` (runs and scenario sets),
:mod:`~sim.present.plots.community` (one community's map, network and service flows),
:mod:`~sim.present.plots.sweeps` (lever grids, budget frontiers, tipping curves),
:mod:`~sim.present.plots.sensitivity` (Sobol and Morris), all in the look of
:mod:`~sim.present.plots.style`.

The tables are those of :func:`sim.results.load` and :func:`sim.experiment.simulate.simulate`:

* the *metrics table*: one row per replicate × step, a column per metric (see
  :data:`sim.core.metrics.METRICS`), the dotted parameter columns of the run (``scenario.name``,
  ``levers.linking.intensity``, ``budget`` …) and, for several runs, a ``run`` column;
* the *buildings table*: one row per replicate × step × building with ``compound``,
  ``households``, ``satisfaction``, ``participation``, ``trust``, ``unmet_need``,
  ``need_information`` and ``conflicts_open``.

Every figure speaks English (``lang="en"``) or Chinese (``lang="zh"``) and uses one
colour-blind-safe palette: Okabe & Ito (2008) for categories, viridis for continuous scales
and a purple–orange diverging scale for differences. Intervals are t-based 95% confidence
intervals of the mean across replicates; comparisons between scenarios are paired by
replicate, since replicate r of every scenario shares its random streams (common random
numbers), which removes most of the noise from the difference.
"""

from sim.present.plots.community import _tile_layout, community_map, network, service_sankey
from sim.present.plots.runs import _final, mean_interval, paired_differences, scenario_comparison, time_series
from sim.present.plots.sensitivity import sensitivity_bars, sensitivity_table, tidy_indices
from sim.present.plots.style import (
    BUILDING_COLUMNS,
    DIVERGING,
    FONT,
    GREY,
    PALETTE,
    SEQUENTIAL,
    TEMPLATE,
    _rgba,
    _style,
    param_label,
    text,
)
from sim.present.plots.sweeps import _fmt, budget_frontier, lever_grid_heatmap, tipping_curve
from sim.vocab import LANGS

__all__ = [
    "BUILDING_COLUMNS",
    "DIVERGING",
    "FONT",
    "GREY",
    "LANGS",
    "PALETTE",
    "SEQUENTIAL",
    "TEMPLATE",
    "_final",
    "_fmt",
    "_rgba",
    "_style",
    "_tile_layout",
    "budget_frontier",
    "community_map",
    "lever_grid_heatmap",
    "mean_interval",
    "network",
    "paired_differences",
    "param_label",
    "scenario_comparison",
    "sensitivity_bars",
    "sensitivity_table",
    "service_sankey",
    "text",
    "tidy_indices",
    "time_series",
    "tipping_curve",
]
