"""Hypothesis against the archive reader (`node.app.archive.verify_archive`).

Whatever the file holds, reading it ends in a `Verified` or an `ArchiveError` that names what
broke, never another exception. Besides random and mutated bytes (which the trailing checksum
catches), members are changed *and every digest and the checksum fixed up again*, as a forger
would: then the feed's chain and signatures must still catch it, and an archive that verifies
holds nothing but an authentic prefix of the feed and the bodies its entries bind.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from federation.keys import NodeKeys
from federation.verify import decode_signed_entry
from federation.wire import body_hash
from node.app.archive import ArchiveError, Verified, export_archive, verify_archive
from node.app.node import KNOWN_TYPES, CircleNode
from node.demo.story import run_story
from tests.federation.test_decoders_fuzz import mutate

SCALE = int(os.environ.get("CIRCLE_NODE_FUZZ_SCALE", "1"))  # `make fuzz` runs many more
FUZZ = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=10,
)


@functools.cache
def original() -> bytes:
    """An archive of a circle that told its story, with a key rotation in the middle."""
    moment = [datetime(2026, 3, 1, 9, 0, tzinfo=UTC)]
    keys = NodeKeys.from_seeds(bytes([51]) * 32, bytes([151]) * 32)
    node = CircleNode(
        env={"PERSISTENCE_MODULE": "node.store.memory_store"}, clock=lambda: moment[0], keys=keys
    )

    def advance(days: int) -> None:
        moment[0] += timedelta(days=days)

    run_story(node, lambda line: None, advance)
    node.feed.rotate_key(stage=lambda keys: None)
    circle = node.records.get_circle()
    facilitator = next(p for p in circle.participants if circle.wears(p, "facilitator"))
    for number in range(3):
        node.decisions.take_everyday_decision(
            facilitator, "facilitator", "meetings", f"Meet on day {number}", "From next month"
        )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "archive"
        export_archive(node, path)
        return path.read_bytes()


@functools.cache
def members() -> dict[str, bytes]:
    return dict(msgspec.msgpack.decode(original()[:-32], type=dict[str, bytes]))


@functools.cache
def authentic_feed() -> list[bytes]:
    return list(msgspec.msgpack.decode(members()["feed.msgpack"], type=list[bytes]))


def seal(parts: dict[str, Any], fix_digests: bool = True) -> bytes:
    """The archive of these members, with the manifest's digests and the checksum made right
    (as a forger would), unless the manifest is not one to fix."""
    parts = dict(parts)
    if fix_digests and isinstance(parts.get("manifest.json"), bytes):
        try:
            manifest = json.loads(parts["manifest.json"])
        except ValueError:
            manifest = None
        if isinstance(manifest, dict):
            manifest["sha256"] = {
                name: hashlib.sha256(data).hexdigest()
                for name, data in parts.items()
                if name != "manifest.json" and isinstance(data, bytes)
            }
            parts["manifest.json"] = json.dumps(manifest).encode()
    document = msgspec.msgpack.encode(parts)
    return document + hashlib.sha256(document).digest()


def read(raw: bytes) -> Verified | None:
    """verify_archive on these bytes: its result, or None if it refused them by name."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "archive"
        path.write_bytes(raw)
        try:
            return verify_archive(path, KNOWN_TYPES)
        except ArchiveError as error:
            assert str(error), "an archive error names what broke"
            return None


def assert_only_authentic(raw: bytes) -> None:
    """An archive that verifies holds an authentic prefix of the feed and authentic bodies."""
    parts = msgspec.msgpack.decode(raw[:-32], type=dict[str, bytes])
    feed = msgspec.msgpack.decode(parts["feed.msgpack"], type=list[bytes])
    assert feed == authentic_feed()[: len(feed)]
    for name, data in parts.items():
        if name.startswith("bodies/"):
            assert body_hash(data).hex() == name.removeprefix("bodies/")


def test_the_original_verifies() -> None:
    result = read(original())
    assert result is not None and result.entries == len(authentic_feed()) > 5
    assert result.bodies > 5 and result.logbook_lines > 50


@settings(max_examples=200 * SCALE, **FUZZ)
@given(raw=st.binary(max_size=2000))
def test_random_bytes_are_refused_by_name(raw: bytes) -> None:
    assert read(raw) is None


@settings(max_examples=300 * SCALE, **FUZZ)
@given(data=st.data())
def test_mutated_archives_are_refused_by_name(data: st.DataObject) -> None:
    raw = mutate(original(), data.draw)
    result = read(raw)
    assert result is None or raw == original()


@st.composite
def forged_members(draw: Callable[..., Any]) -> dict[str, Any]:
    """The archive's members, one or more changed, added, dropped or renamed."""
    parts: dict[str, Any] = dict(members())
    names = sorted(parts)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(
                ["mutate", "drop", "add", "rename", "manifest", "feed", "entry", "type"]
            )
        )
        name = draw(st.sampled_from(names))
        if kind == "mutate" and isinstance(parts.get(name), bytes):
            parts[name] = mutate(parts[name], draw)
        elif kind == "drop":
            parts.pop(name, None)
        elif kind == "add":
            new = draw(st.sampled_from(["bodies/", "bodies/zz", "", "feed.msgpack", "x"]))
            parts[new + draw(st.text(max_size=8))] = draw(st.binary(max_size=50))
        elif kind == "rename" and name in parts:
            parts[draw(st.sampled_from(["bodies/" + "00" * 32, "bodies/0", "logbook"]))] = (
                parts.pop(name)
            )
        elif kind == "manifest":
            manifest = json.loads(members()["manifest.json"])
            key = draw(st.sampled_from([*sorted(manifest), "extra"]))
            manifest[key] = draw(JSON)
            parts["manifest.json"] = json.dumps(manifest).encode()
        elif kind == "feed":
            feed = list(authentic_feed())
            operation = draw(st.sampled_from(["truncate", "swap", "repeat", "drop", "junk"]))
            at = draw(st.integers(0, len(feed) - 1))
            if operation == "truncate":
                feed = feed[:at]
            elif operation == "swap":
                other = draw(st.integers(0, len(feed) - 1))
                feed[at], feed[other] = feed[other], feed[at]
            elif operation == "repeat":
                feed.insert(at, feed[draw(st.integers(0, len(feed) - 1))])
            elif operation == "drop":
                del feed[at]
            else:
                feed.insert(at, draw(st.binary(max_size=200)))
            parts["feed.msgpack"] = msgspec.msgpack.encode(feed)
        elif kind == "entry":
            feed = list(authentic_feed())
            at = draw(st.integers(0, len(feed) - 1))
            feed[at] = mutate(feed[at], draw)
            parts["feed.msgpack"] = msgspec.msgpack.encode(feed)
        elif kind == "type":
            # A member of another MessagePack type than bytes.
            parts[name] = draw(st.sampled_from([1, "text", [b"x"], {"a": b"b"}, None]))
    return parts


@settings(max_examples=400 * SCALE, **FUZZ)
@given(parts=forged_members(), fix=st.booleans())
def test_forgeries_with_fixed_digests_are_refused_by_name(parts: dict[str, Any], fix: bool) -> None:
    raw = seal(parts, fix_digests=fix)
    if read(raw) is not None:
        assert_only_authentic(raw)


def test_a_short_file_and_deep_json_are_refused_by_name(tmp_path: Path) -> None:
    for raw in (b"", b"\x00" * 31, b"\x80" + hashlib.sha256(b"\x80").digest()):
        assert read(raw) is None
    deep = dict(members())
    deep["manifest.json"] = b"[" * 100_000 + b"]" * 100_000
    assert read(seal(deep, fix_digests=False)) is None
    named = dict(members())
    named["bodies/not-hex"] = b"x"
    assert read(seal(named)) is None
    without_feed = dict(members())
    del without_feed["feed.msgpack"]
    assert read(seal(without_feed)) is None
    decoded = [decode_signed_entry(raw) for raw in authentic_feed()]
    assert len(decoded) == len(authentic_feed())
