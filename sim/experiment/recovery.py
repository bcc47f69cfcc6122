"""Parameter recovery (simulation-based calibration) for a targets file.

For each of N truths drawn from the prior, the model is run at the truth (fresh seeds), the
targets' statistics are taken with measurement noise of each target's sd, and those synthetic
figures are calibrated exactly as field figures would be. If the calibration is right, the 90%
credible interval covers the truth in about 90% of truths; its width against the prior's says
how much the targets identify each key.

    sim-calibrate targets=sim/configs/targets/field.yaml recovery=20 community=workshop steps=26

Each truth's calibration has its own history under ``OUT/truth-NNN/``: a stopped recovery run
resumes, truths already done are not redone.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.core.config import Config, ConfigError
from sim.experiment.calibrate import Settings, Simulator, Spec, posterior, run_abc, weighted_quantile

RECOVERY_FILE = "recovery.parquet"
COVERAGE_FILE = "coverage.parquet"
LEVEL = 0.9

log = logging.getLogger("sim.calibrate")


def draw_truths(spec: Spec, base: Config, n: int) -> tuple[list[dict[str, float]], list[int]]:
    """N parameter vectors from the prior and the root seed of each truth's synthetic community."""
    rng = np.random.default_rng(np.random.SeedSequence([base.seed, 16]))
    truths = [{p.key: float(rng.uniform(p.low, p.high)) for p in spec.priors} for _ in range(n)]
    roots = [int(r) for r in rng.integers(0, 2**62, size=n)]
    return truths, roots


def synthetic_spec(spec: Spec, observed: dict[str, float]) -> Spec:
    """``spec`` with each target's value replaced by a synthetic figure."""
    targets = tuple(dataclasses.replace(t, value=float(observed[t.name])) for t in spec.targets)
    return dataclasses.replace(spec, targets=targets, plausibility=())


def run_recovery(
    spec: Spec,
    base: Config,
    out_dir: str | Path,
    settings: Settings,
    n: int,
    provenance: dict[str, Any] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Calibrate ``n`` synthetic truths; return one row per truth × key, and coverage per key.

    Writes ``recovery.parquet`` and ``coverage.parquet`` into ``out_dir`` (atomically); each
    truth's ``calibration.json`` carries the ``provenance`` given (see :func:`run_abc`).
    """
    from sim.results import write_parquet

    out_dir = Path(out_dir)
    truths, roots = draw_truths(spec, base, n)
    simulator = Simulator(base, spec)
    noise = np.random.default_rng(np.random.SeedSequence([base.seed, 17]))
    rows = []
    tail = (1 - LEVEL) / 2
    for i, (truth, root) in enumerate(zip(truths, roots, strict=True)):
        observed = simulator.noisy(simulator.exact(truth, root), noise)
        missing = [name for name, value in observed.items() if not np.isfinite(value)]
        if missing:
            raise ConfigError(
                f"recovery: the community of truth {i} gives no {missing[0]}; allowed: a community "
                "that has the quantity (e.g. community.property_managed_share=1 for company metrics)"
            )
        log.info("truth %d of %d: %s", i + 1, n, ", ".join(f"{k}={v:.4g}" for k, v in truth.items()))
        history = run_abc(
            synthetic_spec(spec, observed), base, out_dir / f"truth-{i:03d}", settings, provenance=provenance
        )
        post = posterior(history, spec)
        w = post["weight"].to_numpy()
        for prior in spec.priors:
            x = post[prior.key].to_numpy()
            lo, hi = weighted_quantile(x, w, np.array([tail, 1 - tail]))
            rows.append(
                {
                    "truth_index": i,
                    "key": prior.key,
                    "truth": truth[prior.key],
                    "median": float(weighted_quantile(x, w, 0.5)),
                    "low": float(lo),
                    "high": float(hi),
                    "covered": bool(lo <= truth[prior.key] <= hi),
                    "width_vs_prior": float((hi - lo) / (LEVEL * prior.width)),
                    # SBC rank statistic: posterior mass below the truth (uniform if calibrated)
                    "rank": float(w[x < truth[prior.key]].sum()),
                    **{f"observed:{name}": value for name, value in observed.items()},
                }
            )
    table = pd.DataFrame(rows)
    coverage = coverage_table(table)
    write_parquet(out_dir / RECOVERY_FILE, table)
    write_parquet(out_dir / COVERAGE_FILE, coverage)
    return table, coverage


def coverage_table(table: pd.DataFrame) -> pd.DataFrame:
    """Per key: coverage of the 90% interval with its Wilson 95% interval, and mean relative width."""
    rows = []
    for key, group in table.groupby("key", sort=False):
        k, n = int(group["covered"].sum()), len(group)
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        rows.append(
            {
                "key": key,
                "truths": n,
                "covered": k,
                "coverage": k / n,
                "coverage_low": float(ci.low),
                "coverage_high": float(ci.high),
                "width_vs_prior_mean": float(group["width_vs_prior"].mean()),
                "rank_ks_pvalue": float(stats.kstest(group["rank"], "uniform").pvalue),
            }
        )
    return pd.DataFrame(rows)


def format_coverage(coverage: pd.DataFrame, n: int, took: str) -> str:
    """One line per key: coverage (with its interval) and the credible interval's relative width."""
    lines = [f"parameter recovery: {n} truths from the prior, {LEVEL:.0%} credible intervals ({took})"]
    lines.append(f"{'key':<40}{'coverage':>10}{'95% interval':>18}{'width/prior':>13}{'rank KS p':>11}")
    for row in coverage.itertuples():
        interval = f"[{row.coverage_low:.2f}, {row.coverage_high:.2f}]"
        lines.append(
            f"{row.key:<40}{row.covered:>5}/{row.truths:<4}{interval:>18}"
            f"{row.width_vs_prior_mean:>13.2f}{row.rank_ks_pvalue:>11.2f}"
        )
    return "\n".join(lines)
