"""Mesa's DataCollector, read from the model's :class:`~sim.core.metrics.Recorder`.

Mesa's own tools (``mesa.batch_run``, SolaraViz plot components) read a model's
``datacollector``: its ``model_vars`` (reporter name → one value per collection) and
``_collection_steps`` (the model time of each collection). The recorder already fills one row
per week and one column per metric into preallocated arrays, so this collector keeps no copy:
``model_vars`` and ``_collection_steps`` are views built from the recorder's rows when read,
and :meth:`RecorderDataCollector.collect` does nothing. A step therefore costs nothing beyond
the recorder's own work, whoever reads the data.

Collections are the recorded weeks: row t of the recorder is the state after week t + 1, so
the collection times are 1, 2, …, ``model.steps`` (there is no row for the initial state).
Every metric of :data:`~sim.core.metrics.METRICS` is a model reporter under its own name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa

from sim.core.metrics import METRICS

if TYPE_CHECKING:
    import pandas as pd

    from sim.core.metrics import Recorder


class RecorderDataCollector(mesa.DataCollector):
    """A :class:`mesa.DataCollector` whose model variables are the recorder's metric columns."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        super().__init__()
        # Mesa's reporters: one per metric, named as the metric (read from the recorder, not called)
        self.model_reporters = {name: name for name in METRICS}

    # Mesa's __init__ assigns empty containers to these two; the recorder is their only source.
    @property
    def model_vars(self) -> dict[str, list[float]]:
        """Reporter name → its value at every recorded week (read from the recorder)."""
        rows = self._recorder.values[: self._recorder.rows]
        return {name: rows[:, i].tolist() for i, name in enumerate(METRICS)}

    @model_vars.setter
    def model_vars(self, _value: Any) -> None:
        pass  # Mesa's __init__ resets it; there is nothing to reset

    @property
    def _collection_steps(self) -> list[float]:
        """Model time of every collection: weeks 1 … the weeks recorded so far."""
        return [float(week) for week in range(1, self._recorder.rows + 1)]

    @_collection_steps.setter
    def _collection_steps(self, _value: Any) -> None:
        pass

    def collect(self, model: mesa.Model) -> None:
        """Nothing to do: the model's recorder has already recorded this week."""

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """One row per recorded week, indexed by the week (from 1; unnamed, as Mesa's plots expect)."""
        frame = self._recorder.frame()
        frame.index = frame.pop("step").to_numpy()
        return frame
