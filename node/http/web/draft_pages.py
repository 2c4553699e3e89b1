"""Drafting a proposal of any purpose: /proposals/new lists the purposes, grouped (the circle,
other circles, budget and plans); /proposals/new?purpose=X is the form for X, with the fields
its subject declares (node/http/web/subject_forms.py, from the API's typed subjects), so that a
new purpose gets its form without page code.

Any field may be filled in from the query string, under its own name (the subject's key):
/proposals/new?purpose=request_peering&circle=<node id>,
/proposals/new?purpose=amend_decision&decision_id=<id>; a list's values one a line, or the
parameter repeated. Other pages link here so.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from domain.circle import Circle
from domain.errors import DomainError, InvalidRequest, NotFound
from domain.values import ACTING, Level, Mode, Purpose
from node.app.relations import RELATION_PURPOSES
from node.http.web.forms import Form
from node.http.web.refusals import Refusal, refusal
from node.http.web.subject_forms import SubjectField, subject_fields, subject_of, what_it_does
from node.http.web.visits import Member, MemberPost, PageRoute, Visit

router = APIRouter(route_class=PageRoute)

# The member API's operations these pages carry out (node.http.web.page_table).
OPERATIONS = {"POST /api/proposals": "/proposals/new"}

FORM = "draft"

# How the list of purposes is grouped: relationships with other circles (the purposes
# node.app.relations carries across nodes), the budget and plans,
# and the circle itself (every other purpose, a new one included).
PLANS = frozenset({Purpose.ADOPT_PLAN, Purpose.REVISE_PLAN})
GROUPS = ("The circle", "Other circles", "Budget and plans")

# Names that read better than the purpose's own words; the rest are shown as their words.
TITLES = {
    Purpose.ADOPT_POLICY: "Adopt a policy",
    Purpose.AMEND_DECISION: "Amend a decision",
    Purpose.RENEW_DECISION: "Renew a decision",
    Purpose.REVOKE_DECISION: "Revoke a decision",
    Purpose.CHANGE_AIM: "Change the circle's aim",
    Purpose.CHANGE_DOMAIN: "Change the circle's domain",
    Purpose.CHANGE_RULES: "Change the circle's rules",
    Purpose.REMOVE_PARTICIPANT: "Remove a participant",
    Purpose.INCORPORATE: "Incorporate the circle",
    Purpose.DISSOLVE: "Dissolve the circle",
    Purpose.REQUEST_PEERING: "Ask a circle to peer",
    Purpose.ACCEPT_PEERING: "Accept a circle's request to peer",
    Purpose.END_PEERING: "End peering with a circle",
    Purpose.ADMIT_TO_NETWORK: "Admit a circle to the network",
    Purpose.APPLY_TO_COOP: "Apply to be part of a co-op",
    Purpose.ADMIT_MEMBER: "Admit a member circle",
    Purpose.PROPOSE_LEADER: "Propose a leader for a member circle",
    Purpose.AGREE_LEADER: "Agree to the co-op's leader",
    Purpose.ANSWER_CONSENT_REQUEST: "Answer another circle's request for consent",
    Purpose.REQUEST_SUPPORT: "Ask other circles for support",
    Purpose.OFFER_SUPPORT: "Offer support",
    Purpose.ACCEPT_OFFER: "Accept an offer of support",
    Purpose.ADOPT_PLAN: "Adopt a budget or plan",
    Purpose.REVISE_PLAN: "Revise a budget or plan",
}

# The draft's own fields, besides the subject's (whose names must differ from these).
DRAFT_FIELDS = frozenset(
    {"purpose", "title", "text", "mode", "deadline", "review_date", "topic", "ask_circles"}
)


def may_draft(circle: Circle, person: str) -> bool:
    """Whether the circle's rules let this person draft (as domain.proposal decides): full and
    learning participants acting in the circle; guests take part in the rounds."""
    participant = circle.participants.get(person)
    if participant is None or participant.status not in ACTING:
        return False
    return participant.level != Level.GUEST


def title_of(purpose: Purpose) -> str:
    return TITLES.get(purpose, purpose.value.replace("_", " ").capitalize())


def group_of(purpose: Purpose) -> str:
    if purpose in RELATION_PURPOSES:
        return GROUPS[1]
    if purpose in PLANS:
        return GROUPS[2]
    return GROUPS[0]


def _purpose(value: str) -> Purpose:
    try:
        return Purpose(value or Purpose.ADOPT_POLICY)
    except ValueError:
        raise NotFound(f"A proposal has no purpose called {value!r}") from None


def _choices_page(found: Visit, query: str = "") -> Response:
    groups: dict[str, list[dict[str, str]]] = {group: [] for group in GROUPS}
    for purpose in Purpose:
        groups[group_of(purpose)].append(
            {
                "href": f"/proposals/new?purpose={purpose.value}" + (f"&{query}" if query else ""),
                "title": title_of(purpose),
                "does": what_it_does(purpose),
            }
        )
    return found.page("draft_choice.html", groups=groups, may_draft=True)


def _draft_page(
    found: Visit,
    purpose: Purpose,
    values: dict[str, str],
    status: int = 200,
    refused: Refusal | None = None,
) -> Response:
    rules = found.node.records.peek_circle().rules
    fields: list[SubjectField] = subject_fields(purpose)
    return found.page(
        "draft.html",
        status,
        purpose=purpose.value,
        purpose_title=title_of(purpose),
        does=what_it_does(purpose),
        fields=fields,
        values=values,
        topics=[
            (topic, f"{topic} (decided by {method.replace('_', ' ')})")
            for topic, method in sorted(rules.methods_by_topic.items())
        ],
        refused=refused,
    )


def _query_values(request: Request) -> dict[str, str]:
    """The fields filled in by the query string: a repeated one, one value a line."""
    values: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        values.setdefault(key, []).append(value)
    return {key: "\n".join(listed) for key, listed in values.items()}


@router.get("/proposals/new", include_in_schema=False)
def draft_form(found: Member) -> Response:
    if not may_draft(found.node.records.peek_circle(), found.person or ""):
        return found.page("draft_choice.html", groups={}, may_draft=False)
    values = _query_values(found.request)
    chosen = values.pop("purpose", "")
    if not chosen:
        # The fields given are kept in the links to each purpose's form.
        return _choices_page(found, urlencode(found.request.query_params.multi_items()))
    return _draft_page(found, _purpose(chosen), values)


def _field_about(sentence: str, purpose: Purpose) -> str:
    """The field a sentence of the circle's names (its text, its deadline, a subject's key),
    to show it there; none: shown at the top of the page."""
    named = [
        ("title", "title"),
        ("text", "text"),
        ("deadline", "deadline"),
        ("review_date", "review date"),
        *((field.name, field.words) for field in subject_fields(purpose)),
        *((field.name, field.name) for field in subject_fields(purpose)),
    ]
    for name, words in named:
        if re.search(rf"\b{re.escape(words)}\b", sentence, re.IGNORECASE):
            return name
    return ""


def _lines(form: Form, name: str) -> list[str]:
    values = form.getlist(name)
    return [line.strip() for value in values for line in value.splitlines() if line.strip()]


@router.post("/proposals", include_in_schema=False)
def draft(posted: MemberPost) -> Response:
    found, form = posted.visit, posted.form
    purpose = _purpose(form.get("purpose"))
    node = found.node
    try:
        subject = subject_of(
            purpose,
            {key: form.get(key) for key, _ in form.pairs},
            {key: form.getlist(key) for key, _ in form.pairs},
        )
        proposal_id = node.proposals.draft_proposal(
            posted.person,
            form.get("title"),
            form.get("text"),
            purpose=purpose,
            subject=subject,
            mode=form.get("mode", Mode.MEETING),
            deadline=form.moment("deadline", "deadline", node.records.time_zone()),
            review_date=form.day("review_date", "review date"),
            topic=form.get("topic").strip() or None,
            ask_circles=_lines(form, "ask_circles"),
        )
    except DomainError as error:
        about = _field_about(str(error), purpose) if isinstance(error, InvalidRequest) else ""
        shown = refusal(error, FORM, form, main_field=about)
        return _draft_page(found, purpose, form.values(), shown.status, shown)
    return found.redirect(
        f"/proposals/{proposal_id}", "Your proposal is drafted. Present it when you are ready."
    )
