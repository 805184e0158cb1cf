"""Benchmarks: figures for docs/benchmarks.md. They measure and record; they never fail CI."""
