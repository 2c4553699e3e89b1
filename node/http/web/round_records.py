"""How a consent process's closed rounds read on a page: who consented, each concern with who
gave it, each objection with its author, argument and how it was integrated."""

from __future__ import annotations

from typing import Any

from domain.consent import ConsentProcess
from domain.records import RoundRecord
from domain.values import Stage
from node.http.web.names import Names
from node.http.web.rendering import words


def closed_rounds(process: ConsentProcess, names: Names) -> list[dict[str, Any]]:
    """Each closed round of `process`, ready for the closed-rounds table."""
    return [_round(process, record, names) for record in process.rounds]


def consenting_round(process: ConsentProcess, names: Names) -> dict[str, Any] | None:
    """The round that consented to `process`, if one did: what a decision carries with it."""
    consented = [r for r in closed_rounds(process, names) if r["outcome"] == Stage.CONSENTED]
    if not consented:
        return None
    # The objections raised on the way, and how each was settled, belong to the decision too.
    earlier = [_objection(process, o.number, names) for o in process.objections]
    return {**consented[-1], "earlier_objections": earlier}


def _round(process: ConsentProcess, record: RoundRecord, names: Names) -> dict[str, Any]:
    # Rounds closed before the givers of concerns were recorded name nobody for them.
    givers = record.concerns_by or [""] * len(record.concerns)
    return {
        "number": record.number,
        "consents": [names(p) for p in record.consents],
        "concerns": [
            {"name": names(by), "text": text}
            for by, text in zip(givers, record.concerns, strict=True)
        ],
        "objections": [_objection(process, n, names) for n in record.objections],
        "missing": [names(p) for p in record.missing],
        "outcome": record.outcome,
        "reason": record.reason,
    }


def _objection(process: ConsentProcess, number: int, names: Names) -> dict[str, Any]:
    objection = next((o for o in process.objections if o.number == number), None)
    if objection is None:
        return {"number": number, "name": "", "argument": "", "settled": ""}
    integration = next((i for i in process.integrations if i.number == objection.resolved_by), None)
    if objection.withdrawn:
        settled = "withdrawn"
    elif integration is not None:
        settled = f"integrated by {words(integration.how)}: {integration.text}"
    else:
        settled = "open"
    return {
        "number": number,
        "name": names(objection.person_id),
        "argument": objection.argument,
        "settled": settled,
    }


def objection_rows(process: ConsentProcess, names: Names, me: str) -> list[dict[str, Any]]:
    """A process's objections as a proposal's and a selection's page show them."""
    return [
        {
            "number": o.number,
            "name": names(o.person_id),
            "argument": o.argument,
            "round": o.round,
            "open": o.is_open,
            "withdrawn": o.withdrawn,
            "resolved_by": o.resolved_by,
            "mine": o.person_id == me,
        }
        for o in process.objections
    ]
