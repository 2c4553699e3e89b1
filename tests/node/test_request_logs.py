"""The log as an operator reads it: JSON lines that carry their request's id (also in the
response's X-Request-ID) or, for background work, their circle and peer; an access line per
request that never holds a secret of the path; the level set; and a store outage as one line
when it begins and one when it ends, not a traceback at every round."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eventsourcing.persistence import OperationalError

from federation.feed import node_id
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.http.front import front
from node.http.server import ServerOptions, create_app
from node.logs import configure, in_circle
from node.network.background import BackgroundWork
from node.network.delivery import Federator
from node.network.mail_sender import MailSender, SmtpServer
from node.network.mailing import Mailing
from node.settings import Settings
from tests.node.test_delivery import FakeNetwork

PROXY = "10.0.0.2"
GENERATED = re.compile(r"[0-9a-f]{32}")
Lines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def lines() -> Iterator[Lines]:
    """The node's logging sent to a buffer, as `serve` sends it to standard error; the lines
    written so far, parsed."""
    names = ("circle_node", "uvicorn", "uvicorn.error")
    before = {
        name: (logger.handlers, logger.level, logger.propagate)
        for name, logger in ((name, logging.getLogger(name)) for name in names)
    }
    stream = io.StringIO()
    configure(stream, "debug")
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        for name, (handlers, level, propagate) in before.items():
            logger = logging.getLogger(name)
            logger.handlers, logger.level, logger.propagate = handlers, level, propagate


@pytest.fixture
def kitchen(tmp_path: Path) -> Iterator[CircleNode]:
    node = open_node(Settings(data_dir=tmp_path / "kitchen"))
    node.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
    try:
        yield node
    finally:
        node.close()


Ask = tuple[str, dict[str, str], str]  # path, headers, the address it comes from


def get(node: CircleNode, asks: list[Ask], access_log: bool = True) -> list[httpx.Response]:
    app = front(
        create_app(node, None, ServerOptions("http://testserver")), [PROXY], access_log=access_log
    )

    async def send() -> list[httpx.Response]:
        answers = []
        for path, headers, peer in asks:
            transport = httpx.ASGITransport(
                app=app, client=(peer, 40000), raise_app_exceptions=False
            )
            async with httpx.AsyncClient(transport=transport, base_url="http://x") as http:
                answers.append(await http.get(path, headers=headers))
        return answers

    return asyncio.run(send())


def test_every_line_of_a_request_and_its_answer_carry_its_id(
    kitchen: CircleNode, lines: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a request that fails (a bug: logged in full, answered 500),
    def broken() -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(kitchen.feed, "own_feed", broken)
    (answer,) = get(kitchen, [("/healthz", {}, "192.0.2.50")])
    # then its answer has a new id, and the error's line and the access line carry it.
    assert answer.status_code == 500
    request_id = answer.headers["X-Request-ID"]
    assert GENERATED.fullmatch(request_id)
    error = next(line for line in lines() if line["message"].startswith("error serving"))
    assert error["request_id"] == request_id and "a bug" in error["error"]
    (access,) = [line for line in lines() if line["logger"] == "circle_node.access"]
    assert access["request_id"] == request_id
    assert (access["method"], access["path"], access["status"]) == ("GET", "/healthz", 500)
    assert access["client"] == "192.0.2.50" and access["duration_ms"] >= 0


def test_a_trusted_proxys_well_formed_request_id_is_kept_and_any_other_replaced(
    kitchen: CircleNode, lines: Lines
) -> None:
    kept, *replaced = get(
        kitchen,
        [
            ("/healthz", {"X-Request-ID": "9f1c2d3e-proxy-id"}, PROXY),
            ("/healthz", {"X-Request-ID": "two words"}, PROXY),
            ("/healthz", {"X-Request-ID": "x" * 200}, PROXY),
            ("/healthz", {"X-Request-ID": '"}{"level": "error'}, PROXY),
            ("/healthz", {"X-Request-ID": "chosen-by-the-client"}, "192.0.2.50"),  # not a proxy
        ],
    )
    assert kept.headers["X-Request-ID"] == "9f1c2d3e-proxy-id"
    assert all(GENERATED.fullmatch(answer.headers["X-Request-ID"]) for answer in replaced)
    ids = [line["request_id"] for line in lines() if line["logger"] == "circle_node.access"]
    assert ids[0] == "9f1c2d3e-proxy-id" and all(GENERATED.fullmatch(each) for each in ids[1:])


def test_the_access_log_never_holds_the_secret_a_path_carries_and_can_be_turned_off(
    kitchen: CircleNode, lines: Lines
) -> None:
    secrets = ["/calendar/s3cretcalendar.ics", "/sign-in/link/s3cretlink", "/unsubscribe/p/s3cret"]
    get(kitchen, [(path, {}, PROXY) for path in secrets])
    access = [line for line in lines() if line["logger"] == "circle_node.access"]
    assert [line["path"] for line in access] == [
        "/calendar/<secret>",
        "/sign-in/link/<secret>",
        "/unsubscribe/p/<secret>",
    ]
    assert "s3cret" not in json.dumps(lines())
    # With access_log = false: no access line, and the answer still carries its id.
    (answer,) = get(kitchen, [("/healthz", {}, PROXY)], access_log=False)
    assert "X-Request-ID" in answer.headers
    assert len([line for line in lines() if line["logger"] == "circle_node.access"]) == 3


def test_delivery_lines_carry_their_peer_and_circle_and_no_request_id(
    tmp_path: Path, lines: Lines
) -> None:
    a = open_node(Settings(data_dir=tmp_path / "a"))
    b = open_node(Settings(data_dir=tmp_path / "b"))
    try:
        a.peering.add_peer(b.feed.descriptor("b", "b"), "b")
        network = FakeNetwork({"a": a, "b": b})
        network.up = False
        a.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
        federator = Federator(a, network)  # type: ignore[arg-type]
        # Given the circle a host serves it as, when a push to the peer fails,
        with in_circle("kitchen"):
            asyncio.run(federator.push_round())
        # then its line names the peer and the circle.
        (failed,) = [line for line in lines() if line["message"].startswith("push to")]
        assert failed["peer"] == node_id(b.feed.feed_id) and failed["circle"] == "kitchen"
        assert "request_id" not in failed
    finally:
        a.close()
        b.close()


def test_the_level_leaves_out_the_lines_below_it(lines: Lines) -> None:
    stream = io.StringIO()
    configure(stream, "warning")
    log = logging.getLogger("circle_node.test")
    log.info("left out")
    log.warning("written")
    assert [json.loads(line)["message"] for line in stream.getvalue().splitlines()] == ["written"]


def test_a_store_down_is_one_line_when_it_begins_and_one_when_it_ends(
    tmp_path: Path, lines: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = open_node(Settings(data_dir=tmp_path / "a"))
    b = open_node(Settings(data_dir=tmp_path / "b"))
    try:
        a.peering.add_peer(b.feed.descriptor("b", "b"), "b")
        b.peering.add_peer(a.feed.descriptor("a", "a"), "a")
        a.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
        # Given a store that cannot be reached for a while: every read of the background
        # tasks fails as a database that is down fails them,
        rounds: list[bool] = []
        peers, due = a.peering.peers, a.mail_queue.due

        def unavailable(read: Callable[[], Any]) -> Callable[[], Any]:
            def reading() -> Any:
                rounds.append(True)
                if len(rounds) <= 20:
                    raise OperationalError("connection failed: Connection refused")
                return read()

            return reading

        monkeypatch.setattr(a.peering, "peers", unavailable(peers))
        monkeypatch.setattr(a.mail_queue, "due", unavailable(due))
        work = BackgroundWork()
        federator = Federator(a, FakeNetwork({"b": b}), poll_interval=0.001, work=work)  # type: ignore[arg-type]
        federator.pull_interval = 0.001
        server = SmtpServer("127.0.0.1", 9, None, None, "none")
        mail = Mailing(server, safety_poll=0.001)
        mail.add("a", MailSender(a.mail_queue, server, work=work))

        async def serve_a_while() -> None:
            tasks = [asyncio.create_task(job) for job in (federator.run(), mail.run())]
            while len(rounds) < 40:
                await asyncio.sleep(0.01)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        # when the push, pull and mail rounds keep failing, then work again,
        asyncio.run(serve_a_while())
        # then the log has two lines for it: as it began, and as it ended. No traceback.
        written = [line for line in lines() if line["level"] != "debug"]
        assert [line["logger"] for line in written] == ["circle_node.store"] * 2, written
        assert (
            "cannot be reached" in written[0]["message"]
            and "Connection refused" in (written[0]["message"])
        )
        assert "again" in written[1]["message"]
        assert not [line for line in written if "error" in line]
    finally:
        a.close()
        b.close()


def test_on_a_host_the_secret_below_a_circles_prefix_is_masked_and_the_prefix_kept(
    tmp_path: Path, lines: Lines
) -> None:
    from node.host.circles import opened_circles
    from node.host.layout import circle_settings
    from node.host.server import create_host_app

    host = Settings(data_dir=tmp_path / "host")
    node = open_node(circle_settings(host, "kitchen"))
    node.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
    node.close()
    secrets = [
        "/c/kitchen/calendar/s3cretcalendar.ics",
        "/c/kitchen/sign-in/link/s3cretlink",
        "/c/kitchen/unsubscribe/p/s3cret",
    ]
    with opened_circles(host) as circles:
        app = front(create_host_app(circles, ServerOptions("http://testserver")), [PROXY])

        async def send() -> None:
            transport = httpx.ASGITransport(
                app=app, client=(PROXY, 40000), raise_app_exceptions=False
            )
            async with httpx.AsyncClient(transport=transport, base_url="http://x") as http:
                for path in secrets:
                    await http.get(path)

        asyncio.run(send())
    access = [line for line in lines() if line["logger"] == "circle_node.access"]
    assert [line["path"] for line in access] == [
        "/c/kitchen/calendar/<secret>",
        "/c/kitchen/sign-in/link/<secret>",
        "/c/kitchen/unsubscribe/p/<secret>",
    ]
    assert "s3cret" not in json.dumps(lines())
