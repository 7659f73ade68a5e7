"""The benchmark suite of issue 5: `python -m bench [scenario ...] [--quick]`.

See docs/benchmarks.md for what it measures and the latest figures.
"""
