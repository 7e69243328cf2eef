"""Benchmarks: speed, memory and accuracy measured against baselines in the same run."""
