"""The circle's decisions: the list with the reviews that came due, each decision's page (its
text, measures, review date, term, who took it and with which hat, the round that consented to
it), and what can be done with one.

A wearer of a hat takes an everyday decision within the hat's domain on the list's form; a full
participant runs the calendar's update of due dates there (what it did is told). On a
decision's page, those who may propose are led to the drafting form to renew, amend or revoke
it, and anyone who may act challenges an everyday decision (it becomes a proposal) or appeals
it. The page offers each form to those the rules would let use it; the domain decides.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from domain.circle import Circle
from domain.decision import Decision
from domain.errors import DomainError, NotFound
from domain.membership import check_full_participant
from domain.values import ACTING, DecisionKind, Level
from node.app.node import CircleNode
from node.http.web.forms import FieldRefused, Form
from node.http.web.names import Names
from node.http.web.refusals import Refusal, refusal
from node.http.web.round_records import consenting_round
from node.http.web.visits import Member, MemberPost, PageRoute, Visit

router = APIRouter(route_class=PageRoute)

SOON_DAYS = 30

# The member API's operations these pages carry out (node.http.web.page_table).
OPERATIONS = {
    "GET /api/decisions": "/decisions",
    "GET /api/decisions/reviews-due": "/decisions",
    "POST /api/decisions": "/decisions",
    "POST /api/decisions/update-due-dates": "/decisions",
    "GET /api/decisions/{decision_id}": "/decisions/{decision_id}",
    "POST /api/decisions/{decision_id}/challenge": "/decisions/{decision_id}",
}

# The fields of the everyday decision's form, by the words the circle's sentences name them.
EVERYDAY_FIELDS = {
    "review_date": "review date",
    "term_end": "term",
    "title": "title",
    "area": "area",
    "text": "text",
}

# What the calendar's run tells, by the keys of its summary (node.app.decisions).
DUE_DATES = (
    ("review_due", "decisions now due for review"),
    ("expired", "decisions whose term ended"),
    ("lapsed", "proposals and selections lapsed"),
    ("closed", "consent rounds closed at their deadline"),
    ("plans_review_due", "budgets and plans now due for review"),
)


def beside(
    error: DomainError, form_name: str, form: Form, fields: dict[str, str], main_field: str
) -> Refusal:
    """The refusal of a form (node.http.web.refusals), beside the field whose words the
    circle's sentence names (the first of `fields`, by name -> words), else `main_field`."""
    shown = refusal(error, form_name, form, main_field=main_field)
    if shown.field != main_field or isinstance(error, FieldRefused):
        return shown
    for name, named in fields.items():
        if re.search(rf"\b{re.escape(named)}\b", shown.sentence, re.IGNORECASE):
            return dataclasses.replace(shown, field=name)
    return shown


def acting(circle: Circle, person: str) -> bool:
    participant = circle.participants.get(person)
    return participant is not None and participant.status in ACTING


def proposes(circle: Circle, person: str) -> bool:
    """Whether the rules let this person draft a proposal (full and learning participants)."""
    participant = circle.participants.get(person)
    return acting(circle, person) and participant is not None and participant.level != Level.GUEST


def hats_for_everyday(circle: Circle, person: str) -> list[tuple[str, str]]:
    """The hats this person wears that have a domain to decide in: (hat id, label)."""
    if not acting(circle, person):
        return []
    worn = [circle.hats[h] for h in circle.hats_worn_by(person) if h in circle.hats]
    return [(h.hat_id, f"{h.name} ({', '.join(h.domain)})") for h in worn if h.domain]


def _row(node: CircleNode, circle: Circle, decision: Decision, names: Names) -> dict[str, Any]:
    today = node.records.today()
    hat = circle.hats.get(decision.hat_id) if decision.hat_id else None
    return {
        "id": str(decision.id),
        "title": decision.title,
        "text": decision.text,
        "kind": decision.kind,
        "status": decision.status,
        "in_force": decision.in_force,
        "everyday": decision.kind == DecisionKind.OPERATIONAL,
        "effective": decision.effective,
        "review_date": decision.review_date,
        "term_end": decision.term_end,
        "due": decision.is_review_due(today),
        "soon": decision.in_force and decision.review_date <= today + timedelta(days=SOON_DAYS),
        "area": decision.area,
        "hat": hat.name if hat else (decision.hat_id or ""),
        "taken_by": names(decision.taken_by),
        "proposal_id": decision.proposal_id,
        "measures": decision.measures,
        "binding": decision.binding,
    }


def _decisions_page(found: Visit, status: int = 200, **extra: Any) -> Response:
    node = found.node
    circle = node.records.peek_circle()
    names = Names(node)
    me = found.person or ""
    decisions = [_row(node, circle, d, names) for d in node.records.list_decisions()]
    decisions.sort(key=lambda d: (not d["in_force"], d["review_date"], d["title"]))
    due_ids = {str(d.id) for d in node.decisions.reviews_due()}
    participant = circle.participants.get(me)
    return found.page(
        "decisions.html",
        status,
        decisions=decisions,
        due=[d for d in decisions if d["id"] in due_ids],
        soon_days=SOON_DAYS,
        hats=hats_for_everyday(circle, me),
        can_update=acting(circle, me) and participant is not None and participant.level == "full",
        **extra,
    )


@router.get("/decisions", include_in_schema=False)
def decisions_page(found: Member) -> Response:
    return _decisions_page(found)


@router.post("/decisions", include_in_schema=False)
def take_everyday_decision(posted: MemberPost) -> Response:
    found, form = posted.visit, posted.form
    try:
        decision_id = found.node.decisions.take_everyday_decision(
            posted.person,
            form.get("hat_id"),
            form.get("area"),
            form.get("title"),
            form.get("text"),
            review_date=form.day("review_date", "review date"),
            term_end=form.day("term_end", "end of its term"),
        )
    except DomainError as error:
        shown = beside(error, "everyday", form, EVERYDAY_FIELDS, main_field="title")
        return _decisions_page(found, shown.status, refused=shown)
    return found.redirect(f"/decisions/{decision_id}", "Your everyday decision is taken.")


@router.post("/decisions/update-due-dates", include_in_schema=False)
def update_due_dates(posted: MemberPost) -> Response:
    found = posted.visit
    node = found.node
    try:
        # Who may run the calendar's update now, as the member API says.
        check_full_participant(node.records.peek_circle(), posted.person, "update due dates")
    except DomainError as error:
        shown = refusal(error, "due-dates", posted.form)
        return _decisions_page(found, shown.status, refused=shown)
    summary = node.decisions.update_due_dates()
    return found.redirect("/decisions", _told(node, summary))


def _told(node: CircleNode, summary: dict[str, list[str]]) -> str:
    """What the calendar's run did, in a sentence naming what it changed."""
    parts = []
    for key, what in DUE_DATES:
        ids = summary.get(key) or []
        if ids:
            parts.append(f"{what}: {', '.join(_title(node, key, i) for i in ids)}")
    if not parts:
        return "Due dates updated: nothing had come due."
    told = "; ".join(parts)
    return f"Due dates updated. {told[0].upper()}{told[1:]}."


def _title(node: CircleNode, key: str, record_id: str) -> str:
    try:
        if key in ("review_due", "expired"):
            return node.records.get_decision(record_id).title
        if key == "plans_review_due":
            return node.plans.get_plan(record_id).title
        try:
            return node.records.get_proposal(record_id).title
        except NotFound:
            selection = node.records.get_selection(record_id)
            hats = node.records.peek_circle().hats
            hat = hats.get(selection.hat_id)
            return f"the selection of the {hat.name if hat else selection.hat_id}"
    except DomainError:
        return record_id


def _decision_page(found: Visit, decision_id: str, status: int = 200, **extra: Any) -> Response:
    node = found.node
    decision = node.records.get_decision(decision_id)  # NotFound: a 404 page
    circle = node.records.peek_circle()
    names = Names(node)
    me = found.person or ""
    shown = _row(node, circle, decision, names)
    challenges = []
    for proposal_id in decision.challenges:
        try:
            title = node.records.get_proposal(proposal_id).title
        except NotFound:
            title = proposal_id
        challenges.append({"id": proposal_id, "title": title})
    superseded_by = None
    if decision.superseded_by:
        try:
            superseded_by = {
                "id": decision.superseded_by,
                "title": node.records.get_decision(decision.superseded_by).title,
            }
        except NotFound:
            superseded_by = {"id": decision.superseded_by, "title": decision.superseded_by}
    consented = None
    if decision.proposal_id:
        try:
            consented = consenting_round(node.records.get_proposal(decision.proposal_id), names)
        except NotFound:
            consented = None
    may_propose = proposes(circle, me) and decision.in_force
    return found.page(
        "decision.html",
        status,
        decision=shown,
        consented=consented,
        challenges=challenges,
        superseded_by=superseded_by,
        can={
            "propose": may_propose,
            "challenge": may_propose and shown["everyday"],
            "appeal": acting(circle, me),
        },
        **extra,
    )


@router.get("/decisions/{decision_id}", include_in_schema=False)
def decision_page(found: Member, decision_id: str) -> Response:
    return _decision_page(found, decision_id)


@router.post("/decisions/{decision_id}/challenge", include_in_schema=False)
def challenge(posted: MemberPost, decision_id: str) -> Response:
    found, form = posted.visit, posted.form
    node = found.node
    decision = node.records.get_decision(decision_id)  # NotFound: a 404 page
    try:
        proposal_id = node.decisions.challenge_decision(
            posted.person, str(decision.id), form.get("text"), revoke=form.get("revoke") == "yes"
        )
    except DomainError as error:
        shown = refusal(error, "challenge", form, main_field="text")
        return _decision_page(found, decision_id, shown.status, refused=shown)
    return found.redirect(
        f"/proposals/{proposal_id}",
        "Your challenge is drafted as a proposal. Present it to the circle when you are ready.",
    )
