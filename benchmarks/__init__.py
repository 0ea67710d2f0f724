"""Benchmarks: run from the repository root as `python -m benchmarks.bench_refresh` (see README.md)."""
