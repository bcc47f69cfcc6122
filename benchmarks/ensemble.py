"""``python -m benchmarks.ensemble [M ...]``: household-steps per second of single runs and of
one ensemble (docs/design.md §9), at workshop size, 52 weeks, mixed lever settings.

For each M (default 1 and 64): M configs with every lever's intensity drawn from {0, ½, 1},
run once as M single ``CommunityModel(cfg, rng=seed)`` runs and once as
``CommunityModel.ensemble(configs, seeds)``, each the best of three (build included); the
compiled kernels are loaded first, untimed. The members' results are the single runs' to the
bit (tests/test_ensemble.py); only the time differs.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from sim.core.config import Config, from_dict
from sim.core.levers import LEVERS
from sim.core.model import CommunityModel

STEPS = 52


def mixed_configs(members: int, preset: str = "workshop") -> list[Config]:
    """``members`` configs of one shape whose lever intensities are drawn from {0, ½, 1}."""
    rng = np.random.default_rng(0)
    out = []
    for _ in range(members):
        levels = rng.choice([0.0, 0.5, 1.0], size=len(LEVERS))
        levers = {name: {"intensity": float(x)} for name, x in zip(LEVERS, levels, strict=True)}
        out.append(from_dict({"community": {"preset": preset}, "steps": STEPS, "levers": levers}))
    return out


def measure(members: int, repeats: int = 3) -> dict[str, float]:
    """Seconds and household-steps per second of ``members`` single runs and of one ensemble."""
    configs = mixed_configs(members)
    seeds = np.random.SeedSequence(1).spawn(members)
    CommunityModel(configs[0], rng=seeds[0]).run(2)  # load the compiled kernels
    households = CommunityModel(configs[0]).N
    single = ensemble = np.inf
    for _ in range(repeats):
        started = time.perf_counter()
        for cfg, seed in zip(configs, seeds, strict=True):
            CommunityModel(cfg, rng=seed).run()
        single = min(single, time.perf_counter() - started)
        started = time.perf_counter()
        CommunityModel.ensemble(configs, seeds).run()
        ensemble = min(ensemble, time.perf_counter() - started)
    work = households * STEPS * members
    return {
        "members": members,
        "single_seconds": single,
        "single_household_steps_per_second": work / single,
        "ensemble_seconds": ensemble,
        "ensemble_household_steps_per_second": work / ensemble,
    }


def main(argv: list[str] | None = None) -> int:
    for members in map(int, argv or ["1", "64"]):
        r = measure(members)
        print(
            f"M={members}: single runs {r['single_seconds']:.3f} s "
            f"({r['single_household_steps_per_second']:,.0f} household-steps/s); "
            f"one ensemble {r['ensemble_seconds']:.3f} s "
            f"({r['ensemble_household_steps_per_second']:,.0f} household-steps/s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
