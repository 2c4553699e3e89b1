"""An Atom feed (RFC 4287) of the circle's public decisions: `GET /decisions.atom`, for anyone.

Its entries are the decision records the node's own feed publishes to other circles
(node/app/published_records.py `decision_record`): every decision, in force or changed since
(renewed, amended, expired, superseded, revoked), one entry each, most recently changed first,
the latest `LATEST` of them. An entry's id is its decision's and never changes; its `updated`
is when the decision last changed, with the circle's UTC offset. Links are built from the
node's public URL. The XML is built with the standard library's ElementTree, which escapes
what it writes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime
from uuid import NAMESPACE_URL, uuid5

from fastapi import APIRouter, Request
from fastapi.responses import Response

from domain.decision import Decision
from node.app.node import CircleNode
from node.app.published_records import decision_record
from node.http.public_urls import public_url
from node.http.served_circle import served
from node.http.web.rendering import SECURITY_HEADERS

router = APIRouter()

ATOM = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
# The feed holds the latest decisions changed: readers poll it, and keep what they have read.
LATEST = 50

ET.register_namespace("", ATOM)


@router.get("/decisions.atom", include_in_schema=False)
def decisions_feed(request: Request) -> Response:
    node: CircleNode = served(request).node
    if not node.records.is_founded:
        return Response(
            "This node has no circle yet.\n", 404, SECURITY_HEADERS, "text/plain; charset=utf-8"
        )
    return Response(atom_of(node, public_url(request)), 200, SECURITY_HEADERS, ATOM_TYPE)


def _tag(name: str) -> str:
    return f"{{{ATOM}}}{name}"


# Characters XML 1.0 cannot hold at all (C0 controls but tab, newline and carriage return;
# U+FFFE, U+FFFF): one of them in a title would make the whole feed unreadable to every reader.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


def _add(parent: ET.Element, name: str, text: str | None = None, **attributes: str) -> ET.Element:
    cleaned = {key: _xml_text(value) for key, value in attributes.items()}
    element = ET.SubElement(parent, _tag(name), cleaned)
    if text is not None:
        element.text = _xml_text(text)
    return element


def atom_of(node: CircleNode, base: str) -> bytes:
    """The feed of the circle's latest decisions, as Atom bytes."""
    circle = node.records.peek_circle()
    zone = node.records.time_zone()
    decisions = sorted(node.records.list_decisions(), key=lambda d: d.modified_on, reverse=True)
    decisions = decisions[:LATEST]

    def stamp(moment: datetime) -> str:
        return moment.astimezone(zone).isoformat(timespec="seconds")

    feed = ET.Element(_tag("feed"))
    _add(feed, "id", f"urn:uuid:{uuid5(NAMESPACE_URL, f'circle-node:decisions:{circle.id}')}")
    _add(feed, "title", f"{circle.name}: decisions")
    _add(feed, "subtitle", circle.aim or f"The decisions of the {circle.name} circle")
    updated = decisions[0].modified_on if decisions else node.records.now()
    _add(feed, "updated", stamp(updated))
    author = _add(feed, "author")
    _add(author, "name", circle.name)
    _add(feed, "link", rel="self", type="application/atom+xml", href=f"{base}/decisions.atom")
    _add(feed, "link", rel="alternate", type="text/html", href=f"{base}/decisions")
    _add(feed, "generator", "circle-node")
    for decision in decisions:
        _entry(feed, decision, base, stamp)
    ET.indent(feed)
    result: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return result


def _entry(
    feed: ET.Element, decision: Decision, base: str, stamp: Callable[[datetime], str]
) -> None:
    record = decision_record(decision)
    entry = _add(feed, "entry")
    _add(entry, "id", f"urn:uuid:{record.decision_id}")
    _add(entry, "title", record.title)
    _add(entry, "updated", stamp(decision.modified_on))
    _add(entry, "published", stamp(decision.created_on))
    _add(
        entry,
        "link",
        rel="alternate",
        type="text/html",
        href=f"{base}/decisions#decision-{record.decision_id}",
    )
    _add(entry, "category", term=record.kind, label=record.kind.replace("_", " "))
    _add(entry, "category", term=record.status, label=record.status.replace("_", " "))
    facts = [
        f"{record.kind.capitalize()} decision, {record.status.replace('_', ' ')}.",
        f"Effective {record.effective.isoformat()}; review date {record.review_date.isoformat()}.",
    ]
    if record.term_end is not None:
        facts.append(f"Its term ends {record.term_end.isoformat()}.")
    if record.area:
        facts.append(f"Taken within the hat's domain, in {record.area}.")
    if record.binding:
        facts.append("It binds the circles that are part of this one.")
    if record.measures:
        facts.append("Measures: " + "; ".join(record.measures) + ".")
    _add(entry, "summary", " ".join(facts[:2]))
    _add(entry, "content", record.text + "\n\n" + " ".join(facts), type="text")
