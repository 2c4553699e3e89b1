"""What the pages keep of a consent round once it is closed: each concern with who gave it,
each objection with its author, its argument and how it was integrated, on the proposal's
page and on the decision it became; and the integration form starts from the proposal's text
(over HTTP, no browser)."""

from __future__ import annotations

import re

from domain.values import Stage
from tests.node.api.world import Circle
from tests.web.visiting import signed_in


def text_of(html: str) -> str:
    """The page's words, without tags, spaces run together."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_closed_rounds_and_the_decision_keep_concerns_and_objections(
    kitchen_circle: Circle,
) -> None:
    c, ids, node = kitchen_circle, kitchen_circle.ids, kitchen_circle.node
    # Given: Cleo's proposal in its consent round; Ada consents with a concern and Ben objects.
    pid = node.proposals.draft_proposal(ids["cleo"], "Tea rota", "Everyone makes tea.")
    node.proposals.present(ids["cleo"], pid)
    node.proposals.open_reactions(ids["ben"], pid)
    node.consent.open_consent_round(ids["ben"], pid)
    node.consent.consent(ids["ada"], pid, "Mind the milk budget")
    node.consent.raise_objection(ids["ben"], pid, "Market Mondays leave nobody free")
    node.consent.consent(ids["cleo"], pid)
    assert node.consent.close_consent_round(ids["ben"], pid) == Stage.INTEGRATING

    # When: Cleo opens the proposal to integrate Ben's objection.
    cleo = signed_in(c, "cleo")
    page = cleo.client.get(f"/proposals/{pid}").text

    # Then: the amended text starts as the proposal's text, not empty.
    assert re.search(r'id="integrate-text"[^>]*>Everyone makes tea.</textarea>', page), page

    # When: she amends it, and everyone consents in round 2, Ada again with her concern.
    node.consent.integrate(ids["cleo"], pid, "amend", "Everyone makes tea, not on Mondays.", [1])
    node.consent.open_consent_round(ids["ben"], pid)
    node.consent.consent(ids["ada"], pid, "Still mind the milk budget")
    node.consent.consent(ids["ben"], pid)
    node.consent.consent(ids["cleo"], pid)
    assert node.consent.close_consent_round(ids["ben"], pid) == Stage.CONSENTED

    # Then: the closed rounds say who gave each concern, and who objected, why, and how the
    # objection was integrated.
    rounds = text_of(cleo.client.get(f"/proposals/{pid}").text.split('id="rounds"')[1])
    assert "Ada: Mind the milk budget" in rounds
    assert "Ada: Still mind the milk budget" in rounds
    assert (
        "Objection 1 by Ben: Market Mondays leave nobody free "
        "(integrated by amend: Everyone makes tea, not on Mondays.)"
    ) in rounds

    # And: the decision it became carries the concern it was consented with, and the
    # objection integrated on the way.
    (decision,) = node.records.list_decisions()
    decisions = text_of(cleo.client.get(f"/decisions/{decision.id}").text)
    assert "Ada: Still mind the milk budget" in decisions
    assert "Objection 1 by Ben: Market Mondays leave nobody free" in decisions
