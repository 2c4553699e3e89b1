"""The circle itself: founding it, and making it active once it has its process hats."""

from __future__ import annotations

from domain.circle import Circle
from domain.errors import InvalidRequest
from domain.person import PersonalDetails
from domain.records import GoverningRules
from domain.register import Register
from node.app.work import UnitOfWork, Work
from node.store.retry import retry_on_conflict as command


class CircleCommands:
    """Founding the node's circle and activating it."""

    def __init__(self, work: Work) -> None:
        self._work = work

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
        if self._work.is_founded:
            raise InvalidRequest("This node already has its circle")
        with UnitOfWork(self._work) as uow:
            person = PersonalDetails.register(founder_name, founder_contact)
            circle = Circle.found(
                name=name,
                aim=aim,
                domain=domain,
                kind=kind,
                parent=parent,
                founder_id=str(person.id),
                today=uow.today,
                rules=rules,
            )
            uow.add(person, circle, Register(circle_id=circle.id))
            uow.add(*self._work.filed("person", person.id))
            return str(person.id)

    @command
    def activate_circle(self, by: str) -> None:
        with UnitOfWork(self._work) as uow:
            uow.circle().activate(by, uow.today)
