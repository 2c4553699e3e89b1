"""How a circle starts: the aim it was founded with is a draft, formed together by consent
while the circle is forming (with how it links to the co-op's mission), and the circle starts
its work once its aim is formed and its facilitator and secretary are selected.

Until then, whoever is a full participant runs the process and keeps the records
(`check_facilitator`, `check_records_keeper` in domain.membership).
"""

from __future__ import annotations

from typing import Any, Protocol

from domain.errors import InvalidRequest, WrongStage
from domain.hats import FACILITATOR, SECRETARY, find_hat, wearers
from domain.membership import CircleRecords
from domain.values import CircleStatus

MISSION_LINK = "mission_link"


class FormingCircle(CircleRecords, Protocol):
    """What the start of a circle reads of it, besides its records: whether its aim was
    formed together."""

    @property
    def aim_formed(self) -> bool: ...


def mission_link_of(subject: dict[str, Any]) -> str | None:
    """How a change-aim proposal says the aim links to the co-op's mission: its text, or None
    where it says nothing (an empty text says nothing too)."""
    link = subject.get(MISSION_LINK)
    if link is None:
        return None
    if not isinstance(link, str):
        raise InvalidRequest("mission_link is a text: how the aim links to the co-op's mission")
    return link.strip() or None


def check_ready_to_start(circle: FormingCircle) -> None:
    """A forming circle starts its work once it has formed its aim together and selected
    its facilitator and secretary."""
    if circle.status != CircleStatus.FORMING:
        raise WrongStage(f"The circle is already {circle.status}")
    if not circle.aim_formed:
        raise WrongStage(
            "Form the circle's aim together first: a proposal to change the aim (saying how "
            "it links to the co-op's mission), consented while the circle is forming"
        )
    for hat_id in (FACILITATOR, SECRETARY):
        if not wearers(circle.terms, hat_id):
            name = find_hat(circle.hats, hat_id).name.lower()
            raise WrongStage(f"Select a {name} before the circle starts its work")
