"""What linked circles sent this one: at a co-op, each member circle's records (aim, hats with
their wearers and back-stops), its decisions in force and due for review (from its public
decision records) and its meetings' minutes; at a member circle, its co-op's. Anyone signed
in here reads them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from node.app.linked_circles import LinkedCircle
from node.http.api.auth import Node, Person
from node.http.api.errors import ERROR_RESPONSES
from node.http.api.paging import Page, Paging, page_of
from node.http.api.threaded import ThreadedRoute

router = APIRouter(route_class=ThreadedRoute, tags=["other circles"], responses=ERROR_RESPONSES)


class WearerOut(BaseModel):
    person: str = Field(description="Their id in that circle")
    name: str
    review_date: date = Field(description="When their term is reviewed")


class LinkedHatOut(BaseModel):
    hat: str = Field(description="The hat's id in that circle")
    title: str = Field(description="The hat's name")
    wearers: list[WearerOut]
    back_stop: str | None = Field(description="Who steps in when a wearer cannot (their id)")
    back_stop_name: str


class LinkedCircleOut(BaseModel):
    circle: str = Field(description="The circle's node id")
    name: str
    link: str = Field(
        description="member (part of this circle), coop (this circle is part of it), or "
        "withdrawn (one of them was part of the other, and went its own way)"
    )
    aim: str | None = Field(description="Its aim, as it last sent its records (None: not yet)")
    mission_link: str | None = Field(description="How its aim serves the co-op's mission")
    status: str | None
    hats: list[LinkedHatOut]
    minutes: int = Field(description="How many meetings' minutes it sent")


def _out(linked: LinkedCircle) -> LinkedCircleOut:
    records: dict[str, Any] = linked.records
    return LinkedCircleOut(
        circle=linked.circle,
        name=linked.name,
        link=linked.link,
        aim=records.get("aim"),
        mission_link=records.get("mission_link"),
        status=records.get("status"),
        hats=[LinkedHatOut(**hat) for hat in records.get("hats", [])],
        minutes=linked.minutes,
    )


@router.get(
    "/linked-circles",
    summary="The member circles of this one (and the co-ops it is part of), with the records "
    "they sent (paginated)",
)
def list_linked_circles(node: Node, by: Person, paging: Paging) -> Page[LinkedCircleOut]:
    return page_of([_out(linked) for linked in node.linked.linked_circles()], paging)


@router.get("/linked-circles/{circle}", summary="A linked circle's records, as it sent them")
def get_linked_circle(node: Node, by: Person, circle: str) -> LinkedCircleOut:
    return _out(node.linked.linked_circle(circle))


class LinkedDecisionOut(BaseModel):
    decision: str = Field(description="The decision's id in that circle")
    kind: str = Field(description="policy or operational (everyday)")
    title: str
    text: str
    status: str
    review_date: date
    review_due: bool


@router.get(
    "/linked-circles/{circle}/decisions",
    summary="A linked circle's policies and everyday decisions in force, soonest review first "
    "(paginated)",
)
def linked_decisions(
    node: Node,
    by: Person,
    circle: str,
    paging: Paging,
    reviews_due: Annotated[bool, Query(description="Only those due for review")] = False,
) -> Page[LinkedDecisionOut]:
    decisions = node.linked.decisions(circle, reviews_due)
    return page_of([LinkedDecisionOut(**vars(d)) for d in decisions], paging)


class MinutesItemOut(BaseModel):
    title: str
    outcome: str


class LinkedMinutesOut(BaseModel):
    meeting: str = Field(description="The meeting's id in that circle")
    title: str
    held_on: date
    items: list[MinutesItemOut] = Field(description="The items decided (never a confidential one)")
    minutes: str


@router.get(
    "/linked-circles/{circle}/minutes",
    summary="The minutes a member circle sent, the latest first (paginated)",
)
def linked_minutes(node: Node, by: Person, circle: str, paging: Paging) -> Page[LinkedMinutesOut]:
    found, total = node.linked.minutes(circle, paging.offset, paging.limit)
    items = [
        LinkedMinutesOut(
            meeting=m.meeting,
            title=m.title,
            held_on=m.held_on,
            items=[MinutesItemOut(**item) for item in m.items],
            minutes=m.minutes,
        )
        for m in found
    ]
    return Page[LinkedMinutesOut](
        items=items, total=total, offset=paging.offset, limit=paging.limit
    )
