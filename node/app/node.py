"""The circle node, composed here from its parts: the one place that knows them all.

- `store` (node/store/application.py): the event store, its cache, bodies and feed tables;
- `feed` (node/network/own_feed.py): the node's own signed feed and what it serves;
- `peering`, `intake`, `outbox` (node/network/): the nodes it knows, taking their entries,
  what it owes them; `take_back` (node/network/take_back.py): after a restore, its own feed
  taken back from its peers before it signs again;
- `records` (node/app/records.py): the circle's records, loaded and listed;
- the areas of use cases, each a small class taking what it needs: `circle`, `people`,
  `aims`, `mail` (where and how often someone is mailed), `links` and `mail_queue` (mail to
  send, node/app/mail_queue.py), `reminders`, `tokens`, `calendars` (personal calendar
  links: node/app/calendars.py), `hats`, `proposals`, `consent`, `decisions`, `meetings`,
  `erasure`,
  `relations`, `support`, `linked` (what linked circles sent: node/app/linked_circles.py),
  `plans`, `appeals`.
  A use case is reached as `node.<area>.<method>`, e.g. `node.people.admit(...)`.

`save` is the unit of work every command ends with: the changed aggregates, an idempotency
record if the request carries a key, and the entries of the own feed the change causes
(node/app/publishing.py), signed and stored in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.utils import EnvType

from domain.appeal import Appeal
from domain.backstops import BackStops
from domain.circle import Circle
from domain.decision import Decision
from domain.errors import InvalidRequest
from domain.meeting import Meeting
from domain.member_aims import MemberAims
from domain.person import PersonalDetails
from domain.plan import Plan
from domain.proposal import Proposal
from domain.register import Index, Register
from domain.relationships import Relationship
from domain.selection import HatSelection
from domain.support import SupportRequest
from federation.feed import WontSign, feed_id_from_node_id
from federation.keys import NodeKeys
from federation.verify import decode_entry, decode_signed_entry
from federation.wire import JOIN_REQUEST, NODE_MOVED
from node.app import idempotency, inbound, notices, publishing
from node.app.appeals import Appeals
from node.app.calendar_secrets import CalendarSecrets
from node.app.calendars import Calendars
from node.app.circle import CircleCommands
from node.app.consent import ConsentRounds
from node.app.credentials import Credentials
from node.app.decisions import Decisions
from node.app.erasure import Erasure
from node.app.hats import Hats
from node.app.held_messages import HELD_MESSAGES_ID, HeldMessages
from node.app.linked_circles import LinkedCircles
from node.app.linked_view import LinkedMinutes, LinkedRecords
from node.app.mail_choices import MailChoices
from node.app.mail_links import Links, MailLinks
from node.app.mail_queue import Letter, MailQueue
from node.app.meetings import Meetings
from node.app.member_aims import MemberAimsBook
from node.app.node_views import NoticingView, PublishingView, ReceivingView
from node.app.outcomes import Outcomes
from node.app.peer_view import PeerView, RemotePerson
from node.app.people import People
from node.app.plans import Plans
from node.app.proposals import Proposals
from node.app.records import CircleRecords, Clock, utc_now
from node.app.relations import Relations
from node.app.reminders import Reminders
from node.app.support import Support
from node.app.tokens import Tokens
from node.network.batch import Batch
from node.network.feeds import OwnFeed, PeerFeed
from node.network.intake import Intake, Run
from node.network.messages import BODY_TYPES
from node.network.observing import Observer, Reports
from node.network.outbox import Outbox
from node.network.own_feed import OwnFeedWriter
from node.network.peer_book import PeerBook
from node.network.peers import PEER, Delivery, Peer, PeerIndex
from node.network.take_back import TakeBack
from node.store.application import NodeStore
from node.store.retry import retry_on_conflict

log = logging.getLogger("circle_node.node")

# A load replays the events since the last snapshot: each run taken from a peer is one event
# of its PeerFeed, each push delivered one of its Delivery, each save that appends one of the
# OwnFeed, so those are short. At most one snapshot per aggregate and save.
SNAPSHOT_INTERVALS: dict[type[Aggregate], int] = {
    Circle: 50,
    Proposal: 50,
    HatSelection: 50,
    Decision: 50,
    Meeting: 50,
    Register: 100,
    Index: 100,
    OwnFeed: 100,
    PeerFeed: 50,
    Peer: 50,
    Delivery: 20,
    PeerIndex: 100,
    PeerView: 100,
    HeldMessages: 50,
    Relationship: 50,
    SupportRequest: 50,
    Credentials: 50,
    CalendarSecrets: 50,
    BackStops: 50,
    LinkedRecords: 100,
    LinkedMinutes: 50,
    Plan: 50,
    Appeal: 50,
    Letter: 20,
    MailLinks: 50,
}
# Indexes are filed by their `Filed` events alone (no load): snapshotted all the same.
EVENT_SNAPSHOT_INTERVALS: dict[type, int] = {Index.Filed: 100}
# Aggregates an erasure deletes are never kept in memory (node/store/kept.py).
NEVER_KEPT = (PersonalDetails, RemotePerson, MemberAims)
# The entry types this node takes from others.
KNOWN_TYPES = frozenset({JOIN_REQUEST, NODE_MOVED}) | frozenset(BODY_TYPES)


class CircleNode:
    """One circle's node: its parts, composed (see the module's docstring)."""

    def __init__(
        self,
        env: EnvType | None = None,
        clock: Clock = utc_now,
        keys: NodeKeys | None = None,
        take_back_flag: Path | None = None,
    ) -> None:
        self.clock = clock
        self.reports = Reports()
        self.store = NodeStore(
            env,
            intervals=SNAPSHOT_INTERVALS,
            event_intervals=EVENT_SNAPSHOT_INTERVALS,
            never_kept=NEVER_KEPT,
        )
        self.feed = OwnFeedWriter(self.store, keys, clock)
        # A node restored from a backup signs nothing until it has taken its feed back.
        self.take_back = TakeBack(self.store, self.feed, KNOWN_TYPES, take_back_flag)
        self.records = CircleRecords(self.store, clock, self.save)
        self.peering = PeerBook(self.store, self.feed, self._met)
        self.support = Support(self.records)
        self.relations = Relations(self.records, self.store, self.peering, self.feed, self.support)
        self.outbox = Outbox(self.store, self.feed)
        self.intake = Intake(
            self.store,
            self.feed,
            self.peering,
            self._effects,
            self._save_taken,
            self.reports,
            KNOWN_TYPES,
        )
        self.circle = CircleCommands(self.records)
        self.people = People(self.records)
        self.aims = MemberAimsBook(self.records)
        self.mail = MailChoices(self.records)
        self.links = Links(self.records)
        # Each process is a worker of its own, in the claims on letters to send.
        self.mail_queue = MailQueue(self.records, self.links, worker=uuid4().hex)
        self.tokens = Tokens(self.records)
        self.calendars = Calendars(self.records)
        self.erasure = Erasure(self.records, self.store, self.feed, self.peering)
        self.hats = Hats(self.records)
        outcomes = Outcomes(self.records, self.relations)
        self.proposals = Proposals(self.records, self.relations, outcomes)
        self.consent = ConsentRounds(self.records, outcomes)
        self.decisions = Decisions(self.records, self.consent, self.relations)
        self.meetings = Meetings(self.records)
        self.linked = LinkedCircles(self.records, self.relations)
        self.plans = Plans(self.records, self.relations)
        self.appeals = Appeals(self.records, self.relations)
        self._releasing = False
        self._publishing = PublishingView(self.records, self.relations, self.hats)
        self._noticing = NoticingView(self.records)
        self.reminders = Reminders(
            self.records, self._noticing, queued=lambda: self.reports.observer.mail_queued()
        )
        self._receiving = ReceivingView(
            self.records,
            self.feed,
            self.peering,
            self.erasure,
            clock,
            self._check_outgoing,
            self.release_held,
        )

    @property
    def observer(self) -> Observer:
        """What the node reports as it works (metrics); the server sets its own."""
        return self.reports.observer

    @observer.setter
    def observer(self, observer: Observer) -> None:
        self.reports.observer = observer

    def close(self) -> None:
        self.store.close()

    # The unit of work.

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """Save what changed, in one transaction, with what goes with it (module docstring)."""
        # A request with an Idempotency-Key is recorded as carried out in its first save (the
        # change itself): both are stored, or neither (node/app/idempotency.py).
        mark = idempotency.carrying_out.get()
        if mark is not None and not mark.saved:
            done = self.request_carried_out(mark.record_id)
            if done is not None:
                idempotency.carried_out(done, mark)  # a repeat that raced the first: refused
            record = idempotency.CarriedOut(record_id=mark.record_id, fingerprint=mark.fingerprint)
            objs = (*objs, record)
        try:
            recordings = self._save_with_entries(objs, kwargs)
        except WontSign as error:
            # Peers would refuse the entry this change causes: refuse the change instead.
            raise InvalidRequest(
                f"This is too large to share with other circles: {error}"
            ) from None
        if mark is not None:
            mark.saved = True
        self.release_held()  # the change may let messages held back take effect (founding)
        return recordings

    def _save_with_entries(self, objs: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        """Save, appending to the own feed the entries the changes cause, in the same save,
        and the mail they call for (node/app/notices.py)."""
        aggregates = [obj for obj in objs if isinstance(obj, Aggregate)]
        letters = self._letters(aggregates)
        objs = (*objs, *letters)
        recordings = self._save_signed(objs, kwargs)
        self.records.decisions_in_force.saved(aggregates)
        if letters:
            self.reports.observer.mail_queued()  # the mail sender looks now
        return recordings

    def _save_signed(self, objs: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        if self.feed.is_federated:
            aggregates = [obj for obj in objs if isinstance(obj, Aggregate)]
            outgoing = publishing.outgoing(self._publishing, aggregates)
            if outgoing:
                own, entries, bodies = self.feed.sign(outgoing)
                kwargs = {
                    **kwargs,
                    "entries": [*kwargs.get("entries", []), *entries],
                    "bodies": [*kwargs.get("bodies", []), *bodies],
                }
                recordings = self.store.save(*objs, own, **kwargs)
                self.store.kept.adopt(own)  # this save's own copy: no one changes it again
                self.reports.observer.appended(len(outgoing))
                return recordings
        return self.store.save(*objs, **kwargs)

    def _letters(self, aggregates: Sequence[Aggregate]) -> list[Any]:
        """The letters the changes call for, filed in the index of letters."""
        if not self.records.is_founded:
            return []
        letters = notices.letters_for(self._noticing, aggregates)
        if not letters:
            return []
        return [*letters, *self.records.filed("letter", *(letter.id for letter in letters))]

    def _save_taken(self, *objs: Any, **kwargs: Any) -> Any:
        """The save of a run taken from a peer: as `save`, but an own entry the run causes that
        cannot be signed is raised as WontSign, for the intake to refuse the message causing
        it (node/network/intake.py) rather than the whole run."""
        return self._save_with_entries(objs, kwargs)

    def _check_outgoing(self, aggregates: Sequence[Aggregate]) -> None:
        """Raise WontSign if an own entry the changes of `aggregates` cause cannot be signed
        (nothing is stored)."""
        if self.feed.is_federated:
            outgoing = publishing.outgoing(self._publishing, aggregates)
            if outgoing:
                self.feed.sign(outgoing)

    def release_held(self) -> None:
        """Apply the messages held back (node/app/held_messages.py) that may take effect now,
        each sender's in a save of their own. Called after every save that may change that:
        a command's (founding the circle, admitting an applicant), taking an admission, adding
        a peer. A failure is logged (the change that called it is stored already); they stay
        held, and the next call tries again."""
        if self._releasing or not self.records.is_founded:
            return
        self._releasing = True
        try:
            for other in self._held_senders():
                self._release(other)
        except Exception:
            log.exception("messages held back could not be applied yet")
        finally:
            self._releasing = False

    def _held_senders(self) -> list[str]:
        try:
            held: HeldMessages = self.store.kept.peek(HELD_MESSAGES_ID)
        except AggregateNotFoundError:
            return []
        return list(held.held)

    @retry_on_conflict
    def _release(self, other: str) -> None:
        feed_id = feed_id_from_node_id(other)
        sender = self.peering.peer(feed_id)
        if sender is None or sender.stopped or sender.status != PEER:
            return  # held until it is a peer (or for ever, if it never is)
        held: HeldMessages = self.store.load(HeldMessages, HELD_MESSAGES_ID)
        run: Run = []
        for seq in held.held.get(other, []):
            (signed,) = self.store.feeds.select_entries(feed_id, seq - 1, 1)
            run.append((decode_entry(decode_signed_entry(signed)), None))
        bodies = self.store.stored_data([entry.body_hash for entry, _ in run if entry.body_hash])
        run = [(entry, bodies.get(entry.body_hash)) for entry, _ in run]
        try:
            batch = self._apply_released(sender, run, careful=False)
        except WontSign:  # as when a run is taken (node/network/intake.py, `_store_run`)
            batch = self._apply_released(sender, run, careful=True)
        for action in batch.afterwards:
            action()

    def _apply_released(self, sender: Peer, run: Run, *, careful: bool) -> Batch:
        batch = Batch(self.store.repository)
        inbound.apply(self._receiving, sender, run, batch, careful=careful, released=True)
        self._save_with_entries(
            batch.aggregates(), {"entries": batch.entries, **batch.save_kwargs()}
        )
        return batch

    def request_carried_out(self, record_id: UUID) -> idempotency.CarriedOut | None:
        """The record of a request carried out with an idempotency key, if there is one."""
        try:
            record: Aggregate = self.store.repository.get(record_id)
        except AggregateNotFoundError:
            return None
        return record if isinstance(record, idempotency.CarriedOut) else None

    # What the network parts call back: meeting a node, and a peer's entries taking effect.

    def _met(self, feed_id: bytes, name: str, how: str) -> list[Aggregate]:
        return self.relations.met(feed_id, name, how)

    def _effects(self, sender: Peer, run: Run, batch: Batch, *, careful: bool = False) -> None:
        inbound.apply(self._receiving, sender, run, batch, careful=careful)
