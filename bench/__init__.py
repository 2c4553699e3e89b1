"""Benchmarks: each scenario runs its baseline in the same run and reports a ratio.

`make bench` runs every scenario at full size; `make bench-quick` at a tenth, for development.
Results go to bench/RESULTS.md and bench/results.json.
"""
