"""The path the access log writes is the request URL's path (node/http/log_paths.py), taken
from the scope as it is where building the URL would change nothing."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st
from starlette.requests import Request

from node.http.log_paths import loggable_path, url_path

PATHS = st.one_of(
    st.text(),
    st.lists(st.sampled_from(["/", "a", "?", "#", "\\", "\t", "\r\n", "%3F", " ", "é", "//"])).map(
        "".join
    ),
)
HOSTS = st.one_of(st.none(), st.sampled_from(["node.example", "node.example:8470", "[::1]:80"]))


@given(PATHS, HOSTS)
@example("/proposals/p-1", "node.example")
@example("//twice", None)
@example("", "node.example")
@example("/a?b#c\\d\te", None)
@example("/a\tb", "node.example")
@example("/a\r\nb", None)
@example("relative", None)
def test_the_path_is_the_request_urls_path(path: str, host: str | None) -> None:
    headers = [] if host is None else [(b"host", host.encode("latin-1"))]
    request = Request(
        {"type": "http", "path": path, "headers": headers, "server": ("127.0.0.1", 8470)}
    )
    assert url_path(request) == request.url.path


def test_a_secret_in_the_path_is_masked_with_a_host_or_without() -> None:
    for headers in ([], [(b"host", b"node.example")]):
        request = Request({"type": "http", "path": "/sign-in/link/abc", "headers": headers})
        assert loggable_path(request) == "/sign-in/link/<secret>"
