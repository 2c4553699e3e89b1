"""Meetings: absences told ahead, attendance, the agenda consented (some items confidential),
items decided, minutes consented (their confidential part kept apart).

A confidential item is for full and learning participants: the guests present leave for it
(the facilitator asks them to, and the meeting records who left), and the item's title, its
outcome and the minutes of confidential items are read by full and learning participants
only (`reads_confidential`). They are recorded by events of their own (`ConfidentialItemsNamed`,
`ConfidentialItemDecided`, `ConfidentialMinutesRecorded`), so that what reads the record by
event class can leave them out; `minutes` never holds confidential text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.circle import Circle
from domain.errors import InvalidRequest, WrongStage
from domain.inputs import required_text
from domain.membership import (
    check_can_act,
    check_facilitator,
    check_full_participant,
    check_open,
    check_records_keeper,
    check_self_or_records_keeper,
)
from domain.records import AbsenceNotice, AgendaItem, Copied
from domain.values import ACTING, Level, MeetingStage


def reads_confidential(level: str) -> bool:
    """Whether a participant of this level reads confidential items and their minutes: full
    and learning participants do, guests do not."""
    return level in (Level.FULL, Level.LEARNING)


def _reads_confidential_now(circle: Circle, person_id: str) -> bool:
    participant = circle.participants.get(person_id)
    return (
        participant is not None
        and participant.status in ACTING
        and reads_confidential(participant.level)
    )


# A meeting starting now, or begun a little before the facilitator records it, is still
# planned: a time entered to the minute, or a clock read a moment earlier, is not the past.
STARTED_JUST_NOW = timedelta(hours=1)


def check_not_past(when: datetime, now: datetime) -> None:
    if when < now - STARTED_JUST_NOW:
        raise InvalidRequest(
            "A meeting cannot be planned in the past: give the time it will take place"
        )


_NO_ABSENCES: list[AbsenceNotice] = []
_NO_TEXT: str | None = None


class Meeting(Copied, Aggregate):
    # Meetings stored before absences could be told, or minutes had a confidential part, read
    # these: none. Unannotated (an annotated class attribute makes the aggregate a dataclass
    # field); mutators assign new values, never change these in place.
    absences = _NO_ABSENCES
    confidential_minutes = _NO_TEXT

    @classmethod
    def schedule(
        cls, circle: Circle, by: str, title: str, when: datetime, now: datetime
    ) -> Meeting:
        """The facilitator plans a meeting at `when`, which has not passed at `now`."""
        check_facilitator(circle, by, "schedule a meeting")
        check_not_past(when, now)
        return cls(
            circle_id=circle.id,
            title=required_text(title, "A meeting needs a title"),
            when=when,
            scheduled_by=by,
        )

    @event("Scheduled")
    def __init__(self, circle_id: UUID, title: str, when: datetime, scheduled_by: str) -> None:
        self.circle_id = circle_id
        self.title = title
        self.when = when
        self.stage: str = MeetingStage.PLANNED
        self.present: list[str] = []
        self.absent: list[str] = []
        self.agenda: list[AgendaItem] = []
        self.minutes: str | None = None

    # Before the meeting: absences told.

    def tell_absence(
        self, circle: Circle, by: str, person_id: str, note: str | None = None
    ) -> None:
        """A full participant tells the secretary they will be absent: themselves, or the
        records keeper records it for them."""
        self._check(circle, MeetingStage.PLANNED, "record an absence")
        check_self_or_records_keeper(circle, by, person_id, "record someone else's absence")
        check_full_participant(circle, person_id, "tell the secretary they will be absent")
        if person_id in self.told_absent:
            raise WrongStage("This person has already told the secretary they will be absent")
        self._absence_told(person_id, by, (note or "").strip() or None)

    @event("AbsenceTold")
    def _absence_told(self, person_id: str, by: str, note: str | None) -> None:
        self.absences = [*self.absences, AbsenceNotice(person_id, by, note)]

    @property
    def told_absent(self) -> list[str]:
        """Who told the secretary ahead that they would be absent."""
        return [notice.person_id for notice in self.absences]

    @property
    def absent_with_notice(self) -> list[str]:
        """Who did not come and had told the secretary so (one who told, then came, is
        present)."""
        told = set(self.told_absent)
        return [p for p in self.absent if p in told]

    @property
    def absent_without_notice(self) -> list[str]:
        told = set(self.told_absent)
        return [p for p in self.absent if p not in told]

    # The meeting.

    def record_attendance(self, circle: Circle, by: str, present: list[str]) -> None:
        """Who came; the participants who did not are recorded as absent."""
        self._check(circle, MeetingStage.PLANNED, "record attendance")
        check_records_keeper(circle, by, "record attendance")
        if not present:
            raise InvalidRequest("A meeting needs someone present")
        for person_id in present:
            check_can_act(circle, person_id)
        absent = [p for p in circle.acting_participants() if p not in present]
        self._attendance_recorded(sorted(set(present)), absent)

    @event("AttendanceRecorded")
    def _attendance_recorded(self, present: list[str], absent: list[str]) -> None:
        self.present = present
        self.absent = absent
        self.stage = MeetingStage.OPEN

    def consent_agenda(self, circle: Circle, by: str, items: Sequence[str | AgendaItem]) -> None:
        """The agenda the meeting consented to: titles, or items some of which are
        confidential. Blank titles are left out."""
        self._check(circle, MeetingStage.OPEN, "consent to the agenda")
        check_facilitator(circle, by, "record the agenda's consent")
        agenda = [
            AgendaItem(item.strip())
            if isinstance(item, str)
            else AgendaItem(item.title.strip(), confidential=item.confidential)
            for item in items
        ]
        agenda = [item for item in agenda if item.title]
        if not agenda:
            raise InvalidRequest("An agenda needs at least one item")
        if not any(item.confidential for item in agenda):
            self._agenda_consented([item.title for item in agenda])
            return
        # Told in two events: the agenda as everyone reads it, then the confidential titles.
        self._agenda_with_confidential_items_consented(
            [None if item.confidential else item.title for item in agenda]
        )
        self._confidential_items_named([item.title for item in agenda if item.confidential])

    @event("AgendaConsented")
    def _agenda_consented(self, items: list[str]) -> None:
        self.agenda = [AgendaItem(title) for title in items]
        self.stage = MeetingStage.AGENDA_CONSENTED

    @event("AgendaWithConfidentialItemsConsented")
    def _agenda_with_confidential_items_consented(self, items: list[str | None]) -> None:
        """`items`: the open items' titles, None where a confidential item stands."""
        self.agenda = [
            AgendaItem(title) if title is not None else AgendaItem("", confidential=True)
            for title in items
        ]
        self.stage = MeetingStage.AGENDA_CONSENTED

    @event("ConfidentialItemsNamed")
    def _confidential_items_named(self, titles: list[str]) -> None:
        confidential = [item for item in self.agenda if item.confidential]
        for item, title in zip(confidential, titles, strict=True):
            item.title = title

    @property
    def open_agenda(self) -> list[tuple[int, AgendaItem]]:
        """The agenda items anyone may read, by number: all but the confidential ones (what
        may leave the node, with `minutes`)."""
        return [(n, item) for n, item in enumerate(self.agenda, start=1) if not item.confidential]

    def ask_guests_to_leave(self, circle: Circle, by: str, number: int) -> None:
        """The facilitator takes a confidential item: the guests present leave for it."""
        self._check(circle, MeetingStage.AGENDA_CONSENTED, "ask the guests to leave")
        check_facilitator(circle, by, "ask the guests to leave")
        item = self._item(number)
        if not item.confidential:
            raise InvalidRequest(f"Item {number} is not confidential: the guests stay for it")
        if item.guests_left is not None:
            raise WrongStage(f"The guests have already left for item {number}")
        if item.outcome is not None:
            raise WrongStage(f"Item {number} is decided already")
        self._guests_left(number, self._guests_present(circle))

    @event("GuestsLeft")
    def _guests_left(self, number: int, guests: list[str]) -> None:
        # Names no confidential title: who left, and for which item number.
        self.agenda[number - 1].guests_left = guests

    def record_item_decided(
        self, circle: Circle, by: str, number: int, outcome: str, reference: str | None = None
    ) -> None:
        self._check(circle, MeetingStage.AGENDA_CONSENTED, "record an item's outcome")
        check_records_keeper(circle, by, "record an item's outcome")
        item = self._item(number)
        outcome = required_text(outcome, "Say what was decided")
        if not item.confidential:
            self._item_decided(number, outcome, reference)
            return
        if item.guests_left is None and self._guests_present(circle):
            raise WrongStage(
                f"Item {number} is confidential: the facilitator asks the guests to leave "
                "before it is taken"
            )
        self._confidential_item_decided(number, outcome, reference)

    @event("ItemDecided")
    def _item_decided(self, number: int, outcome: str, reference: str | None) -> None:
        self._set_outcome(number, outcome, reference)

    @event("ConfidentialItemDecided")
    def _confidential_item_decided(self, number: int, outcome: str, reference: str | None) -> None:
        self._set_outcome(number, outcome, reference)

    def _set_outcome(self, number: int, outcome: str, reference: str | None) -> None:
        item = self.agenda[number - 1]
        item.outcome = outcome
        item.reference = reference

    def record_minutes(
        self, circle: Circle, by: str, text: str, confidential_text: str | None = None
    ) -> None:
        """The minutes; those of confidential items apart, in `confidential_text`."""
        self._check(circle, MeetingStage.AGENDA_CONSENTED, "record minutes")
        check_records_keeper(circle, by, "record minutes")
        text = required_text(text, "Minutes need their text")
        confidential_text = (confidential_text or "").strip() or None
        if confidential_text is not None:
            if not any(item.confidential for item in self.agenda):
                raise InvalidRequest(
                    "Only confidential items have confidential minutes, and the agenda has none"
                )
            self._confidential_minutes_recorded(confidential_text)
        self._minutes_recorded(text)

    @event("ConfidentialMinutesRecorded")
    def _confidential_minutes_recorded(self, text: str) -> None:
        self.confidential_minutes = text

    @event("MinutesRecorded")
    def _minutes_recorded(self, text: str) -> None:
        self.minutes = text
        self.stage = MeetingStage.MINUTES_RECORDED

    def consent_minutes(self, circle: Circle, by: str) -> None:
        self._check(circle, MeetingStage.MINUTES_RECORDED, "consent to the minutes")
        check_facilitator(circle, by, "record the minutes' consent")
        self._minutes_consented()

    @event("MinutesConsented")
    def _minutes_consented(self) -> None:
        self.stage = MeetingStage.CLOSED

    def _item(self, number: int) -> AgendaItem:
        if not 1 <= number <= len(self.agenda):
            raise InvalidRequest(f"The agenda has no item {number}")
        return self.agenda[number - 1]

    def _guests_present(self, circle: Circle) -> list[str]:
        """Who is present and may not hear a confidential item: anyone but the full and
        learning participants acting in the circle now."""
        return [p for p in self.present if not _reads_confidential_now(circle, p)]

    def _check(self, circle: Circle, stage: str, doing: str) -> None:
        if circle.id != self.circle_id:
            raise InvalidRequest("That meeting belongs to another circle")
        check_open(circle)
        if self.stage != stage:
            raise WrongStage(f"Cannot {doing}: the meeting is {self.stage.replace('_', ' ')}")
