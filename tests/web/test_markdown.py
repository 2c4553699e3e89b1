"""Members' long texts on the pages: Markdown that keeps paragraphs and lists, and nothing that
could run in a reader's browser (node/http/web/markdown.py, no browser)."""

from __future__ import annotations

from html.parser import HTMLParser

from node.http.web.markdown import markdown, sanitise, to_html
from node.http.web.rendering import TEMPLATES


class Elements(HTMLParser):
    """Every element of a fragment, with its attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))

    def tags(self) -> list[str]:
        return [tag for tag, _ in self.found]

    def attributes(self) -> set[str]:
        return {name for _, attrs in self.found for name in attrs}

    def hrefs(self) -> list[str]:
        return [attrs.get("href") or "" for tag, attrs in self.found if tag == "a"]


HOSTILE = """Dear circle,

<script>alert("stolen")</script>
<b onclick="alert(1)">Click me</b> or [this](javascript:alert(1)) or <javascript:alert(2)>
or [that](JaVaScRiPt:alert(3)) or <a href="javascript:alert(4)">a link</a>.
"""


def test_a_script_an_event_handler_and_a_javascript_link_are_gone() -> None:
    # Given: a member's text that tries to run code in the readers' browsers.
    # When: it is drawn on a page.
    html = to_html(HOSTILE)
    elements = Elements(html)
    # Then: no script element, no event handler, no javascript: link survives...
    assert "script" not in elements.tags()
    assert not {name for name in elements.attributes() if name.startswith("on")}
    assert not [href for href in elements.hrefs() if "javascript" in href.lower()]
    # ...and what was typed as HTML is shown as typed, not lost.
    assert "&lt;script&gt;" in html and "Click me" in html


def test_the_sanitiser_keeps_only_what_markdown_makes() -> None:
    # Given: HTML that no Markdown renders, as if the renderer had let it through.
    raw = (
        '<script>alert(1)</script><p onclick="alert(1)" style="color:red">Hi '
        '<a href="javascript:alert(1)">bad</a> <a href="https://example.org" target="_blank">'
        'good</a> <img src="x" onerror="alert(1)"><iframe src="https://evil.example"></iframe></p>'
    )
    # When: it is sanitised.
    elements = Elements(sanitise(raw))
    # Then: only a paragraph and links remain, the script with its content gone, and every
    # link is marked nofollow noopener.
    assert elements.tags() == ["p", "a", "a"]
    assert "alert" not in sanitise(raw)
    assert elements.hrefs() == ["", "https://example.org"]
    links = [attrs for tag, attrs in elements.found if tag == "a"]
    assert all(attrs.get("rel") == "nofollow noopener" for attrs in links)
    assert elements.attributes() <= {"href", "rel"}


def test_paragraphs_lines_and_lists_survive() -> None:
    # Given: a proposal typed in a text area, as members do.
    text = (
        "We buy tea together.\n\nThe rota:\n- Ann on Mondays\n- Ben on Tuesdays\n\n"
        "1. Ask first\n2. Then buy\n\nLines stay\nas typed. See https://tea.example/rota"
    )
    # When: it is drawn.
    elements = Elements(to_html(text))
    # Then: its paragraphs, both lists, its line break and its address as a link survive.
    tags = elements.tags()
    assert tags.count("p") == 3
    assert tags.count("ul") == 1 and tags.count("ol") == 1 and tags.count("li") == 4
    assert "br" in tags
    assert elements.hrefs() == ["https://tea.example/rota"]


def test_a_member_s_headings_sit_below_the_page_s_own() -> None:
    assert Elements(to_html("# Why\n\n## How")).tags() == ["h3", "h4"]


def test_the_filter_marks_its_html_safe_and_the_page_escapes_nothing_else() -> None:
    # Given: a template that shows a member's text with the filter, and a title without it.
    page = TEMPLATES.from_string("<h1>{{ title }}</h1><div>{{ text | markdown }}</div>")
    # When: both hold markup.
    html = page.render(title="<em>Tea</em>", text="- *one*\n- two")
    # Then: the title is escaped, the text's Markdown is drawn once (not escaped again).
    assert "<h1>&lt;em&gt;Tea&lt;/em&gt;</h1>" in html
    assert "<li><em>one</em></li>" in html
    assert markdown(None) == "" and markdown("") == ""
