"""Statistics on arrays and tables: intervals, comparisons, sensitivity indices, tipping points.

Arrays and tables in, tables out (the SALib way): nothing here reads or writes files, so the
functions work on data from anywhere. ``sim-analyse`` (:mod:`sim.cli.analyse`) reads a sweep's
tables and calls them.

- :mod:`sim.analysis.stats`: every interval of the project, one spelling (``mean``, ``low``,
  ``high``, ``level``, ``kind`` = "mean" | "prediction", ``method``), inside each metric's range;
  replicates needed for a chosen half-width;
- :mod:`sim.analysis.compare`: replicate statistics and paired arm comparisons;
- :mod:`sim.analysis.sensitivity`: Sobol, Morris (grouped or not), PAWN, convergence checks;
- :mod:`sim.analysis.tipping`: abrupt changes along a one-dimensional sweep.
"""

from sim.analysis.compare import compare_arms, final_step, paired_differences, replicate_stats
from sim.analysis.sensitivity import convergence, morris_indices, pawn_indices, sobol_indices
from sim.analysis.tipping import tipping_points

__all__ = [
    "compare_arms",
    "convergence",
    "final_step",
    "morris_indices",
    "paired_differences",
    "pawn_indices",
    "replicate_stats",
    "sobol_indices",
    "tipping_points",
]
