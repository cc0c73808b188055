"""Benchmarks: measured figures that are not timed tests (generation throughput, adaptive savings)."""
