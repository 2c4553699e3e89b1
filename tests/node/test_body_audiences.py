"""One copy of a body per hash, on every store: bound by several entries, it may be read by
every reader any of them names, and by anyone once one of them is public (PROTOCOL.md 8)."""

from __future__ import annotations

from node.app.node import CircleNode

B, C, D = bytes([1]) * 32, bytes([2]) * 32, bytes([3]) * 32


def test_a_body_bound_for_two_readers_is_read_by_both(node: CircleNode) -> None:
    # Given a body stored for reader B, then bound again (another save) for reader C.
    row_b = node.store.body_row(b"two readers", [B])
    node.store.save(bodies=[row_b])
    node.store.save(bodies=[node.store.body_row(b"two readers", [C])])
    # Then B and C may read it, and nobody else.
    digest = row_b[0]
    assert node.feed.body_for(digest, B) == node.feed.body_for(digest, C) == b"two readers"
    for reader in (D, None):
        try:
            node.feed.body_for(digest, reader)
        except PermissionError:
            continue
        raise AssertionError("a reader outside both audiences read the body")


def test_a_body_bound_by_a_public_entry_stays_public(node: CircleNode) -> None:
    # Given a body first bound for reader B, then by a public entry.
    row = node.store.body_row(b"said to all", [B])
    node.store.save(bodies=[row])
    node.store.save(bodies=[node.store.body_row(b"said to all", [])])
    # Then anyone may read it; and a later restricted binding does not restrict it again.
    node.store.save(bodies=[node.store.body_row(b"said to all", [C])])
    assert node.feed.body_for(row[0], None) == b"said to all"
