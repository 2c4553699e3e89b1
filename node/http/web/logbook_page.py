"""The circle's logbook: its history told in sentences, newest first, a page at a time, found by
words, kind and days (node.app.logbook_search), each line's time in the circle's zone.

The search is a GET form: its fields are the page's query (`text`, `kind`, `since`, `until`,
and `page`), so a search can be linked to and paged through. A guest reads no line about a
confidential item."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import Response

from domain.errors import DomainError
from node.app.logbook import LogbookEntry
from node.app.logbook_kinds import LineKind
from node.app.logbook_lines import logbook_page
from node.app.logbook_search import LogbookSearch, search_logbook
from node.app.node import CircleNode
from node.http.web.forms import Form
from node.http.web.names import Names
from node.http.web.refusals import refusal
from node.http.web.rendering import words
from node.http.web.visits import Member, PageRoute

router = APIRouter(route_class=PageRoute)

# The member API's operations these pages carry out (node.http.web.page_table).
OPERATIONS = {"GET /api/logbook": "/logbook"}

PER_PAGE = 50
KINDS = [("", "Every kind"), *((kind.value, words(kind.value).capitalize()) for kind in LineKind)]
SEARCH_FIELDS = ("text", "kind", "since", "until")


def _search(query: Form) -> LogbookSearch:
    """The search the query asks for; a day that cannot be read is refused beside its field."""
    return LogbookSearch(
        text=query.get("text"),
        kind=query.get("kind"),
        since=query.day("since", "first day"),
        until=query.day("until", "last day"),
    )


def _page_number(query: Form) -> int:
    try:
        return max(1, int(query.get("page", "1")))
    except ValueError:
        return 1


def _pages(lines: int) -> int:
    return max(1, -(-lines // PER_PAGE))


def _newest_first(
    node: CircleNode, level: str, search: LogbookSearch, number: int
) -> tuple[list[LogbookEntry], int, int]:
    """The lines of page `number` (the last if there are fewer) of those the search keeps,
    newest first: a member reads what happened lately, and pages back in time; how many lines
    it keeps; and the page's number. A page of every line, or of one kind, is told alone
    (node/app/logbook_lines.py), however long the logbook; words and days are looked for in
    every line told."""
    if search.text.strip() or search.since or search.until:
        every = search_logbook(node, level, search)[::-1]
        number = min(number, _pages(len(every)))
        return every[(number - 1) * PER_PAGE : number * PER_PAGE], len(every), number
    kind = search.kind or None
    _, total = logbook_page(node, level, 0, 0, kind)
    number = min(number, _pages(total))
    start = max(0, total - number * PER_PAGE)
    window, total = logbook_page(node, level, start, total - (number - 1) * PER_PAGE - start, kind)
    return window[::-1], total, number


@router.get("/logbook", include_in_schema=False)
def logbook(found: Member) -> Response:
    node = found.node
    query = Form(list(found.request.query_params.multi_items()))
    context: dict[str, Any] = {
        "kinds": KINDS,
        "asked": query.values(),
        "lines": [],
        "pages": None,
        "searching": True,
    }
    try:
        search = _search(query)
    except DomainError as error:
        shown = refusal(error, "search", query, main_field="until")
        return found.page("logbook.html", shown.status, refused=shown, **context)
    level = node.meetings.reader_level(found.person or "")
    lines, total, number = _newest_first(node, level, search, _page_number(query))
    pages = _pages(total)
    names = Names(node)
    kept = {name: query.get(name) for name in SEARCH_FIELDS if query.get(name)}

    def link(page: int) -> str:
        return "/logbook?" + urlencode({**kept, "page": page})

    context["lines"] = [
        {
            "at": line.at,
            "text": line.text,
            "kind": words(line.kind),
            "actor": names(line.actor),
            "confidential": line.confidential,
        }
        for line in lines
    ]
    context["pages"] = {
        "number": number,
        "count": pages,
        "total": total,
        "newer": link(number - 1) if number > 1 else "",
        "older": link(number + 1) if number < pages else "",
    }
    context["searching"] = bool(kept)
    return found.page("logbook.html", **context)
