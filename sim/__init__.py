"""Agent-based model of Party-building-led urban community governance (the six levers, 六入).

The package is laid out in layers, each importing only those below it::

    sim.vocab        the bilingual vocabulary: screens', documents' and domain words, from sim/strings.yaml
    sim.core         config → community → model → metrics: the model itself (imports nothing above)
    sim.analysis     statistics on arrays and tables (intervals, comparisons, sensitivity, tipping)
    sim.results      writing runs atomically, collecting sweeps, loading results
    sim.experiment   composing configs, simulating replicates, running sweep points
    sim.present      figures, reports and the workshop dashboard
    sim.cli          one thin module per command

``sim.CommunityModel`` is the Mesa model; ``sim.results.load`` reads any result.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("community-governance-sim")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["CommunityModel", "__version__"]


def __getattr__(name: str):
    # lazy, so that importing a light module (sim.vocab) does not load the model's kernels
    if name == "CommunityModel":
        from sim.core.model import CommunityModel

        return CommunityModel
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
