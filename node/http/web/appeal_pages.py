"""Appeals: the list (/appeals), with the forms to appeal a decision of this circle or of a
circle linked to it, and each appeal's page, where people take the steps the rules give them.

Each form is offered to those the rules would let use it (an appellant joins, takes further or
withdraws; whoever records the circle's answer records it; the facilitator answers an appeal
taken to this circle and opens the proposal an upheld appeal calls for), asked of the domain's
own checks where it has them; the domain decides. A refusal draws the page again with the
domain's sentence beside its field, or at the top when it is about who may do what, or when.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from domain.appeal import HEARD_BY, Appeal, AppealStatus, Hearing, Role
from domain.appeal_rules import check_appellant, check_guest
from domain.errors import DomainError, NotFound
from domain.membership import check_can_act
from node.app.appeals import linked_circles
from node.app.node import CircleNode
from node.app.waiting import waiting_for
from node.http.web.circle_pages import facilitates
from node.http.web.forms import FieldRefused, Form
from node.http.web.names import Names
from node.http.web.refusals import refusal
from node.http.web.visits import Member, MemberPost, PageRoute, Visit

router = APIRouter(route_class=PageRoute)

# The member API's operations these pages carry out (node.http.web.page_table).
OPERATIONS = {
    "GET /api/appeals": "/appeals",
    "POST /api/appeals": "/appeals",
    "POST /api/appeals/elsewhere": "/appeals",
    "GET /api/appeals/{appeal_id}": "/appeals/{appeal_id}",
    "POST /api/appeals/{appeal_id}/join": "/appeals/{appeal_id}",
    "POST /api/appeals/{appeal_id}/circle-answer": "/appeals/{appeal_id}",
    "POST /api/appeals/{appeal_id}/take-further": "/appeals/{appeal_id}",
    "POST /api/appeals/{appeal_id}/amendment": "/appeals/{appeal_id}",
    "POST /api/appeals/{appeal_id}/answer": "/appeals/{appeal_id}",
    "POST /api/appeals/{appeal_id}/withdraw": "/appeals/{appeal_id}",
}

ROLES = {
    Role.AGAINST_US: "against a decision of this circle",
    Role.REFERRED: "taken to this circle to hear",
    Role.SENT: "made from here against a linked circle's decision",
}
UPHELD_CHOICES = (("no", "No: the decision stands"), ("yes", "Yes: the decision should change"))
ERASED = "someone whose personal data was erased"


def _allowed(check: Callable[[], object]) -> bool:
    """Whether the domain's own check lets this be done."""
    try:
        check()
    except DomainError:
        return False
    return True


def may_appeal_here(node: CircleNode, me: str) -> bool:
    """A full or learning participant who acts in the circle appeals (appeal_rules)."""
    circle = node.records.peek_circle()
    return _allowed(lambda: check_guest(check_can_act(circle, me).level))


def _person(names: Names, ref: str) -> str:
    """An appellant: someone here, someone of a linked circle ("<node id>/<person id>"), or
    someone whose personal data was erased."""
    if ref.startswith("erased-"):
        return ERASED
    if "/" in ref:
        other, person = ref.rsplit("/", 1)
        return f"{names.node.relations.remote_name(other, person)} ({names.circle(other)})"
    return names(ref)


def _answered_by(names: Names, appeal: Appeal, hearing: str, by: str) -> str:
    """Who recorded an answer: someone of this circle (its own hearing, or an appeal taken
    here), or the circle the appeal was taken to."""
    if hearing == Hearing.CIRCLE or appeal.role == Role.REFERRED:
        return names(by)
    return names.circle(by)


# The list, and the forms to appeal.


def _appeals_page(
    found: Visit,
    status: int = 200,
    decision: str = "",
    elsewhere: str = "",
    elsewhere_decision: str = "",
    **extra: Any,
) -> Response:
    node = found.node
    me = found.person or ""
    names = Names(node)
    waiting = {item.record_id for item in waiting_for(node.records, me) if item.record == "appeal"}
    rows = [
        {
            "id": str(a.id),
            "title": a.title or f"Decision {a.decision_id}",
            "role": a.role,
            "role_text": ROLES[Role(a.role)],
            "status": a.status,
            "hearing": HEARD_BY[Hearing(a.hearing)],
            "appellants": a.appellant_count,
            "circle": names.circle(a.origin) if a.origin else "",
            "mine": me in a.appellants,
            "waiting": str(a.id) in waiting,
            "final": a.is_final or a.status == AppealStatus.WITHDRAWN,
        }
        for a in node.appeals.appeals()
    ]
    rows.sort(key=lambda r: (not r["waiting"], r["final"], r["title"]))
    decisions = [(str(d.id), d.title) for d in node.records.list_decisions() if d.in_force]
    gathering = node.appeals.open_against(decision) if decision else None
    may_appeal = may_appeal_here(node, me)
    linked = [
        (other, names.circle(other)) for other in linked_circles(node.relations.relationships())
    ]
    return found.page(
        "appeals.html",
        status,
        appeals=rows,
        decisions=[("", "Choose a decision"), *decisions],
        decision=decision,
        gathering=str(gathering.id) if gathering is not None else "",
        can_lodge=may_appeal and bool(decisions),
        can_elsewhere=may_appeal and bool(linked),
        linked=linked,
        elsewhere=elsewhere,
        elsewhere_decision=elsewhere_decision,
        **extra,
    )


@router.get("/appeals", include_in_schema=False)
def appeals_page(found: Member, decision: str = "", elsewhere: str = "") -> Response:
    """`?decision=` fills in the decision appealed (with `elsewhere=`, a linked circle's)."""
    if elsewhere:
        return _appeals_page(found, elsewhere=elsewhere, elsewhere_decision=decision)
    return _appeals_page(found, decision=decision)


@router.post("/appeals", include_in_schema=False)
def lodge_appeal(posted: MemberPost) -> Response:
    found, form = posted.visit, posted.form
    decision = form.get("decision_id").strip()
    try:
        if not decision:
            raise FieldRefused("decision_id", "Choose the decision you appeal")
        appeal_id = found.node.appeals.lodge(posted.person, decision, form.get("grounds"))
    except DomainError as error:
        shown = refusal(error, "lodge", form, main_field="grounds")
        return _appeals_page(found, shown.status, decision, refused=shown)
    return found.redirect(
        f"/appeals/{appeal_id}",
        "Your appeal is lodged. The circle hears it once three people appeal.",
    )


@router.post("/appeals/elsewhere", include_in_schema=False)
def appeal_elsewhere(posted: MemberPost) -> Response:
    found, form = posted.visit, posted.form
    try:
        appeal_id = found.node.appeals.appeal_elsewhere(
            posted.person, form.get("circle"), form.get("decision_id"), form.get("grounds")
        )
    except DomainError as error:
        shown = refusal(error, "elsewhere", form, main_field="grounds")
        return _appeals_page(found, shown.status, refused=shown)
    return found.redirect(
        f"/appeals/{appeal_id}",
        "Your appeal is sent. The circle whose decision it is hears it; read its outcome there.",
    )


# One appeal, and its steps.


def appeal_view(found: Visit, appeal: Appeal) -> dict[str, Any]:
    """What an appeal's page shows, and which forms it offers this person."""
    node = found.node
    circle = node.records.peek_circle()
    names = Names(node)
    me = found.person or ""
    role, status = appeal.role, appeal.status
    appellant = me in appeal.appellants
    open_ = not appeal.is_final and status != AppealStatus.WITHDRAWN
    against_us = role == Role.AGAINST_US

    def may_join() -> None:
        decision = node.records.get_decision(appeal.decision_id)
        check_appellant(circle, me, node.appeals.parties(decision), ())

    return {
        "appeal": appeal,
        "id": str(appeal.id),
        "role_text": ROLES[Role(role)],
        "hearing": HEARD_BY[Hearing(appeal.hearing)],
        "origin": names.circle(appeal.origin) if appeal.origin else "",
        "referred_to": names.circle(appeal.referred_to) if appeal.referred_to else "",
        "appellants": [
            {"name": _person(names, who), "grounds": grounds, "me": who == me}
            for who, grounds in appeal.appellants.items()
        ],
        "delegates": [
            names.node.relations.remote_name(appeal.origin or "", d) for d in appeal.delegates
        ],
        "answers": [
            {
                "hearing": HEARD_BY[Hearing(a.hearing)],
                "upheld": a.upheld,
                "reason": a.reason,
                "by": _answered_by(names, appeal, a.hearing, a.by),
            }
            for a in appeal.answers
        ],
        "upheld_choices": UPHELD_CHOICES,
        "next_hearing": _next(appeal),
        "can": {
            "join": against_us
            and status == AppealStatus.GATHERING
            and not appellant
            and _allowed(may_join),
            "circle_answer": _allowed(lambda: appeal.check_circle_may_answer(circle, me, "-")),
            "take_further": against_us
            and appellant
            and open_
            and status == AppealStatus.NOT_UPHELD,
            "amendment": _allowed(lambda: appeal.check_may_open_amendment(circle, me)),
            "answer": role == Role.REFERRED
            and status == AppealStatus.BEING_HEARD
            and facilitates(circle, me),
            "withdraw": role != Role.REFERRED and appellant and open_,
        },
    }


def _next(appeal: Appeal) -> str:
    """Who would hear the appeal if it is taken further."""
    if appeal.hearing == Hearing.CIRCLE:
        return HEARD_BY[Hearing.CARE_AND_COUNSEL]
    return HEARD_BY[Hearing.BROADER_CIRCLE]


def _appeal_page(found: Visit, appeal: Appeal, status: int = 200, **extra: Any) -> Response:
    context: dict[str, Any] = {"confirm": "", "kept": {}, **extra}
    return found.page("appeal.html", status, **appeal_view(found, appeal), **context)


@router.get("/appeals/{appeal_id}", include_in_schema=False)
def appeal_page(found: Member, appeal_id: str) -> Response:
    return _appeal_page(found, found.node.appeals.get_appeal(appeal_id))


def _upheld(form: Form) -> bool:
    answer = form.get("upheld")
    if answer not in ("yes", "no"):
        raise FieldRefused("upheld", "Say whether the appeal is upheld")
    return answer == "yes"


# Each step an appeal's page can post: it takes the node, who, the appeal and the form, and
# returns the sentence shown once it is done.
Step = Callable[[CircleNode, str, Appeal, Form], str]


def _join(node: CircleNode, by: str, appeal: Appeal, form: Form) -> str:
    node.appeals.join(by, str(appeal.id), form.get("grounds"))
    return "You have joined the appeal."


def _circle_answer(node: CircleNode, by: str, appeal: Appeal, form: Form) -> str:
    upheld = _upheld(form)
    revoke = form.get("revoke") == "yes"
    proposal = node.appeals.answer_as_circle(
        by, str(appeal.id), upheld, form.get("reason"), revoke=revoke
    )
    if proposal:
        return "The circle upheld the appeal: a proposal to change the decision is open."
    return "The circle's answer is recorded: the appeal is not upheld."


def _take_further(node: CircleNode, by: str, appeal: Appeal, form: Form) -> str:
    hearing, _ = node.appeals.take_further(by, str(appeal.id))
    return f"The appeal is taken to {HEARD_BY[Hearing(hearing)]}."


def _amendment(node: CircleNode, by: str, appeal: Appeal, form: Form) -> str:
    revoke = form.get("revoke") == "yes"
    node.appeals.open_amendment(by, str(appeal.id), form.get("text"), revoke=revoke)
    return "The proposal to change the decision is open."


def _answer(node: CircleNode, by: str, appeal: Appeal, form: Form) -> str:
    node.appeals.answer_referral(by, str(appeal.id), _upheld(form), form.get("reason"))
    return "The circle's answer is recorded; it goes back to the circle that took it here."


def _withdraw(node: CircleNode, by: str, appeal: Appeal, form: Form) -> str:
    node.appeals.withdraw(by, str(appeal.id), form.get("reason"))
    return "The appeal is withdrawn."


STEPS: dict[str, tuple[Step, str]] = {
    "join": (_join, "grounds"),
    "circle-answer": (_circle_answer, "reason"),
    "take-further": (_take_further, ""),
    "amendment": (_amendment, "text"),
    "answer": (_answer, "reason"),
    "withdraw": (_withdraw, "reason"),
}
# The steps that cannot be undone ask to confirm first (a second step, without script).
CONFIRMED = ("take-further", "withdraw")


@router.post("/appeals/{appeal_id}/{step}", include_in_schema=False)
def take_step(posted: MemberPost, appeal_id: str, step: str) -> Response:
    found, form = posted.visit, posted.form
    node = found.node
    appeal = node.appeals.get_appeal(appeal_id)  # NotFound: a 404 page
    if step not in STEPS:
        raise NotFound(f"An appeal has no step called {step!r}")
    action, main_field = STEPS[step]
    offered = appeal_view(found, appeal)["can"][step.replace("-", "_")]
    if step in CONFIRMED and offered and form.get("confirmed") != "yes":
        return _appeal_page(found, appeal, confirm=step, kept=form.values())
    try:
        notice = action(node, posted.person, appeal, form)
    except DomainError as error:
        shown = refusal(error, step, form, main_field=main_field)
        return _appeal_page(found, node.appeals.get_appeal(appeal_id), shown.status, refused=shown)
    return found.redirect(f"/appeals/{appeal.id}", notice)
