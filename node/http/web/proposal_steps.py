"""The steps a proposal's page posts (/proposals/{id}/{step}): each calls the node's use case as
the signed-in person with what the form holds, and says what was done. The domain decides
whether the step may be taken; a value a field cannot hold is refused beside it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from node.app.node import CircleNode
from node.http.web.forms import FieldRefused, Form
from node.http.web.rendering import words
from node.http.web.round_steps import (
    consent_step,
    integrate_step,
    object_step,
    withdraw_objection_step,
)

# A step takes the node, who, the proposal's id and the form, and returns the sentence shown
# once it is done.
Action = Callable[[CircleNode, str, str, Form], str]


@dataclass(frozen=True)
class Step:
    action: Action
    main_field: str = ""  # where a refusal of what was written is shown; none: at the top


def _present(node: CircleNode, by: str, pid: str, form: Form) -> str:
    node.proposals.present(by, pid)
    return "The proposal is presented. Clarifying questions come next."


def _ask(node: CircleNode, by: str, pid: str, form: Form) -> str:
    number = node.proposals.ask_question(by, pid, form.get("question"))
    return f"Your question is recorded as question {number}."


def _answer(node: CircleNode, by: str, pid: str, form: Form) -> str:
    number = form.number("number", "the question you answer")
    node.proposals.answer_question(by, pid, number, form.get("answer"))
    return f"Question {number} is answered."


def _amend(node: CircleNode, by: str, pid: str, form: Form) -> str:
    node.proposals.amend(by, pid, form.get("text"))
    return "The proposal is amended."


def _open_reactions(node: CircleNode, by: str, pid: str, form: Form) -> str:
    node.proposals.open_reactions(by, pid)
    return "The reaction round is open."


def _react(node: CircleNode, by: str, pid: str, form: Form) -> str:
    node.proposals.react(by, pid, form.get("reaction"))
    return "Your reaction is recorded."


def _yes_or_no(form: Form, name: str, what: str) -> bool:
    value = form.get(name)
    if value not in ("yes", "no"):
        raise FieldRefused(name, f"Say whether {what}")
    return value == "yes"


def _answer_in_advance(node: CircleNode, by: str, pid: str, form: Form) -> str:
    consents = _yes_or_no(form, "consents", "you consent or object")
    node.consent.answer_in_advance(by, pid, consents, form.get("text"))
    told = "consent" if consents else "objection"
    return f"Your {told} is recorded in advance; it counts in the first consent round."


def _open_round(node: CircleNode, by: str, pid: str, form: Form) -> str:
    node.consent.open_consent_round(by, pid)
    return "The consent round is open."


def _change_answer(node: CircleNode, by: str, pid: str, form: Form) -> str:
    consents = _yes_or_no(form, "consents", "you consent or object now")
    _, raised = node.consent.change_answer(by, pid, consents, form.get("text"))
    if raised is None:
        return "Your answer is changed: you consent now."
    return f"Your answer is changed: your objection is recorded as objection {raised}."


def _vote(node: CircleNode, by: str, pid: str, form: Form) -> str:
    in_favour = form.number("in_favour", "how many voted in favour")
    against = form.number("against", "how many voted against")
    abstentions = form.number("abstentions", "how many abstained") if form.get("abstentions") else 0
    outcome = node.proposals.record_vote(by, pid, in_favour, against, abstentions)
    return f"The vote is recorded: {words(outcome)}."


def _close_round(node: CircleNode, by: str, pid: str, form: Form) -> str:
    outcome = node.consent.close_consent_round(by, pid)
    return f"The consent round is closed: {words(outcome)}."


def _escalate(node: CircleNode, by: str, pid: str, form: Form) -> str:
    node.consent.escalate(by, pid, form.get("reason"))
    return "The decision is passed to the broader circle."


def _withdraw(node: CircleNode, by: str, pid: str, form: Form) -> str:
    node.consent.withdraw(by, pid)
    return "The proposal is withdrawn."


STEPS: dict[str, Step] = {
    "present": Step(_present),
    "question": Step(_ask, "question"),
    "answer": Step(_answer, "answer"),
    "amend": Step(_amend, "text"),
    "open-reactions": Step(_open_reactions),
    "react": Step(_react, "reaction"),
    "advance": Step(_answer_in_advance, "text"),
    "open-round": Step(_open_round),
    "consent": Step(consent_step, "concern"),
    "object": Step(object_step, "argument"),
    "change": Step(_change_answer, "text"),
    "vote": Step(_vote, "in_favour"),
    "close-round": Step(_close_round),
    "integrate": Step(integrate_step, "text"),
    "withdraw-objection": Step(withdraw_objection_step),
    "escalate": Step(_escalate, "reason"),
    "withdraw": Step(_withdraw),
}


def form_name(step: str, form: Form) -> str:
    """The name, on the proposal's page, of the form that posted this step: the step's, or for
    an answer to a question, that question's own form."""
    if step == "answer":
        return f"answer-{form.get('number')}"
    return step
