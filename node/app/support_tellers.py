"""What a circle's support requests tell other circles: the request (to chosen circles or the
whole network), an offer, which offer was accepted and that the request is closed, the
delivery and the reflections (node/app/publishing.py holds the table of every aggregate's
tellers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.support import NETWORK, SupportRequest
from federation.feed import feed_id_from_node_id
from node.app import event_classes
from node.app.published_records import Publishing, addressed_to
from node.network.batch import Outgoing
from node.network.messages import (
    SUPPORT_CLOSED,
    SUPPORT_DELIVERED,
    SUPPORT_OFFER,
    SUPPORT_OUTCOME,
    SUPPORT_REFLECTION,
    SUPPORT_REQUEST,
    SupportClosed,
    SupportMessage,
    SupportRequestMessage,
    encode_body,
)


def _support_requested(node: Publishing, request: SupportRequest, event: Any) -> list[Outgoing]:
    if not request.is_ours:
        return []
    body = SupportRequestMessage(str(request.id), request.kind, request.text, request.to)
    return [Outgoing(SUPPORT_REQUEST, encode_body(body), _asked(request))]


def _asked(request: SupportRequest) -> list[bytes]:
    """The audience of what every circle asked reads: public when the whole network was
    asked, else the circles asked."""
    if NETWORK in request.to:
        return []
    return [feed_id_from_node_id(ref) for ref in request.to]


def _offer_made(node: Publishing, request: SupportRequest, event: Any) -> list[Outgoing]:
    assert request.origin is not None and request.origin_id is not None
    body = SupportMessage(request.origin, request.origin_id, event.text)
    return [addressed_to(request.origin, SUPPORT_OFFER, body)]


def _offer_accepted(node: Publishing, request: SupportRequest, event: Any) -> list[Outgoing]:
    outcomes = [
        addressed_to(
            helper, SUPPORT_OUTCOME, SupportMessage(helper, str(request.id), accepted=event.helper)
        )
        for helper in request.offers
    ]
    # Every circle asked hears that the request is closed, those that did not offer too;
    # those that offered heard the outcome first, and the closure changes nothing there.
    closed = SupportClosed(str(request.id), request.to)
    return [*outcomes, Outgoing(SUPPORT_CLOSED, encode_body(closed), _asked(request))]


def _delivered(node: Publishing, request: SupportRequest, event: Any) -> list[Outgoing]:
    if not event.by_us:
        return []
    other, request_id = _other_side(request)
    return [addressed_to(other, SUPPORT_DELIVERED, SupportMessage(other, request_id, event.note))]


def _reflected(node: Publishing, request: SupportRequest, event: Any) -> list[Outgoing]:
    if event.who != "us":
        return []
    other, request_id = _other_side(request)
    return [addressed_to(other, SUPPORT_REFLECTION, SupportMessage(other, request_id, event.text))]


SUPPORT_TELLERS: dict[type[Any], Callable[[Publishing, Any, Any], list[Outgoing]]] = {
    event_classes.SupportRequest.SupportRequested: _support_requested,
    event_classes.SupportRequest.OfferMade: _offer_made,
    event_classes.SupportRequest.OfferAccepted: _offer_accepted,
    event_classes.SupportRequest.Delivered: _delivered,
    event_classes.SupportRequest.Reflected: _reflected,
}


def _other_side(request: SupportRequest) -> tuple[str, str]:
    if request.is_ours:
        assert request.accepted is not None
        return request.accepted, str(request.id)
    assert request.origin is not None and request.origin_id is not None
    return request.origin, request.origin_id
