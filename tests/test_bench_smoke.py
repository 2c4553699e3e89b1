"""The benchmark code still runs (tiny sizes; no timing is asserted: figures live in bench/)."""

from __future__ import annotations

from bench import catchup
from bench.report import Report


def test_catch_up_scenario_runs_over_several_pages() -> None:
    report = Report(size="smoke")
    catchup.run(report, 2_500)  # three pages: exercises multi-page pulls of large replies
    (row,) = report.rows
    assert row.scenario == "catch-up" and row.value > 0 and row.baseline and row.baseline > 0
    assert "2,500 entries" in row.note
