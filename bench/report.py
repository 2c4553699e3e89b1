"""Results: one row per figure, with its baseline measured in the same run, and the report."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).parent

# Below this line RESULTS.md is kept by hand (runs compared, profiles, what limits each): a run
# rewrites only the table above it.
KEPT_BY_HAND = (
    "<!-- Kept by hand below this line: `python -m bench` rewrites only what is above. -->"
)


@dataclass
class Row:
    scenario: str
    figure: str  # what was measured, with its unit
    value: float
    baseline_name: str
    baseline: float | None  # None when the baseline could not run (then `note` says why)
    target: str
    met: bool | None  # None when the target is not a pass/fail number
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline  # type: ignore[operator]


@dataclass
class Report:
    size: str
    rows: list[Row] = field(default_factory=list)
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    # The 1-minute load average when the run started (other work on the machine skews it).
    load_at_start: float = field(default_factory=lambda: os.getloadavg()[0])

    def add(self, row: Row) -> None:
        self.rows.append(row)
        ratio = f"{row.ratio:.2f}x" if row.ratio is not None else "-"
        verdict = {True: "meets", False: "MISSES", None: ""}[row.met]
        print(
            f"  {row.figure}: {_num(row.value)} (baseline {row.baseline_name}: "
            f"{_num(row.baseline)}; ratio {ratio}) target {row.target} {verdict}".rstrip()
        )

    def write(self, folder: Path = HERE) -> None:
        machine = machine_info()
        load = f"{self.load_at_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
        data = {
            "started": self.started,
            "size": self.size,
            "machine": machine,
            "load_average": load,
            "rows": [{**asdict(r), "ratio": r.ratio} for r in self.rows],
        }
        (folder / "results.json").write_text(json.dumps(data, indent=2) + "\n")
        lines = [
            "# Benchmark results",
            "",
            f"Run {self.started} ({self.size} size) on {machine['cpu']} "
            f"({machine['cores']} cores), Python {machine['python']}, {machine['system']}.",
            f"Load average (1 min) {load}. Absolute rates drift on a shared machine; the ratio "
            "to a baseline measured in the same run is the figure to compare.",
            "",
            "| scenario | figure | value | baseline | baseline value | ratio | target | met "
            "| note |",
            "|---|---|---:|---|---:|---:|---|---|---|",
        ]
        for r in self.rows:
            ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
            met = {True: "yes", False: "**no**", None: "-"}[r.met]
            lines.append(
                f"| {r.scenario} | {r.figure} | {_num(r.value)} | {r.baseline_name} | "
                f"{_num(r.baseline)} | {ratio} | {r.target} | {met} | {r.note} |"
            )
        results = folder / "RESULTS.md"
        by_hand = results.read_text().partition(KEPT_BY_HAND)[2] if results.exists() else ""
        lines += ["", KEPT_BY_HAND]
        results.write_text("\n".join(lines) + (by_hand or "\n"))


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.3g}"


def machine_info() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }
