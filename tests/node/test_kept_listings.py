"""Listings read through the kept set (node/store/kept.py `peek_all`): a listing read whole
keeps its records beside every other one read whole; a page of a list does not make the kept
set grow."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest

from bench.circles import HAT_AREA, found_with_hat
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.settings import Settings
from node.store.kept import Kept


def _decisions(tmp_path: Path, count: int) -> tuple[CircleNode, list[UUID]]:
    node = open_node(Settings(data_dir=tmp_path / "node"))
    ada, hat = found_with_hat(node)
    taken = [
        UUID(node.decisions.take_everyday_decision(ada, hat, HAT_AREA, f"Rota {n}", "Sun"))
        for n in range(count)
    ]
    return node, taken


def test_two_listings_larger_than_the_kept_set_keep_each_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Delivery lists every peer and every peer's cursor at each round: the second listing
    must not push out the first one's records (read again, one by one, every round)."""
    node, taken = _decisions(tmp_path, 20)
    try:
        monkeypatch.setattr("node.store.kept.KEPT", 8)
        small = Kept(node.store.repository, size=8)
        small.peek_all(taken[:10], listing="peers")
        small.peek_all(taken[10:], listing="deliveries")
        assert set(taken) <= set(small._kept)
        # Read again, each the size it is now: the room follows the listings' sizes.
        small.peek_all(taken[:10], listing="peers")
        assert set(taken) <= set(small._kept)
    finally:
        node.close()


def test_pages_of_a_list_do_not_make_the_kept_set_grow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A member paging through a long list keeps only the most recently used records, not
    every record of every page read since the node started."""
    node, taken = _decisions(tmp_path, 30)
    try:
        monkeypatch.setattr("node.store.kept.KEPT", 4)
        small = Kept(node.store.repository, size=4)
        for start in range(0, 30, 5):
            page = small.peek_all(taken[start : start + 5])
            assert [decision.id for decision in page] == taken[start : start + 5]
        assert len(small._kept) == 4
        assert list(small._kept) == taken[-4:]  # the most recently used
    finally:
        node.close()
