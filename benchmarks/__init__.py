"""Benchmarks: scripts that print ratios against a reference run, side by side (`python -m benchmarks.NAME`)."""
