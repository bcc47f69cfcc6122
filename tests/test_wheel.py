"""The package as users install it: a wheel, in a fresh virtual environment, run from /tmp.

The wheel is built from this checkout and installed without dependencies into a new venv;
the dependencies are borrowed from the development environment's site-packages through a
path entry (its ``.pth`` hooks, such as the editable install's finder, are not run), so the
only ``sim`` the new interpreter can import is the wheel's own copy, configs included.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600, **kw)


def test_wheel_installs_cleanly_and_runs_from_any_folder(tmp_path: Path) -> None:
    # built from a copy, so that the build leaves nothing in the checkout
    source = tmp_path / "source"
    ignored = shutil.ignore_patterns(".git", ".venv", "build", "dist", "__pycache__", "*.egg-info")

    def ignore(folder: str, names: list[str]) -> set[str]:
        # the checkout's own results/ folder, not the package's sim/results/
        top = {"results"} if Path(folder) == ROOT else set()
        return set(ignored(folder, names)) | (top & set(names))

    shutil.copytree(ROOT, source, ignore=ignore)
    dist = tmp_path / "dist"
    build = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(dist),
            str(source),
        ],
        cwd=tmp_path,
    )
    assert build.returncode == 0, build.stderr
    assert "Deprecat" not in build.stdout + build.stderr, "building the wheel prints a deprecation warning"
    (wheel,) = dist.glob("community_governance_sim-*.whl")

    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp_path
        ).stdout.strip()
    )
    (site / "borrowed_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    install = _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet", str(wheel)],
        cwd=tmp_path,
    )
    assert install.returncode == 0, install.stderr

    where = _run(
        [str(python), "-c", "import sim, sim.experiment.compose as c; print(sim.__file__, c.CONFIG_DIR)"],
        tmp_path,
    )
    assert where.returncode == 0, where.stderr
    module, configs = where.stdout.split()
    assert str(env_dir) in module and str(ROOT) not in module, "the wheel's sim was not the one imported"
    assert (Path(configs) / "config.yaml").is_file() and (
        Path(configs) / "scenario" / "all_six.yaml"
    ).is_file()

    out = tmp_path / "run"
    run = _run(
        [
            str(env_dir / "bin" / "sim-run"),
            "community=workshop",
            "steps=3",
            "replicates=1",
            "scenario=all_six",
            f"hydra.run.dir={out}",
        ],
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"] == "all_six" and summary["steps"] == 3
    assert (
        summary["provenance"]["version"]
        == _run([str(python), "-c", "import sim; print(sim.__version__)"], tmp_path).stdout.strip()
    )
