"""The circle's logbook: its history told in sentences, read from the event store in order."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from node.app.confidential import is_confidential, shown_to
from node.app.event_classes import (
    Circle,
    ConsentProcess,
    Decision,
    HatSelection,
    Meeting,
    MemberAims,
    Proposal,
)
from node.app.logbook_actors import actor_of
from node.app.logbook_appeals import APPEAL_EVENTS
from node.app.logbook_feeds import FEED_EVENTS, peer_names
from node.app.logbook_kinds import LineKind, LineKinds
from node.app.logbook_meetings import MEETING_EVENTS
from node.app.logbook_plans import PLAN_EVENTS
from node.app.logbook_relations import RELATION_EVENTS
from node.app.node import CircleNode

PAGE = 500


@dataclass(frozen=True)
class LogbookEntry:
    when: date  # the day the fact took effect (the event's own date when it carries one)
    record_id: str
    text: str
    at: datetime  # when it was recorded, in the circle's time zone (with its offset)
    # Told by an event only full and learning participants read (node/app/confidential.py).
    confidential: bool = False
    actor: str | None = None  # the id of who did it, where the event names them
    kind: str = LineKind.CIRCLE  # what it is about (node/app/logbook_kinds.py)


class Learnt(Protocol):
    """What the telling learns of the records as it goes (their titles, the hats' names, the
    circles' names), by key: a dict, or node/app/logbook_lines.py's record of when it learnt
    each."""

    def __setitem__(self, key: str, value: str) -> None: ...

    def get(self, key: str, default: str) -> str: ...


class Context:
    """Resolves ids to names and titles while the logbook is told. What it learnt of the
    records is in `learnt` (titles, hat names, circles' names), fresh dicts by default."""

    def __init__(
        self, node: CircleNode, learnt: tuple[Learnt, Learnt, Learnt] | None = None
    ) -> None:
        self.node = node
        self.titles: Learnt
        self.hat_names: Learnt
        self.circles: Learnt  # relationship id or node id -> the circle's name
        self.titles, self.hat_names, self.circles = learnt or ({}, {}, {})
        self._names: dict[str, str] = {}
        self._peers: dict[str, str] | None = None
        self.zone = node.records.time_zone()

    def name(self, person_id: str | None) -> str:
        if not person_id:
            return "someone"
        if person_id not in self._names:
            if person_id.startswith("circle:"):
                self._names[person_id] = self.circle(person_id.removeprefix("circle:"))
            elif "/" in person_id:
                self._names[person_id] = self.node.relations.seat_name(person_id)
            else:
                self._names[person_id] = self.node.records.person_name(person_id)
        return self._names[person_id]

    def circle(self, key: Any) -> str:
        return self.circles.get(str(key), "another circle")

    def peer(self, peer_record_id: Any) -> str:
        """A peer's name and node id, from the id of its record."""
        if self._peers is None:
            self._peers = peer_names(self.node)
        return self._peers.get(str(peer_record_id), "A peer")

    def title(self, record_id: Any) -> str:
        return self.titles.get(str(record_id), "a record")

    def hat(self, hat_id: str) -> str:
        return self.hat_names.get(hat_id, hat_id)


def _founded(e: Any, c: Context) -> str:
    for hat in e.hats:
        c.hat_names[hat.hat_id] = hat.name.lower()
    return f"{c.name(e.founder_id)} founded the circle {e.name!r} with the aim: {e.aim}"


def _hat_defined(e: Any, c: Context) -> str:
    c.hat_names[e.hat.hat_id] = e.hat.name.lower()
    return f"The {e.hat.name.lower()} hat was defined: {e.hat.purpose}"


def _drafted(e: Any, c: Context) -> str:
    c.titles[str(e.originator_id)] = e.title
    return f"{c.name(e.proposer)} drafted the proposal {e.title!r}"


def _selection_opened(e: Any, c: Context) -> str:
    c.titles[str(e.originator_id)] = f"the selection of a {c.hat(e.hat_id)}"
    return f"A selection for the {c.hat(e.hat_id)} hat opened (term until {e.review_date})"


def _decision_taken(e: Any, c: Context) -> str:
    c.titles[str(e.originator_id)] = e.title
    if e.kind == "operational":
        return (
            f"{c.name(e.taken_by)}, as {c.hat(e.hat_id)}, took an everyday decision on {e.area}: "
            f"{e.title!r} (review by {e.review_date})"
        )
    return f"Policy in force: {e.title!r} (review by {e.review_date})"


def _meeting_scheduled(e: Any, c: Context) -> str:
    c.titles[str(e.originator_id)] = e.title
    return f"Meeting {e.title!r} scheduled for {e.when:%Y-%m-%d %H:%M}"


def _membership(e: Any, c: Context) -> str:
    words = {
        "trial": "began a trial",
        "declined": "and the circle parted at the end of the trial",
        "stepped_back": "stepped back",
        "returned": "returned",
        "left": "left the circle",
        "removed": "was removed from the circle by decision",
    }
    text = f"{c.name(e.person_id)} {words.get(e.status, e.status)}"
    note = e.note or c.node.people.note_of_appreciation(e.person_id, e.status)
    if note:
        text += f", with thanks: {note}"
    return text


def _round_closed(e: Any, c: Context) -> str:
    r = e.record
    return (
        f"Consent round {r.number} on {c.title(e.originator_id)!r} closed: "
        f"{r.outcome.replace('_', ' ')}"
        f" ({len(r.consents)} consent, {len(r.objections)} objection(s), {len(r.missing)} absent)"
        + (f": {r.reason}" if r.reason else "")
    )


def _answer_changed(e: Any, c: Context) -> str:
    on = f"{c.name(e.person_id)} changed their answer to {c.title(e.originator_id)!r}"
    if e.consents:
        return f"{on} to consent" + (f" (concern: {e.text})" if e.text else "")
    return f"{on} to an objection: {e.text}"


def _amended(e: Any, c: Context) -> str:
    return f"{c.title(e.originator_id)!r} was amended"


def _rules_changed(e: Any, c: Context) -> str:
    rules = e.rules
    text = (
        f"The circle's rules changed: decides by {rules.decision_method.replace('_', ' ')}, "
        f"absentees: {rules.absentee_policy.replace('_', ' ')}, quorum: "
        f"{rules.quorum_percent}% of the full participants, time zone: {rules.time_zone}"
    )
    if rules.long_term_circle:
        text += f"; long-term decisions go to {c.circle(rules.long_term_circle)}"
    if rules.care_and_counsel:
        text += f"; appeals go on to {c.circle(rules.care_and_counsel)}"
    return text


def _nominated(e: Any, c: Context) -> str:
    n = e.nomination
    verb = "changed their nomination to" if n.changed else "nominated"
    return (
        f"{c.name(n.nominator)} {verb} {c.name(n.nominee)} in {c.title(e.originator_id)}: "
        f"{n.reason}"
    )


Describe = Callable[[Any, Context], str]

# What each kind of event says, by its class. Proposals and hat selections record the consent
# process's own events (`ConsentProcess.ConsentGiven`): the table names them once for both.
# Personal details, the register and the node's own bookkeeping are not part of the story:
# their events have no description, and are left out; a restore's take-back is (its
# `OwnFeed.TookBack` says what came back, and what was lost).
DESCRIBE: dict[type[Any], Describe] = {
    **FEED_EVENTS,
    **PLAN_EVENTS,
    **APPEAL_EVENTS,
    **RELATION_EVENTS,
    Circle.LinkedSeatTaken: lambda e, c: f"{c.name(e.seat)} took a seat in this circle",
    Circle.PersonalDataErased: lambda e, c: (
        "A former participant's personal data was erased on request"
    ),
    Circle.Founded: _founded,
    Circle.Activated: lambda e, c: "The circle began its work",
    Circle.AimRevised: lambda e, c: f"The circle's aim was revised by consent: {e.aim}",
    Circle.AimFormed: lambda e, c: (
        f"The circle formed its aim together, by consent: {e.aim}"
        + (f"; how it links to the co-op's mission: {e.mission_link}" if e.mission_link else "")
    ),
    Circle.MissionLinkChanged: lambda e, c: (
        f"How the circle's aim links to the co-op's mission was changed by consent: "
        f"{e.mission_link}"
        if e.mission_link
        else "The circle's aim no longer names a link to the co-op's mission (by consent)"
    ),
    Circle.DomainChanged: lambda e, c: f"The circle's domain was changed by consent: {e.domain}",
    Circle.RulesChanged: _rules_changed,
    Circle.Incorporated: lambda e, c: (
        f"The circle incorporated as {e.legal_entity.registered_name} "
        f"({e.legal_entity.registry} no. {e.legal_entity.number})"
    ),
    Circle.WentIndependent: lambda e, c: "The circle went its own way",
    Circle.Dissolved: lambda e, c: "The circle dissolved",
    Circle.FounderJoined: lambda e, c: (
        f"{c.name(e.person_id)} joined as a founding {e.level} participant"
    ),
    Circle.Applied: lambda e, c: (
        f"{c.name(e.person_id)} applied to join as a {e.level} participant"
    ),
    Circle.Admitted: lambda e, c: f"{c.name(e.person_id)} was welcomed as a {e.level} participant",
    Circle.LevelChanged: lambda e, c: (
        f"{c.name(e.person_id)} now takes part as a {e.level} participant"
    ),
    Circle.MembershipChanged: _membership,
    Circle.TrialStarted: lambda e, c: (
        f"{c.name(e.person_id)} began a trial of {e.sessions} "
        f"session{'s' if e.sessions > 1 else ''}"
    ),
    Circle.TrialSessionHeld: lambda e, c: (
        f"{c.name(e.person_id)} held session {e.number} of their trial"
    ),
    Circle.HatDefined: _hat_defined,
    Circle.HatPutOn: lambda e, c: (
        f"{c.name(e.term.person_id)} put on the {c.hat(e.term.hat_id)} hat "
        f"until {e.term.review_date}"
    ),
    Circle.HatRenewed: lambda e, c: (
        f"{c.name(e.person_id)}'s term as {c.hat(e.hat_id)} was renewed until {e.review_date}"
    ),
    Circle.HatTakenOff: lambda e, c: (
        f"{c.name(e.person_id)} took off the {c.hat(e.hat_id)} hat ({e.reason})"
    ),
    HatSelection.SelectionOpened: _selection_opened,
    HatSelection.Nominated: _nominated,
    HatSelection.ChangeRoundOpened: lambda e, c: (
        f"Change round opened in {c.title(e.originator_id)}"
    ),
    HatSelection.CandidateProposed: lambda e, c: (
        f"In {c.title(e.originator_id)}, the facilitator proposed {c.name(e.candidate)} as "
        f"candidate: {e.reason}"
    ),
    Proposal.Drafted: _drafted,
    Proposal.Presented: lambda e, c: f"{c.title(e.originator_id)!r} was presented",
    Proposal.QuestionAsked: lambda e, c: (
        f"{c.name(e.person_id)} asked about {c.title(e.originator_id)!r}: {e.text}"
    ),
    Proposal.QuestionAnswered: lambda e, c: (
        f"Question {e.number} on {c.title(e.originator_id)!r} answered: {e.answer}"
    ),
    Proposal.ReactionRoundOpened: lambda e, c: f"Reaction round on {c.title(e.originator_id)!r}",
    Proposal.Reacted: lambda e, c: (
        f"{c.name(e.person_id)} reacted to {c.title(e.originator_id)!r}: {e.text}"
    ),
    Proposal.Amended: _amended,
    Decision.Amended: _amended,
    ConsentProcess.ConsentRoundOpened: lambda e, c: (
        f"Consent round opened on {c.title(e.originator_id)!r}"
    ),
    ConsentProcess.AnsweredInAdvance: lambda e, c: (
        f"{c.name(e.person_id)} answered {c.title(e.originator_id)!r} in advance"
    ),
    ConsentProcess.ConsentGiven: lambda e, c: (
        f"{c.name(e.person_id)} consented to {c.title(e.originator_id)!r}"
        + (f" (concern: {e.concern})" if e.concern else "")
    ),
    ConsentProcess.ObjectionRaised: lambda e, c: (
        f"{c.name(e.person_id)} objected to {c.title(e.originator_id)!r}: {e.argument}"
    ),
    ConsentProcess.ObjectionWithdrawn: lambda e, c: (
        f"Objection {e.number} to {c.title(e.originator_id)!r} was withdrawn"
    ),
    ConsentProcess.AnswerChanged: _answer_changed,
    ConsentProcess.ObjectionsIntegrated: lambda e, c: (
        f"Objection(s) {', '.join(map(str, e.record.objections))} to "
        f"{c.title(e.originator_id)!r} integrated "
        f"({e.record.how.replace('_', ' ')}): {e.record.text}"
    ),
    ConsentProcess.ConsentRoundClosed: _round_closed,
    Proposal.VoteRecorded: lambda e, c: (
        f"Formal vote on {c.title(e.originator_id)!r}: {e.result.in_favour} for, "
        f"{e.result.against} against, {e.result.abstentions} abstaining"
    ),
    ConsentProcess.Escalated: lambda e, c: (
        f"{c.title(e.originator_id)!r} was passed to the broader circle: {e.reason}"
    ),
    ConsentProcess.Withdrawn: lambda e, c: f"{c.name(e.by)} withdrew {c.title(e.originator_id)!r}",
    ConsentProcess.Lapsed: lambda e, c: f"{c.title(e.originator_id)!r} lapsed at its deadline",
    Decision.Taken: _decision_taken,
    Decision.ReviewCameDue: lambda e, c: f"Review due: {c.title(e.originator_id)!r}",
    Decision.Renewed: lambda e, c: f"{c.title(e.originator_id)!r} renewed until {e.review_date}",
    Decision.Revoked: lambda e, c: f"{c.title(e.originator_id)!r} revoked",
    Decision.Superseded: lambda e, c: (
        f"{c.title(e.originator_id)!r} superseded by {c.title(e.successor_id)!r}"
    ),
    Decision.Expired: lambda e, c: f"{c.title(e.originator_id)!r} ended with its term",
    Decision.Challenged: lambda e, c: f"{c.name(e.by)} challenged {c.title(e.originator_id)!r}",
    # Only that someone did: their aims and goals are read where they keep them (the API).
    MemberAims.SetOut: lambda e, c: (
        f"{c.name(e.person_id)} set out their aims and development goals"
    ),
    MemberAims.Revised: lambda e, c: (
        f"{c.name(e.person_id)} updated their aims and development goals"
    ),
    Meeting.Scheduled: _meeting_scheduled,
    Meeting.AttendanceRecorded: lambda e, c: (
        f"{c.title(e.originator_id)}: present {', '.join(c.name(p) for p in e.present)}"
        + (f"; absent {', '.join(c.name(p) for p in e.absent)}" if e.absent else "")
    ),
    Meeting.AgendaConsented: lambda e, c: (
        f"Agenda of {c.title(e.originator_id)!r} consented: {'; '.join(e.items)}"
    ),
    **MEETING_EVENTS,
    Meeting.ItemDecided: lambda e, c: f"{c.title(e.originator_id)!r}, item {e.number}: {e.outcome}",
    Meeting.MinutesRecorded: lambda e, c: f"Minutes of {c.title(e.originator_id)!r} recorded",
    Meeting.MinutesConsented: lambda e, c: f"Minutes of {c.title(e.originator_id)!r} consented",
}


def read_logbook(node: CircleNode, level: str | None = None) -> Iterator[LogbookEntry]:
    """Every recorded change of the circle, oldest first, as a sentence, with its time in the
    circle's time zone, who did it and the kind of record it is about: as a participant of
    `level` reads it (a guest does not read confidential items and their minutes), or whole
    (None: the node's operator, e.g. for `export`), each line saying if it is confidential."""
    context = Context(node)
    kinds = LineKinds()
    start = 1
    while True:
        notifications = node.store.recorder.select_notifications(start=start, limit=PAGE)
        for notification in notifications:
            event: Any = node.store.mapper.to_domain_event(notification)
            describe = describer(type(event))
            if describe is not None and shown_to(level, type(event)):
                kind = kinds(type(event), str(event.originator_id))
                yield told(event, describe, context, kind)
        if len(notifications) < PAGE:
            return
        start = notifications[-1].id + 1


def told(event: Any, describe: Describe, context: Context, kind: str) -> LogbookEntry:
    """The line telling `event`, of `kind`."""
    at = event.timestamp.astimezone(context.zone)
    return LogbookEntry(
        when=getattr(event, "today", None) or at.date(),
        record_id=str(event.originator_id),
        text=describe(event, context),
        at=at,
        confidential=is_confidential(type(event)),
        actor=actor_of(event),
        kind=kind,
    )


def describer(event_class: type[Any]) -> Describe | None:
    """The description of events of `event_class`, or of the nearest class it derives from
    that has one; None if the event is not told."""
    return next((DESCRIBE[cls] for cls in event_class.__mro__ if cls in DESCRIBE), None)
