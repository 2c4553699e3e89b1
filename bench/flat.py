"""Flat in history: what a command and a page cost as a circle's record grows, against what
they cost when it was young (issue 17, target 1).

Two member circles, each of its own co-op (bench/member.py sets them up): an old one, grown by
everyday decisions (the most frequent change), and a young one, the baseline, measured in turns
with it (this machine's load drifts more than the figures, so each figure is the median of
ROUNDS rounds, each timing the young circle then the old). Measured at each count of the old
circle's decisions (1,000 and 10,000; `--quick`: 100 and 1,000), the young one having taken
ROUNDS x (ROUND + 1) decisions more at each count:
- ms per policy adopted through a whole consent process (its summary goes to the co-op);
- ms per everyday decision, the mean of ROUND of them.
Then, the young circle's store grown to 1,000 events and the old one's to 100,000 (`--quick`:
10,000), ms per page of LIMIT over HTTP in this process (FastAPI's test client, the founder's
token), the last page of each list (the latest):
- the decisions list (`GET /api/decisions`);
- the logbook (`GET /api/logbook`);
- the proposals at one stage (`GET /api/proposals?stage=consented`: the policies adopted);
- the logbook's lines of one kind (`GET /api/logbook?kind=proposals`: the policies' consent
  processes, far apart in the old circle's record);
- the logbook in the browser (`GET /logbook`, its first page: the newest lines), signed in
  through the sign-in form.
The target is at most 1.2 times the young circle's figure.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

from fastapi.testclient import TestClient

from bench.circles import HAT_AREA
from bench.member import _member_of_a_coop
from bench.report import Report, Row
from domain.values import Purpose
from node.app.node import CircleNode
from node.demo.scripted import consent_to, founder, select
from node.http.ratelimit import RateLimiter
from node.http.server import ServerOptions, create_app

TARGET = 1.2
ROUNDS = 5  # of the young circle, then the old, timed in turns
ROUND = 20  # everyday decisions timed in each round
LIMIT = 50  # a page's items
PAGES = 4  # page requests timed in each round
SMALL = 1_000  # events in the young circle's store when pages are timed

# Each figure's (young, old) medians, by name.
Turns = dict[str, tuple[float, float]]


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
        for _ in range(ROUND):
            self.decide()
        return (time.perf_counter() - start) / ROUND * 1000

    def ms_per_policy(self) -> float:
        start = time.perf_counter()
        consent_to(self.node, Purpose.ADOPT_POLICY, {}, text=f"Policy {self.taken}")
        self.taken += 1
        return (time.perf_counter() - start) * 1000


class Pages:
    """Pages of the member API's lists, asked over HTTP in this process."""

    def __init__(self, node: CircleNode, by: str) -> None:
        app = create_app(node, None, ServerOptions(public_url="http://bench"))
        app.state.served.token_limiter = RateLimiter(burst=1e9)
        self.client = TestClient(app)
        token = node.tokens.issue_token(by)[1]
        self.headers = {"Authorization": f"Bearer {token}"}
        self.browser = TestClient(app)
        form = self.browser.get("/sign-in").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf is not None, form
        signed = self.browser.post(
            "/sign-in",
            data={"csrf": csrf.group(1), "token": token, "next": "/logbook"},
            follow_redirects=False,
        )
        assert signed.status_code == 303, signed.text

    def ms_per_last_page(self, path: str, requests: int) -> float:
        """ms per request of the list's last page (its total read first, not timed)."""
        asked = "&" if "?" in path else "?"
        total = self._get(f"{path}{asked}limit=1")["total"]
        last = f"{path}{asked}offset={max(0, total - LIMIT)}&limit={LIMIT}"
        self._get(last)  # warm
        start = time.perf_counter()
        for _ in range(requests):
            self._get(last)
        return (time.perf_counter() - start) / requests * 1000

    def ms_per_browser_page(self, path: str, requests: int) -> float:
        """ms per request of a page in the browser (warmed first, not timed)."""
        self._see(path)
        start = time.perf_counter()
        for _ in range(requests):
            self._see(path)
        return (time.perf_counter() - start) / requests * 1000

    def measure(self) -> dict[str, float]:
        return {
            "decisions": self.ms_per_last_page("/api/decisions", PAGES),
            "logbook": self.ms_per_last_page("/api/logbook", PAGES),
            "proposals at a stage": self.ms_per_last_page("/api/proposals?stage=consented", PAGES),
            "logbook of a kind": self.ms_per_last_page("/api/logbook?kind=proposals", PAGES),
            "browser logbook": self.ms_per_browser_page("/logbook", PAGES),
        }

    def _see(self, path: str) -> None:
        page = self.browser.get(path, follow_redirects=False)
        assert page.status_code == 200 and "<h2>" in page.text, page.text

    def _get(self, path: str) -> dict[str, int]:
        response = self.client.get(path, headers=self.headers)
        assert response.status_code == 200, response.text
        result: dict[str, int] = response.json()
        return result


def _in_turns(measure: Callable[[Any], dict[str, float]], young: Any, old: Any) -> Turns:
    """Each figure's median over ROUNDS rounds, the young one measured first in each."""
    rounds = [(measure(young), measure(old)) for _ in range(ROUNDS)]
    return {
        name: (median(y[name] for y, _ in rounds), median(o[name] for _, o in rounds))
        for name in rounds[0][0]
    }


def _commands(circle: Growing) -> dict[str, float]:
    return {"everyday": circle.ms_per_decision(), "policy": circle.ms_per_policy()}


def run(report: Report, counts: tuple[int, int], events: int) -> None:
    """`counts`: the old circle's decisions when commands are timed; `events`: its store's
    size when pages are timed (the young one's: SMALL)."""
    print(
        f"flat in history: commands at {counts[0]:,} and {counts[1]:,} decisions, "
        f"pages at {events:,} events against {SMALL:,}, in turns with a young circle"
    )
    commands: dict[int, Turns] = {}
    with tempfile.TemporaryDirectory(prefix="bench-flat-") as tmp:
        pairs = [_member_of_a_coop(Path(tmp) / name) for name in ("young", "old")]
        try:
            young, old = (Growing(kitchen) for _, kitchen in pairs)
            for circle in (young, old):  # warm, untimed
                _commands(circle)
            for count in counts:
                old.grow_to(count)
                commands[count] = _in_turns(_commands, young, old)
            young_taken = young.taken
            young.grow_to_events(SMALL)
            old.grow_to_events(events)
            sizes = (young.events(), old.events())
            pages = _in_turns(Pages.measure, Pages(young.node, young.by), Pages(old.node, old.by))
        finally:
            for coop, kitchen in pairs:
                coop.close()
                kitchen.close()
    young_name = f"the same in a young member circle (at most {young_taken:,} decisions)"
    for count in counts:
        for name, what in (("policy", "policy adopted"), ("everyday", "everyday decision")):
            in_young, in_old = commands[count][name]
            _compare(
                report,
                f"ms per {what} at {count:,} decisions",
                in_old,
                young_name,
                in_young,
                f"median of {ROUNDS} rounds in turns"
                + ("; a whole consent process" if name == "policy" else f" of {ROUND} each"),
            )
    for name, what, which in (
        ("decisions", "page of the decisions list", "the last page"),
        ("logbook", "page of the logbook", "the last page"),
        ("proposals at a stage", "page of the proposals consented", "the last page"),
        ("logbook of a kind", "page of the logbook's proposals", "the last page"),
        ("browser logbook", "logbook page in the browser", "the newest page"),
    ):
        in_young, in_old = pages[name]
        _compare(
            report,
            f"ms per {what} at {sizes[1]:,} events",
            in_old,
            f"the same at {sizes[0]:,} events",
            in_young,
            f"{which} of {LIMIT}, over HTTP in-process; median of {ROUNDS} rounds in turns",
        )


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
