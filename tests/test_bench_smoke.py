"""The benchmark suite runs end to end (quick variant) and writes the figures a script checks.

Timings are not asserted here (they depend on the machine); the structure and the sanity of
the figures are: positive rates, the right sizes, a complete sweep.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_quick_benchmark_writes_bench_json(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads((tmp_path / "bench.json").read_text())

    for key in ("speedup", "scaling_exponent", "sweep_efficiency"):
        assert isinstance(doc[key], float) and math.isfinite(doc[key]), key
        assert key in doc["targets"]
    assert doc["speedup"] > 0 and doc["sweep_efficiency"] > 0
    assert doc["quick"] is True
    assert all(row["met"] is None for row in doc["targets"].values())  # quick runs are not judged

    presets = doc["presets"]
    assert list(presets) == ["workshop", "community", "street", "metro"]
    sizes = [presets[p]["households"] for p in presets]
    assert sizes == sorted(sizes) and sizes[-1] > 50_000
    for figures in presets.values():
        for key in ("build_seconds", "step_seconds", "household_steps_per_second", "peak_rss_mb"):
            assert figures[key] > 0, key
    assert doc["reference"]["households"] == presets["community"]["households"]  # same community
    assert doc["sweep"]["completed"] == doc["sweep"]["points"] == 4
    # nothing left behind but the JSON (the sweep's runs live in a temporary directory)
    assert [p.name for p in tmp_path.iterdir()] == ["bench.json"]

    # every figure is printed beside its target
    for title in ("speed-up", "scaling exponent", "metro, 104 steps", "peak memory", "sweep efficiency"):
        assert title in proc.stdout
    assert "≥ 100×" in proc.stdout and "≤ 1.1" in proc.stdout
    # the ceiling: the reference's update compiled, on the same community, beats the reference
    assert doc["compiled_reference"]["households"] == presets["community"]["households"]
    assert doc["speedup_ceiling"] > 1.0
    assert "ceiling" in proc.stdout


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_compiled_reference_does_the_reference_s_work(seed: int) -> None:
    """The compiled twin follows the per-agent reference: same community, same means within 0.05.

    Their random draws differ (numpy in bulk against Python's ``random`` per agent), so the
    weekly means agree as two replicates of one model do, not bit for bit.
    """
    from benchmarks.compiled_reference import CompiledReference
    from benchmarks.reference import ReferenceModel
    from benchmarks.worker import preset_config

    cfg = preset_config("community")
    per_agent, compiled = ReferenceModel(cfg, rng=seed), CompiledReference(cfg, rng=seed)
    np.testing.assert_array_equal(per_agent.community.trust, compiled.community.trust)
    for _ in range(30):
        per_agent.step()
        compiled.step()
    expected = per_agent.datacollector.get_model_vars_dataframe().to_numpy()
    got = np.array(compiled.means)
    assert got.shape == expected.shape == (30, 3)
    assert np.abs(got - expected).max() < 0.05
    # and the dynamics are not trivial: satisfaction and trust move away from where they began
    assert np.abs(got[-1, 1:] - got[0, 1:]).max() > 0.01 or np.abs(got[:, 0] - got[0, 0]).max() > 0.05


def test_mesa_agents_are_made_on_first_access(workshop) -> None:
    """Building a model skips agent creation; the first look at Mesa's agent sets makes them all."""
    import mesa

    from sim.core.agents import Organisation, PartyMember, PropertyCompany, Resident
    from sim.core.model import CommunityModel

    model = CommunityModel(workshop, rng=3)
    assert len(model._all_agents) == 0  # nothing made at build time
    model.run(2)
    c = model.community
    by_type = model.agents_by_type
    assert len(by_type[Resident]) + len(by_type[PartyMember]) == c.n_households
    assert len(by_type[PropertyCompany]) == c.n_companies and len(by_type[Organisation]) == c.n_orgs
    assert len(model.agents) == c.n_households + c.n_companies + c.n_orgs
    assert all(isinstance(a, mesa.Agent) for a in model.agents)

    # an agent added by hand to a fresh model comes after the community's own
    fresh = CommunityModel(workshop, rng=3)
    extra = Resident(fresh, 0)
    assert len(fresh.agents) == len(model.agents) + 1
    assert extra.unique_id == max(a.unique_id for a in fresh.agents)
