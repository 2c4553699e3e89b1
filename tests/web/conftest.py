"""Browser tests of the members' pages: Debian's `chromium` driven by Playwright.

The browser is the one the `chromium` package installs (`make test` installs the package when it
is missing); Playwright never downloads one. Without it these tests skip with the reason, except
under CI=true, where they fail. Each test serves a real node with uvicorn on 127.0.0.1 and a free
port, in a thread, and keeps a screenshot of each main step in tests/artifacts/web/.
"""

from __future__ import annotations

import logging
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest
import uvicorn
from fastapi import FastAPI

from domain.values import Purpose
from federation.feed import FeedState, append
from federation.wire import Push
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.demo.scripted import consent_to, make_active
from node.http.server import ServerOptions, create_app
from node.settings import Settings
from tests.conftest import UNDER_CI, Clock
from tests.node.api.world import Circle as KitchenCircle
from tests.node.api.world import kitchen

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "web"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _no_browser(reason: str) -> NoReturn:
    if UNDER_CI:
        pytest.fail(f"CI=true requires the browser tests to run: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Chromium from the Debian package, headless, through Playwright."""
    with chromium() as launched:
        yield launched


@contextmanager
def chromium() -> Iterator[Any]:
    """Chromium from the Debian package, headless, through Playwright, until the block ends.
    (While it runs, Playwright keeps an event loop running in this thread: asyncio.run() is
    refused here until it is closed.)"""
    executable = shutil.which("chromium")
    if executable is None:
        _no_browser(
            "chromium is not installed (Debian package `chromium`; `make test` installs it)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _no_browser("Playwright for Python is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def serving(make_app: Callable[[str], FastAPI]) -> Iterator[tuple[str, FastAPI]]:
    """Serve the app made for its own URL with uvicorn on 127.0.0.1 and a free port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = make_app(url)
    # log_config=None: uvicorn's loggers propagate to the root, where the tests read them.
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="info"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield url, app
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


def serve_node(node: CircleNode) -> Any:
    """The node's whole app (member API, federation API, pages), served as `circle-node serve`
    would, less the key store (its keys are in the node already)."""
    return serving(lambda url: create_app(node, None, ServerOptions(public_url=url)))


@dataclass
class Circle:
    """A served circle: Ann founded it and wears the facilitator and secretary hats; Ben and
    Cat are full participants, Dan a learning participant. Each has a personal token."""

    url: str
    app: FastAPI
    node: CircleNode
    people: dict[str, str] = field(default_factory=dict)  # name -> person id
    tokens: dict[str, str] = field(default_factory=dict)  # name -> token


@pytest.fixture
def circle(tmp_path: Path) -> Iterator[Circle]:
    node = open_node(Settings(data_dir=tmp_path / "kitchen"))
    ann = node.circle.found_circle(
        name="Kitchen circle",
        aim="Good food for everyone who comes to the community centre",
        domain="The kitchen, its rota and its budget",
        founder_name="Ann Archer",
    )
    people = {
        "Ann": ann,
        "Ben": node.people.add_founding_member(ann, "Ben Baker"),
        "Cat": node.people.add_founding_member(ann, "Cat Cook"),
        "Dan": node.people.add_founding_member(ann, "Dan Dish", level="learning"),
    }
    make_active(node)
    tokens = {name: node.tokens.issue_token(person)[1] for name, person in people.items()}
    try:
        with serve_node(node) as (url, app):
            yield Circle(url, app, node, people, tokens)
    finally:
        node.close()


@pytest.fixture
def shot() -> Callable[[Any, str], None]:
    """Keep a screenshot of a page as a test artefact (tests/artifacts/web/NAME.png)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    return take


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log record of the run, to check that no token is ever logged."""
    caplog.set_level(logging.DEBUG)
    return caplog


# Nothing listens there: a served node's outbox fails fast and quietly retries.
NOWHERE = "http://127.0.0.1:9"


@contextmanager
def founded_circles(folder: Path, names: dict[str, str]) -> Iterator[dict[str, CircleNode]]:
    """A node for each key of `names`, its circle founded under that name and active; closed
    afterwards."""
    nodes: dict[str, CircleNode] = {}
    try:
        for key, name in names.items():
            node = open_node(Settings(data_dir=folder / key))
            nodes[key] = node
            node.circle.found_circle(
                name=name, aim=f"The aim of {name}", domain="Care", founder_name=key
            )
            make_active(node)
        yield nodes
    finally:
        for node in nodes.values():
            node.close()


def join_network(host: CircleNode, newcomer: CircleNode) -> None:
    """`newcomer` asks `host` to join the network; `host`'s circle consents to admit it."""
    push = newcomer.relations.ask_to_join_network(
        host.feed.descriptor(host.records.get_circle().name, NOWHERE),
        NOWHERE,
        NOWHERE,
        "We would like to join",
    )
    host.intake.receive_push(push)
    consent_to(host, Purpose.ADMIT_TO_NETWORK, {"circle": newcomer.feed.node_id})


def equivocate(liar: CircleNode, victim: CircleNode) -> None:
    """`liar` signs a second, different entry at its latest place; `victim` stops its feed."""
    head = liar.feed.own_feed().head
    previous, _ = liar.feed.own_entries(head - 2, 2)
    assert liar.feed.keys is not None
    keys = liar.feed.keys
    state = FeedState(liar.feed.feed_id, head, previous.hash, keys.current_public, keys.next_digest)
    fork, _ = append(state, keys, "decision.record", b"\x80", 5)
    victim.intake.receive_push(Push(liar.feed.feed_id, [fork], []))
    peer = victim.peering.peer(liar.feed.feed_id)
    assert peer is not None and peer.stopped


@pytest.fixture
def kitchen_circle(tmp_path: Path, clock: Clock) -> Iterator[KitchenCircle]:
    """tests/node/api/world.py's kitchen circle, for the page tests over HTTP (no browser);
    a test module with more to set up defines its own."""
    node = open_node(Settings(data_dir=tmp_path / "kitchen"), clock)
    yield kitchen(node)
    node.close()
