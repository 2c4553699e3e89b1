"""The circle and its people: who takes part, how, with which hats; coming and going; tokens."""

from __future__ import annotations

from datetime import date

import msgspec
from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from domain.circle import Circle
from domain.membership import check_records_keeper
from domain.records import Participant
from node.app.node import CircleNode
from node.app.published_records import circle_profile
from node.http.api.auth import Node, Person
from node.http.api.errors import ERROR_RESPONSES
from node.http.api.paging import Page, Paging, page_of
from node.http.api.threaded import ThreadedRoute

router = APIRouter(route_class=ThreadedRoute, tags=["circle and people"], responses=ERROR_RESPONSES)


class HatOut(BaseModel):
    hat_id: str
    name: str
    purpose: str
    accountabilities: list[str]
    domain: list[str]
    default_term_months: int
    kind: str
    wearers: list[str] = Field(description="Person ids of who wears it now")
    back_stop: str | None = Field(
        None, description="Person id of who steps in when a wearer cannot, if one is named"
    )


class TermOut(BaseModel):
    hat_id: str
    person_id: str
    name: str
    started: date
    review_date: date


class ParticipantOut(BaseModel):
    person_id: str
    name: str
    level: str
    status: str
    since: date
    hats: list[str]


# The fields of the circle's public profile (node.network.messages.CircleProfile) but the legal
# entity's number and registry, and more; tests/node/api/test_api_wire_records.py keeps them
# the profile's.
class CircleOut(BaseModel):
    id: str
    node_id: str
    name: str
    aim: str
    domain: str
    kind: str
    parent: str | None
    status: str
    decision_method: str
    absentee_policy: str
    methods_by_topic: dict[str, str]
    quorum_percent: int = Field(
        description="Share of full participants (per cent, rounded up) a round needs to count"
    )
    time_zone: str = Field(description="The IANA time zone its dates fall due in")
    long_term_circle: str | None = Field(
        description="The circle whose consent long-term decisions need (a node id), if any"
    )
    long_term_topics: list[str] = Field(description="Topics the rules name as long-term")
    care_and_counsel: str | None = Field(
        description="The helping circle that hears appeals the circle could not resolve"
    )
    legal_name: str | None
    mission_link: str | None = Field(
        description="How the circle's aim links to the co-op's mission, as it consented to it"
    )
    aim_formed: bool = Field(
        description="Whether the circle formed its aim together, by consent while forming "
        "(a forming circle becomes active only once it has)"
    )
    participants: list[ParticipantOut]
    hats: list[HatOut]
    terms_ending: list[TermOut] = Field(description="Hat terms whose review comes within 30 days")


def circle_out(node: CircleNode) -> CircleOut:
    """The circle as its public profile says it (the one the feed publishes), with its rules,
    people and hats."""
    circle = node.records.peek_circle()
    profile = msgspec.structs.asdict(circle_profile(circle))
    # Of the legal entity, the member API shows the registered name only.
    del profile["legal_number"], profile["legal_registry"]
    today = node.records.today()
    stops = node.hats.back_stops()
    return CircleOut(
        id=str(circle.id),
        node_id=node.feed.node_id if node.feed.keys else "",
        **profile,
        decision_method=str(circle.rules.decision_method),
        absentee_policy=str(circle.rules.absentee_policy),
        methods_by_topic=dict(circle.rules.methods_by_topic),
        quorum_percent=circle.rules.quorum_percent,
        time_zone=circle.rules.time_zone,
        long_term_circle=circle.rules.long_term_circle,
        long_term_topics=list(circle.rules.long_term_topics),
        care_and_counsel=circle.rules.care_and_counsel,
        mission_link=circle.mission_link,
        aim_formed=circle.aim_formed,
        participants=[
            ParticipantOut(
                person_id=p.person_id,
                name=node.relations.seat_name(p.person_id)
                if "/" in p.person_id
                else node.records.person_name(p.person_id),
                level=str(p.level),
                status=str(p.status),
                since=p.since,
                hats=circle.hats_worn_by(p.person_id),
            )
            for p in circle.participants.values()
        ],
        hats=[
            HatOut(
                **{**vars(h), "kind": str(h.kind)},
                wearers=circle.wearers(h.hat_id),
                back_stop=stops.back_stop(circle, h.hat_id) if stops is not None else None,
            )
            for h in circle.hats.values()
        ],
        terms_ending=[
            TermOut(
                hat_id=t.hat_id,
                person_id=t.person_id,
                name=node.records.person_name(t.person_id),
                started=t.started,
                review_date=t.review_date,
            )
            for t in circle.terms_ending(today)
        ],
    )


@router.get("/circle", summary="The circle: aim, domain, rules, people and their hats")
def get_circle(node: Node, by: Person) -> CircleOut:
    return circle_out(node)


@router.post(
    "/circle/activate",
    summary="Start the circle's work (aim formed together; facilitator and secretary selected)",
)
def activate(node: Node, by: Person) -> CircleOut:
    node.circle.activate_circle(by)
    return circle_out(node)


class PersonOut(BaseModel):
    person_id: str
    name: str
    level: str
    status: str
    hats: list[str]
    trial_sessions: int | None = Field(
        description="The sessions agreed for their trial (none if they had no trial, or one "
        "started before sessions were counted)"
    )
    sessions_held: int = Field(description="How many sessions of their trial were held")


def person_out(node: CircleNode, circle: Circle, p: Participant) -> PersonOut:
    return PersonOut(
        person_id=p.person_id,
        name=node.records.person_name(p.person_id),
        level=str(p.level),
        status=str(p.status),
        hats=circle.hats_worn_by(p.person_id),
        trial_sessions=p.trial_sessions,
        sessions_held=p.sessions_held,
    )


@router.get("/people", summary="Everyone who takes or took part (paginated)")
def list_people(node: Node, by: Person, paging: Paging) -> Page[PersonOut]:
    circle = node.records.peek_circle()
    people = [
        person_out(node, circle, p) for p in circle.participants.values() if "/" not in p.person_id
    ]
    return page_of(people, paging)


class Application(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    contact: str = Field("", max_length=500)
    level: str = Field("full", description="full, learning or guest")
    email: str = Field(
        "",
        max_length=254,
        description="The address the applicant gave: their sign-in link goes there once "
        "admitted (kept with their personal details; theirs to change afterwards)",
    )


class NewPerson(BaseModel):
    person_id: str


@router.post(
    "/people",
    status_code=status.HTTP_201_CREATED,
    summary="Record someone's application to join (the secretary records it)",
)
def apply(node: Node, by: Person, body: Application) -> NewPerson:
    check_records_keeper(node.records.peek_circle(), by, "record an application")
    return NewPerson(
        person_id=node.people.apply_to_join(body.name, body.level, body.contact, body.email)
    )


class Level(BaseModel):
    level: str = Field("full", description="full, learning or guest")


class Admitted(BaseModel):
    person_id: str
    token_id: str
    token: str = Field(description="Their personal token, shown this once: hand it over safely")


class Trial(BaseModel):
    sessions: int = Field(description="The sessions agreed for the trial: 1, 2 or 3")


@router.post(
    "/people/{person_id}/trial",
    summary="Start a trial of 1 to 3 sessions (the secretary, as agreed with the applicant)",
)
def start_trial(node: Node, by: Person, person_id: str, body: Trial) -> PersonOut:
    node.people.start_trial(by, person_id, body.sessions)
    return _person(node, person_id)


@router.post(
    "/people/{person_id}/trial/sessions",
    summary="Count a session of someone's trial as held (the secretary)",
)
def hold_trial_session(node: Node, by: Person, person_id: str) -> PersonOut:
    node.people.hold_trial_session(by, person_id)
    return _person(node, person_id)


@router.post(
    "/people/{person_id}/admit",
    summary="Admit someone (the secretary); returns their personal token, once",
)
def admit(node: Node, by: Person, person_id: str, body: Level) -> Admitted:
    node.people.admit(by, person_id, body.level)
    token_id, token = node.tokens.issue_token(person_id, by)
    return Admitted(person_id=person_id, token_id=token_id, token=token)


@router.post(
    "/people/{person_id}/decline",
    summary="End an application or trial (either side, without a reason)",
)
def decline(node: Node, by: Person, person_id: str) -> PersonOut:
    node.people.decline(by, person_id)
    return _person(node, person_id)


@router.post("/people/{person_id}/level", summary="Change someone's participation level")
def change_level(node: Node, by: Person, person_id: str, body: Level) -> PersonOut:
    node.people.change_level(by, person_id, body.level)
    return _person(node, person_id)


class Note(BaseModel):
    note: str = Field("", max_length=4000, description="A note of appreciation (optional)")


@router.post("/people/{person_id}/step-back", summary="Step back (hats are released)")
def step_back(node: Node, by: Person, person_id: str, body: Note) -> PersonOut:
    node.people.step_back(by, person_id, body.note or None)
    return _person(node, person_id)


@router.post("/people/{person_id}/return", summary="Return after stepping back")
def welcome_back(node: Node, by: Person, person_id: str) -> PersonOut:
    node.people.welcome_back(by, person_id)
    return _person(node, person_id)


@router.post("/people/{person_id}/leave", summary="Leave, with a note of appreciation")
def leave(node: Node, by: Person, person_id: str, body: Note) -> PersonOut:
    node.people.leave(by, person_id, body.note or None)
    return _person(node, person_id)


class Erased(BaseModel):
    person_id: str
    bodies_erased: int


@router.post(
    "/people/{person_id}/erase",
    summary="Erase the personal data of someone who left, here and on co-ops",
)
def erase(node: Node, by: Person, person_id: str) -> Erased:
    return Erased(person_id=person_id, bodies_erased=node.erasure.erase_person(by, person_id))


def _person(node: CircleNode, person_id: str) -> PersonOut:
    circle = node.records.peek_circle()
    return person_out(node, circle, circle.participant(person_id))


class TokenRequest(BaseModel):
    person_id: str


class Token(BaseModel):
    token_id: str
    token: str = Field(description="Shown this once")


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    summary="Issue a new personal token for someone (the secretary)",
)
def issue_token(node: Node, by: Person, body: TokenRequest) -> Token:
    token_id, token = node.tokens.issue_token(body.person_id, by)
    return Token(token_id=token_id, token=token)


@router.delete(
    "/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a token (its holder, or the secretary)",
)
def revoke_token(node: Node, by: Person, token_id: str) -> None:
    node.tokens.revoke_token(token_id, by)
