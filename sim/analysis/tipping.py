"""Tipping points along a one-dimensional sweep: a table in, a table out."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def tipping_points(
    summary: pd.DataFrame,
    x: str,
    metric: str,
    by: list[str] | None = None,
    ratio: float = 3.0,
) -> pd.DataFrame:
    """Where ``metric`` changes most abruptly along the 1-D sweep over ``x``, per group of ``by``.

    ``summary`` has one row per point with ``x``, ``{metric}_mean`` and, if present, the
    interval for the mean ``{metric}_low`` / ``{metric}_high`` (``summary.parquet``). For each
    group the largest step between neighbouring values of ``x`` is located; it is called a
    tipping point (``abrupt``) when it is at least ``ratio`` times the median of the other steps
    and the intervals on either side do not overlap.
    """
    by = list(by or [])
    mean_col = f"{metric}_mean" if f"{metric}_mean" in summary.columns else metric
    lo_col, hi_col = f"{metric}_low", f"{metric}_high"
    rows = []
    groups = summary.groupby(by, sort=True) if by else [((), summary)]
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        g = group.groupby(x, sort=True)[[c for c in (mean_col, lo_col, hi_col) if c in group.columns]].mean()
        if len(g) < 3:
            continue
        xs = g.index.to_numpy(dtype=float)
        ys = g[mean_col].to_numpy(dtype=float)
        steps = np.diff(ys)
        i = int(np.argmax(np.abs(steps)))
        others = np.delete(np.abs(steps), i)
        typical = float(np.median(others)) if others.size else 0.0
        separated = True
        if lo_col in g.columns and hi_col in g.columns:
            lo, hi = g[lo_col].to_numpy(dtype=float), g[hi_col].to_numpy(dtype=float)
            separated = bool(lo[i + 1] > hi[i] or hi[i + 1] < lo[i])
        # a flat curve has no jump at all; a single step on an otherwise flat curve is infinitely sharp
        sharpness = 0.0 if steps[i] == 0 else (abs(steps[i]) / typical if typical > 0 else math.inf)
        rows.append(
            {
                **dict(zip(by, key, strict=True)),
                "metric": metric,
                "x": x,
                "x_before": xs[i],
                "x_after": xs[i + 1],
                "tipping_x": (xs[i] + xs[i + 1]) / 2,
                "jump": float(steps[i]),
                "sharpness": sharpness,
                "abrupt": bool(sharpness >= ratio and separated and steps[i] != 0),
                "value_before": ys[i],
                "value_after": ys[i + 1],
            }
        )
    return pd.DataFrame(rows)
