"""Members' long texts as HTML: Markdown rendered by markdown-it-py, then sanitised by nh3.

Proposal texts, minutes, notes, decisions, reactions, objections and every other text a member
writes keep their paragraphs, line breaks and lists. The Markdown is GitHub's flavour (tables,
strikethrough, addresses made links by linkify) without raw HTML: what a member types as HTML
is shown as typed. nh3 then keeps only the tags that Markdown makes, so that nothing the
renderer lets through (or a bug in it) can put a script, an event handler or a `javascript:`
link on a page. The pages' Content-Security-Policy forbids scripts as well: two locks.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# Line breaks typed in a text area are kept (`breaks`): members write plain text more often
# than Markdown, and a list of lines should stay a list of lines.
_MARKDOWN = MarkdownIt("gfm-like", {"html": False, "breaks": True, "typographer": False})
# Pictures from elsewhere are refused by the pages' CSP (img-src 'self'): `![a](b)` stays a
# link to the picture instead of a broken one.
_MARKDOWN.disable("image")

# A member's `# Heading` sits under the page's own h1 and h2 headings.
_HEADING_SHIFT = 2

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "em",
    "strong",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener"


def sanitise(html: str) -> str:
    """Only the tags and attributes rendered Markdown needs; links to the web or mail only,
    marked not to be followed by search engines nor to reach back to this page."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
    )


@lru_cache(maxsize=512)
def to_html(text: str) -> str:
    """A member's text, as safe HTML (a fragment of block elements)."""
    tokens = _MARKDOWN.parse(text)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + _HEADING_SHIFT, 6)}"
    return sanitise(_MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {}))


def markdown(text: str | None) -> Markup:
    """The Jinja2 filter: `{{ proposal.text | markdown }}`, inside a `<div class="text">`."""
    if not text:
        return Markup("")
    return Markup(to_html(text))  # sanitised by nh3: safe to put on the page as it is
