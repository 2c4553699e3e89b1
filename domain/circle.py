"""The circle: its aim and domain, how it decides, who takes part, and the hats they wear."""

from __future__ import annotations

from copy import deepcopy
from datetime import date

from eventsourcing.domain import Aggregate, event

from domain import hats, trials
from domain.errors import InvalidRequest, WrongStage
from domain.formation import MISSION_LINK, check_ready_to_start, mission_link_of
from domain.inputs import choice, required_text
from domain.membership import (
    acting,
    check_can_act,
    check_can_erase,
    check_can_wear,
    check_full_participant,
    check_membership,
    check_newcomer,
    check_open,
    check_records_keeper,
    check_self_or_records_keeper,
    find_participant,
)
from domain.records import Copied, GoverningRules, HatDefinition, HatTerm, LegalEntity, Participant
from domain.rules import ConsentDecision, check_consented, check_rules, rules_from_subject
from domain.values import (
    ACTING,
    GONE,
    CircleKind,
    CircleStatus,
    HatKind,
    Level,
    Membership,
    Purpose,
)


class Circle(Copied, Aggregate):
    """A sociocratic circle and its records of people and hats."""

    # Class-level defaults: circles stored before these were recorded read them so (a
    # circle still forming must form its aim; an active one goes on as it was).
    aim_formed: bool = False
    mission_link: str | None = None

    # Founding and the status lifecycle.

    @classmethod
    def found(
        cls,
        *,
        name: str,
        aim: str,
        domain: str,
        founder_id: str,
        today: date,
        kind: str = CircleKind.GENERAL,
        parent: str | None = None,
        rules: GoverningRules | None = None,
    ) -> Circle:
        rules = rules or GoverningRules()
        check_rules(rules)
        return cls(
            name=required_text(name, "A circle needs a name"),
            aim=required_text(aim, "A circle needs an aim: what it is here to do"),
            domain=required_text(domain, "A circle needs a domain: what it decides about"),
            kind=choice(CircleKind, kind, "circle kind"),
            parent=parent,
            founder_id=required_text(founder_id, "A circle is founded by someone"),
            founded_on=today,
            rules=rules,
            hats=[deepcopy(hat) for hat in hats.STANDARD_HATS],
        )

    @event("Founded")
    def __init__(
        self,
        name: str,
        aim: str,
        domain: str,
        kind: str,
        parent: str | None,
        founder_id: str,
        founded_on: date,
        rules: GoverningRules,
        hats: list[HatDefinition],
    ) -> None:
        self.name = name
        self.aim = aim
        self.domain = domain
        self.kind = kind
        self.parent = parent
        self.founded_on = founded_on
        self.rules = rules
        self.status: str = CircleStatus.FORMING
        self.legal_entity: LegalEntity | None = None
        self.participants: dict[str, Participant] = {
            founder_id: Participant(founder_id, Level.FULL, Membership.ACTIVE, founded_on)
        }
        self.hats: dict[str, HatDefinition] = {hat.hat_id: hat for hat in hats}
        self.terms: list[HatTerm] = []

    def activate(self, by: str, today: date) -> None:
        """Start the circle's work: its aim formed together, its process hats selected."""
        check_full_participant(self, by, "start the circle's work")
        check_ready_to_start(self)
        self._activated(today)

    @event("Activated")
    def _activated(self, today: date) -> None:
        self.status = CircleStatus.ACTIVE

    def revise_aim(self, proposal: ConsentDecision) -> None:
        """While forming, the circle forms its aim together (the founder's is a draft); once
        active, it revises it, and how it links to the co-op's mission if the proposal says."""
        check_consented(self, proposal, Purpose.CHANGE_AIM)
        aim, link = str(proposal.subject["aim"]), mission_link_of(proposal.subject)
        if self.status == CircleStatus.FORMING:
            self._aim_formed(aim, link, str(proposal.id))
            return
        self._aim_revised(aim, str(proposal.id))
        if MISSION_LINK in proposal.subject:
            self._mission_link_changed(link, str(proposal.id))

    @event("AimFormed")
    def _aim_formed(self, aim: str, mission_link: str | None, proposal_id: str) -> None:
        self.aim = aim
        self.mission_link = mission_link
        self.aim_formed = True

    @event("AimRevised")
    def _aim_revised(self, aim: str, proposal_id: str) -> None:
        self.aim = aim

    @event("MissionLinkChanged")
    def _mission_link_changed(self, mission_link: str | None, proposal_id: str) -> None:
        self.mission_link = mission_link

    def change_domain(self, proposal: ConsentDecision) -> None:
        check_consented(self, proposal, Purpose.CHANGE_DOMAIN)
        self._domain_changed(str(proposal.subject["domain"]), str(proposal.id))

    @event("DomainChanged")
    def _domain_changed(self, domain: str, proposal_id: str) -> None:
        self.domain = domain

    def change_rules(self, proposal: ConsentDecision) -> None:
        check_consented(self, proposal, Purpose.CHANGE_RULES)
        rules = rules_from_subject(self.rules, proposal.subject)
        self._rules_changed(rules, str(proposal.id))

    @event("RulesChanged")
    def _rules_changed(self, rules: GoverningRules, proposal_id: str) -> None:
        self.rules = rules

    def incorporate(self, proposal: ConsentDecision) -> None:
        check_consented(self, proposal, Purpose.INCORPORATE)
        if self.status != CircleStatus.ACTIVE:
            raise WrongStage(f"Only an active circle can incorporate; this one is {self.status}")
        self._incorporated(LegalEntity.named_in(proposal.subject), str(proposal.id))

    @event("Incorporated")
    def _incorporated(self, legal_entity: LegalEntity, proposal_id: str) -> None:
        self.legal_entity = legal_entity
        self.status = CircleStatus.INCORPORATED

    def go_independent(self, proposal: ConsentDecision) -> None:
        check_consented(self, proposal, Purpose.GO_INDEPENDENT)
        if self.status not in (CircleStatus.ACTIVE, CircleStatus.INCORPORATED):
            raise WrongStage(f"A {self.status} circle cannot go its own way")
        self._went_independent(str(proposal.id))

    @event("WentIndependent")
    def _went_independent(self, proposal_id: str) -> None:
        self.status = CircleStatus.INDEPENDENT

    def dissolve(self, proposal: ConsentDecision) -> None:
        check_consented(self, proposal, Purpose.DISSOLVE)
        self._dissolved(str(proposal.id))

    @event("Dissolved")
    def _dissolved(self, proposal_id: str) -> None:
        self.status = CircleStatus.DISSOLVED
        self.terms = []

    # People come and go.

    def welcome_founder(self, by: str, person_id: str, level: str, today: date) -> None:
        check_full_participant(self, by, "welcome a founding member")
        if self.status != CircleStatus.FORMING:
            raise WrongStage("Founding members join while the circle is forming; apply instead")
        check_newcomer(self, person_id)
        self._participant_joined(person_id, choice(Level, level, "participation level"), today)

    @event("FounderJoined")
    def _participant_joined(self, person_id: str, level: str, today: date) -> None:
        self.participants[person_id] = Participant(person_id, level, Membership.ACTIVE, today)

    def receive_application(self, person_id: str, level: str, today: date) -> None:
        check_open(self)
        check_newcomer(self, person_id)
        self._applied(person_id, choice(Level, level, "participation level"), today)

    @event("Applied")
    def _applied(self, person_id: str, level: str, today: date) -> None:
        self.participants[person_id] = Participant(person_id, level, Membership.APPLIED, today)

    def start_trial(self, by: str, person_id: str, sessions: int, today: date) -> None:
        """An applicant takes part for the 1 to 3 sessions agreed, before they are admitted."""
        check_records_keeper(self, by, "start a trial")
        check_membership(self, person_id, {Membership.APPLIED}, "start a trial")
        self._trial_started(person_id, trials.check_sessions(sessions), today)

    @event("TrialStarted")
    def _trial_started(self, person_id: str, sessions: int, today: date) -> None:
        participant = self.participants[person_id]
        participant.status = Membership.TRIAL
        participant.since = today
        participant.trial_sessions = sessions

    def hold_trial_session(self, by: str, person_id: str, today: date) -> int:
        """The records keeper counts a session of someone's trial; returns its number."""
        check_records_keeper(self, by, "count a trial session")
        check_membership(self, person_id, {Membership.TRIAL}, "hold a trial session")
        number = trials.check_session_to_hold(self.participants[person_id])
        self._trial_session_held(person_id, number, today)
        return number

    @event("TrialSessionHeld")
    def _trial_session_held(self, person_id: str, number: int, today: date) -> None:
        self.participants[person_id].sessions_held = number

    def admit(self, by: str, person_id: str, level: str, today: date) -> None:
        check_records_keeper(self, by, "admit someone")
        check_membership(self, person_id, {Membership.APPLIED, Membership.TRIAL}, "be admitted")
        trials.check_trial_over(self.participants[person_id])
        self._admitted(person_id, choice(Level, level, "participation level"), today)

    @event("Admitted")
    def _admitted(self, person_id: str, level: str, today: date) -> None:
        participant = self.participants[person_id]
        participant.level = level
        participant.status = Membership.ACTIVE
        participant.since = today

    def decline(self, by: str, person_id: str, today: date) -> None:
        """Either side may end an application or a trial, without giving a reason."""
        check_self_or_records_keeper(self, by, person_id, "decline an application")
        check_membership(self, person_id, {Membership.APPLIED, Membership.TRIAL}, "be declined")
        self._membership_changed(person_id, Membership.DECLINED, today, None)

    def change_level(self, by: str, person_id: str, level: str) -> None:
        check_records_keeper(self, by, "change someone's participation level")
        check_can_act(self, person_id)
        level = choice(Level, level, "participation level")
        hats.check_level_for(self.hats_worn_by(person_id), level)
        self._level_changed(person_id, level)

    @event("LevelChanged")
    def _level_changed(self, person_id: str, level: str) -> None:
        self.participants[person_id].level = level

    def step_back(self, by: str, person_id: str, today: date, note: str | None = None) -> None:
        check_self_or_records_keeper(self, by, person_id, "record that someone steps back")
        check_membership(self, person_id, ACTING, "step back")
        self._release_hats(person_id, "stepped back")
        self._membership_changed(person_id, Membership.STEPPED_BACK, today, note)

    def welcome_back(self, by: str, person_id: str, today: date) -> None:
        check_self_or_records_keeper(self, by, person_id, "welcome someone back")
        check_membership(self, person_id, {Membership.STEPPED_BACK}, "return")
        self._membership_changed(person_id, Membership.RETURNED, today, None)

    def leave(self, by: str, person_id: str, today: date, note: str | None = None) -> None:
        """Someone leaves with dignity: their hats are released, a note of thanks is kept."""
        check_self_or_records_keeper(self, by, person_id, "record that someone leaves")
        check_membership(self, person_id, set(Membership) - GONE, "leave")
        self._release_hats(person_id, "left the circle")
        self._membership_changed(person_id, Membership.LEFT, today, note)

    def remove(self, proposal: ConsentDecision, today: date) -> None:
        check_consented(self, proposal, Purpose.REMOVE_PARTICIPANT)
        person_id = str(proposal.subject["person_id"])
        check_membership(self, person_id, set(Membership) - GONE, "be removed")
        self._release_hats(person_id, "removed by decision")
        self._membership_changed(person_id, Membership.REMOVED, today, None)

    @event("MembershipChanged")
    def _membership_changed(
        self, person_id: str, status: str, today: date, note: str | None
    ) -> None:
        participant = self.participants[person_id]
        participant.status = status
        participant.since = today
        if note:
            participant.note_of_appreciation = note

    def _release_hats(self, person_id: str, reason: str) -> None:
        for term in list(self.terms):
            if term.person_id == person_id:
                self._hat_taken_off(term.hat_id, person_id, reason)

    # Hats.

    def define_hat(
        self,
        by: str,
        name: str,
        purpose: str,
        accountabilities: list[str],
        domain: list[str],
        default_term_months: int,
        kind: str = HatKind.OPERATIONAL,
    ) -> str:
        check_full_participant(self, by, "define a hat")
        hat = hats.new_hat(
            self.hats, name, purpose, accountabilities, domain, default_term_months, kind
        )
        self._hat_defined(hat)
        return hat.hat_id

    @event("HatDefined")
    def _hat_defined(self, hat: HatDefinition) -> None:
        self.hats[hat.hat_id] = hat

    def put_on_hat(
        self,
        hat_id: str,
        person_id: str,
        started: date,
        review_date: date,
        selection_id: str | None = None,
    ) -> None:
        """Give someone a hat for a term. A process hat is worn by one person at a time."""
        check_open(self)
        check_can_wear(self, hat_id, person_id)
        if review_date <= started:
            raise InvalidRequest("A term's review date comes after its start")
        if self.hats[hat_id].kind == HatKind.PROCESS:
            for wearer in self.wearers(hat_id):
                self._hat_taken_off(hat_id, wearer, "handed on")
        self._hat_put_on(HatTerm(hat_id, person_id, started, review_date, selection_id))

    def give_selected_hat(self, selection: hats.HatChoice, today: date) -> None:
        """Carry out a consented selection: the candidate wears the hat until its review date.

        Someone re-selected for the hat they wear carries on with the new review date.
        """
        check_open(self)
        candidate, review_date = hats.chosen(selection, self.id)
        if self.wears(candidate, selection.hat_id):
            self._hat_renewed(selection.hat_id, candidate, review_date)
        else:
            self.put_on_hat(selection.hat_id, candidate, today, review_date, str(selection.id))

    @event("HatPutOn")
    def _hat_put_on(self, term: HatTerm) -> None:
        # A copy: the event's own term must never change when the term is later renewed.
        self.terms.append(deepcopy(term))

    def renew_hat(self, by: str, hat_id: str, person_id: str, review_date: date) -> None:
        """Renew a term: the circle consented (recorded by the secretary) to a further term."""
        check_records_keeper(self, by, "renew a hat's term")
        if review_date <= self.term(hat_id, person_id).review_date:
            raise InvalidRequest("A renewed term must end after the current review date")
        self._hat_renewed(hat_id, person_id, review_date)

    @event("HatRenewed")
    def _hat_renewed(self, hat_id: str, person_id: str, review_date: date) -> None:
        self.term(hat_id, person_id).review_date = review_date

    def take_off_hat(self, by: str, hat_id: str, person_id: str, reason: str) -> None:
        """A hat can always be taken off: by its wearer, or recorded by the secretary."""
        check_self_or_records_keeper(self, by, person_id, "take a hat off someone")
        self.term(hat_id, person_id)
        self._hat_taken_off(hat_id, person_id, required_text(reason, "Say why the hat comes off"))

    @event("HatTakenOff")
    def _hat_taken_off(self, hat_id: str, person_id: str, reason: str) -> None:
        self.terms = [
            t for t in self.terms if not (t.hat_id == hat_id and t.person_id == person_id)
        ]

    def record_erasure(self, by: str, person_id: str, bodies: list[str]) -> None:
        """Someone who left asked for their personal data to be erased: the circle records
        that it was (the record keeps their id only), and which published bodies named them."""
        check_can_erase(self, by, person_id)
        self._erased(person_id, bodies)

    @event("PersonalDataErased")
    def _erased(self, person_id: str, bodies: list[str]) -> None:
        self.participants[person_id].note_of_appreciation = None

    # Seats of the double link: a member circle's delegate and leader sit in this circle.

    def seat_linked(self, seat: str, today: date) -> None:
        """A seat for a linked circle's delegate or leader: a full participant of this circle,
        who answers through their own circle's node."""
        check_open(self)
        if not self._holds_seat(seat):
            self._seated(seat, today)

    @event("LinkedSeatTaken")
    def _seated(self, seat: str, today: date) -> None:
        self.participants[seat] = Participant(seat, Level.FULL, Membership.ACTIVE, today)

    def unseat_linked(self, seat: str, today: date) -> None:
        check_open(self)
        if self._holds_seat(seat):
            self._membership_changed(seat, Membership.LEFT, today, None)

    def _holds_seat(self, seat: str) -> bool:
        existing = self.participants.get(seat)
        return existing is not None and existing.status in ACTING

    # Queries (the guards that read them are in domain.membership).

    def hat(self, hat_id: str) -> HatDefinition:
        return hats.find_hat(self.hats, hat_id)

    def term(self, hat_id: str, person_id: str) -> HatTerm:
        return hats.find_term(self.hats, self.terms, hat_id, person_id)

    def wearers(self, hat_id: str) -> list[str]:
        return hats.wearers(self.terms, hat_id)

    def wears(self, person_id: str, hat_id: str) -> bool:
        return hats.wears(self.terms, person_id, hat_id)

    def hats_worn_by(self, person_id: str) -> list[str]:
        return hats.worn_by(self.terms, person_id)

    def terms_ending(self, today: date, within_days: int = 30) -> list[HatTerm]:
        """Hat terms whose review date has come or comes within `within_days`."""
        return hats.terms_ending(self.terms, today, within_days)

    def participant(self, person_id: str) -> Participant:
        return find_participant(self.participants, person_id)

    def full_participants(self) -> list[str]:
        return acting(self.participants, full=True)

    def acting_participants(self) -> list[str]:
        return acting(self.participants)
