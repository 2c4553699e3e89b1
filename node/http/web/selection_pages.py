"""Selecting someone for a hat: the list of selections (marking those waiting for the reader's
nomination or answer), a form to open one, and each selection's page, where the process is
taken step by step with plain forms: nominations with reasons, the change round, the
candidate, and the consent round on the candidate (the consent process proposals use).

Each step is offered to those the circle's rules would let take it (the facilitator, or any
full participant while nobody wears that hat, runs the process; full and learning participants
nominate; full participants consent or object); the domain decides, and a refusal draws the
page again with its sentence beside the field it is about.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from domain.circle import Circle
from domain.errors import DomainError, NotFound
from domain.membership import check_can_act
from domain.selection import HatSelection
from domain.values import DecisionMethod, Integration, Level, Stage
from node.app.node import CircleNode
from node.app.waiting import unanswered_rounds
from node.http.web.forms import Form
from node.http.web.hat_pages import (
    allowed,
    facilitates,
    field_named,
    hat_name,
    is_full,
    people_who_may_wear,
)
from node.http.web.names import Names
from node.http.web.refusals import refusal
from node.http.web.rendering import words
from node.http.web.round_records import closed_rounds, objection_rows
from node.http.web.round_steps import (
    consent_step,
    integrate_step,
    object_step,
    withdraw_objection_step,
)
from node.http.web.visits import Member, MemberPost, PageRoute, Visit

router = APIRouter(route_class=PageRoute)

# The member API's operations these pages carry out (node.http.web.page_table). The consent
# round on a candidate is taken here too, through the same commands as a proposal's (the
# shared /api/processes operations are listed once, with the proposal's page).
OPERATIONS = {
    "GET /api/selections": "/selections",
    "POST /api/selections": "/selections",
    "GET /api/selections/{selection_id}": "/selections/{selection_id}",
    "POST /api/selections/{selection_id}/nominations": "/selections/{selection_id}",
    "POST /api/selections/{selection_id}/change-round": "/selections/{selection_id}",
    "POST /api/selections/{selection_id}/change-nomination": "/selections/{selection_id}",
    "POST /api/selections/{selection_id}/candidate": "/selections/{selection_id}",
}

# The stages of a selection, in the order it normally takes them.
STEPS = (
    Stage.NOMINATING,
    Stage.CHANGE_ROUND,
    Stage.CONSENT_ROUND,
    Stage.INTEGRATING,
    Stage.CONSENTED,
)

# How objections to a candidate are integrated, besides proposing another nominee.
INTEGRATIONS = (
    (Integration.ADD_MEASURE, "Add a measure (what the candidate will do, or be helped with)"),
    (Integration.SHORTEN_TERM, "Shorten the term (give the earlier review date)"),
)


def _nominates(circle: Circle, person: str) -> bool:
    """Full and learning participants who act in the circle nominate (guests do not)."""
    return allowed(lambda: check_can_act(circle, person)) and (
        circle.participants[person].level != Level.GUEST
    )


@router.get("/selections", include_in_schema=False)
def selections_page(found: Member) -> Response:
    return _selections_page(found)


def _selections_page(found: Visit, status: int = 200, **extra: Any) -> Response:
    node = found.node
    circle = node.records.peek_circle()
    names = Names(node)
    me = found.person or ""
    unanswered = unanswered_rounds(node.records, me)
    nominates = _nominates(circle, me)
    rows = [
        {
            "id": str(s.id),
            "hat": hat_name(circle, s.hat_id),
            "stage": s.stage,
            "final": s.is_final,
            "candidate": names(s.candidate) if s.candidate else "",
            "review_date": s.review_date,
            "round": s.round_number,
            "mode": s.mode,
            "deadline": s.deadline and node.records.local(s.deadline),
            "unanswered": str(s.id) in unanswered,
            "to_nominate": nominates and s.stage == Stage.NOMINATING and me not in s.nominations,
        }
        for s in node.records.list_selections()
    ]
    rows.sort(key=lambda r: (r["final"], STEPS.index(r["stage"]) if r["stage"] in STEPS else 99))
    return found.page(
        "selections.html",
        status,
        selections=rows,
        hats=[(h.hat_id, h.name) for h in circle.hats.values()],
        can_open=facilitates(circle, me),
        **extra,
    )


@router.post("/selections", include_in_schema=False)
def open_selection(posted: MemberPost) -> Response:
    found, form = posted.visit, posted.form
    node = found.node
    try:
        selection_id = node.hats.open_selection(
            posted.person,
            form.get("hat_id"),
            review_date=form.day("review_date", "review date"),
            mode=form.get("mode", "meeting"),
            deadline=form.moment("deadline", "deadline", node.records.time_zone()),
        )
    except DomainError as error:
        field = field_named(error, {"deadline": "deadline", "mode": "mode"}, "review_date")
        shown = refusal(error, "open", form, main_field=field)
        return _selections_page(found, shown.status, refused=shown)
    return found.redirect(
        f"/selections/{selection_id}", "The selection is open: everyone nominates, with a reason."
    )


def selection_view(found: Visit, selection: HatSelection) -> dict[str, Any]:
    """What a selection's page shows, and which forms it offers this person."""
    node = found.node
    circle = node.records.peek_circle()
    names = Names(node)
    me = found.person or ""
    full = is_full(circle, me)
    acts = allowed(lambda: check_can_act(circle, me))
    facilitator = facilitates(circle, me)
    nominates = _nominates(circle, me)
    stage = selection.stage
    by_consent = selection.method == DecisionMethod.CONSENT
    open_objections = selection.open_objections()
    answered = set(selection.answers)
    nominees = sorted({n.nominee for n in selection.nominations.values()}, key=names)
    return {
        "selection": selection,
        "id": str(selection.id),
        "hat": circle.hats.get(selection.hat_id),
        "hat_name": hat_name(circle, selection.hat_id),
        "deadline": selection.deadline and node.records.local(selection.deadline),
        "steps": STEPS,
        "step_index": STEPS.index(stage) if stage in STEPS else -1,
        "opened_by": names(selection.opened_by),
        "nominations": [
            {
                "nominator": names(n.nominator),
                "nominee": names(n.nominee),
                "reason": n.reason,
                "changed": n.changed,
                "mine": n.nominator == me,
            }
            for n in selection.nominations.values()
        ],
        "tally": [
            (
                names(person),
                sum(1 for n in selection.nominations.values() if n.nominee == person),
            )
            for person in nominees
        ],
        "people": people_who_may_wear(circle, names),
        "nominee_options": [(person, names(person)) for person in nominees],
        "candidate": names(selection.candidate) if selection.candidate else "",
        "answers": [
            {"name": names(a.person_id), "consents": a.consents, "text": a.text}
            for a in selection.answers.values()
        ],
        "waiting": [names(p) for p in circle.full_participants() if p not in answered]
        if stage == Stage.CONSENT_ROUND
        else [],
        "objections": objection_rows(selection, names, me),
        "open_objections": [o.number for o in open_objections],
        "integrations": [
            {"how": i.how, "text": i.text, "objections": i.objections, "by": names(i.by)}
            for i in selection.integrations
        ],
        "integrations_offered": INTEGRATIONS,
        "rounds": closed_rounds(selection, names),
        "my_nomination": selection.nominations.get(me),
        "answered": me in answered,
        "can": {
            "nominate": nominates and stage == Stage.NOMINATING and me not in selection.nominations,
            "open_change_round": facilitator
            and stage == Stage.NOMINATING
            and bool(selection.nominations),
            "change": nominates and stage == Stage.CHANGE_ROUND,
            "propose": facilitator and stage in (Stage.CHANGE_ROUND, Stage.INTEGRATING),
            "answer_round": full
            and by_consent
            and stage == Stage.CONSENT_ROUND
            and me not in answered,
            "close_round": facilitator and by_consent and stage == Stage.CONSENT_ROUND,
            "integrate": nominates and stage == Stage.INTEGRATING and bool(open_objections),
            "open_round": facilitator and stage == Stage.INTEGRATING and not open_objections,
            "withdraw": acts
            and (me == selection.opened_by or facilitator)
            and not selection.is_final,
        },
    }


def _selection_page(
    found: Visit, selection: HatSelection, status: int = 200, **extra: Any
) -> Response:
    return found.page("selection.html", status, **selection_view(found, selection), **extra)


@router.get("/selections/{selection_id}", include_in_schema=False)
def selection_page(found: Member, selection_id: str) -> Response:
    return _selection_page(found, found.node.records.get_selection(selection_id))


# The steps a selection's page can post: each takes the node, who, the selection and the
# form, and returns the sentence shown once the step is done.
Step = Callable[[CircleNode, str, str, Form], str]


def _nominate(node: CircleNode, by: str, sid: str, form: Form) -> str:
    node.hats.nominate(by, sid, form.get("nominee"), form.get("reason"))
    return f"Your nomination of {node.records.person_name(form.get('nominee'))} is recorded."


def _open_change_round(node: CircleNode, by: str, sid: str, form: Form) -> str:
    node.hats.open_change_round(by, sid)
    return "The change round is open: having heard the reasons, anyone may change their mind."


def _change(node: CircleNode, by: str, sid: str, form: Form) -> str:
    node.hats.change_nomination(by, sid, form.get("nominee"), form.get("reason"))
    return f"Your nomination is now {node.records.person_name(form.get('nominee'))}."


def _propose(node: CircleNode, by: str, sid: str, form: Form) -> str:
    node.hats.propose_candidate(by, sid, form.get("candidate"), form.get("reason"))
    name = node.records.person_name(form.get("candidate"))
    return f"{name} is proposed: the consent round on the candidate is open."


def _close_round(node: CircleNode, by: str, sid: str, form: Form) -> str:
    outcome = node.consent.close_consent_round(by, sid)
    if outcome == Stage.CONSENTED:
        selection = node.records.get_selection(sid)
        hat = hat_name(node.records.peek_circle(), selection.hat_id)
        wearer = node.records.person_name(selection.candidate or "")
        return f"Consented: {wearer} wears the {hat.lower()} hat."
    return f"The consent round is closed: {words(outcome)}."


def _open_round(node: CircleNode, by: str, sid: str, form: Form) -> str:
    node.consent.open_consent_round(by, sid)
    return "The consent round is open again."


def _withdraw(node: CircleNode, by: str, sid: str, form: Form) -> str:
    node.consent.withdraw(by, sid)
    return "The selection is withdrawn."


# Each step: what it does, the form's name on the page, and the field a refusal of the
# circle's rules is shown beside ("" for the top of the page).
STEPS_BY_NAME: dict[str, tuple[Step, str, str]] = {
    "nominate": (_nominate, "nominate", "reason"),
    "change-round": (_open_change_round, "change-round", ""),
    "change-nomination": (_change, "change", "reason"),
    "candidate": (_propose, "candidate", "candidate"),
    "consent": (consent_step, "consent", "concern"),
    "object": (object_step, "object", "argument"),
    "close-round": (_close_round, "close-round", ""),
    "integrate": (integrate_step, "integrate", "text"),
    "open-round": (_open_round, "open-round", ""),
    "withdraw-objection": (withdraw_objection_step, "withdraw-objection", ""),
    "withdraw": (_withdraw, "withdraw", ""),
}


@router.post("/selections/{selection_id}/{step}", include_in_schema=False)
def take_step(posted: MemberPost, selection_id: str, step: str) -> Response:
    found, form = posted.visit, posted.form
    node = found.node
    selection = node.records.get_selection(selection_id)  # NotFound: a 404 page
    if step not in STEPS_BY_NAME:
        raise NotFound(f"A selection has no step called {step!r}")
    action, form_name, field = STEPS_BY_NAME[step]
    # Withdrawing cannot be undone: whoever may do it is asked once more, on the page.
    confirming = step == "withdraw" and form.get("confirmed") != "yes"
    if confirming and selection_view(found, selection)["can"]["withdraw"]:
        return _selection_page(found, selection, confirm=step)
    try:
        notice = action(node, posted.person, str(selection.id), form)
    except DomainError as error:
        if step == "integrate":
            field = field_named(error, {"review date": "review_date", "term": "review_date"}, field)
        shown = refusal(error, form_name, form, main_field=field)
        return _selection_page(
            found, node.records.get_selection(selection_id), shown.status, refused=shown
        )
    return found.redirect(f"/selections/{selection.id}", notice)
