"""What the HTTP-level page tests share (no browser): a member of tests/node/api/world.py's
kitchen circle signed in through the sign-in form, and a form posted with its CSRF token. The
kitchen circle itself is the `kitchen_circle` fixture of tests/web/conftest.py."""

from __future__ import annotations

import httpx

from tests.node.api.world import Circle
from tests.web.test_sessions import Browserless


def signed_in(c: Circle, who: str) -> Browserless:
    """`who` (ada, ben, cleo, ...) signed in through the sign-in form with their token."""
    visitor = Browserless(c.client.app)  # type: ignore[arg-type]
    assert visitor.sign_in(c.tokens[who]).status_code == 303
    return visitor


def post(visitor: Browserless, page: str, action: str, **data: str) -> httpx.Response:
    """Send a form of `page` (its CSRF token read from it) to `action`, without following."""
    form = {"csrf": visitor.csrf(page), **data}
    return visitor.client.post(action, data=form, follow_redirects=False)
