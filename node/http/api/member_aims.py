"""Each member's aims and development goals: set by the member, read by the circle."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel, Field

from node.app.member_aims import AimsShown
from node.app.node import CircleNode
from node.http.api.auth import Node, Person
from node.http.api.errors import ERROR_RESPONSES
from node.http.api.fields import Say
from node.http.api.paging import Page, Paging, page_of
from node.http.api.threaded import ThreadedRoute

router = APIRouter(route_class=ThreadedRoute, tags=["circle and people"], responses=ERROR_RESPONSES)


class MemberAimsOut(BaseModel):
    person_id: str
    name: str
    aims: list[str] = Field(description="What they want to do in the circle")
    development_goals: list[str] = Field(description="How they want to grow")
    updated_on: date | None = Field(description="When they last set them (none: never)")


class MemberAimsIn(BaseModel):
    aims: list[Say] = Field(default_factory=list, description="What you want to do here")
    development_goals: list[Say] = Field(default_factory=list, description="How you want to grow")


def _out(node: CircleNode, shown: AimsShown) -> MemberAimsOut:
    return MemberAimsOut(
        person_id=shown.person_id,
        name=node.records.person_name(shown.person_id),
        aims=shown.aims,
        development_goals=shown.development_goals,
        updated_on=shown.updated_on,
    )


@router.get(
    "/member-aims",
    summary="Everyone's aims and development goals, as each set them out (paginated)",
)
def list_member_aims(node: Node, by: Person, paging: Paging) -> Page[MemberAimsOut]:
    return page_of([_out(node, shown) for shown in node.aims.circle_aims(by)], paging)


@router.get("/people/{person_id}/aims", summary="Someone's aims and development goals")
def get_member_aims(node: Node, by: Person, person_id: str) -> MemberAimsOut:
    return _out(node, node.aims.aims_of(by, person_id))


@router.put(
    "/people/{person_id}/aims",
    summary="Set out or change your own aims and development goals (the lists replace the old)",
)
def set_member_aims(node: Node, by: Person, person_id: str, body: MemberAimsIn) -> MemberAimsOut:
    shown = node.aims.set_aims(by, person_id, body.aims, body.development_goals)
    return _out(node, shown)
