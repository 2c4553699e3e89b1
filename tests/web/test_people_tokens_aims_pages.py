"""The people's pages, continued: sign-in tokens issued and revoked, each person's aims and
development goals, and a forming circle started from its page (over HTTP, no browser)."""

from __future__ import annotations

import html
import re
from pathlib import Path

from node.app.persistence import open_node
from node.demo.scripted import form_aim, select
from node.http.server import ServerOptions, create_app
from node.settings import Settings
from tests.conftest import Clock
from tests.node.api.world import Circle
from tests.web.test_people_pages import at_top, beside
from tests.web.test_sessions import Browserless
from tests.web.visiting import post, signed_in


def test_tokens_are_issued_by_the_secretary_and_revoked_by_their_holder(
    kitchen_circle: Circle,
) -> None:
    c, node, ids = kitchen_circle, kitchen_circle.node, kitchen_circle.ids
    ada = signed_in(c, "ada")
    cleo_page = f"/people/{ids['cleo']}"

    # When: Ada issues Cleo a new token.
    issued = post(ada, cleo_page, f"{cleo_page}/tokens")

    # Then: it is shown on this page only.
    assert issued.status_code == 200
    token = re.search(r'<code id="token">([^<]+)</code>', issued.text)
    assert token is not None and "Copy it now" in issued.text
    assert token.group(1) not in ada.client.get(cleo_page).text
    new_id = node.tokens.tokens_of(ids["cleo"])[-1]

    # Cleo lists her tokens (ids and dates), with no issue form (she is not the secretary).
    cleo = signed_in(c, "cleo")
    mine = cleo.client.get(cleo_page).text
    assert new_id in mine and "(this sign-in)" in mine
    assert f'action="{cleo_page}/tokens"' not in mine
    assert post(cleo, cleo_page, f"{cleo_page}/tokens").status_code == 403
    assert len(node.tokens.tokens_of(ids["cleo"])) == 2
    # Ben may not revoke hers.
    ben = signed_in(c, "ben")
    refused = post(ben, "/people", f"{cleo_page}/tokens/{new_id}/revoke")
    assert refused.status_code == 403
    assert new_id in node.tokens.tokens_of(ids["cleo"])

    # She revokes the new one; then the one she signed in with, which signs her out.
    assert post(cleo, cleo_page, f"{cleo_page}/tokens/{new_id}/revoke").status_code == 303
    assert new_id not in node.tokens.tokens_of(ids["cleo"])
    (old_id,) = node.tokens.tokens_of(ids["cleo"])
    out = post(cleo, cleo_page, f"{cleo_page}/tokens/{old_id}/revoke")
    assert out.status_code == 303 and out.headers["location"] == "/sign-in"
    assert node.tokens.tokens_of(ids["cleo"]) == []
    assert "you are signed out" in cleo.client.get("/sign-in").text


def test_aims_are_set_by_their_person_and_read_by_the_circle(kitchen_circle: Circle) -> None:
    c, node, ids = kitchen_circle, kitchen_circle.node, kitchen_circle.ids
    eli = signed_in(c, "eli")
    page = f"/people/{ids['eli']}"

    # Empty lists are refused beside the aims.
    empty = post(eli, page, f"{page}/aims", aims=" \n", development_goals="")
    assert empty.status_code == 422
    beside(empty.text, "aims-aims", "Name at least one aim or development goal")

    # When: Eli sets out his aims, a line each.
    saved = post(
        eli, page, f"{page}/aims", aims="Cook for sixty\nRun the rota", development_goals="Budget"
    )
    assert saved.status_code == 303
    assert node.aims.aims_of(ids["eli"], ids["eli"]).aims == ["Cook for sixty", "Run the rota"]

    # Then: Ben reads them, on Eli's page (without the form) and on /member-aims; his post to
    # Eli's aims is refused.
    ben = signed_in(c, "ben")
    read = ben.client.get(page).text
    assert "Cook for sixty" in read and "Budget" in read
    assert f'action="{page}/aims"' not in read
    assert "Run the rota" in ben.client.get("/member-aims").text
    refused = post(ben, "/people", f"{page}/aims", aims="Nap")
    assert refused.status_code == 403
    assert node.aims.aims_of(ids["ben"], ids["eli"]).aims == ["Cook for sixty", "Run the rota"]


def test_a_forming_circle_is_activated_from_its_page(tmp_path: Path, clock: Clock) -> None:
    node = open_node(Settings(data_dir=tmp_path / "forming"), clock)
    try:
        ann = node.circle.found_circle(name="Garden", aim="Grow", domain="Beds", founder_name="Ann")
        dan = node.people.add_founding_member(ann, "Dan", "learning")
        app = create_app(node, None, ServerOptions(public_url="http://testserver"))
        founder, learner = Browserless(app), Browserless(app)
        assert founder.sign_in(node.tokens.issue_token(ann)[1]).status_code == 303
        assert learner.sign_in(node.tokens.issue_token(dan)[1]).status_code == 303
        not_yet = (
            "Form the circle's aim together first: a proposal to change the aim (saying how "
            "it links to the co-op's mission), consented while the circle is forming"
        )

        # Given: the founder sees the form, and why the circle cannot start yet.
        page = html.unescape(founder.client.get("/circle").text)
        assert "Start the circle's work" in page and f"Not yet: {not_yet}" in page
        # The learning participant gets no form, and a 403 page when he posts anyway.
        assert 'action="/circle/activate"' not in learner.client.get("/circle").text
        assert post(learner, "/circle", "/circle/activate").status_code == 403

        # When: she activates it too soon: refused with the circle's sentence.
        early = post(founder, "/circle", "/circle/activate")
        assert early.status_code == 409
        at_top(early.text, not_yet)
        assert node.records.peek_circle().status == "forming"

        # When: the aim is formed and the hats selected, she activates it.
        form_aim(node)
        select(node, "facilitator", ann)
        select(node, "secretary", ann)
        assert post(founder, "/circle", "/circle/activate").status_code == 303

        # Then: the circle is active, and the form is gone.
        assert node.records.peek_circle().status == "active"
        after = founder.client.get("/circle").text
        assert "The circle is active" in after and 'action="/circle/activate"' not in after
    finally:
        node.close()
