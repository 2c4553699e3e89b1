"""Rendering the pages: Jinja2 templates (node/http/web/templates/), always autoescaped."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from node.http.web.markdown import markdown

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,  # every template, whatever its name: everything shown is escaped
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

# The pages every member page links to, in the order of the nav.
NAV = (
    ("/home", "Home"),
    ("/circle", "Circle"),
    ("/people", "People"),
    ("/proposals", "Proposals"),
    ("/decisions", "Decisions"),
    ("/appeals", "Appeals"),
    ("/hats", "Hats"),
    ("/selections", "Selections"),
    ("/meetings", "Meetings"),
    ("/logbook", "Logbook"),
    ("/network", "Network"),
    ("/map", "Map"),
)

# No script runs on these pages, nothing is framed, forms post only here.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def words(value: object) -> str:
    """A stored value as words: `consent_round` -> `consent round`."""
    return str(value).replace("_", " ")


@pass_context
def when(context: Context, value: datetime | date | None) -> str:
    """A moment in the circle's time zone (the page's `time_zone`), named; a date as it is."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _local(context, value).strftime("%Y-%m-%d %H:%M %Z")
    return value.isoformat()


def _local(context: Context, moment: datetime) -> datetime:
    zone = context.get("time_zone")
    if moment.tzinfo is None or not zone:
        return moment
    return moment.astimezone(ZoneInfo(zone))


def _refused(context: Context) -> Any:
    refused = context.get("refused")
    return refused if refused is not None and hasattr(refused, "about") else None


@pass_context
def refused_about(context: Context, form: str, name: str) -> bool:
    """Whether the page's refusal (node.http.web.refusals) belongs beside this field."""
    refused = _refused(context)
    return refused is not None and bool(refused.about(form, name))


@pass_context
def entered(context: Context, form: str, name: str, value: object = "") -> str:
    """What was typed in this field of a refused form, or else the field's own value."""
    refused = _refused(context)
    shown = "" if value is None else str(value)
    return str(refused.value(form, name, shown)) if refused is not None else shown


TEMPLATES.globals["refused_about"] = refused_about
TEMPLATES.globals["entered"] = entered
TEMPLATES.filters["words"] = words
TEMPLATES.filters["when"] = when
TEMPLATES.filters["markdown"] = markdown


def render(
    template: str,
    context: Mapping[str, Any],
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    html = TEMPLATES.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})
