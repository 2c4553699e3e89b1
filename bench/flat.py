"""Flat in history: what a command and a page cost as a circle's record grows, against what
they cost when it was young (issue 17, target 1).

One member circle of a co-op (bench/member.py sets them up) grows by everyday decisions, the
most frequent change. Measured, each at the circle's start and again at each count of
decisions (1,000 and 10,000; `--quick`: 100 and 1,000):
- ms per policy adopted through a whole consent process (its summary goes to the co-op);
- ms per everyday decision, the mean over STEP of them.
And, with the circle's store at 1,000 events and again at 100,000 (`--quick`: 10,000), over
HTTP in this process (FastAPI's test client, the founder's token), ms per page of LIMIT:
- the decisions list (`GET /api/decisions`), its last page (the latest decisions);
- the logbook (`GET /api/logbook`), its last page.
Each figure's baseline is the same measured at the start (or at 1,000 events) in the same
run; the target is at most 1.2 times it.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from bench.circles import HAT_AREA
from bench.member import POLICIES, _member_of_a_coop, _ms_per_policy
from bench.report import Report, Row
from node.app.node import CircleNode
from node.demo.scripted import founder, select
from node.http.ratelimit import RateLimiter
from node.http.server import ServerOptions, create_app

TARGET = 1.2
STEP = 100  # everyday decisions timed at each count
LIMIT = 50  # a page's items
PAGES = 20  # page requests timed at each size (the logbook's: a fifth, at least 3)
SMALL = 1_000  # events in the store when the pages' baseline is measured


class Growing:
    """The member circle and its founder's hat, grown by everyday decisions."""

    def __init__(self, node: CircleNode) -> None:
        self.node = node
        self.by = founder(node)
        self.hat = node.hats.define_hat(self.by, "Cook", "Cooks", [], [HAT_AREA])
        select(node, self.hat, self.by)
        self.taken = 0

    def decide(self) -> None:
        self.node.decisions.take_everyday_decision(
            self.by, self.hat, HAT_AREA, f"Rota {self.taken}", "Cover Sundays"
        )
        self.taken += 1

    def grow_to(self, decisions: int) -> None:
        while self.taken < decisions:
            self.decide()

    def grow_to_events(self, events: int) -> None:
        while self.events() < events:
            for _ in range(100):
                self.decide()

    def events(self) -> int:
        return int(self.node.store.recorder.max_notification_id() or 0)

    def ms_per_decision(self) -> float:
        start = time.perf_counter()
        for _ in range(STEP):
            self.decide()
        return (time.perf_counter() - start) / STEP * 1000


class Pages:
    """Pages of the member API's lists, asked over HTTP in this process."""

    def __init__(self, node: CircleNode, by: str) -> None:
        app = create_app(node, None, ServerOptions(public_url="http://bench"))
        app.state.served.token_limiter = RateLimiter(burst=1e9)
        self.client = TestClient(app)
        self.headers = {"Authorization": f"Bearer {node.tokens.issue_token(by)[1]}"}

    def ms_per_last_page(self, path: str, requests: int) -> float:
        """ms per request of the list's last page (its total read first, not timed)."""
        total = self._get(f"{path}?limit=1")["total"]
        last = f"{path}?offset={max(0, total - LIMIT)}&limit={LIMIT}"
        self._get(last)  # warm
        start = time.perf_counter()
        for _ in range(requests):
            self._get(last)
        return (time.perf_counter() - start) / requests * 1000

    def measure(self) -> dict[str, float]:
        return {
            "decisions": self.ms_per_last_page("/api/decisions", PAGES),
            "logbook": self.ms_per_last_page("/api/logbook", max(3, PAGES // 5)),
        }

    def _get(self, path: str) -> dict[str, int]:
        response = self.client.get(path, headers=self.headers)
        assert response.status_code == 200, response.text
        result: dict[str, int] = response.json()
        return result


def run(report: Report, counts: tuple[int, int], events: int) -> None:
    """`counts`: the decisions at which commands are timed; `events`: the store's size at
    which pages are timed against SMALL."""
    print(
        f"flat in history: commands at {counts[0]:,} and {counts[1]:,} decisions, "
        f"pages at {SMALL:,} and {events:,} events"
    )
    with tempfile.TemporaryDirectory(prefix="bench-flat-") as tmp:
        coop, kitchen = _member_of_a_coop(Path(tmp))
        try:
            circle = Growing(kitchen)
            pages = Pages(kitchen, circle.by)
            policy = {0: _ms_per_policy(kitchen)}
            everyday = {0: circle.ms_per_decision()}
            circle.grow_to_events(SMALL)
            small = pages.measure()
            small_at = circle.events()
            for count in counts:
                circle.grow_to(count)
                everyday[count] = circle.ms_per_decision()
                policy[count] = _ms_per_policy(kitchen)
            circle.grow_to_events(events)
            large = pages.measure()
            large_at = circle.events()
        finally:
            coop.close()
            kitchen.close()
    for count in counts:
        _row(
            report,
            f"ms per policy adopted at {count:,} decisions",
            policy,
            count,
            f"mean of {POLICIES}, a whole consent process; the summary goes to the co-op",
        )
        _row(
            report,
            f"ms per everyday decision at {count:,} decisions",
            everyday,
            count,
            f"mean of {STEP}",
        )
    for name, what in (("decisions", "decisions list"), ("logbook", "logbook")):
        _compare(
            report,
            f"ms per page of the {what} at {large_at:,} events",
            large[name],
            f"the same at {small_at:,} events",
            small[name],
            f"the last page of {LIMIT}, over HTTP in-process",
        )


def _row(report: Report, figure: str, by_count: dict[int, float], count: int, note: str) -> None:
    _compare(report, figure, by_count[count], "the same at the circle's start", by_count[0], note)


def _compare(
    report: Report, figure: str, value: float, baseline_name: str, baseline: float, note: str
) -> None:
    report.add(
        Row(
            scenario="flat in history",
            figure=figure,
            value=value,
            baseline_name=baseline_name,
            baseline=baseline,
            target=f"<= {TARGET}x",
            met=value <= TARGET * baseline,
            note=note,
        )
    )
