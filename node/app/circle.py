"""The circle itself: founding it, and making it active once it has its process hats."""

from __future__ import annotations

from domain.circle import Circle
from domain.errors import InvalidRequest
from domain.person import PersonalDetails
from domain.records import GoverningRules
from domain.register import Register
from node.app.work import Work, change_circle
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
        work = self._work
        if work.is_founded:
            raise InvalidRequest("This node already has its circle")
        person = PersonalDetails.register(founder_name, founder_contact)
        circle = Circle.found(
            name=name,
            aim=aim,
            domain=domain,
            kind=kind,
            parent=parent,
            founder_id=str(person.id),
            today=work.today(),
            rules=rules,
        )
        register = Register(circle_id=circle.id)
        work.save(person, circle, register, *work.filed("person", person.id))
        return str(person.id)

    @command
    def activate_circle(self, by: str) -> None:
        change_circle(self._work, lambda c: c.activate(by, self._work.today()))
