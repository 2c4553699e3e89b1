"""A co-op host served by a real `circle-node serve --data HOST` process: its circles at
/c/<slug>/, federating with each other and with a separate node by the same protocol, their
joins sharing the remote node's per-address limit, and signed reads kept to their circle."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from federation.httpsig import sign_request
from federation.verify import decode_descriptor
from node.cli.main import app
from node.demo.local_cluster import LocalNode, wait_for
from node.network.identity import load_or_create_keys
from tests.host.serving import HostProcess

CIRCLES = ("kitchen", "garden", "pantry", "cellar", "attic")


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (args, result.output)
    return result.output


def refused(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 1, (args, result.output)
    return result.output


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture
def host(tmp_path: Path) -> Iterator[HostProcess]:
    folder = tmp_path / "host"
    for slug in CIRCLES:
        cli(
            "init", "--data", str(folder), "--slug", slug, "--name", slug.title(),
            "--aim", "Feed us", "--domain", "Food", "--founder", "Ada",
        )  # fmt: skip
    served = HostProcess(folder)
    try:
        served.start()
        yield served
    finally:
        served.stop()


def held(data: Path, circle: str | None, peer: str) -> int:
    """How much of `peer`'s feed the node holds (`peer list`), or -1 if it is not a peer."""
    out = cli("peer", "list", "--data", str(data), *(["--circle", circle] if circle else []))
    found = re.search(rf"^{peer} .* holds their seq (\d+)", out, re.MULTILINE)
    return int(found.group(1)) if found else -1


def test_a_hosts_circles_federate_with_each_other_and_with_another_node(
    host: HostProcess, outside: LocalNode
) -> None:
    folder = host.folder
    ids = {slug: cli("id", "--data", str(folder), "--circle", slug).strip() for slug in CIRCLES}
    coop_id = cli("id", "--data", str(outside.data)).strip()
    listed = cli("host", "list", "--data", str(folder))
    assert [line.split()[0] for line in listed.splitlines()] == sorted(CIRCLES)

    # Each circle answers under /c/<slug>/: its descriptor, with its own URL, and its health.
    for slug, node_id in ids.items():
        status, raw = get(f"{host.url}/c/{slug}/federation/node")
        assert status == 200
        assert decode_descriptor(raw).url == f"{host.url}/c/{slug}"
        status, raw = get(f"{host.url}/c/{slug}/healthz")
        assert status == 200 and json.loads(raw)["node"] == node_id
        assert host.health()["circles"][slug]["node"] == node_id

    # Four circles of the host ask the co-op to join: they share its limit per address, so the
    # fourth is refused until the bucket refills.
    for slug in ("kitchen", "cellar", "attic"):
        cli(
            "join", outside.url, "--url", f"{host.url}/c/{slug}",
            "--data", str(folder), "--circle", slug,
        )  # fmt: skip
    out = refused(
        "join", outside.url, "--url", f"{host.url}/c/pantry",
        "--data", str(folder), "--circle", "pantry",
    )  # fmt: skip
    assert "HTTP 429" in out and "rate_limited" in out

    # The operator peers the host's circles with the co-op instead, on both sides: no limit.
    for slug in ("pantry", "garden"):
        cli(
            "peer", "add", outside.url, "--expect", coop_id, "--data", str(folder), "--circle", slug
        )
        cli(
            "peer",
            "add",
            f"{host.url}/c/{slug}",
            "--expect",
            ids[slug],
            "--data",
            str(outside.data),
        )
    # And two circles of the host with each other, as with any other node.
    cli("peer", "add", f"{host.url}/c/garden", "--data", str(folder), "--circle", "kitchen")
    cli("peer", "add", f"{host.url}/c/kitchen", "--data", str(folder), "--circle", "garden")

    def heads() -> dict[str, int]:
        return {slug: each["head"] for slug, each in host.health()["circles"].items()}

    def caught_up() -> bool:
        head = heads()
        coop_head = json.loads(get(f"{outside.url}/healthz")[1])["head"]
        return (
            held(folder, "garden", ids["kitchen"]) == head["kitchen"]
            and held(folder, "kitchen", ids["garden"]) == head["garden"]
            and held(outside.data, None, ids["pantry"]) == head["pantry"]
            and held(outside.data, None, ids["garden"]) == head["garden"]
            and held(folder, "pantry", coop_id) == coop_head
            and held(folder, "garden", coop_id) == coop_head
        )

    wait_for(caught_up, 60, "the circles' feeds to reach their peers")

    # A read the co-op signs for the garden, replayed to the pantry (another circle of the
    # same host, for which the co-op is a peer too): 401.
    keys, _ = load_or_create_keys(outside.data)
    path = "/federation/feed?after=0"
    signed = sign_request(
        "GET", f"{host.url}/c/garden{path}", {}, b"", key_id=coop_id, private_key=keys.current
    )
    assert get(f"{host.url}/c/garden{path}", signed)[0] == 200
    status, raw = get(f"{host.url}/c/pantry{path}", signed)
    assert status == 401 and json.loads(raw)["reason"].startswith("signature_")
    assert host.health()["status"] == "ok"
