"""Circles served under prefixes on one site, as a co-op host serves them (issue 16): each
circle's whole app (`create_app`, its public URL ending in `/c/<slug>`) mounted at `/c/<slug>`
with Starlette's `Mount`, which keeps the prefix in the path and sets `root_path`; and what the
tests of such a site read in its pages: every link, form action and asset address."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator, Mapping
from html.parser import HTMLParser
from typing import Any

from fastapi import FastAPI
from starlette.routing import Mount

from node.app.node import CircleNode
from node.http.server import ServerOptions, create_app
from tests.web.conftest import serving


def circle_app(node: CircleNode, site: str, slug: str) -> FastAPI:
    """The circle's app, for its place on the site (`<site>/c/<slug>`)."""
    return create_app(node, None, ServerOptions(public_url=f"{site}/c/{slug}"))


def host_app(apps: Mapping[str, FastAPI]) -> FastAPI:
    """One site with each app mounted at `/c/<slug>`; its startup starts each app's own
    (mounted apps' lifespans do not run by themselves)."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for app in apps.values():
                await stack.enter_async_context(app.router.lifespan_context(app))
            yield

    routes = [Mount(f"/c/{slug}", app=app) for slug, app in apps.items()]
    return FastAPI(routes=routes, lifespan=lifespan, docs_url=None, openapi_url=None)


@contextlib.contextmanager
def serving_circles(nodes: Mapping[str, CircleNode]) -> Iterator[str]:
    """The nodes served by uvicorn on one site, each at `/c/<slug>`; yields the site's URL."""

    def make(site: str) -> FastAPI:
        return host_app({slug: circle_app(node, site, slug) for slug, node in nodes.items()})

    with serving(make) as (site, _):
        yield site


class _Addresses(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "action", "src") and value is not None:
                self.found.append((f"{tag} {name}", value))


def addresses(html: str) -> list[tuple[str, str]]:
    """Each link's, form's and asset's address in a page, with where it is (`a href`,
    `form action`, `link href`, `script src`)."""
    parser = _Addresses()
    parser.feed(html)
    return parser.found


def same_site(address: str, site: str = "") -> str | None:
    """The path (and query) of an address on the same site, without its fragment; None for a
    fragment alone or another site's address."""
    if site and address.startswith(site + "/"):
        address = address[len(site) :]
    if not address.startswith("/") or address.startswith("//"):
        return None
    return address.split("#", 1)[0]


def unprefixed(html: str, prefix: str, site: str = "") -> list[str]:
    """The page's addresses on the site that are not under `prefix` (`/c/a/`)."""
    return [
        f"{where}={address!r}"
        for where, address in addresses(html)
        if (path := same_site(address, site)) is not None and not path.startswith(prefix)
    ]


def signed_in_client(client: Any, prefix: str, token: str, next: str = "/home") -> Any:
    """`client` (a TestClient or an httpx client on the site) signed in to the circle at
    `prefix` through its sign-in form; the answer is the redirect that follows."""
    form = client.get(f"{prefix}/sign-in")
    csrf = csrf_of(form.text)
    answer = client.post(
        f"{prefix}/sign-in",
        data={"csrf": csrf, "token": token, "next": next},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return answer


def csrf_of(html: str) -> str:
    parser = _Csrf()
    parser.feed(html)
    assert parser.value, "no CSRF token in the page"
    return parser.value


class _Csrf(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.value = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "input" and named.get("name") == "csrf" and not self.value:
            self.value = named.get("value") or ""
