"""Each member's aims and development goals: set and changed by the member, read by the
circle. They are personal (domain/member_aims.py): kept apart from the circle's record,
erased with the person's personal data (node/app/erasure.py), never published."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.errors import NotFound
from domain.member_aims import MemberAims, member_aims_id
from domain.membership import check_can_act
from domain.values import GONE
from node.app.work import UnitOfWork, Work
from node.store.retry import retry_on_conflict as command


@dataclass(frozen=True)
class AimsShown:
    """Someone's aims as the circle reads them (empty if they have set none)."""

    person_id: str
    aims: list[str]
    development_goals: list[str]
    updated_on: date | None


class MemberAimsBook:
    """Members keep their own aims and goals; anyone acting in the circle reads them."""

    def __init__(self, work: Work) -> None:
        self._work = work

    @command
    def set_aims(
        self, by: str, person_id: str, aims: list[str], development_goals: list[str]
    ) -> AimsShown:
        """Someone sets out or changes their own aims and development goals."""
        with UnitOfWork(self._work) as uow:
            circle = uow.shared_circle()
            kept = self._kept(person_id)
            if kept is None:
                kept = MemberAims.set_out(circle, by, person_id, aims, development_goals, uow.today)
            else:
                kept.revise(circle, by, aims, development_goals, uow.today)
            uow.add(kept)
            return _shown(person_id, kept)

    def aims_of(self, by: str, person_id: str) -> AimsShown:
        """Someone's aims, read by anyone acting in the circle."""
        circle = self._work.peek_circle()
        check_can_act(circle, by)
        if circle.participant(person_id).status in GONE:
            raise NotFound("This person has left the circle; their aims are no longer kept here")
        return _shown(person_id, self._kept(person_id))

    def circle_aims(self, by: str) -> list[AimsShown]:
        """Everyone's aims, read by anyone acting in the circle (`kept_aims`)."""
        check_can_act(self._work.peek_circle(), by)
        return self.kept_aims()

    def kept_aims(self) -> list[AimsShown]:
        """The aims of everyone in the circle who has set theirs out, in the order they
        joined (not of those who left, nor of linked circles' seats)."""
        circle = self._work.peek_circle()
        shown = []
        for participant in circle.participants.values():
            if participant.status in GONE or "/" in participant.person_id:
                continue
            kept = self._kept(participant.person_id)
            if kept is not None:
                shown.append(_shown(participant.person_id, kept))
        return shown

    def _kept(self, person_id: str) -> MemberAims | None:
        try:
            kept: MemberAims = self._work.get_record(
                MemberAims, member_aims_id(person_id), "member's aims"
            )
        except NotFound:
            return None
        return kept


def _shown(person_id: str, kept: MemberAims | None) -> AimsShown:
    if kept is None:
        return AimsShown(person_id, [], [], None)
    return AimsShown(person_id, list(kept.aims), list(kept.development_goals), kept.updated_on)
