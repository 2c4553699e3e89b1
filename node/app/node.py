"""The circle node application: commands and queries over one circle's event store.

Each command loads what it needs, asks the domain to decide, and saves every changed
aggregate in one `save()`: all of it or nothing. A command that lost a race with another
(optimistic concurrency conflict) is retried from a fresh load.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from domain.circle import Circle
from domain.consent import ConsentProcess
from domain.decision import Decision
from domain.errors import InvalidRequest, NotFound, NotPermitted
from domain.meeting import Meeting
from domain.person import PersonalDetails
from domain.proposal import Proposal
from domain.records import Answer, GoverningRules, HatTerm
from domain.register import Register
from domain.selection import HatSelection
from domain.values import GONE, Level, Mode, Purpose, Stage
from federation.feed import WontSign, feed_id_from_node_id
from federation.verify import decode_entry, decode_signed_entry
from federation.wire import Entry
from node.app import idempotency, inbound, publishing
from node.app.credentials import CREDENTIALS_ID, Credentials
from node.app.peer_view import RemotePerson
from node.app.relations import RELATION_PURPOSES, Relations
from node.network.federated import Batch, Outgoing
from node.network.messages import CIRCLE_SUMMARY, LINK_DELEGATE, LINK_LEADER_AGREED
from node.store.retry import retry_on_conflict

R = TypeVar("R")

command = retry_on_conflict


class CircleNode(Relations):
    """One circle's node. Every method is a command (changes state) or a query (reads it).

    With keys, it is federated: changes to the circle's public records are appended to its
    signed feed in the same save, and its peers' records are taken from theirs.
    """

    def outgoing(self, aggregates: Sequence[Aggregate]) -> list[Outgoing]:
        return publishing.outgoing(self, aggregates)

    def save(self, *objs: Any, **kwargs: Any) -> Any:
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
            recordings = super().save(*objs, **kwargs)
        except WontSign as error:
            # Peers would refuse the entry this change causes: refuse the change instead.
            raise InvalidRequest(
                f"This is too large to share with other circles: {error}"
            ) from None
        if mark is not None:
            mark.saved = True
        return recordings

    def request_carried_out(self, record_id: UUID) -> idempotency.CarriedOut | None:
        """The record of a request carried out with an idempotency key, if there is one."""
        try:
            record: Aggregate = self.repository.get(record_id)
        except AggregateNotFoundError:
            return None
        return record if isinstance(record, idempotency.CarriedOut) else None

    def effects(self, peer: bytes, run: list[tuple[Entry, bytes | None]], batch: Batch) -> None:
        inbound.apply(self, peer, run, batch)

    # The circle.

    @command
    def found_circle(
        self,
        *,
        name: str,
        aim: str,
        domain: str,
        founder_name: str,
        founder_contact: str = "",
        kind: str = "general",
        parent: str | None = None,
        rules: GoverningRules | None = None,
    ) -> str:
        """Found this node's circle; returns the founder's person id."""
        if self.is_founded:
            raise InvalidRequest("This node already has its circle")
        person = PersonalDetails.register(founder_name, founder_contact)
        circle = Circle.found(
            name=name,
            aim=aim,
            domain=domain,
            kind=kind,
            parent=parent,
            founder_id=str(person.id),
            today=self._today(),
            rules=rules,
        )
        register = Register(circle_id=circle.id)
        self.save(person, circle, register, *self._filed("person", person.id))
        return str(person.id)

    @command
    def activate_circle(self, by: str) -> None:
        circle = self.get_circle()
        circle.activate(by, self._today())
        self.save(circle)

    # People.

    def _new_person(self, name: str, contact: str) -> tuple[PersonalDetails, list[Any]]:
        person = PersonalDetails.register(name, contact)
        return person, self._filed("person", person.id)

    @command
    def add_founding_member(
        self, by: str, name: str, level: str = Level.FULL, contact: str = ""
    ) -> str:
        circle = self.get_circle()
        person, filed = self._new_person(name, contact)
        circle.welcome_founder(by, str(person.id), level, self._today())
        self.save(person, circle, *filed)
        return str(person.id)

    @command
    def apply_to_join(self, name: str, level: str = Level.FULL, contact: str = "") -> str:
        circle = self.get_circle()
        person, filed = self._new_person(name, contact)
        circle.receive_application(str(person.id), level, self._today())
        self.save(person, circle, *filed)
        return str(person.id)

    def _change_circle(self, change: Callable[[Circle], Any]) -> None:
        circle = self.get_circle()
        change(circle)
        self.save(circle)

    @command
    def start_trial(self, by: str, person_id: str) -> None:
        self._change_circle(lambda c: c.start_trial(by, person_id, self._today()))

    @command
    def admit(self, by: str, person_id: str, level: str = Level.FULL) -> None:
        self._change_circle(lambda c: c.admit(by, person_id, level, self._today()))

    @command
    def decline(self, by: str, person_id: str) -> None:
        self._change_circle(lambda c: c.decline(by, person_id, self._today()))

    @command
    def change_level(self, by: str, person_id: str, level: str) -> None:
        self._change_circle(lambda c: c.change_level(by, person_id, level))

    @command
    def step_back(self, by: str, person_id: str, note: str | None = None) -> None:
        self._membership_with_note(
            person_id,
            "stepped_back",
            note,
            lambda c: c.step_back(by, person_id, self._today()),
        )

    @command
    def welcome_back(self, by: str, person_id: str) -> None:
        self._change_circle(lambda c: c.welcome_back(by, person_id, self._today()))

    @command
    def leave(self, by: str, person_id: str, note: str | None = None) -> None:
        self._membership_with_note(
            person_id, "left", note, lambda c: c.leave(by, person_id, self._today())
        )

    def _membership_with_note(
        self, person_id: str, occasion: str, note: str | None, change: Callable[[Circle], Any]
    ) -> None:
        """A note of appreciation names the person, so it is kept with their personal
        details (erasable), not in the circle's record."""
        circle = self.get_circle()
        change(circle)
        changed: list[Aggregate] = [circle]
        if note and note.strip():
            details = self._get(PersonalDetails, person_id, "person")
            details.add_note(occasion, note)
            changed.append(details)
        self.save(*changed)

    # Personal tokens (signing in).

    def _credentials(self) -> Credentials:
        try:
            return self._load(Credentials, CREDENTIALS_ID)
        except AggregateNotFoundError:
            return Credentials()

    @command
    def issue_token(self, person_id: str, by: str | None = None) -> tuple[str, str]:
        """A personal token for someone of the circle; returns (token id, token), the token
        shown this once. `by` is the secretary (or, for the operator's CLI, None)."""
        circle = self.get_circle()
        if by is not None:
            circle.check_records_keeper(by, "issue a sign-in token")
        if circle.participant(person_id).status in GONE:
            raise NotPermitted("Someone who has left the circle gets no sign-in token")
        credentials = self._credentials()
        token_id, token = credentials.issue(person_id, self._now())
        self.save(credentials)
        return token_id, token

    @command
    def revoke_token(self, token_id: str, by: str | None = None) -> None:
        """Revoke a token: by its holder, or the secretary (or the operator: by None)."""
        credentials = self._credentials()
        record = credentials.tokens.get(token_id)
        if record is None:
            raise NotFound(f"No token {token_id}")
        if by is not None and by != record["person"]:
            self.get_circle().check_records_keeper(by, "revoke someone else's token")
        if not record["revoked"]:
            credentials.revoke(token_id)
            self.save(credentials)

    def person_for_token(self, token: str) -> str | None:
        """Who signs in with this token: someone of the circle who has not left; else None."""
        try:
            credentials: Credentials = self.kept.peek(CREDENTIALS_ID)
        except AggregateNotFoundError:
            return None
        person = credentials.person_for(token)
        if person is None or not self.is_founded:
            return None
        participant = self.peek_circle().participants.get(person)
        if participant is None or participant.status in GONE:
            return None
        return person

    def tokens_of(self, person_id: str) -> list[str]:
        return self._credentials().held_by(person_id)

    @command
    def erase_person(self, by: str, person_id: str) -> int:
        """Erase the personal data of someone who left, here and, through a signed message,
        on the co-ops that hold copies. The record keeps their id; feeds still verify.
        Returns how many of this node's published bodies that named them were erased."""
        circle = self.get_circle()
        named = self._bodies_naming(person_id)
        circle.record_erasure(by, person_id, [digest.hex() for digest in named])
        self.save(circle)
        self.erase_bodies(named)
        self.kept.forget(UUID(person_id))
        self._feeds.delete_events(UUID(person_id))
        self._feeds.compact()
        return len(named)

    def _bodies_naming(self, person_id: str) -> list[bytes]:
        """Hashes of the bodies this node published that carry someone's name."""
        if self.keys is None:
            return []  # a node that is not federated published nothing
        naming = {CIRCLE_SUMMARY, LINK_DELEGATE, LINK_LEADER_AGREED}
        wanted: list[bytes] = []
        for signed in self.own_entries(0, 2**31):
            entry = decode_entry(signed)
            if entry.type in naming and entry.body_hash:
                wanted.append(entry.body_hash)
        found = []
        for digest, (data, _) in self._stored_bodies(wanted).items():
            if person_id.encode() in data:
                found.append(digest)
        return found

    def erase_remote_person(self, other: str, person: str, bodies: list[bytes]) -> None:
        """Another circle erased one of its people on their request: erase what we hold. Only
        bodies that circle's own entries bind are erased, and none that another feed binds too
        (a body is stored once for every entry naming its hash)."""
        feed_id = feed_id_from_node_id(other)
        wanted = set(bodies) & self._bound_by(feed_id)
        if wanted:
            others = [self.feed_id] if self.keys else []
            others += [p.feed_id for p in self.peers() if p.feed_id != feed_id]
            for other_feed in others:
                wanted -= self._bound_by(other_feed)
        self.erase_bodies(sorted(wanted))
        self.kept.forget(RemotePerson.create_id(other, person))
        self._feeds.delete_events(RemotePerson.create_id(other, person))
        self._feeds.compact()

    def _bound_by(self, feed_id: bytes) -> set[bytes]:
        """The body hashes the entries held of a feed bind."""
        return {
            entry.body_hash
            for entry in (
                decode_entry(decode_signed_entry(raw))
                for raw in self._feeds.select_entries(feed_id, 0, 2**31)
            )
            if entry.body_hash
        }

    def note_of_appreciation(self, person_id: str, occasion: str) -> str | None:
        try:
            return self._get(PersonalDetails, person_id, "person").notes.get(occasion)
        except NotFound:
            return None

    # Hats.

    @command
    def define_hat(
        self,
        by: str,
        name: str,
        purpose: str,
        accountabilities: list[str],
        domain: list[str],
        default_term_months: int = 12,
        kind: str = "operational",
    ) -> str:
        circle = self.get_circle()
        hat_id = circle.define_hat(
            by, name, purpose, accountabilities, domain, default_term_months, kind
        )
        self.save(circle)
        return hat_id

    @command
    def open_selection(
        self,
        by: str,
        hat_id: str,
        review_date: date | None = None,
        mode: str = Mode.MEETING,
        deadline: datetime | None = None,
    ) -> str:
        circle = self.get_circle()
        selection = HatSelection.open(
            circle, by, hat_id, self._now(), review_date=review_date, mode=mode, deadline=deadline
        )
        self.save(selection, *self._filed("selection", selection.id))
        return str(selection.id)

    def _change_selection(
        self, selection_id: str, change: Callable[[Circle, HatSelection], Any]
    ) -> Any:
        circle = self.get_circle()
        selection = self.get_selection(selection_id)
        result = change(circle, selection)
        self.save(selection)
        return result

    @command
    def nominate(self, by: str, selection_id: str, nominee: str, reason: str) -> None:
        self._change_selection(selection_id, lambda c, s: s.nominate(c, by, nominee, reason))

    @command
    def open_change_round(self, by: str, selection_id: str) -> None:
        self._change_selection(selection_id, lambda c, s: s.open_change_round(c, by))

    @command
    def change_nomination(self, by: str, selection_id: str, nominee: str, reason: str) -> None:
        self._change_selection(
            selection_id, lambda c, s: s.change_nomination(c, by, nominee, reason)
        )

    @command
    def propose_candidate(self, by: str, selection_id: str, candidate: str, reason: str) -> None:
        self._change_selection(
            selection_id, lambda c, s: s.propose_candidate(c, by, candidate, reason)
        )

    @command
    def renew_hat(self, by: str, hat_id: str, person_id: str, review_date: date) -> None:
        self._change_circle(lambda c: c.renew_hat(by, hat_id, person_id, review_date))

    @command
    def take_off_hat(self, by: str, hat_id: str, person_id: str, reason: str) -> None:
        self._change_circle(lambda c: c.take_off_hat(by, hat_id, person_id, reason))

    def hat_terms_ending(self, within_days: int = 30) -> list[HatTerm]:
        return self.get_circle().terms_ending(self._today(), within_days)

    # Proposals.

    @command
    def draft_proposal(
        self,
        by: str,
        title: str,
        text: str,
        *,
        purpose: str = Purpose.ADOPT_POLICY,
        subject: dict[str, Any] | None = None,
        mode: str = Mode.MEETING,
        deadline: datetime | None = None,
        review_date: date | None = None,
        topic: str | None = None,
        ask_circles: list[str] | None = None,
    ) -> str:
        circle = self.get_circle()
        subject = dict(subject or {})
        for key in ("decision_id", "supersedes"):
            if subject.get(key):
                self.get_decision(str(subject[key]))
        self._check_relation_draft(purpose, subject)
        for ref in ask_circles or []:
            self.relationship(ref)
        proposal = Proposal.draft(
            circle,
            by,
            title,
            text,
            self._now(),
            purpose=purpose,
            subject=subject,
            mode=mode,
            deadline=deadline,
            review_date=review_date,
            topic=topic,
            ask_circles=ask_circles,
        )
        self.save(proposal, *self._filed("proposal", proposal.id))
        return str(proposal.id)

    def _change_proposal(self, proposal_id: str, change: Callable[[Circle, Proposal], R]) -> R:
        circle = self.get_circle()
        proposal = self.get_proposal(proposal_id)
        result = change(circle, proposal)
        self.save(proposal)
        return result

    @command
    def present(self, by: str, proposal_id: str) -> None:
        self._change_proposal(proposal_id, lambda c, p: p.present(c, by))

    @command
    def ask_question(self, by: str, proposal_id: str, question: str) -> int:
        return self._change_proposal(proposal_id, lambda c, p: p.ask_question(c, by, question))

    @command
    def answer_question(self, by: str, proposal_id: str, number: int, answer: str) -> None:
        self._change_proposal(proposal_id, lambda c, p: p.answer_question(c, by, number, answer))

    @command
    def open_reactions(self, by: str, proposal_id: str) -> None:
        self._change_proposal(proposal_id, lambda c, p: p.open_reactions(c, by))

    @command
    def react(self, by: str, proposal_id: str, reaction: str) -> None:
        self._change_proposal(proposal_id, lambda c, p: p.react(c, by, reaction))

    @command
    def amend(self, by: str, proposal_id: str, text: str) -> None:
        self._change_proposal(proposal_id, lambda c, p: p.amend(c, by, text))

    @command
    def record_vote(
        self, by: str, proposal_id: str, in_favour: int, against: int, abstentions: int = 0
    ) -> str:
        circle = self.get_circle()
        proposal = self.get_proposal(proposal_id)
        outcome = proposal.record_vote(circle, by, in_favour, against, abstentions)
        self.save(proposal, *self._carry_out(circle, proposal, outcome))
        return outcome

    # The consent process, for proposals and selections alike.

    def _change_process(self, process_id: str, change: Callable[[Circle, ConsentProcess], R]) -> R:
        """A change of a consent process, which reads the circle (the shared copy: changes of
        the circle are for `_carry_out`, saved with it)."""
        circle = self.peek_circle()
        process = self._get_process(process_id)
        result = change(circle, process)
        self._check_unchanged(circle)
        self.save(process)
        self.kept.adopt(process)  # done with: the next use starts from it
        return result

    def _check_unchanged(self, circle: Circle) -> None:
        """A command that reads the shared circle (`peek_circle`) must not change it."""
        if circle.pending_events:  # a bug in the command
            self.kept.forget(circle.id)
            raise RuntimeError("a command changed the shared circle instead of its own copy")

    @command
    def open_consent_round(self, by: str, process_id: str) -> None:
        self._change_process(process_id, lambda c, p: p.open_consent_round(c, by, self._now()))

    @command
    def answer_in_advance(self, by: str, process_id: str, consents: bool, text: str = "") -> None:
        self._change_process(
            process_id,
            lambda c, p: p.answer_in_advance(c, by, consents, text),
        )

    @command
    def consent(self, by: str, process_id: str, concern: str = "") -> Answer:
        """Consent; returns the answer as recorded."""

        def change(circle: Circle, process: ConsentProcess) -> Answer:
            process.consent(circle, by, self._now(), concern)
            return process.answers[by]

        return self._change_process(process_id, change)

    @command
    def raise_objection(self, by: str, process_id: str, argument: str) -> int:
        return self._change_process(
            process_id, lambda c, p: p.raise_objection(c, by, argument, self._now())
        )

    @command
    def withdraw_objection(self, by: str, process_id: str, number: int) -> None:
        self._change_process(process_id, lambda c, p: p.withdraw_objection(c, by, number))

    @command
    def integrate(
        self,
        by: str,
        process_id: str,
        how: str,
        text: str,
        objections: list[int],
        review_date: date | None = None,
    ) -> None:
        self._change_process(
            process_id, lambda c, p: p.integrate(c, by, how, text, objections, review_date)
        )

    @command
    def close_consent_round(self, by: str, process_id: str) -> str:
        """Close the round; once consented, what it decides is carried out in the same save."""
        circle = self.get_circle()
        process = self._get_process(process_id)
        outcome = process.close_consent_round(circle, by, self._now())
        self.save(process, *self._carry_out(circle, process, outcome))
        return outcome

    @command
    def escalate(self, by: str, process_id: str, reason: str) -> None:
        self._change_process(process_id, lambda c, p: p.escalate(c, by, reason))

    @command
    def withdraw(self, by: str, process_id: str) -> None:
        self._change_process(process_id, lambda c, p: p.withdraw(c, by))

    def _carry_out(self, circle: Circle, process: ConsentProcess, outcome: str) -> list[Any]:
        """The aggregates a consented selection or proposal changes."""
        if outcome != Stage.CONSENTED:
            return []
        today = self._today()
        if isinstance(process, HatSelection):
            circle.give_selected_hat(process, today)
            return [circle]
        assert isinstance(process, Proposal)
        purpose, subject = process.purpose, process.subject
        if purpose == Purpose.ADOPT_POLICY:
            decision = Decision.adopt(circle, process, today)
            changed: list[Any] = [decision, *self._filed("decision", decision.id)]
            if subject.get("supersedes"):
                old = self.get_decision(str(subject["supersedes"]))
                old.supersede(decision)
                changed.append(old)
            return changed
        if purpose in (Purpose.AMEND_DECISION, Purpose.RENEW_DECISION, Purpose.REVOKE_DECISION):
            decision = self.get_decision(str(subject["decision_id"]))
            if purpose == Purpose.AMEND_DECISION:
                decision.amend(circle, process, today)
            elif purpose == Purpose.RENEW_DECISION:
                decision.renew(circle, process, today)
            else:
                decision.revoke(circle, process)
            return [decision]
        if purpose in RELATION_PURPOSES:
            return self.carry_out_relation(circle, process, today)
        if purpose == Purpose.GO_INDEPENDENT:
            return self.go_independent_from(circle, process)
        circle_changes: dict[str, Callable[[], None]] = {
            Purpose.CHANGE_AIM: lambda: circle.revise_aim(process),
            Purpose.CHANGE_DOMAIN: lambda: circle.change_domain(process),
            Purpose.CHANGE_RULES: lambda: circle.change_rules(process),
            Purpose.REMOVE_PARTICIPANT: lambda: circle.remove(process, today),
            Purpose.INCORPORATE: lambda: circle.incorporate(process),
            Purpose.DISSOLVE: lambda: circle.dissolve(process),
        }
        circle_changes[purpose]()
        return [circle]

    # Decisions.

    @command
    def take_everyday_decision(
        self,
        by: str,
        hat_id: str,
        area: str,
        title: str,
        text: str,
        review_date: date | None = None,
        term_end: date | None = None,
    ) -> str:
        circle = self.peek_circle()  # read, not changed: the shared copy
        decision = Decision.take_everyday(
            circle,
            by,
            hat_id,
            area,
            title,
            text,
            self._today(),
            review_date=review_date,
            term_end=term_end,
        )
        self._check_unchanged(circle)
        self.save(decision, *self._filed("decision", decision.id))
        return str(decision.id)

    @command
    def challenge_decision(
        self, by: str, decision_id: str, text: str, *, revoke: bool = False
    ) -> str:
        """Challenge an everyday decision: it opens a proposal to amend (or revoke) it."""
        circle = self.get_circle()
        decision = self.get_decision(decision_id)
        proposal = Proposal.draft(
            circle,
            by,
            f"Challenge: {decision.title}",
            text,
            self._now(),
            purpose=Purpose.REVOKE_DECISION if revoke else Purpose.AMEND_DECISION,
            subject={"decision_id": str(decision.id)},
        )
        decision.challenge(circle, by, proposal)
        self.save(decision, proposal, *self._filed("proposal", proposal.id))
        return str(proposal.id)

    @command
    def update_due_dates(self) -> dict[str, list[str]]:
        """Mark reviews that came due, end decisions whose term is over, lapse late processes."""
        now = self._now()
        today = now.date()
        changed: list[Aggregate] = []
        summary: dict[str, list[str]] = {"review_due": [], "expired": [], "lapsed": []}
        # The listings are shared: what changes is a copy of its own.
        for listed in self.decisions():
            if listed.in_force and listed.term_end is not None and listed.term_end <= today:
                decision = self.get_decision(listed.id)
                decision.expire(today)
                summary["expired"].append(str(decision.id))
                changed.append(decision)
            elif listed.is_review_due(today) and listed.status != "review_due":
                decision = self.get_decision(listed.id)
                decision.mark_review_due(today)
                summary["review_due"].append(str(decision.id))
                changed.append(decision)
        for shared in [*self.proposals(), *self.selections()]:
            if (
                not shared.is_final
                and shared.mode == Mode.ASYNC
                and shared.deadline is not None
                and shared.deadline < now
                and shared.stage != Stage.CONSENT_ROUND
            ):
                process = self._get_process(shared.id)
                process.lapse(now)
                summary["lapsed"].append(str(process.id))
                changed.append(process)
        if changed:
            self.save(*changed)
        return summary

    def reviews_due(self) -> list[Decision]:
        today = self._today()
        return [d for d in self.decisions() if d.is_review_due(today)]

    # Meetings.

    @command
    def schedule_meeting(self, by: str, title: str, when: datetime) -> str:
        circle = self.get_circle()
        meeting = Meeting.schedule(circle, by, title, when)
        self.save(meeting, *self._filed("meeting", meeting.id))
        return str(meeting.id)

    def _change_meeting(self, meeting_id: str, change: Callable[[Circle, Meeting], Any]) -> None:
        circle = self.get_circle()
        meeting = self.get_meeting(meeting_id)
        change(circle, meeting)
        self.save(meeting)

    @command
    def record_attendance(self, by: str, meeting_id: str, present: list[str]) -> None:
        self._change_meeting(meeting_id, lambda c, m: m.record_attendance(c, by, present))

    @command
    def consent_agenda(self, by: str, meeting_id: str, items: list[str]) -> None:
        self._change_meeting(meeting_id, lambda c, m: m.consent_agenda(c, by, items))

    @command
    def record_item_decided(
        self, by: str, meeting_id: str, number: int, outcome: str, reference: str | None = None
    ) -> None:
        self._change_meeting(
            meeting_id, lambda c, m: m.record_item_decided(c, by, number, outcome, reference)
        )

    @command
    def record_minutes(self, by: str, meeting_id: str, text: str) -> None:
        self._change_meeting(meeting_id, lambda c, m: m.record_minutes(c, by, text))

    @command
    def consent_minutes(self, by: str, meeting_id: str) -> None:
        self._change_meeting(meeting_id, lambda c, m: m.consent_minutes(c, by))
