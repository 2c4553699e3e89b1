"""The steps of a consent round that a proposal's page and a selection's page take alike:
consenting, objecting, integrating objections and withdrawing one's objection. Each takes the
node, who, the process's id and the form, and returns the sentence shown once it is done."""

from __future__ import annotations

from node.app.node import CircleNode
from node.http.web.forms import Form


def consent_step(node: CircleNode, by: str, process_id: str, form: Form) -> str:
    node.consent.consent(by, process_id, form.get("concern"))
    return "Your consent is recorded."


def object_step(node: CircleNode, by: str, process_id: str, form: Form) -> str:
    number = node.consent.raise_objection(by, process_id, form.get("argument"))
    return f"Your objection is recorded as objection {number}."


def integrate_step(node: CircleNode, by: str, process_id: str, form: Form) -> str:
    numbers = form.numbers("objection", "the objections this integrates")
    node.consent.integrate(
        by,
        process_id,
        form.get("how"),
        form.get("text"),
        numbers,
        form.day("review_date", "new review date"),
    )
    listed = ", ".join(str(n) for n in numbers)
    return f"Objection {listed} integrated; the consent round can open again."


def withdraw_objection_step(node: CircleNode, by: str, process_id: str, form: Form) -> str:
    number = form.number("number", "the objection to withdraw")
    node.consent.withdraw_objection(by, process_id, number)
    return f"Objection {number} is withdrawn."
