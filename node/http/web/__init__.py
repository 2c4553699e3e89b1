"""Web pages for members: server-rendered (Jinja2), usable without JavaScript.

- `account`: sign in with a personal token (rate-limited per client address), sign out; my
  account page, with my calendar link and where and how often the circle mails me.
- `calendar_feed`: a person's calendar (iCalendar) at its secret address; `decisions_feed`:
  the circle's public decisions as an Atom feed, for anyone.
- `sessions`: server-side sessions, kept in the node's store (a table beside the events, keyed
  by the SHA-256 of the session's id): they survive a restart and hold on every worker on one
  store; the cookie holds a random id only (HttpOnly, SameSite=Lax, Secure over https), named
  and scoped (`Path`) for the circle's prefix when a co-op host serves it under one.
- `visits`: who is visiting, the CSRF check of every POST (a per-session token in a hidden
  field; 403 page without it), and the readable pages for refusals and errors.
- `home_page`: /home, what waits for the signed-in member (where signing in leads).
- `decision_pages`: /decisions (everyday decisions taken, due dates updated) and
  /decisions/{id} (renew, amend, revoke, challenge, appeal); `plan_pages`: /plans and /plans/{id}.
- `hat_pages`: /hats (terms ending, defining a hat) and /hats/{id} (terms, renewals, taking
  off, back-stop); `selection_pages`: /selections and /selections/{id}, the selection process.
- `circle_pages`: /circle (where a forming circle is activated).
- `meeting_pages`: /meetings (the list, scheduling) and each meeting's page, where it is recorded
  step by step; `logbook_page`: /logbook, the circle's history, paged and searchable.
- `people_pages`: /people (applications, trials), each person's page, /member-aims;
  `membership_pages`: the steps a person's page posts (admission, with the token shown once).
- `draft_pages`: /proposals/new, drafting a proposal of any purpose (its subject's fields, from
  the API's typed subjects, by `subject_forms`).
- `proposal_pages`: /proposals, /proposals/{id} and the consent process's steps
  (`proposal_steps`), with the confirmations they ask for.
- `appeal_pages`: /appeals (lodge one, or appeal a linked circle's decision) and /appeals/{id}.
- `linked_pages`: /linked-circles and each one's records, decisions and minutes.
- `network_pages` and `network_map`: the overview at / (anyone), /network (peers,
  relationships, support) and /map (SVG).
- `relation_pages`: /circles/{other}, another circle seen from this one, the acts the
  relationship allows and the seats' answers; `support_pages`: /support/{id}, one request
  for support, its offers, delivery and reflections (`next_acts`: the proposals they link to).
- `mail_pages`: where the links in mails lead: a one-time sign-in link's form, and
  unsubscribing (one click, RFC 8058, without signing in).
- `rendering`: the one Jinja2 environment, over templates/, and the pages' security headers;
  its `when` filter shows a moment in the circle's time zone.
- `markdown`: members' long texts as sanitised HTML (`{{ text | markdown }}` in a
  `<div class="text">`): every page that shows what a member wrote at length uses it.
- `error_pages`: the error page a browser gets from the app's handlers (unknown addresses,
  wrong methods, errors outside the pages' routes); the APIs keep their problem details.

Each page module names, in its `OPERATIONS`, the operations of the member API its pages carry
out (`"POST /api/people/{person_id}/admit"`) and the page where a member does each
(`"/people/{person_id}"`); `page_table()` gathers them, and tests/web/test_page_table.py holds
every operation of the API to it, while the browser tests visit every page it names.

Every address a page names is a circle path (`/people/{person_id}`), below the prefix a co-op
host serves the circle under: templates write `{{ root }}` before it, `Visit.redirect` puts it
before a redirect's target (node.http.circle_paths).

Every page calls the node's commands and queries directly (node.app.node.CircleNode), as the
signed-in person (`by`).
"""

from __future__ import annotations

from fastapi import FastAPI

from node.http.web import (
    account,
    appeal_pages,
    calendar_feed,
    circle_pages,
    decision_pages,
    decisions_feed,
    draft_pages,
    hat_pages,
    home_page,
    linked_pages,
    logbook_page,
    mail_pages,
    meeting_pages,
    membership_pages,
    network_pages,
    people_pages,
    plan_pages,
    proposal_pages,
    relation_pages,
    selection_pages,
    support_pages,
)

PAGES = (
    account,
    home_page,
    circle_pages,
    decision_pages,
    plan_pages,
    hat_pages,
    selection_pages,
    meeting_pages,
    logbook_page,
    draft_pages,
    proposal_pages,
    network_pages,
    appeal_pages,
    linked_pages,
    people_pages,
    membership_pages,
    relation_pages,
    support_pages,
    mail_pages,
)
FEEDS = (calendar_feed, decisions_feed)


def page_table() -> dict[str, str]:
    """Each operation of the member API ("METHOD /api/path") -> the page where a member does
    it (a GET route of the pages, with the API's path parameters)."""
    table: dict[str, str] = {}
    for pages in PAGES:
        for operation, page in getattr(pages, "OPERATIONS", {}).items():
            if operation in table:
                raise ValueError(f"{operation} has two pages: {table[operation]} and {page}")
            table[operation] = page
    return table


def include_pages(app: FastAPI) -> None:
    """The members' pages, each module's router included in the app itself (see
    node.http.api.include_api)."""
    for pages in PAGES:
        app.include_router(pages.router, tags=["pages"])
    app.include_router(network_pages.overview_router, tags=["pages"])
    for feeds in FEEDS:
        app.include_router(feeds.router, tags=["feeds"])
    # Unsubscribing is posted by mail clients, without a session (node.http.web.mail_pages).
    app.include_router(mail_pages.unsubscribe_router, tags=["pages"])
