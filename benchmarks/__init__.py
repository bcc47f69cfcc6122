"""Benchmarks of the community model: cost by size, a per-agent reference, sweep throughput.

Run ``make bench`` or ``python -m benchmarks`` (``--quick`` for a fast smoke variant); the
figures go to ``results/bench/bench.json``. See :mod:`benchmarks.bench`.
"""
