"""The members' web pages in the authorisation matrix (tests/node/api/test_authorisation_matrix.py).

Every route of node/http/web is in one of these tables: the pages (GET) with the setup that
makes their ids real; the forms (POST) that act, each mapped to the member API route whose
rules it follows (the same callers let through, the same refused); the step routes of a
proposal's, a selection's and an appeal's page, each step mapped the same way; the forms with
no API route, with their own rule; and the fields that make each form complete, so that a
post reaches the circle's rules rather than a field's refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from tests.node.api.everyone import START, Everyone
from tests.node.api.matrix_rules import (
    DATE,
    FACILITATOR,
    FULL,
    SECRETARY,
    SPEAKERS,
    Rule,
    Setup,
    appeal_heard,
    budget,
    decision,
    hat,
    meeting_with_confidential_item,
    member_circle,
    nothing,
    peer,
    proposal_drafted,
    selection_answered,
    selection_in_consent_round,
    selection_integrated,
    selection_integrating,
    selection_objected,
    selection_open,
    support_request,
    target,
)

# The members' web pages (hidden from the spec): sign-in and sign-out for anyone with the
# form's CSRF token, every other page for members only.
WEB_OPEN = {
    ("GET", "/sign-in"),
    ("POST", "/sign-in"),
    ("POST", "/sign-out"),
    # A one-time sign-in link from an admission mail: its form, and its use (test_mail.py).
    ("GET", "/sign-in/link/{token}"),
    ("POST", "/sign-in/link/{token}"),
}
# Unsubscribing by the signed link in a mail: without a session, as mail clients post it
# (RFC 8058), so without a CSRF token (tests/node/test_mail.py).
WEB_BY_MAIL = {
    ("GET", "/unsubscribe/{person_id}/{signature}"),
    ("POST", "/unsubscribe/{person_id}/{signature}"),
}
# Each page, read by every member on one circle where all these setups were made (so a page
# with a record shows it at a stage with much to show: answers, objections, a confidential
# item a guest reads as withheld).
WEB_PAGES = {
    ("GET", "/home"): nothing,
    ("GET", "/circle"): nothing,
    ("GET", "/decisions"): nothing,
    ("GET", "/hats"): nothing,
    ("GET", "/meetings"): nothing,
    ("GET", "/account"): nothing,
    ("GET", "/network"): nothing,
    ("GET", "/map"): nothing,
    ("GET", "/proposals"): nothing,
    ("GET", "/proposals/new"): nothing,
    ("GET", "/proposals/{proposal_id}"): proposal_drafted,
    ("GET", "/circles/{other}"): peer,
    ("GET", "/support/{request_id}"): support_request,
    ("GET", "/decisions/{decision_id}"): decision,
    ("GET", "/plans"): nothing,
    ("GET", "/plans/{plan_id}"): budget,
    ("GET", "/hats/{hat_id}"): hat("cook"),
    ("GET", "/selections"): nothing,
    ("GET", "/selections/{selection_id}"): selection_integrated,
    ("GET", "/meetings/{meeting_id}"): meeting_with_confidential_item,
    ("GET", "/logbook"): nothing,
    ("GET", "/appeals"): nothing,
    ("GET", "/appeals/{appeal_id}"): appeal_heard,
    ("GET", "/linked-circles"): nothing,
    ("GET", "/linked-circles/{circle}"): member_circle,
    ("GET", "/linked-circles/{circle}/decisions"): member_circle,
    ("GET", "/linked-circles/{circle}/minutes"): member_circle,
    ("GET", "/people"): nothing,
    ("GET", "/member-aims"): nothing,
    ("GET", "/people/{person_id}"): target("cleo"),
}
# Forms about oneself alone (one's own mail settings): every member posts their own.
WEB_OWN = {("POST", "/account/mail")}
# Web forms that act: the same rules as the member API's routes that do the same.
WEB_ACTIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("POST", "/meetings"): ("POST", "/api/meetings"),
    ("POST", "/proposals"): ("POST", "/api/proposals"),
    ("POST", "/account/calendar"): ("POST", "/api/me/calendar"),
    ("POST", "/account/calendar/revoke"): ("DELETE", "/api/me/calendar"),
    ("POST", "/circles/{other}/seats/{proposal}"): ("POST", "/api/seats/{co_op}/{proposal}"),
    ("POST", "/support/{request_id}/delivery"): (
        "POST",
        "/api/support-requests/{request_id}/delivery",
    ),
    ("POST", "/support/{request_id}/reflection"): (
        "POST",
        "/api/support-requests/{request_id}/reflection",
    ),
    ("POST", "/circle/activate"): ("POST", "/api/circle/activate"),
    # The circle's people, and each person's page.
    ("POST", "/people"): ("POST", "/api/people"),
    ("POST", "/people/{person_id}/trial"): ("POST", "/api/people/{person_id}/trial"),
    ("POST", "/people/{person_id}/trial/sessions"): (
        "POST",
        "/api/people/{person_id}/trial/sessions",
    ),
    ("POST", "/people/{person_id}/admit"): ("POST", "/api/people/{person_id}/admit"),
    ("POST", "/people/{person_id}/decline"): ("POST", "/api/people/{person_id}/decline"),
    ("POST", "/people/{person_id}/level"): ("POST", "/api/people/{person_id}/level"),
    ("POST", "/people/{person_id}/step-back"): ("POST", "/api/people/{person_id}/step-back"),
    ("POST", "/people/{person_id}/return"): ("POST", "/api/people/{person_id}/return"),
    ("POST", "/people/{person_id}/leave"): ("POST", "/api/people/{person_id}/leave"),
    ("POST", "/people/{person_id}/erase"): ("POST", "/api/people/{person_id}/erase"),
    ("POST", "/people/{person_id}/aims"): ("PUT", "/api/people/{person_id}/aims"),
    ("POST", "/people/{person_id}/tokens"): ("POST", "/api/tokens"),
    ("POST", "/people/{person_id}/tokens/{token_id}/revoke"): (
        "DELETE",
        "/api/tokens/{token_id}",
    ),
    # Hats and selections.
    ("POST", "/hats"): ("POST", "/api/hats"),
    ("POST", "/hats/{hat_id}/renewals"): ("POST", "/api/hats/{hat_id}/renewals"),
    ("POST", "/hats/{hat_id}/take-off"): ("POST", "/api/hats/{hat_id}/take-off"),
    ("POST", "/hats/{hat_id}/back-stop"): ("POST", "/api/hats/{hat_id}/back-stop"),
    ("POST", "/hats/{hat_id}/back-stop/clear"): ("DELETE", "/api/hats/{hat_id}/back-stop"),
    ("POST", "/selections"): ("POST", "/api/selections"),
    # Decisions, budgets and plans.
    ("POST", "/decisions"): ("POST", "/api/decisions"),
    ("POST", "/decisions/update-due-dates"): ("POST", "/api/decisions/update-due-dates"),
    ("POST", "/decisions/{decision_id}/challenge"): (
        "POST",
        "/api/decisions/{decision_id}/challenge",
    ),
    ("POST", "/plans"): ("POST", "/api/plans"),
    ("POST", "/plans/{plan_id}/revise"): ("POST", "/api/plans/{plan_id}/revise"),
    # A meeting's page.
    ("POST", "/meetings/{meeting_id}/absences"): ("POST", "/api/meetings/{meeting_id}/absences"),
    ("POST", "/meetings/{meeting_id}/attendance"): (
        "POST",
        "/api/meetings/{meeting_id}/attendance",
    ),
    ("POST", "/meetings/{meeting_id}/agenda"): ("POST", "/api/meetings/{meeting_id}/agenda"),
    ("POST", "/meetings/{meeting_id}/agenda/{number}/guests-left"): (
        "POST",
        "/api/meetings/{meeting_id}/agenda/{number}/guests-left",
    ),
    ("POST", "/meetings/{meeting_id}/agenda/{number}/decided"): (
        "POST",
        "/api/meetings/{meeting_id}/agenda/{number}/decided",
    ),
    ("POST", "/meetings/{meeting_id}/minutes"): ("POST", "/api/meetings/{meeting_id}/minutes"),
    ("POST", "/meetings/{meeting_id}/minutes/consent"): (
        "POST",
        "/api/meetings/{meeting_id}/minutes/consent",
    ),
    # Appeals.
    ("POST", "/appeals"): ("POST", "/api/appeals"),
    ("POST", "/appeals/elsewhere"): ("POST", "/api/appeals/elsewhere"),
}
# The path parameters of a web form that its API route takes in its body instead (whose token
# is issued or revoked: Gus's, on his page).
WEB_PATH_PARAMS: dict[str, Setup] = {
    "/people/{person_id}/tokens": target("gus"),
    "/people/{person_id}/tokens/{token_id}/revoke": target("gus"),
}
# Web forms with no member API route: who may post each (node/app's rule).
WEB_ONLY: dict[tuple[str, str], Rule] = {
    ("POST", "/network/join"): Rule(
        SECRETARY, body={"url": "not an address"}, why="the records keeper (node/app/joining.py)"
    ),
}

# The step routes of the pages: each step name (the page module's own table) -> the member
# API route (POST) whose rules it follows.
WEB_STEPS = {
    "present": "/api/proposals/{proposal_id}/present",
    "question": "/api/proposals/{proposal_id}/questions",
    "answer": "/api/proposals/{proposal_id}/questions/{number}/answer",
    "amend": "/api/proposals/{proposal_id}/amend",
    "open-reactions": "/api/proposals/{proposal_id}/reaction-round",
    "react": "/api/proposals/{proposal_id}/reactions",
    "open-round": "/api/processes/{process_id}/consent-round",
    "consent": "/api/processes/{process_id}/consents",
    "object": "/api/processes/{process_id}/objections",
    "close-round": "/api/processes/{process_id}/close",
    "integrate": "/api/processes/{process_id}/integrations",
    "withdraw-objection": "/api/processes/{process_id}/objections/{number}/withdraw",
    "withdraw": "/api/processes/{process_id}/withdraw",
    "vote": "/api/proposals/{proposal_id}/vote",
    "advance": "/api/processes/{process_id}/answers-in-advance",
    "change": "/api/processes/{process_id}/answer-changes",
    "escalate": "/api/processes/{process_id}/escalate",
}
# A selection's page (node.http.web.selection_pages.STEPS_BY_NAME): its own routes, and the
# consent process's on the candidate (with the rules below, for a selection).
SELECTION_STEPS = {
    "nominate": "/api/selections/{selection_id}/nominations",
    "change-round": "/api/selections/{selection_id}/change-round",
    "change-nomination": "/api/selections/{selection_id}/change-nomination",
    "candidate": "/api/selections/{selection_id}/candidate",
    "consent": "/api/processes/{process_id}/consents",
    "object": "/api/processes/{process_id}/objections",
    "close-round": "/api/processes/{process_id}/close",
    "integrate": "/api/processes/{process_id}/integrations",
    "open-round": "/api/processes/{process_id}/consent-round",
    "withdraw-objection": "/api/processes/{process_id}/objections/{number}/withdraw",
    "withdraw": "/api/processes/{process_id}/withdraw",
}
# An appeal's page (node.http.web.appeal_pages.STEPS).
APPEAL_STEPS = {
    "join": "/api/appeals/{appeal_id}/join",
    "circle-answer": "/api/appeals/{appeal_id}/circle-answer",
    "take-further": "/api/appeals/{appeal_id}/take-further",
    "amendment": "/api/appeals/{appeal_id}/amendment",
    "answer": "/api/appeals/{appeal_id}/answer",
    "withdraw": "/api/appeals/{appeal_id}/withdraw",
}
STEP_ROUTES: dict[str, dict[str, str]] = {
    "/proposals/{proposal_id}/{step}": WEB_STEPS,
    "/selections/{selection_id}/{step}": SELECTION_STEPS,
    "/appeals/{appeal_id}/{step}": APPEAL_STEPS,
}

# The consent process's API routes on a selection: who may, at the stage where each is
# possible. The member API is held to these too (test_member_api_cells_on_a_selection), as
# to its rows for a proposal: the same route, another process.
SELECTION_PROCESS: dict[tuple[str, str], Rule] = {
    ("POST", "/api/processes/{process_id}/consents"): Rule(FULL, selection_in_consent_round, {}),
    ("POST", "/api/processes/{process_id}/objections"): Rule(
        FULL, selection_in_consent_round, {"argument": "Cleo cooks already"}
    ),
    ("POST", "/api/processes/{process_id}/close"): Rule(
        FACILITATOR, selection_answered, why="closed once the quorum answered"
    ),
    ("POST", "/api/processes/{process_id}/integrations"): Rule(
        SPEAKERS,
        selection_integrating,
        {"how": "add_measure", "text": "Ada trains her", "objections": [1]},
        "full and learning participants integrate an objection",
    ),
    ("POST", "/api/processes/{process_id}/consent-round"): Rule(
        FACILITATOR, selection_integrated, why="open again once its objections are integrated"
    ),
    ("POST", "/api/processes/{process_id}/objections/{number}/withdraw"): Rule(
        frozenset({"cleo"}), selection_objected, why="who raised it"
    ),
    ("POST", "/api/processes/{process_id}/withdraw"): Rule(
        FACILITATOR,
        selection_open,
        why="who opened it (Ben), or the facilitator (Ben too)",
    ),
}

Fields = dict[str, Any] | Callable[[Everyone], dict[str, Any]]
# A term renewed past its current review date (a year after START, the hats' default term).
RENEWED = (START + timedelta(days=500)).date().isoformat()

# A complete form for each API route a form follows (keyed by that route; a step whose page
# asks other fields than a proposal's has its own in STEP_FIELDS). A step asked to be confirmed
# is posted confirmed, so that it reaches the rules.
FORM_FIELDS: dict[str, Fields] = {
    "/api/meetings": {"title": "Extra", "when": "2026-04-01T18:00"},
    "/api/proposals": {"title": "Compost", "text": "Weekly"},
    "/api/proposals/{proposal_id}/questions": {"question": "Why?"},
    "/api/proposals/{proposal_id}/questions/{number}/answer": {"number": "1", "answer": "Tue"},
    "/api/proposals/{proposal_id}/amend": {"text": "Fortnightly"},
    "/api/proposals/{proposal_id}/reactions": {"reaction": "Good"},
    "/api/processes/{process_id}/objections": {"argument": "It harms the aim"},
    "/api/processes/{process_id}/integrations": {
        "how": "amend",
        "text": "Fortnightly",
        "objection": "1",
    },
    "/api/processes/{process_id}/objections/{number}/withdraw": {"number": "1"},
    "/api/proposals/{proposal_id}/vote": {"in_favour": "3", "against": "0"},
    "/api/processes/{process_id}/answers-in-advance": {"consents": "yes"},
    "/api/processes/{process_id}/answer-changes": {"consents": "yes"},
    "/api/processes/{process_id}/escalate": {"reason": "Beyond us"},
    "/api/support-requests/{request_id}/delivery": {"note": "Two cooks came"},
    "/api/support-requests/{request_id}/reflection": {"text": "It helped"},
    "/api/people": {"name": "Dora", "level": "full"},
    "/api/people/{person_id}/trial": {"sessions": "2"},
    "/api/people/{person_id}/admit": {"level": "full"},
    "/api/people/{person_id}/level": {"level": "learning"},
    "/api/people/{person_id}/step-back": {"note": "A busy season"},
    "/api/people/{person_id}/leave": {"note": "Moving away"},
    "/api/people/{person_id}/erase": {"confirmed": "yes"},
    "/api/people/{person_id}/aims": {
        "aims": "Cook on Sundays",
        "development_goals": "Learn to facilitate",
    },
    "/api/hats": {
        "name": "Baker",
        "purpose": "Bread",
        "domain": "bread",
        "default_term_months": "12",
        "kind": "operational",
    },
    "/api/hats/{hat_id}/renewals": lambda w: {"person_id": w.ids["ben"], "review_date": RENEWED},
    "/api/hats/{hat_id}/take-off": lambda w: {
        "person_id": w.ids["ben"],
        "reason": "Rest",
        "confirmed": "yes",
    },
    "/api/hats/{hat_id}/back-stop": lambda w: {"person_id": w.ids["cleo"]},
    "/api/selections": {"hat_id": "cook"},
    "/api/selections/{selection_id}/nominations": lambda w: {
        "nominee": w.ids["cleo"],
        "reason": "Cooks well",
    },
    "/api/selections/{selection_id}/change-nomination": lambda w: {
        "nominee": w.ids["ben"],
        "reason": "On reflection",
    },
    "/api/selections/{selection_id}/candidate": lambda w: {
        "candidate": w.ids["cleo"],
        "reason": "Most nominated",
    },
    "/api/decisions": {
        "hat_id": "facilitator",
        "area": "meetings",
        "title": "Start at 7",
        "text": "x",
    },
    "/api/decisions/{decision_id}/challenge": {"text": "Meet on Wednesdays"},
    "/api/plans": {
        "hat_id": "treasurer",
        "kind": "budget",
        "title": "Spring",
        "text": "Food",
        "period_start": "2026-03-01",
        "period_end": DATE,
    },
    "/api/plans/{plan_id}/revise": {"hat_id": "treasurer", "text": "Food and fuel"},
    "/api/meetings/{meeting_id}/absences": {"note": "Away that week"},
    "/api/meetings/{meeting_id}/attendance": lambda w: {
        "present": [w.ids["ada"], w.ids["ben"]],
    },
    "/api/meetings/{meeting_id}/agenda": {"item1": "The rota"},
    "/api/meetings/{meeting_id}/agenda/{number}/decided": {"outcome": "Agreed"},
    "/api/meetings/{meeting_id}/minutes": {"text": "Met"},
    "/api/appeals": lambda w: {
        "decision_id": w.records["decision_id"][0],
        "grounds": "Too late",
    },
    "/api/appeals/elsewhere": lambda w: {
        "circle": w.records["other"][0],
        "decision_id": "d",
        "grounds": "Unfair",
    },
    "/api/appeals/{appeal_id}/join": {"grounds": "Too late for me too"},
    "/api/appeals/{appeal_id}/circle-answer": {
        "upheld": "no",
        "reason": "Tuesdays suit most",
    },
    "/api/appeals/{appeal_id}/take-further": {"confirmed": "yes"},
    "/api/appeals/{appeal_id}/amendment": {"text": "Wednesdays"},
    "/api/appeals/{appeal_id}/answer": {"upheld": "yes", "reason": "Yes"},
    "/api/appeals/{appeal_id}/withdraw": {"reason": "Talked it over", "confirmed": "yes"},
}
# A step whose page asks other fields than FORM_FIELDS gives for its API route.
STEP_FIELDS: dict[tuple[str, str], Fields] = {
    ("/proposals/{proposal_id}/{step}", "close-round"): {"confirmed": "yes"},
    ("/selections/{selection_id}/{step}", "integrate"): {
        "how": "add_measure",
        "text": "Ada trains her",
        "objection": "1",
    },
    ("/selections/{selection_id}/{step}", "withdraw"): {"confirmed": "yes"},
}


def form_fields(world: Everyone, path: str, step: str | None, api_path: str) -> dict[str, Any]:
    """A complete form for a web form (a step of a step route, or a form of its own)."""
    fields = STEP_FIELDS.get((path, step or ""), FORM_FIELDS.get(api_path, {}))
    return fields(world) if callable(fields) else fields


# Forms (and steps) that ask to be confirmed on a page of their own: posted without
# `confirmed=yes`, the page asking is shown to whom the rules let take the step, everyone else
# is refused by the rules, and nothing is done (test_a_confirmation_is_asked_of_whom_may_act).
CONFIRMED = {
    ("/proposals/{proposal_id}/{step}", "close-round"),  # with an answer missing (Cleo's)
    ("/selections/{selection_id}/{step}", "withdraw"),
    ("/appeals/{appeal_id}/{step}", "take-further"),
    ("/appeals/{appeal_id}/{step}", "withdraw"),
    ("/hats/{hat_id}/take-off", ""),
    ("/people/{person_id}/erase", ""),
}


# Steps the world cannot take, by step route: posted with their token, they reach the circle's
# rules, which refuse them so. A proposal: it decides by consent, takes no answers in advance
# and has no broader circle. An appeal: not upheld by the circle, it would go to a care and
# counsel group, which the circle's rules do not name; not upheld, so no amendment; not taken
# to this circle by another, so no answer of this one's.
REFUSED_IN_THE_WORLD: dict[str, dict[str, int]] = {
    "/proposals/{proposal_id}/{step}": {"vote": 409, "advance": 403, "escalate": 409},
    "/appeals/{appeal_id}/{step}": {"take-further": 409, "amendment": 409, "answer": 409},
}
# Who posts a step that the rule's first member cannot take (a change of answer: who answered).
POSTED_BY: dict[str, dict[str, str]] = {
    "/proposals/{proposal_id}/{step}": {"change": "cleo", "advance": "cleo"},
}


# Forms this world cannot let through: the status of the rules' refusal, after the token.
REFUSED_BY_THE_RULES = {
    "/network/join": (422,),
    "/circles/{other}/seats/{proposal}": (403,),
    "/support/{request_id}/delivery": (409,),
    "/support/{request_id}/reflection": (409,),
    "/circle/activate": (409,),  # it is active already
    "/appeals/elsewhere": (409,),  # Garden is a peer, not a linked circle
}
