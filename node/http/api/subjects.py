"""What a proposal's `subject` names, declared for each purpose: one model per purpose, built
from a table keyed by purpose (a new purpose, or a new key of one, is one entry), so that the
OpenAPI document shows each purpose's fields instead of a free object.

The keys are those `SUBJECT_KEYS` (domain/proposal.py) requires, and the optional ones the
domain and the service layer read (`binds_member_circles`, `supersedes`, `round`, `consents`,
`argument`, the rules of `rules_from_subject`...). The circle still checks what only it can
(that a decision or a circle named exists, that a text is not blank) and refuses with its
sentence; the schema refuses what is malformed (a key missing or unknown, a value of the wrong
type) as any malformed request is refused (400).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    WithJsonSchema,
    create_model,
    model_validator,
)

from domain.plan import PlanKind
from domain.values import AbsenteePolicy, DecisionMethod, Purpose, SupportKind
from node.http.api.fields import Body, Ref, Say, Title

MAX_SUBJECT_CHARS = 20_000
MAX_ROUND = 1_000_000


class SubjectFields(BaseModel):
    """What a proposal names besides its title and text; no key but those declared."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _not_too_big(self) -> SubjectFields:
        size = len(json.dumps(self.model_dump(mode="json"), ensure_ascii=False).encode())
        if size > MAX_SUBJECT_CHARS:
            raise ValueError(f"a subject holds at most {MAX_SUBJECT_CHARS} bytes of JSON")
        return self


def _needs(kind: Any, description: str) -> Any:
    """A key the purpose needs."""
    return (kind, Field(description=description))


def _may(kind: Any, description: str) -> Any:
    """A key the purpose may name; left out, the current value (or none) holds."""
    return (kind | None, Field(None, description=description))


_CIRCLE = _needs(Ref, "The other circle: its node id, as the circle knows it")
_DECISION = _needs(Ref, "The id of the decision (a policy or an everyday decision)")
_REQUEST = _needs(Ref, "The id of the other circle's request, as this circle recorded it")
Round = Annotated[int, Field(ge=1, le=MAX_ROUND)]
Amount = Annotated[Decimal, Field(ge=0, lt=Decimal("1e15"), allow_inf_nan=False)]
Currency = Annotated[str, Field(min_length=3, max_length=3)]
Quorum = Annotated[int, Field(ge=1, le=100)]

# Each purpose: what its subject is for, and its keys. A new purpose adds one entry here.
SUBJECT_TABLE: dict[Purpose, tuple[str, dict[str, Any]]] = {
    Purpose.ADOPT_POLICY: (
        "A new policy (its text is the proposal's)",
        {
            "supersedes": _may(Ref, "A decision this policy replaces once in force"),
            "binds_member_circles": _may(
                bool, "A co-op's policy that binds its member circles (they are told of it)"
            ),
        },
    ),
    Purpose.AMEND_DECISION: ("A decision amended: the proposal's text", {"decision_id": _DECISION}),
    Purpose.RENEW_DECISION: ("A decision renewed for another term", {"decision_id": _DECISION}),
    Purpose.REVOKE_DECISION: ("A decision revoked", {"decision_id": _DECISION}),
    Purpose.CHANGE_AIM: (
        "The circle's aim revised (while it is forming: formed together)",
        {
            "aim": _needs(Body, "The new aim"),
            "mission_link": _may(
                Body,
                "How the aim links to the co-op's mission; left out, the current link stays "
                "(a forming circle then names none); empty or null, none",
            ),
        },
    ),
    Purpose.CHANGE_DOMAIN: (
        "The circle's domain changed",
        {"domain": _needs(Body, "What the circle decides about, from now on")},
    ),
    Purpose.CHANGE_RULES: (
        "The circle's governing rules changed: each rule named here, the current one for the rest",
        {
            "decision_method": _may(DecisionMethod, "How the circle decides by default"),
            "absentee_policy": _may(
                AbsenteePolicy, "What a full participant's silence in a round counts as"
            ),
            "methods_by_topic": _may(
                dict[Title, DecisionMethod], "Topics decided by another method than the default"
            ),
            "quorum_percent": _may(
                Quorum, "The share of full participants, in per cent, a round needs to close"
            ),
            "time_zone": _may(
                Title, "The IANA time zone dates fall due in, such as Europe/London or UTC"
            ),
            "long_term_circle": _may(
                Title, "The circle long-term decisions go to (its node id); empty for none"
            ),
            "long_term_topics": _may(
                Annotated[list[Title], Field(max_length=100)],
                "Topics whose decisions are long-term, whatever their term",
            ),
            "care_and_counsel": _may(
                Title, "The helping circle appeals go to (its node id); empty for none"
            ),
        },
    ),
    Purpose.REMOVE_PARTICIPANT: (
        "A participant removed from the circle",
        {"person_id": _needs(Ref, "The person's id")},
    ),
    Purpose.INCORPORATE: (
        "The circle incorporated as a legal entity",
        {
            "registered_name": _needs(Title, "The entity's registered name"),
            "number": _needs(Title, "Its registration number"),
            "registry": _needs(Title, "The registry that holds it"),
        },
    ),
    Purpose.GO_INDEPENDENT: (
        "The circle goes its own way",
        {"circle": _may(Ref, "The co-op it leaves (its node id), if it is part of one")},
    ),
    Purpose.DISSOLVE: ("The circle dissolved", {}),
    Purpose.REQUEST_PEERING: ("Ask another circle to peer", {"circle": _CIRCLE}),
    Purpose.ACCEPT_PEERING: ("Accept another circle's request to peer", {"circle": _CIRCLE}),
    Purpose.END_PEERING: ("End peering with another circle", {"circle": _CIRCLE}),
    Purpose.ADMIT_TO_NETWORK: (
        "Admit a circle that asked to join the network",
        {"circle": _CIRCLE},
    ),
    Purpose.APPLY_TO_COOP: ("Apply to be part of a co-op", {"circle": _CIRCLE}),
    Purpose.ADMIT_MEMBER: (
        "Admit a circle that applied to be part of this one",
        {"circle": _CIRCLE},
    ),
    Purpose.PROPOSE_LEADER: (
        "Propose a leader for a member circle (the co-op's side of the double link)",
        {"circle": _CIRCLE, "person": _needs(Ref, "The person proposed, by their id")},
    ),
    Purpose.AGREE_LEADER: (
        "Agree to the leader the co-op proposed (the member circle's side)",
        {"circle": _CIRCLE, "person": _needs(Ref, "The person proposed, by their id")},
    ),
    Purpose.ANSWER_CONSENT_REQUEST: (
        "This circle's answer to another circle's request for its consent",
        {
            "circle": _needs(Ref, "The circle that asks (its node id)"),
            "request": _needs(Ref, "The id of its proposal, as its request names it"),
            "round": (Round, Field(1, description="The consent round answered")),
            "consents": _needs(bool, "Whether this circle consents"),
            "argument": _may(Say, "The objection's argument (needed when it does not consent)"),
        },
    ),
    Purpose.REQUEST_SUPPORT: (
        "Ask other circles for support (the proposal's text says what is needed)",
        {
            "kind": _needs(SupportKind, "The kind of support asked for"),
            "circles": _may(
                Annotated[list[Ref], Field(max_length=50)],
                'The circles asked (node ids), or ["network"]; left out, the network',
            ),
        },
    ),
    Purpose.OFFER_SUPPORT: (
        "Offer support another circle asked for (the proposal's text is the offer)",
        {"circle": _needs(Ref, "The circle that asked (its node id)"), "request": _REQUEST},
    ),
    Purpose.ACCEPT_OFFER: (
        "Accept an offer of support this circle received",
        {"request": _REQUEST, "offer": _needs(Ref, "The circle whose offer it is (its node id)")},
    ),
    Purpose.ADOPT_PLAN: (
        "A budget or plan of the circle, for a period (its title and text are the proposal's, "
        "its review date the proposal's, else the period's end)",
        {
            "kind": _needs(PlanKind, "budget or plan"),
            "period_start": _needs(date, "The first day of its period"),
            "period_end": _needs(date, "The last day of its period"),
            "amount": _may(Amount, "A budget's amount (e.g. 1200.50)"),
            "currency": _may(Currency, "The amount's three-letter code, e.g. GBP"),
        },
    ),
    Purpose.REVISE_PLAN: (
        "A budget or plan revised: its text becomes the proposal's, its review date the "
        "proposal's (else the period's end), and what is named here changes",
        {
            "plan_id": _needs(Ref, "The id of the budget or plan"),
            "period_start": _may(date, "The first day of its period"),
            "period_end": _may(date, "The last day of its period"),
            "amount": _may(Amount, "A budget's amount (e.g. 1200.50)"),
            "currency": _may(Currency, "The amount's three-letter code, e.g. GBP"),
        },
    ),
}


def _model_name(purpose: Purpose) -> str:
    return "".join(word.capitalize() for word in purpose.value.split("_"))


SUBJECTS: dict[Purpose, type[SubjectFields]] = {
    purpose: create_model(  # type: ignore[call-overload]
        f"{_model_name(purpose)}Subject",
        __base__=SubjectFields,
        __doc__=f"{doc}.",
        **fields,
    )
    for purpose, (doc, fields) in SUBJECT_TABLE.items()
}


def needs_keys(purpose: Purpose) -> bool:
    """Whether the subject of this purpose has a key it cannot do without."""
    return any(field.is_required() for field in SUBJECTS[purpose].model_fields.values())


def drafts_by_purpose(base: type[BaseModel]) -> Any:
    """The draft request: `base`'s fields, with `purpose` and the `subject` declared for it,
    one model per purpose, as a union the OpenAPI document shows discriminated by `purpose`
    (a draft that names no purpose adopts a policy, as before purposes had schemas)."""
    drafts = []
    for purpose, subject in SUBJECTS.items():
        what = f"A proposal to {purpose.value.replace('_', ' ')}. {SUBJECT_TABLE[purpose][0]}."
        tag = Literal[purpose.value]  # type: ignore[valid-type, name-defined]
        drafts.append(
            create_model(  # type: ignore[call-overload]
                f"{_model_name(purpose)}Draft",
                __base__=base,
                __doc__=what,
                purpose=(
                    tag,
                    Field(purpose.value, description="What it does once consented")
                    if purpose == Purpose.ADOPT_POLICY
                    else Field(description="What it does once consented"),
                ),
                subject=(
                    subject,
                    Field(description=subject.__doc__)
                    if needs_keys(purpose)
                    else Field(default_factory=subject, description=subject.__doc__),
                ),
            )
        )
    union: Any = Annotated[
        Union[tuple(drafts)],  # type: ignore[valid-type]  # noqa: UP007
        Field(discriminator="purpose"),
    ]

    class ProposalDraft(RootModel[union]):  # type: ignore[valid-type]
        """A proposal's draft: its `purpose` says which fields its `subject` has."""

        @model_validator(mode="before")
        @classmethod
        def _adopts_a_policy_unless_it_says(cls, value: Any) -> Any:
            if isinstance(value, dict) and "purpose" not in value:
                return {**value, "purpose": Purpose.ADOPT_POLICY.value}
            return value

    return ProposalDraft


# A proposal's subject as the API shows it: what was drafted, as the schema of its purpose
# declares it (a plain object at run time: subjects stored before a key was declared are
# shown as they are).
StoredSubject = Annotated[
    dict[str, Any],
    WithJsonSchema(
        {
            "description": (
                "What the proposal names besides its title and text: the subject its purpose "
                "declares (the <Purpose>Subject schemas)"
            ),
            "anyOf": [
                {"$ref": f"#/components/schemas/{model.__name__}"} for model in SUBJECTS.values()
            ],
        }
    ),
]
