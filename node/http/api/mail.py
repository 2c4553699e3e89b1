"""Where and how often the node mails you: your own address and choice, read and set by you."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from node.app.mail_choices import MailChoice
from node.http.api.auth import Node, Person
from node.http.api.errors import ERROR_RESPONSES
from node.http.api.threaded import ThreadedRoute

router = APIRouter(route_class=ThreadedRoute, tags=["circle and people"], responses=ERROR_RESPONSES)


class MailChoiceOut(BaseModel):
    email: str = Field(description="Where the node mails you (empty: nowhere)")
    notices: str = Field(
        description="each (a mail when something needs you), digest (one a day) or none"
    )


class MailChoiceIn(BaseModel):
    email: str = Field("", max_length=254, description="Your address; empty to remove it")
    notices: str = Field("each", description="each, digest or none")


def _out(choice: MailChoice) -> MailChoiceOut:
    return MailChoiceOut(email=choice.email, notices=choice.notices)


@router.get("/people/{person_id}/mail", summary="Where and how often the node mails you")
def get_mail_choice(node: Node, by: Person, person_id: str) -> MailChoiceOut:
    return _out(node.mail.choice_of(by, person_id))


@router.put(
    "/people/{person_id}/mail",
    summary="Give, change or remove your address, and choose each notice, a digest, or none",
)
def set_mail_choice(node: Node, by: Person, person_id: str, body: MailChoiceIn) -> MailChoiceOut:
    return _out(node.mail.choose(by, person_id, body.email, body.notices))
