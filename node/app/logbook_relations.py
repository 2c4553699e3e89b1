"""What the circle's logbook says of other circles: meeting them, peering, being part of a
co-op, the double link, consent asked and answered across circles, support, back-stops told,
and the records linked circles send."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from node.app.event_classes import BackStops, LinkedRecords, Relationship, SupportRequest


def _met(e: Any, c: Any) -> str:
    name = e.name or "a circle"
    c.circles[str(e.originator_id)] = c.circles[e.other] = name
    how = {
        "admitted": "asked to join the network through this circle",
        "introduced": "was introduced by a circle this one follows",
        "asked": "was asked by this circle to admit it to the network",
        "applied": "asked to join the network through this circle",
    }.get(e.how, "became known to this circle")
    return f"{name} {how}"


def _peering(e: Any, c: Any) -> str:
    other = c.circle(e.originator_id)
    by = "by consent" if e.proposal_id else f"as {other} decided"
    words = {
        "requested": f"This circle asked {other} to peer ({by})",
        "asked": f"{other} asked this circle to peer",
        "peers": f"This circle and {other} now peer ({by})",
        "ended": f"Peering with {other} ended ({by})",
    }
    return words.get(e.peering, f"Peering with {other}: {e.peering}")


def _coop_link(e: Any, c: Any) -> str:
    other = c.circle(e.originator_id)
    kind = "a corporate member" if e.corporate else "a member circle"
    words = {
        "applying": f"This circle applied, by consent, to be {kind} of {other}",
        "applied": f"{other} applied to be {kind} of this circle",
        "member_of": f"{other} welcomed this circle as {kind}",
        "has_member": f"This circle welcomed {other} as {kind}, by consent",
        "withdrawn": f"{other} and this circle parted: it goes its own way",
    }
    return words.get(e.coop, f"{other}: {e.coop}")


def _corporate(e: Any, c: Any) -> str:
    other = c.circle(e.originator_id)
    if e.pending:
        return f"Application to stay with {other} as a corporate member " + (
            "(by consent)" if e.proposal_id else "(received)"
        )
    return f"Corporate membership with {other} agreed"


def _link(e: Any, c: Any) -> str:
    other = c.circle(e.originator_id)
    role = {
        "proposed_leader": "a leader proposed",
        "leader": "the leader agreed",
        "delegate": "the delegate named",
    }.get(e.role, e.role)
    return f"Double link with {other}: {role}"


def _records_arrived(e: Any, c: Any) -> str:
    hats = e.records.get("hats", [])
    worn = sum(1 for hat in hats if hat["wearers"])
    stops = sum(1 for hat in hats if hat["back_stop"])
    return (
        f"{c.circle(e.other)} sent its records: its aim, {worn} of its {len(hats)} hats worn, "
        f"{stops} with a back-stop"
    )


def _consent_requested(e: Any, c: Any) -> str:
    # A co-op asks its member circle and the seats of their double link in the same round:
    # one line for each ask, saying whom it asks.
    c.titles[f"request:{e.proposal}"] = e.title
    other = c.circle(e.originator_id)
    seat = getattr(e, "seat", "")
    if seat:
        return (
            f"{other} asks this circle's {seat} for their answer, in their seat, to "
            f"{e.title!r} (round {e.round_number})"
        )
    return f"{other} asks for consent to {e.title!r} (round {e.round_number})"


def _consent_request_answered(e: Any, c: Any) -> str:
    other = c.circle(e.originator_id)
    title = c.titles.get(f"request:{e.proposal}", "its proposal")
    answer = "consent" if e.consents else f"objection: {e.argument}"
    seat = getattr(e, "seat", "")
    if seat:
        who = c.name(getattr(e, "person", "") or None)
        return f"{who} answered {other}'s request on {title!r} as {seat}: {answer}"
    return f"Answered {other}'s request on {title!r}: {answer}"


# Each takes the event and the logbook's context, whose `circle(key)` names another circle,
# `name(id)` a person, `hat(id)` a hat, and `titles` holds the titles told so far.
RELATION_EVENTS: dict[type[Any], Callable[[Any, Any], str]] = {
    Relationship.Met: _met,
    Relationship.AdmittedToNetwork: lambda e, c: (
        f"This circle admitted {c.circle(e.originator_id)} to the network, by consent; "
        "its signed introduction went out"
    ),
    Relationship.WasAdmitted: lambda e, c: (
        f"{c.circle(e.originator_id)} admitted this circle to the network"
    ),
    Relationship.PeeringChanged: _peering,
    Relationship.CoopLinkChanged: _coop_link,
    Relationship.CorporateMembershipChanged: _corporate,
    Relationship.LinkChanged: _link,
    Relationship.LinkVacated: lambda e, c: (
        f"Double link with {c.circle(e.originator_id)}: its {e.role} seat has no holder now"
    ),
    Relationship.ConsentRequested: _consent_requested,
    Relationship.ConsentRequestAnswered: _consent_request_answered,
    Relationship.MessageRefused: lambda e, c: (
        f"Refused a message from {c.circle(e.originator_id)}: {e.what}: {e.reason}"
    ),
    SupportRequest.SupportRequested: lambda e, c: (
        f"{'This circle asked' if e.origin is None else c.circle(e.origin) + ' asks'} for "
        f"support ({e.kind.replace('_', ' ')}): {e.text}"
    ),
    SupportRequest.OfferReceived: lambda e, c: f"{c.circle(e.helper)} offered: {e.text}",
    SupportRequest.OfferMade: lambda e, c: f"This circle offered support, by consent: {e.text}",
    SupportRequest.OfferAccepted: lambda e, c: (
        f"This circle accepted {c.circle(e.helper)}'s offer, by consent"
    ),
    SupportRequest.OutcomeReceived: lambda e, c: (
        "Our offer was accepted" if e.status == "accepted" else "Another circle's offer was taken"
    ),
    SupportRequest.ClosureReceived: lambda e, c: (
        "The circle that asked accepted an offer: this request is closed"
    ),
    SupportRequest.Delivered: lambda e, c: f"Support delivered: {e.note}",
    SupportRequest.Reflected: lambda e, c: (
        f"{'This circle' if e.who == 'us' else c.circle(e.who)} reflected: {e.text}"
    ),
    BackStops.BackStopNamed: lambda e, c: (
        f"{c.name(e.person_id)} is the {c.hat(e.hat_id)}'s back-stop: they step in when its "
        "wearer cannot"
    ),
    BackStops.BackStopCleared: lambda e, c: (
        f"The {c.hat(e.hat_id)} hat has no back-stop now ({c.name(e.person_id)} was)"
    ),
    LinkedRecords.RecordsArrived: _records_arrived,
    LinkedRecords.MinutesArrived: lambda e, c: (
        f"{c.circle(e.other)} sent its minutes of {e.title!r} (held {e.held_on})"
    ),
}
