"""Publishing and the logbook choose what an event does by its class, from tables keyed by the
domain's event classes (`node/app/publishing.py`, `node/app/logbook.py`): a renamed event class
fails at import, and these tests hold the tables against the event classes of each aggregate,
so that a new event, or an entry taken out of a table, does not go unnoticed.

The rules, as the code has them:

- Publishing reads the events of the circle, its decisions, relationships, proposals and
  requests for support. Every event of a decision publishes the decision's record. Every event
  of the others either has a teller (`publishing.teller`), or, for the circle, changes its
  profile or summary (`SUMMARY_EVENTS`, which holds `PROFILE_EVENTS`), or is named in
  `SAYS_NOTHING` below: what it changes stays in this circle. Never both.
- The logbook tells the story of the circle, its proposals and hat selections (and the consent
  process they share), decisions, meetings, relationships and requests for support: every event
  of those has a description (`logbook.describer`). Personal details, the register and its
  indexes, and the node's own records (credentials, requests carried out, feeds, peers,
  deliveries, what peers published) are not part of it: none of their events has one. Every
  aggregate of the domain and of the node is on one side or the other.
- No table names a class that is not an event of the aggregates it is for (such an entry would
  never be used).

The events of an aggregate are found by walking its class and the aggregate classes it derives
from (a proposal records the consent process's own events): among the attributes of each, the
subclasses of its `Event`, without `Event` itself and the library's default `Created` (every
aggregate here is created by an event of its own: `Founded`, `Drafted`, `Met`, ...). A class
derived from one that a table names counts as named, as `teller` and `describer` look them up.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate, DomainEvent

from domain.appeal import Appeal
from domain.backstops import BackStops
from domain.circle import Circle
from domain.consent import ConsentProcess
from domain.decision import Decision
from domain.meeting import Meeting
from domain.member_aims import MemberAims
from domain.person import PersonalDetails
from domain.plan import Plan
from domain.proposal import Proposal
from domain.register import Index, Register
from domain.relationships import Relationship
from domain.selection import HatSelection
from domain.support import SupportRequest
from node.app.calendar_secrets import CalendarSecrets
from node.app.confidential import is_confidential
from node.app.credentials import Credentials
from node.app.held_messages import HeldMessages
from node.app.idempotency import CarriedOut
from node.app.linked_view import LinkedMinutes, LinkedRecords
from node.app.logbook import DESCRIBE, describer
from node.app.mail_links import MailLinks
from node.app.mail_queue import Letter
from node.app.peer_view import PeerView, RemotePerson
from node.app.published_records import PROFILE_EVENTS, SUMMARY_EVENTS
from node.app.publishing import TELL, teller
from node.network.feeds import OwnFeed, PeerFeed
from node.network.peers import Delivery, Peer, PeerIndex

# The events of the aggregates that publish which say nothing to other circles.
SAYS_NOTHING: dict[type[Aggregate], set[type[Any]]] = {
    Circle: {
        Circle.Applied,
        Circle.Admitted,
        Circle.FounderJoined,
        Circle.LevelChanged,
        Circle.HatDefined,
        Circle.LinkedSeatTaken,
        Circle.RulesChanged,
        Circle.MissionLinkChanged,
        Circle.TrialStarted,
        Circle.TrialSessionHeld,
    },
    Relationship: {
        Relationship.Met,
        Relationship.WasAdmitted,
        Relationship.ConsentRequested,
        Relationship.LinkVacated,
        Relationship.MessageRefused,
    },
    Proposal: {
        Proposal.Drafted,
        Proposal.Presented,
        Proposal.QuestionAsked,
        Proposal.QuestionAnswered,
        Proposal.ReactionRoundOpened,
        Proposal.Reacted,
        Proposal.Amended,
        ConsentProcess.AnsweredInAdvance,
        ConsentProcess.ConsentGiven,
        ConsentProcess.ObjectionRaised,
        ConsentProcess.ObjectionWithdrawn,
        ConsentProcess.AnswerChanged,
        ConsentProcess.ObjectionsIntegrated,
        ConsentProcess.Escalated,
        ConsentProcess.Withdrawn,
        ConsentProcess.Lapsed,
    },
    HatSelection: {
        HatSelection.SelectionOpened,
        HatSelection.Nominated,
        HatSelection.ChangeRoundOpened,
        ConsentProcess.AnsweredInAdvance,
        ConsentProcess.ConsentGiven,
        ConsentProcess.ObjectionRaised,
        ConsentProcess.ObjectionWithdrawn,
        ConsentProcess.AnswerChanged,
        ConsentProcess.ObjectionsIntegrated,
        ConsentProcess.ConsentRoundClosed,
        ConsentProcess.Escalated,
        ConsentProcess.Withdrawn,
        ConsentProcess.Lapsed,
    },
    SupportRequest: {
        SupportRequest.OfferReceived,
        SupportRequest.OutcomeReceived,
        SupportRequest.ClosureReceived,
    },
    # Consented minutes go to the co-op (`meeting.minutes`); the steps before, nowhere (and
    # what is confidential never: node/app/confidential.py).
    Meeting: {
        Meeting.Scheduled,
        Meeting.AbsenceTold,
        Meeting.AttendanceRecorded,
        Meeting.AgendaConsented,
        Meeting.AgendaWithConfidentialItemsConsented,
        Meeting.ConfidentialItemsNamed,
        Meeting.GuestsLeft,
        Meeting.ItemDecided,
        Meeting.ConfidentialItemDecided,
        Meeting.MinutesRecorded,
        Meeting.ConfidentialMinutesRecorded,
    },
    Appeal: {
        Appeal.Joined,
        Appeal.CircleAnswered,
        Appeal.AnswerReceived,
        Appeal.AmendmentOpened,
        # A withdrawal stays here: the answer that comes after it is refused (PROTOCOL.md 11.4).
        Appeal.Withdrawn,
        Appeal.AppellantErased,
    },
}

# The aggregates whose story the logbook tells, and those it leaves out.
TOLD: set[type[Aggregate]] = {
    Circle,
    MemberAims,
    ConsentProcess,
    Proposal,
    HatSelection,
    Decision,
    Meeting,
    Relationship,
    SupportRequest,
    BackStops,
    LinkedRecords,
    Plan,
    Appeal,
}
NOT_TOLD: set[type[Aggregate]] = {
    LinkedMinutes,
    PersonalDetails,
    Register,
    Index,
    CarriedOut,
    Credentials,
    CalendarSecrets,
    HeldMessages,
    RemotePerson,
    PeerView,
    OwnFeed,
    PeerFeed,
    Peer,
    PeerIndex,
    Delivery,
    # Mail to send, and the secrets behind its links (node/app/mail_queue.py, mail_links.py).
    Letter,
    MailLinks,
}
# The few events of the transport's bookkeeping that members must hear of (the logbook tells
# them, the rest of their aggregate's events it leaves out).
TOLD_OF_BOOKKEEPING: set[type[DomainEvent]] = {
    OwnFeed.TookBack,
    OwnFeed.Superseded,
    Peer.EquivocationRecorded,
    Peer.RetiredKeyUsed,
    Peer.FeedSuperseded,
}


def events_of(aggregate: type[Aggregate]) -> set[type[Any]]:
    """The event classes of `aggregate`, as the module's docstring says."""
    found: set[type[Any]] = set()
    for cls in aggregate.__mro__:
        if not issubclass(cls, Aggregate) or cls is Aggregate:
            continue
        for value in vars(cls).values():
            if (
                isinstance(value, type)
                and issubclass(value, cls.Event)
                and value not in (cls.Event, cls.Created)
            ):
                found.add(value)
    return found


def _named(event_class: type[Any], classes: set[type[Any]]) -> bool:
    return any(cls in classes for cls in event_class.__mro__)


def _aggregate_classes() -> set[type[Aggregate]]:
    """Every aggregate class of the domain and of the node (those of the tests left aside):
    the logbook imports the node as it is composed, which imports them all."""
    found: set[type[Aggregate]] = set()
    unseen: list[type[Aggregate]] = [Aggregate]
    while unseen:
        for sub in unseen.pop().__subclasses__():
            unseen.append(sub)
            if sub.__module__.startswith(("domain.", "node.")):
                found.add(sub)
    return found


def test_every_event_of_an_aggregate_that_publishes_is_told_or_known_to_say_nothing() -> None:
    # Given: the aggregates publishing reads (those with tellers), and their events.
    assert set(TELL) == set(SAYS_NOTHING)
    unsorted, both = [], []
    for aggregate, says_nothing in SAYS_NOTHING.items():
        for event_class in events_of(aggregate):
            # When: publishing is asked what the event tells other circles.
            told = teller(aggregate, event_class) is not None
            if aggregate is Circle:
                told = told or event_class in SUMMARY_EVENTS
            quiet = _named(event_class, says_nothing)

            # Then: it tells something, or is known to say nothing; never both.
            if not (told or quiet):
                unsorted.append(event_class.__qualname__)
            if told and quiet:
                both.append(event_class.__qualname__)
    assert not unsorted, f"events that publish nothing and are not in SAYS_NOTHING: {unsorted}"
    assert not both, f"events in SAYS_NOTHING that publish: {both}"


def test_the_publishing_tables_name_only_events_of_their_aggregates() -> None:
    # Given: the teller tables, one per aggregate, and the circle's profile and summary events.
    tables = {aggregate: set(tellers) for aggregate, tellers in TELL.items()}
    tables[Circle] |= SUMMARY_EVENTS

    # Then: each names events of its own aggregate only (an entry for another would never be
    # used), and the profile's events are among the summary's.
    for aggregate, named in tables.items():
        strangers = {cls.__qualname__ for cls in named - events_of(aggregate)}
        assert not strangers, f"{aggregate.__name__}'s table names: {sorted(strangers)}"
    assert PROFILE_EVENTS <= SUMMARY_EVENTS


def test_every_event_of_an_aggregate_the_logbook_tells_has_a_description() -> None:
    # Given: the aggregates whose story the logbook tells.
    undescribed = sorted(
        event_class.__qualname__
        for aggregate in TOLD
        for event_class in events_of(aggregate)
        # When: the logbook looks up the event's description.
        if describer(event_class) is None
    )

    # Then: every one of their events has one.
    assert not undescribed, f"events the logbook cannot tell: {undescribed}"


def test_personal_details_and_bookkeeping_stay_out_of_the_logbook() -> None:
    # Given: the aggregates that are not part of the circle's story.
    told = sorted(
        event_class.__qualname__
        for aggregate in NOT_TOLD
        for event_class in events_of(aggregate)
        if describer(event_class) is not None and event_class not in TOLD_OF_BOOKKEEPING
    )

    # Then: none of their events has a description.
    assert not told, f"events the logbook should leave out: {told}"


def test_every_aggregate_is_either_in_the_logbook_or_left_out() -> None:
    # Given: every aggregate class of the domain and of the node.
    aggregates = _aggregate_classes()

    # Then: each is on one side, none on both.
    assert not TOLD & NOT_TOLD
    unsorted = sorted(a.__qualname__ for a in aggregates - TOLD - NOT_TOLD)
    assert not unsorted, f"aggregates neither in TOLD nor in NOT_TOLD: {unsorted}"


def test_the_logbook_names_only_events_of_the_aggregates_it_tells() -> None:
    # Given: the classes the logbook's table names, and the events of the told aggregates.
    events = set().union(*(events_of(aggregate) for aggregate in TOLD)) | TOLD_OF_BOOKKEEPING

    # Then: every class it names is one of them.
    strangers = sorted(cls.__qualname__ for cls in set(DESCRIBE) - events)
    assert not strangers, f"the logbook's table names: {strangers}"


def test_a_teller_looked_up_again_is_the_one_the_tables_name() -> None:
    # Each pair of classes is looked up in the tables once, then remembered: asked again
    # (every save asks for each of its events), the answer is the tables' own.
    for aggregate, tellers in TELL.items():
        for event_class in events_of(aggregate):
            first = teller(aggregate, event_class)
            named = next((tellers[c] for c in event_class.__mro__ if c in tellers), None)
            expected = None if is_confidential(event_class) else named
            assert first is expected and teller(aggregate, event_class) is expected
