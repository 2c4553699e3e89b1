"""Appeals: against the circle's decisions (lodged, joined, heard by the circle, taken to its
care and counsel group and its broader circle), appeals other circles took to this one to hear,
and appeals made from here against a linked circle's decision."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from domain.appeal import Appeal, Role
from node.http.api.auth import Node, Person
from node.http.api.errors import ERROR_RESPONSES
from node.http.api.fields import Ref, Say
from node.http.api.paging import Page, Paging, page_of
from node.http.api.threaded import ThreadedRoute

router = APIRouter(route_class=ThreadedRoute, tags=["appeals"], responses=ERROR_RESPONSES)


class AppealAnswerOut(BaseModel):
    hearing: str = Field(description="Who answered: circle, care_and_counsel or broader_circle")
    upheld: bool
    reason: str
    by: str = Field(description="The facilitator who recorded it, or the answering circle")


class AppellantOut(BaseModel):
    person: str = Field(
        description="Their person id here, or '<node id>/<person id>' for someone of a "
        "linked circle"
    )
    grounds: str = Field(description="Their own grounds (blank: those of the appeal)")


class AppealOut(BaseModel):
    id: str
    role: str = Field(
        description="against_us (a decision of this circle), referred_to_us (another circle "
        "took it to this one to hear) or sent (made from here against a linked circle's)"
    )
    status: str = Field(
        description="gathering, being_heard, upheld, not_upheld, sent (its outcome is read at "
        "the circle appealed to) or withdrawn"
    )
    hearing: str = Field(description="Who hears it now, or heard it last")
    final: bool = Field(description="Upheld, or answered at its last step")
    decision_id: str = Field(description="The decision appealed (on its circle's node)")
    title: str = Field(description="The decision's title")
    text: str = Field(description="The decision's text")
    grounds: str
    appellants: list[AppellantOut] = Field(
        description="Against us or sent: who appeals ('erased-<n>', without grounds, for an "
        "appellant whose personal data was erased)"
    )
    appellant_count: int
    origin: str | None = Field(
        description="Referred: the circle whose decision it is; sent: the circle appealed to"
    )
    referred_to: str | None = Field(description="Against us: the circle hearing it now")
    delegates: list[str] = Field(description="Referred: the deciding circle's delegates, by id")
    answers: list[AppealAnswerOut]
    proposal_id: str | None = Field(description="The proposal an upheld appeal opened")


def appeal_out(appeal: Appeal) -> AppealOut:
    return AppealOut(
        id=str(appeal.id),
        role=appeal.role,
        status=appeal.status,
        hearing=appeal.hearing,
        final=appeal.is_final,
        decision_id=appeal.decision_id,
        title=appeal.title,
        text=appeal.text,
        grounds=appeal.grounds,
        appellants=[AppellantOut(person=p, grounds=g) for p, g in appeal.appellants.items()],
        appellant_count=appeal.appellant_count,
        origin=appeal.origin,
        referred_to=appeal.referred_to,
        delegates=list(appeal.delegates),
        answers=[
            AppealAnswerOut(hearing=a.hearing, upheld=a.upheld, reason=a.reason, by=a.by)
            for a in appeal.answers
        ],
        proposal_id=appeal.proposal_id,
    )


@router.get("/appeals", summary="The circle's appeals, in every role (paginated)")
def list_appeals(
    node: Node,
    by: Person,
    paging: Paging,
    role: Annotated[Role | None, Query(description="Only appeals of this role")] = None,
) -> Page[AppealOut]:
    appeals = [appeal_out(a) for a in node.appeals.appeals() if role in (None, a.role)]
    return page_of(appeals, paging)


@router.get("/appeals/{appeal_id}", summary="One appeal")
def get_appeal(node: Node, by: Person, appeal_id: str) -> AppealOut:
    return appeal_out(node.appeals.get_appeal(appeal_id))


class AppealLodgeIn(BaseModel):
    decision_id: Ref = Field(description="The decision of this circle you appeal")
    grounds: Say = Field(description="Why the decision should change")


@router.post(
    "/appeals",
    status_code=status.HTTP_201_CREATED,
    summary="Appeal a decision of the circle you took no part in making (the first of three)",
)
def lodge_appeal(node: Node, by: Person, body: AppealLodgeIn) -> AppealOut:
    appeal_id = node.appeals.lodge(by, body.decision_id, body.grounds)
    return appeal_out(node.appeals.get_appeal(appeal_id))


class AppealJoinIn(BaseModel):
    grounds: Say = Field("", description="Your own grounds, if you add any")


@router.post("/appeals/{appeal_id}/join", summary="Join an appeal gathering its appellants")
def join_appeal(node: Node, by: Person, appeal_id: str, body: AppealJoinIn) -> AppealOut:
    node.appeals.join(by, appeal_id, body.grounds)
    return appeal_out(node.appeals.get_appeal(appeal_id))


class AppealAnswerIn(BaseModel):
    upheld: bool = Field(description="Whether the appeal is upheld")
    reason: Say = Field(description="Why")


class CircleAppealAnswerIn(AppealAnswerIn):
    revoke: bool = Field(
        False, description="Upheld: propose to revoke the decision rather than amend it"
    )


@router.post(
    "/appeals/{appeal_id}/circle-answer",
    summary="The facilitator records the circle's answer (upheld: a proposal to change it opens)",
)
def record_circle_answer(
    node: Node, by: Person, appeal_id: str, body: CircleAppealAnswerIn
) -> AppealOut:
    node.appeals.answer_as_circle(by, appeal_id, body.upheld, body.reason, revoke=body.revoke)
    return appeal_out(node.appeals.get_appeal(appeal_id))


@router.post(
    "/appeals/{appeal_id}/take-further",
    summary="An appellant takes it to the care and counsel group, then the broader circle",
)
def take_further(node: Node, by: Person, appeal_id: str) -> AppealOut:
    node.appeals.take_further(by, appeal_id)
    return appeal_out(node.appeals.get_appeal(appeal_id))


class AppealAmendmentIn(BaseModel):
    text: Say = Field(description="What the proposal to change the decision says")
    revoke: bool = Field(False, description="Propose to revoke it rather than amend it")


@router.post(
    "/appeals/{appeal_id}/amendment",
    summary="After an upheld answer from elsewhere, the facilitator opens a proposal to change it",
)
def open_amendment(node: Node, by: Person, appeal_id: str, body: AppealAmendmentIn) -> AppealOut:
    node.appeals.open_amendment(by, appeal_id, body.text, revoke=body.revoke)
    return appeal_out(node.appeals.get_appeal(appeal_id))


@router.post(
    "/appeals/{appeal_id}/answer",
    summary="The facilitator records this circle's answer to an appeal taken to it",
)
def answer_referral(node: Node, by: Person, appeal_id: str, body: AppealAnswerIn) -> AppealOut:
    node.appeals.answer_referral(by, appeal_id, body.upheld, body.reason)
    return appeal_out(node.appeals.get_appeal(appeal_id))


class AppealElsewhereIn(BaseModel):
    circle: Ref = Field(description="The linked circle whose decision you appeal (its node id)")
    decision_id: Ref = Field(description="The decision's id on that circle's node")
    grounds: Say = Field(description="Why the decision should change")


@router.post(
    "/appeals/elsewhere",
    status_code=status.HTTP_201_CREATED,
    summary="Appeal a linked circle's decision: the appeal goes to its node",
)
def appeal_elsewhere(node: Node, by: Person, body: AppealElsewhereIn) -> AppealOut:
    appeal_id = node.appeals.appeal_elsewhere(by, body.circle, body.decision_id, body.grounds)
    return appeal_out(node.appeals.get_appeal(appeal_id))


class AppealWithdrawIn(BaseModel):
    reason: Say = Field(description="Why the appeal is withdrawn")


@router.post(
    "/appeals/{appeal_id}/withdraw",
    summary="An appellant withdraws the appeal, at any stage before its final answer",
)
def withdraw_appeal(node: Node, by: Person, appeal_id: str, body: AppealWithdrawIn) -> AppealOut:
    node.appeals.withdraw(by, appeal_id, body.reason)
    return appeal_out(node.appeals.get_appeal(appeal_id))
