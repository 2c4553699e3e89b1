"""Hats and who wears them: defining hats, the selection process, renewing and taking off,
and the terms that are ending."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from domain.circle import Circle
from domain.records import HatDefinition, HatTerm
from domain.selection import HatSelection
from node.app.node import CircleNode
from node.http.api.auth import Node, Person
from node.http.api.consent import ProcessFields, process_fields
from node.http.api.errors import ERROR_RESPONSES
from node.http.api.fields import Ref, Say, Title, aware, name_of
from node.http.api.paging import Page, Paging, page_of, window_of
from node.http.api.threaded import ThreadedRoute

router = APIRouter(route_class=ThreadedRoute, tags=["hats"], responses=ERROR_RESPONSES)


class Wearer(BaseModel):
    person_id: str
    name: str
    started: date
    review_date: date = Field(description="When the term is reviewed")
    selection_id: str | None = Field(description="The selection that gave the hat, if any")


class BackStop(BaseModel):
    person_id: str
    name: str


class HatView(BaseModel):
    hat_id: str
    name: str
    purpose: str
    accountabilities: list[str]
    domain: list[str] = Field(description="The areas its wearer may take everyday decisions in")
    default_term_months: int
    kind: str = Field(description="process, operational or team")
    wearers: list[Wearer] = Field(description="Who wears it now, and their terms")
    back_stop: BackStop | None = Field(
        None, description="Who steps in when a wearer cannot, if the circle named someone"
    )


def hat_view(node: CircleNode, hat_id: str) -> HatView:
    circle = node.records.peek_circle()
    return _hat_view(node, circle, circle.hat(hat_id))


def _hat_view(node: CircleNode, circle: Circle, hat: HatDefinition) -> HatView:
    return HatView(
        hat_id=hat.hat_id,
        name=hat.name,
        purpose=hat.purpose,
        accountabilities=list(hat.accountabilities),
        domain=list(hat.domain),
        default_term_months=hat.default_term_months,
        kind=str(hat.kind),
        wearers=[_wearer(node, t) for t in circle.terms if t.hat_id == hat.hat_id],
        back_stop=_back_stop(node, circle, hat.hat_id),
    )


def _back_stop(node: CircleNode, circle: Circle, hat_id: str) -> BackStop | None:
    stops = node.hats.back_stops()
    person_id = stops.back_stop(circle, hat_id) if stops is not None else None
    if person_id is None:
        return None
    return BackStop(person_id=person_id, name=name_of(node, person_id))


def _wearer(node: CircleNode, term: HatTerm) -> Wearer:
    return Wearer(
        person_id=term.person_id,
        name=name_of(node, term.person_id),
        started=term.started,
        review_date=term.review_date,
        selection_id=term.selection_id,
    )


@router.get("/hats", summary="The circle's hats, with who wears them until when (paginated)")
def list_hats(node: Node, by: Person, paging: Paging) -> Page[HatView]:
    circle = node.records.peek_circle()
    return page_of([_hat_view(node, circle, h) for h in circle.hats.values()], paging)


@router.get("/hats/{hat_id}", summary="One hat, with who wears it until when")
def get_hat(node: Node, by: Person, hat_id: str) -> HatView:
    return hat_view(node, hat_id)


class HatDefinitionIn(BaseModel):
    name: Title
    purpose: Say
    accountabilities: list[Say] = Field(default_factory=list, max_length=50)
    domain: list[Title] = Field(
        default_factory=list,
        max_length=50,
        description="Areas its wearer decides in (required for an operational hat)",
    )
    default_term_months: int = Field(12, description="Between 1 and 60")
    kind: str = Field("operational", description="process, operational or team")


@router.post(
    "/hats",
    status_code=status.HTTP_201_CREATED,
    summary="Define a hat (a full participant); its id is made from its name",
)
def define_hat(node: Node, by: Person, body: HatDefinitionIn) -> HatView:
    hat_id = node.hats.define_hat(
        by,
        body.name,
        body.purpose,
        body.accountabilities,
        body.domain,
        body.default_term_months,
        body.kind,
    )
    return hat_view(node, hat_id)


class Renewal(BaseModel):
    person_id: Ref
    review_date: date = Field(description="The new review date, after the current one")


@router.post(
    "/hats/{hat_id}/renewals",
    summary="Renew someone's term (the secretary records the circle's consent)",
)
def renew_hat(node: Node, by: Person, hat_id: str, body: Renewal) -> HatView:
    node.hats.renew_hat(by, hat_id, body.person_id, body.review_date)
    return hat_view(node, hat_id)


class BackStopIn(BaseModel):
    person_id: Ref = Field(description="Who steps in when the hat's wearer cannot")


@router.post(
    "/hats/{hat_id}/back-stop",
    summary="Record the hat's back-stop the circle named (the secretary), replacing any other",
)
def name_back_stop(node: Node, by: Person, hat_id: str, body: BackStopIn) -> HatView:
    node.hats.name_back_stop(by, hat_id, body.person_id)
    return hat_view(node, hat_id)


@router.delete(
    "/hats/{hat_id}/back-stop",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Record that the circle names no back-stop for the hat any more (the secretary)",
)
def clear_back_stop(node: Node, by: Person, hat_id: str) -> None:
    node.hats.clear_back_stop(by, hat_id)


class TakeOff(BaseModel):
    person_id: Ref
    reason: Say


@router.post(
    "/hats/{hat_id}/take-off",
    summary="Take a hat off: its wearer, or the secretary records it",
)
def take_off_hat(node: Node, by: Person, hat_id: str, body: TakeOff) -> HatView:
    node.hats.take_off_hat(by, hat_id, body.person_id, body.reason)
    return hat_view(node, hat_id)


class TermEnding(BaseModel):
    hat_id: str
    hat_name: str
    person_id: str
    name: str
    started: date
    review_date: date


@router.get("/terms-ending", summary="Hat terms whose review date has come or comes soon")
def terms_ending(
    node: Node,
    by: Person,
    paging: Paging,
    within_days: Annotated[
        int, Query(ge=0, le=3660, description="How far ahead to look, in days")
    ] = 30,
) -> Page[TermEnding]:
    circle = node.records.peek_circle()
    terms = [
        TermEnding(
            hat_id=t.hat_id,
            hat_name=circle.hat(t.hat_id).name,
            person_id=t.person_id,
            name=name_of(node, t.person_id),
            started=t.started,
            review_date=t.review_date,
        )
        for t in node.hats.hat_terms_ending(within_days)
    ]
    return page_of(terms, paging)


# Selections.


class NominationOut(BaseModel):
    nominator: str
    nominee: str
    reason: str
    changed: bool = Field(description="Changed in the change round")


class SelectionOut(ProcessFields):
    kind: Literal["selection"] = "selection"
    hat_id: str
    hat_name: str
    nominations: list[NominationOut]
    candidate: str | None
    candidate_reason: str


def selection_out(circle: Circle, selection: HatSelection) -> SelectionOut:
    hat = circle.hats.get(selection.hat_id)
    return SelectionOut(
        **process_fields(circle, selection),
        hat_id=selection.hat_id,
        hat_name=hat.name if hat else selection.hat_id,
        nominations=[NominationOut(**vars(n)) for n in selection.nominations.values()],
        candidate=selection.candidate,
        candidate_reason=selection.candidate_reason,
    )


@router.get("/selections", summary="Hat selections, open and past (paginated)")
def list_selections(node: Node, by: Person, paging: Paging) -> Page[SelectionOut]:
    circle = node.records.peek_circle()
    window, total = node.records.window("selection", HatSelection, paging.offset, paging.limit)
    return window_of([selection_out(circle, s) for s in window], total, paging)


@router.get(
    "/selections/{selection_id}",
    summary="One selection: nominations, candidate, consent rounds",
)
def get_selection(node: Node, by: Person, selection_id: str) -> SelectionOut:
    return selection_out(node.records.peek_circle(), node.records.get_selection(selection_id))


class SelectionIn(BaseModel):
    hat_id: Ref
    review_date: date | None = Field(
        None, description="When the term is reviewed (default: the hat's default term)"
    )
    mode: str = Field("meeting", description="meeting or async")
    deadline: datetime | None = Field(
        None, description="For an asynchronous selection: with a time zone"
    )


@router.post(
    "/selections",
    status_code=status.HTTP_201_CREATED,
    summary="Open a selection for a hat (the facilitator)",
)
def open_selection(node: Node, by: Person, body: SelectionIn) -> SelectionOut:
    selection_id = node.hats.open_selection(
        by,
        body.hat_id,
        review_date=body.review_date,
        mode=body.mode,
        deadline=aware(body.deadline, "deadline"),
    )
    return selection_out(node.records.peek_circle(), node.records.get_selection(selection_id))


class NominationIn(BaseModel):
    nominee: Ref = Field(description="The person id of who you nominate")
    reason: Say


@router.post(
    "/selections/{selection_id}/nominations",
    status_code=status.HTTP_201_CREATED,
    summary="Nominate someone, with a reason (full and learning participants)",
)
def nominate(node: Node, by: Person, selection_id: str, body: NominationIn) -> NominationOut:
    node.hats.nominate(by, selection_id, body.nominee, body.reason)
    return _nomination(node, selection_id, by)


@router.post(
    "/selections/{selection_id}/change-round",
    summary="Open the change round (the facilitator)",
)
def open_change_round(node: Node, by: Person, selection_id: str) -> SelectionOut:
    node.hats.open_change_round(by, selection_id)
    return selection_out(node.records.peek_circle(), node.records.get_selection(selection_id))


@router.post(
    "/selections/{selection_id}/change-nomination",
    summary="Change your nomination in the change round, with a reason",
)
def change_nomination(
    node: Node, by: Person, selection_id: str, body: NominationIn
) -> NominationOut:
    node.hats.change_nomination(by, selection_id, body.nominee, body.reason)
    return _nomination(node, selection_id, by)


def _nomination(node: CircleNode, selection_id: str, nominator: str) -> NominationOut:
    return NominationOut(**vars(node.records.get_selection(selection_id).nominations[nominator]))


class CandidateIn(BaseModel):
    candidate: Ref = Field(description="A nominee's person id")
    reason: Say


@router.post(
    "/selections/{selection_id}/candidate",
    summary="Propose a nominee as candidate (the facilitator); the consent round opens",
)
def propose_candidate(node: Node, by: Person, selection_id: str, body: CandidateIn) -> SelectionOut:
    node.hats.propose_candidate(by, selection_id, body.candidate, body.reason)
    return selection_out(node.records.peek_circle(), node.records.get_selection(selection_id))
