"""A node restored from a backup takes back, from its peers, the entries it published after
the backup, before it signs anything new: its peers never see a fork.

The cast: `a` publishes, is backed up, publishes more, and dies; `a2` is `a` restored from the
backup; `b` and `c` are its peers, each holding its feed (`c` also a body only it may read).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from federation.verify import decode_entry
from federation.wire import JOIN_REQUEST, FeedPage, encode
from node.app.logbook import read_logbook
from node.app.node import CircleNode
from node.cli.backup import backup
from node.cli.restore import restore
from node.network.own_feed import FeedBehind
from node.network.take_back import FORKED, NO_PEER, TAKE_BACK_FILE
from node.settings import Settings
from tests.node.test_federation_node import connect, deliver, publish

Make = Callable[[str], CircleNode]


def held_pages(holder: CircleNode, node: CircleNode) -> list[FeedPage]:
    """What `holder` serves `node` of its own feed after what `node` holds (in process)."""
    page = holder.peering.held_copy(node.feed.feed_id, node.take_back.base(), 1000)
    assert page is not None
    return [page]


def take_back(node: CircleNode, *holders: CircleNode) -> int:
    return node.take_back.take([(f"peer {i}", held_pages(h, node)) for i, h in enumerate(holders)])


def only_for(node: CircleNode, reader: CircleNode, body: bytes) -> bytes:
    """Append an entry whose body only `reader` may read; returns its body hash."""
    own = node.feed.own_feed()
    signed = own.append(node.feed.keys, JOIN_REQUEST, body, 1, [reader.feed.feed_id])  # type: ignore[arg-type]
    node.save(
        own,
        entries=[(node.feed.feed_id, own.head, encode(signed))],
        bodies=[node.store.body_row(body, [reader.feed.feed_id])],
    )
    return decode_entry(signed).body_hash


def restored(make: Make, tmp_path: Path, archive: Path) -> CircleNode:
    restore(archive, tmp_path / "a2")
    return make("a2")


@pytest.fixture
def backed_up(make: Make, tmp_path: Path) -> tuple[CircleNode, CircleNode, CircleNode, Path]:
    """a, b and c peer; a published two decisions that both hold, then was backed up."""
    a, b, c = make("a"), make("b"), make("c")
    connect(a, b)
    connect(a, c)
    publish(a, 2)
    deliver(a, b)
    deliver(a, c)
    archive = tmp_path / "a.tar"
    backup(Settings(data_dir=tmp_path / "a"), archive)
    return a, b, c, archive


def test_a_restored_node_takes_back_what_it_published_and_never_forks(
    backed_up: tuple[CircleNode, CircleNode, CircleNode, Path], make: Make, tmp_path: Path
) -> None:
    a, b, c, archive = backed_up
    # Given a published three more decisions and an entry only c may read, then died.
    backup_head = a.feed.own_feed().head
    founder = publish(a, 3)
    secret = only_for(a, c, b"for c only")
    assert deliver(a, b) == 4 and deliver(a, c) == 4
    last = a.feed.own_feed()
    published = a.feed.own_entries(0, 1000)
    a.close()
    # When it is restored from the backup, it holds back: nothing that would publish is done.
    a2 = restored(make, tmp_path, archive)
    assert (tmp_path / "a2" / TAKE_BACK_FILE).exists()
    assert a2.take_back.pending and a2.feed.own_feed().head == backup_head
    with pytest.raises(FeedBehind, match="restored from a backup"):
        a2.decisions.take_everyday_decision(founder, "cook", "menu", "Too soon", "Soup")
    assert a2.feed.own_feed().head == backup_head
    # When it takes back its feed from b and c, every entry it published is its own again,
    # with every body, the one only c held included; the flag is gone.
    assert take_back(a2, b, c) == last.head - backup_head
    assert a2.feed.own_entries(0, 1000) == published
    assert a2.feed.own_feed().state == last.state
    assert a2.feed.body_for(secret, c.feed.feed_id) == b"for c only"
    assert not a2.take_back.pending and not (tmp_path / "a2" / TAKE_BACK_FILE).exists()
    # Then its next entry follows the last it published, and its peers take it: no fork.
    a2.decisions.take_everyday_decision(founder, "cook", "menu", "After", "Bread")
    assert a2.feed.own_feed().head == last.head + 1
    assert deliver(a2, b) == 1 and deliver(a2, c) == 1
    for peer in (b, c):
        held = peer.peering.peer(a2.feed.feed_id)
        assert held is not None and not held.stopped
        assert peer.peering.peer_feed(a2.feed.feed_id).next_seq == last.head + 2
    # And the logbook says what came back, and what was lost.
    (line,) = [e.text for e in read_logbook(a2) if "restored from a backup" in e.text]
    assert f"entries {backup_head + 1} to {last.head}" in line
    assert "3 decision.record" in line and "records made between the backup" in line


def test_with_no_peer_reachable_it_stays_held_back(
    backed_up: tuple[CircleNode, CircleNode, CircleNode, Path], make: Make, tmp_path: Path
) -> None:
    a, _, _, archive = backed_up
    founder = publish(a, 1)
    a.close()
    a2 = restored(make, tmp_path, archive)
    # No peer answered: the node stays held back, says so, and the flag stays.
    assert take_back(a2) == 0
    assert a2.take_back.pending and a2.take_back.status == NO_PEER
    assert "circle-node recover" in a2.take_back.status
    with pytest.raises(FeedBehind, match="no peer could be reached"):
        a2.decisions.take_everyday_decision(founder, "cook", "menu", "Too soon", "Soup")
    assert (tmp_path / "a2" / TAKE_BACK_FILE).exists()
    # Reopened, it still holds back.
    a2.close()
    assert make("a2").take_back.pending


def test_a_copy_that_does_not_verify_is_left_out(
    backed_up: tuple[CircleNode, CircleNode, CircleNode, Path], make: Make, tmp_path: Path
) -> None:
    a, b, c, archive = backed_up
    publish(a, 2)
    deliver(a, b)
    a.close()
    a2 = restored(make, tmp_path, archive)
    (page,) = held_pages(b, a2)
    forged = page.entries[-1].__class__(page.entries[-1].entry, bytes(64))
    bad = FeedPage(page.feed, [*page.entries[:-1], forged], page.bodies, page.head)
    # b's copy, with a signature forged, is left out: no copy that verifies, it holds back.
    assert a2.take_back.take([("b", [bad])]) == 0
    assert a2.take_back.pending and a2.take_back.status == NO_PEER
    # With c's copy (which ends at the backup) beside it, nothing of b's forged copy is stored.
    head = a2.feed.own_feed().head
    assert a2.take_back.take([("b", [bad]), ("c", held_pages(c, a2))]) == 0
    assert a2.feed.own_feed().head == head and not a2.take_back.pending


def test_a_fork_already_made_keeps_it_held_back(
    backed_up: tuple[CircleNode, CircleNode, CircleNode, Path], make: Make, tmp_path: Path
) -> None:
    a, b, _, archive = backed_up
    founder = publish(a, 1)
    deliver(a, b)
    a.close()
    # Restored, and (before take-back existed) it signed another entry at the same seq.
    a2 = restored(make, tmp_path, archive)
    a2.feed.release()
    a2.decisions.take_everyday_decision(founder, "cook", "menu", "Other", "Rice")
    a2.feed.hold_back("restored")
    assert take_back(a2, b) == 0
    assert a2.take_back.pending and a2.take_back.status == FORKED


def test_a_peer_serves_a_node_its_held_copy_only_to_that_node(
    backed_up: tuple[CircleNode, CircleNode, CircleNode, Path],
) -> None:
    a, _, c, _ = backed_up
    only_for(a, c, b"for c only")
    deliver(a, c)
    page = c.peering.held_copy(a.feed.feed_id, 0, 1000)
    assert page is not None and page.head == a.feed.own_feed().head
    assert page.entries == a.feed.own_entries(0, 1000) and b"for c only" in page.bodies
    assert c.peering.held_copy(b"\x01" * 32, 0, 1000) is None


def test_an_erasure_published_after_the_backup_is_carried_out_again(
    make: Make, tmp_path: Path
) -> None:
    from node.demo.scripted import make_active
    from node.network.messages import PERSON_ERASED, PersonErased, encode_body

    a, b = make("a"), make("b")
    ada = a.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
    cleo = a.people.add_founding_member(ada, "Cleo Marsh")
    make_active(a)
    connect(a, b)
    deliver(a, b)
    archive = tmp_path / "a.tar"
    backup(Settings(data_dir=tmp_path / "a"), archive)
    # After the backup, Cleo leaves and her personal data is erased; the erasure is published
    # to b (as to a co-op the circle is part of).
    a.people.leave(cleo, cleo)
    a.erasure.erase_person(ada, cleo)
    own = a.feed.own_feed()
    body = encode_body(PersonErased(b.feed.node_id, cleo, []))
    signed = own.append(a.feed.keys, PERSON_ERASED, body, 1, [b.feed.feed_id])  # type: ignore[arg-type]
    a.save(
        own,
        entries=[(a.feed.feed_id, own.head, encode(signed))],
        bodies=[a.store.body_row(body, [b.feed.feed_id])],
    )
    deliver(a, b)
    assert a.records.person_name(cleo) != "Cleo Marsh"
    a.close()
    # Restored, the backup brings her name back; taking the feed back erases it again.
    a2 = restored(make, tmp_path, archive)
    assert a2.records.person_name(cleo) == "Cleo Marsh"
    assert take_back(a2, b) >= 1
    assert a2.records.person_name(cleo) != "Cleo Marsh"
    (line,) = [e.text for e in read_logbook(a2) if "restored from a backup" in e.text]
    assert "1 former participant(s), erased after the backup, was erased again" in line


def test_the_pages_of_a_copy_before_one_that_fails_stand(
    backed_up: tuple[CircleNode, CircleNode, CircleNode, Path], make: Make, tmp_path: Path
) -> None:
    a, b, _, archive = backed_up
    publish(a, 4)
    deliver(a, b)
    a.close()
    a2 = restored(make, tmp_path, archive)
    base = a2.take_back.base()
    first = b.peering.held_copy(a2.feed.feed_id, base, 3)
    assert first is not None and len(first.entries) == 3
    second = b.peering.held_copy(a2.feed.feed_id, base + 3, 1000)
    assert second is not None and second.entries
    forged = FeedPage(
        second.feed,
        [*second.entries[:-1], second.entries[-1].__class__(second.entries[-1].entry, bytes(64))],
        second.bodies,
        second.head,
    )
    # The first page verifies and is taken; the forged one is not (nor anything after it).
    head = a2.feed.own_feed().head
    assert a2.take_back.take([("b", [first, forged])]) == base + 3 - head
    assert a2.feed.own_feed().head == base + 3 and not a2.take_back.pending


class _HeldCopies:
    """The federation client's `held_copy`, served in process by the nodes given, one per call
    in the order the peers are asked (None: that peer cannot be reached)."""

    def __init__(self, answering: list[CircleNode | None], reader: CircleNode) -> None:
        self.answering, self.reader = list(answering), reader

    async def held_copy(self, url: str, after: int, limit: int) -> FeedPage:
        from federation.client import TransportError

        node = self.answering.pop(0)
        if node is None:
            raise TransportError(f"{url} cannot be reached")
        page = node.peering.held_copy(self.reader.feed.feed_id, after, limit)
        assert page is not None
        return page


async def _at_once(function, *args):  # type: ignore[no-untyped-def]
    return function(*args)


def test_it_waits_for_every_peer_before_it_signs_again(
    backed_up: tuple[CircleNode, CircleNode, CircleNode, Path], make: Make, tmp_path: Path
) -> None:
    import asyncio

    from node.network.take_back import NOT_ALL, take_back_from_peers

    a, b, c, archive = backed_up
    # Given a published two more decisions that only c holds, then died.
    publish(a, 2)
    deliver(a, c)
    published = a.feed.own_entries(0, 1000)
    a.close()
    a2 = restored(make, tmp_path, archive)
    peers = a2.peering.peers()
    holders = [b if p.feed_id == b.feed.feed_id else c for p in peers]
    # When only b can be reached, the node takes nothing and stays held back.
    only_b = _HeldCopies([h if h is b else None for h in holders], a2)
    assert not asyncio.run(take_back_from_peers(a2.take_back, peers, only_b, _at_once))  # type: ignore[arg-type]
    assert a2.take_back.pending and a2.take_back.status == NOT_ALL
    # When c answers too, it takes back what c held, and signs again: no fork at c.
    both = _HeldCopies(list(holders), a2)
    assert asyncio.run(take_back_from_peers(a2.take_back, peers, both, _at_once))  # type: ignore[arg-type]
    assert a2.feed.own_entries(0, 1000) == published and not a2.take_back.pending


def test_a_node_that_knows_no_peer_has_nothing_to_take_back(make: Make, tmp_path: Path) -> None:
    import asyncio

    from node.network.take_back import take_back_from_peers

    # Given a circle that never exchanged feeds with another node, backed up and restored.
    a = make("a")
    founder = publish(a, 1)
    backup(Settings(data_dir=tmp_path / "a"), tmp_path / "a.tar")
    a.close()
    a2 = restored(make, tmp_path, tmp_path / "a.tar")
    assert a2.take_back.pending
    # When its delivery loop looks for peers to take its feed back from, it finds none.
    assert asyncio.run(take_back_from_peers(a2.take_back, [], _HeldCopies([], a2), _at_once))  # type: ignore[arg-type]
    # Then it signs again at once, and the flag is gone.
    assert not a2.take_back.pending and not (tmp_path / "a2" / TAKE_BACK_FILE).exists()
    a2.decisions.take_everyday_decision(founder, "cook", "menu", "After", "Bread")


class _SmallPages:
    """A peer's held copy served two entries a page; with `claimed`, a peer that serves its
    first page again and again, saying each time that the copy goes on to that head."""

    def __init__(self, holder: CircleNode, reader: CircleNode, claimed: int = 0) -> None:
        self.holder, self.reader, self.claimed, self.calls = holder, reader, claimed, 0
        self.first: FeedPage | None = None

    async def held_copy(self, url: str, after: int, limit: int) -> FeedPage:
        self.calls += 1
        if self.claimed and self.first is not None:
            return self.first
        page = self.holder.peering.held_copy(self.reader.feed.feed_id, after, 2)
        assert page is not None
        if self.claimed:
            self.first = page = FeedPage(page.feed, page.entries, page.bodies, self.claimed)
        return page


def test_a_long_copy_is_taken_back_a_round_of_pages_at_a_time(
    backed_up: tuple[CircleNode, CircleNode, CircleNode, Path],
    make: Make,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    from node.network import take_back as module

    a, b, _, archive = backed_up
    # Given a published seven more decisions that b holds, then died; a round reads one page.
    publish(a, 7)
    deliver(a, b)
    published = a.feed.own_entries(0, 1000)
    a.close()
    a2 = restored(make, tmp_path, archive)
    monkeypatch.setattr(module, "ROUND_PAGES", 1)
    peers = [p for p in a2.peering.peers() if p.feed_id == b.feed.feed_id]
    # When it takes its feed back from b, two entries a page.
    client = _SmallPages(b, a2)
    done = asyncio.run(module.take_back_from_peers(a2.take_back, peers, client, _at_once))  # type: ignore[arg-type]
    # Then round after round it takes all of it back, and only then signs again.
    assert done and not a2.take_back.pending
    assert a2.feed.own_entries(0, 1000) == published
    assert client.calls >= 4


def test_a_peer_claiming_a_head_it_never_reaches_is_read_a_round_at_a_time(
    backed_up: tuple[CircleNode, CircleNode, CircleNode, Path], make: Make, tmp_path: Path
) -> None:
    import asyncio

    from node.network import take_back as module

    a, b, _, archive = backed_up
    a.close()
    a2 = restored(make, tmp_path, archive)
    peers = [p for p in a2.peering.peers() if p.feed_id == b.feed.feed_id]
    # When b's pages all claim the copy goes on to a head far past what it holds.
    client = _SmallPages(b, a2, claimed=2**40)
    done = asyncio.run(module.take_back_from_peers(a2.take_back, peers, client, _at_once))  # type: ignore[arg-type]
    # Then the node reads at most a round of pages, takes nothing new, and stays held back.
    assert not done and a2.take_back.pending
    assert client.calls <= module.ROUND_PAGES
