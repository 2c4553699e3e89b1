"""bench/report.py: a run rewrites the table of RESULTS.md and keeps what was written by hand."""

from __future__ import annotations

import json
from pathlib import Path

from bench.report import KEPT_BY_HAND, Report, Row


def _report(value: float) -> Report:
    report = Report(size="quick (1/10)")
    report.add(Row("catch-up", "entries/s", value, "verify loop", 10.0, ">= 5x", True, "n"))
    return report


def test_a_run_rewrites_the_table_and_keeps_the_part_kept_by_hand(tmp_path: Path) -> None:
    _report(50.0).write(tmp_path)
    first = (tmp_path / "RESULTS.md").read_text()
    assert "| catch-up | entries/s | 50.00 | verify loop | 10.00 | 5.00 |" in first
    assert first.rstrip().endswith(KEPT_BY_HAND)

    by_hand = "\n## A profile\n\nWhat limits it, written after the run.\n"
    (tmp_path / "RESULTS.md").write_text(first.rstrip("\n") + by_hand)
    _report(70.0).write(tmp_path)
    second = (tmp_path / "RESULTS.md").read_text()
    assert "| 70.00 |" in second and "| 50.00 |" not in second
    assert second.endswith(KEPT_BY_HAND + by_hand)
    assert second.count(KEPT_BY_HAND) == 1
    assert json.loads((tmp_path / "results.json").read_text())["rows"][0]["value"] == 70.0
