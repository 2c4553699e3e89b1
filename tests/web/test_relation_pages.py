"""Another circle's page (/circles/{other}) and a request for support's (/support/{id}) over
HTTP, no browser: a co-op and its member circle on two nodes in one process (their entries
moved by hand, as the outbox and the puller would), each signed in through the form. Each act
the relationship allows is a link to the proposal form, filled in; the seats' answers,
deliveries and reflections are forms, refused with the domain's sentence beside the field,
and offered only to those the rules let use them."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from domain.values import Purpose, SupportStatus
from node.app.node import CircleNode
from tests.conftest import Clock
from tests.node.api.world import Circle, member_pair
from tests.node.circles import consent_to, select, sync
from tests.web.test_sessions import Browserless
from tests.web.visiting import signed_in

Pair = tuple[dict[str, CircleNode], Circle, Circle]


@pytest.fixture
def pair(tmp_path: Path, clock: Clock) -> Iterator[Pair]:
    nodes, coop, kitchen = member_pair(tmp_path, clock)
    yield nodes, coop, kitchen
    for node in nodes.values():
        node.close()


def links(page: str) -> dict[str, dict[str, str]]:
    """The proposal forms a page links to: link text -> the query's fields."""
    found = {}
    for href, text in re.findall(r'<a href="(/proposals/new\?[^"]+)">([^<]+)</a>', page):
        query = parse_qs(urlsplit(html.unescape(href)).query)
        found[html.unescape(text)] = {key: values[0] for key, values in query.items()}
    return found


def post(visitor: Browserless, page: str, action: str, **fields: str) -> tuple[int, str, str]:
    """Send a form of `page` to `action`: (status, where it leads, the page answered)."""
    data = {"csrf": visitor.csrf(page), **fields}
    answer = visitor.client.post(action, data=data, follow_redirects=False)
    return answer.status_code, answer.headers.get("location", ""), answer.text


def test_each_side_sees_the_relationship_and_the_acts_it_allows(pair: Pair) -> None:
    nodes, coop, kitchen = pair
    coop_id, kitchen_id = nodes["coop"].feed.node_id, nodes["kitchen"].feed.node_id

    # Given: the kitchen is part of the co-op. When: the co-op's secretary opens the network.
    ada = signed_in(coop, "ada")
    network = ada.client.get("/network").text
    # Then: the kitchen links to its page, which says how they are related.
    assert f'<a href="/circles/{kitchen_id}">Kitchen</a>' in network
    # ... and it proposes the circle's own steps among others from there.
    assert links(network) == {
        "Ask for support": {"purpose": "request_support"},
        "Incorporate": {"purpose": "incorporate"},
        "Go independent": {"purpose": "go_independent"},
    }
    page = ada.client.get(f"/circles/{kitchen_id}")
    assert page.status_code == 200
    assert "part of this co-op" in page.text and "has member" in page.text
    assert "it asked to join the network through this circle" in page.text
    assert f'<a href="/linked-circles/{kitchen_id}">What Kitchen sent' in page.text
    # ... with the acts it allows, each a proposal form filled in.
    acts = links(page.text)
    assert acts["Propose its leader"] == {"purpose": "propose_leader", "circle": kitchen_id}
    # ... the people it knows of the kitchen (its hats' wearers) each offered as its leader.
    assert acts["Propose Ben as its leader"] == {
        "purpose": "propose_leader",
        "circle": kitchen_id,
        "person": kitchen.ids["ben"],
    }
    assert acts["End peering"] == {"purpose": "end_peering", "circle": kitchen_id}
    assert acts["Ask it for support"] == {"purpose": "request_support", "circles": kitchen_id}
    assert "Apply to be part of it" not in acts and "Ask to peer" not in acts

    # When: the kitchen's secretary opens the co-op's page.
    acts = links(signed_in(kitchen, "ada").client.get(f"/circles/{coop_id}").text)
    # Then: it can go its own way, and not admit the co-op or apply again.
    assert acts["Go independent"] == {"purpose": "go_independent", "circle": coop_id}
    assert not {"Admit it", "Admit it to the network", "Apply to be part of it"} & set(acts)

    # When: the co-op proposes a leader for the kitchen, Cleo, and it is consented.
    consent_to(
        nodes["coop"],
        Purpose.PROPOSE_LEADER,
        {"circle": kitchen_id, "person": kitchen.ids["cleo"]},
    )
    sync(nodes)
    # Then: the kitchen's page of the co-op offers to agree to her.
    page = signed_in(kitchen, "eli").client.get(f"/circles/{coop_id}").text
    assert "leader proposed: Cleo" in page
    assert links(page)["Agree to the leader it proposed"] == {
        "purpose": "agree_leader",
        "circle": coop_id,
        "person": kitchen.ids["cleo"],
    }

    # A guest, who proposes nothing, reads the page without the acts.
    gus = signed_in(kitchen, "gus")
    page = gus.client.get(f"/circles/{coop_id}").text
    assert "Co-op" in page and 'id="acts"' not in page and not links(page)
    assert not links(gus.client.get("/network").text)
    # A circle this one does not know: a 404 page.
    unknown = ada.client.get("/circles/nobody-we-know")
    assert unknown.status_code == 404
    assert "This circle does not know the circle nobody-we-know" in unknown.text


def test_a_request_for_the_circles_consent_links_to_its_answer(pair: Pair) -> None:
    nodes, _coop, kitchen = pair
    coop_id, kitchen_id = nodes["coop"].feed.node_id, nodes["kitchen"].feed.node_id
    # Given: the co-op asks the kitchen's consent to a policy.
    asking = consent_to(
        nodes["coop"],
        Purpose.ADOPT_POLICY,
        {},
        title="One shared rota tool",
        ask_circles=[kitchen_id],
        close=False,
    )
    sync(nodes)
    # When: a kitchen member opens the co-op's page.
    page = signed_in(kitchen, "ben").client.get(f"/circles/{coop_id}").text
    # Then: the request is shown, with the proposal form of the circle's answer.
    assert "Its requests for this circle's consent" in page and "One shared rota tool" in page
    assert links(page)["Answer its request: One shared rota tool"] == {
        "purpose": "answer_consent_request",
        "circle": coop_id,
        "request": asking,
        "round": "1",
    }


def test_the_delegate_answers_the_co_ops_round_for_the_seat(pair: Pair) -> None:
    nodes, _coop, kitchen = pair
    coop_id, kitchen_id = nodes["coop"].feed.node_id, nodes["kitchen"].feed.node_id
    # Given: Cleo is the kitchen's delegate, and the co-op's round asks her seat.
    select(nodes["kitchen"], "delegate", kitchen.ids["cleo"])
    sync(nodes)
    asking = consent_to(nodes["coop"], Purpose.ADOPT_POLICY, {}, title="Shared rota", close=False)
    sync(nodes)
    page = f"/circles/{coop_id}"
    action = f"/circles/{coop_id}/seats/{asking}"

    # Ben, who holds no seat, sees the round but no form, and his post is refused.
    ben = signed_in(kitchen, "ben")
    seen = ben.client.get(page).text
    assert "Shared rota" in seen and "Its delegate answers it." in seen and action not in seen
    status, _, answered = post(ben, page, action, answer="consent")
    assert status == 403
    assert "Only this circle&#39;s delegate or leader answers for its seat" in answered

    # When: Cleo, finding the round waiting for her at home, objects without an argument.
    cleo = signed_in(kitchen, "cleo")
    assert f'href="{page}"' in cleo.client.get("/home").text
    assert f'action="{action}"' in cleo.client.get(page).text
    status, _, answered = post(cleo, page, action, answer="object", argument="  ")
    # Then: refused, the sentence beside the argument, and the round still waits for her.
    assert status == 422
    form = f"seat-{asking}"
    assert f'<p class="field-error" id="{form}-argument-error">An objection needs its argument' in (
        answered
    )
    assert f'aria-describedby="{form}-argument-error"' in answered
    assert nodes["kitchen"].relations.relationship(coop_id).seat_requests

    # When: she consents for her seat.
    status, location, _ = post(cleo, page, action, answer="consent")
    # Then: the request is answered, and the co-op counts the seat's consent.
    assert (status, location) == (303, page)
    assert not nodes["kitchen"].relations.relationship(coop_id).seat_requests
    assert "Your seat&#39;s consent is sent to the co-op." in cleo.client.get(page).text
    sync(nodes)
    answers = nodes["coop"].records.get_proposal(asking).answers
    assert answers[f"{kitchen_id}/delegate"].consents


def test_support_from_request_to_reflection_in_the_pages(pair: Pair) -> None:
    nodes, coop, kitchen = pair
    coop_id, kitchen_id = nodes["coop"].feed.node_id, nodes["kitchen"].feed.node_id
    # Given: the kitchen asked the network for people.
    consent_to(
        nodes["kitchen"],
        Purpose.REQUEST_SUPPORT,
        {"kind": "people", "circles": ["network"]},
        text="Two people for Sunday visits",
    )
    sync(nodes)
    (theirs,) = nodes["coop"].support.support_requests()
    (ours,) = nodes["kitchen"].support.support_requests()

    # When: a co-op member opens the network. Then: the request links to its page, which
    # offers the co-op's offer as a proposal.
    coop_ben = signed_in(coop, "ben")
    network = coop_ben.client.get("/network").text
    assert f'<a href="/support/{theirs.id}">people, asked by Kitchen</a>' in network
    page = coop_ben.client.get(f"/support/{theirs.id}").text
    assert "Two people for Sunday visits" in page and "Asked by Kitchen" in page
    assert links(page)["Offer support"] == {
        "purpose": "offer_support",
        "circle": kitchen_id,
        "request": str(theirs.id),
    }
    # The request is on the kitchen's page in the co-op too.
    assert f"/support/{theirs.id}" in coop_ben.client.get(f"/circles/{kitchen_id}").text

    # When: the co-op offers, by consent. Then: the kitchen's page offers to accept it.
    consent_to(
        nodes["coop"],
        Purpose.OFFER_SUPPORT,
        {"circle": kitchen_id, "request": str(theirs.id)},
        text="Two of us on Sundays",
    )
    sync(nodes)
    mine = f"/support/{ours.id}"
    kitchen_ada = signed_in(kitchen, "ada")
    page = kitchen_ada.client.get(mine).text
    assert "Two of us on Sundays" in page
    assert links(page)["Accept the offer of Equal Care Co-op"] == {
        "purpose": "accept_offer",
        "request": str(ours.id),
        "offer": coop_id,
    }
    assert 'action="' + mine + '/delivery"' not in page  # nothing accepted yet

    # When: the kitchen accepts the offer, by consent.
    consent_to(nodes["kitchen"], Purpose.ACCEPT_OFFER, {"request": str(ours.id), "offer": coop_id})
    sync(nodes)
    # Then: its secretary has the delivery form; Ben, not the secretary, has none, and his
    # post is refused.
    kitchen_ben = signed_in(kitchen, "ben")
    assert "/delivery" not in kitchen_ben.client.get(mine).text
    status, _, answered = post(kitchen_ben, mine, mine + "/delivery", note="Done")
    assert status == 403 and "secretary" in answered
    # An empty note is refused beside its field, and nothing is recorded.
    status, _, answered = post(kitchen_ada, mine, mine + "/delivery", note=" ")
    assert status == 422
    assert '<p class="field-error" id="delivery-note-error">Say what was delivered' in answered
    assert nodes["kitchen"].support.get_support_request(str(ours.id)).delivery is None
    status, location, _ = post(kitchen_ada, mine, mine + "/delivery", note="Four Sundays covered")
    assert (status, location) == (303, mine)
    assert (
        nodes["kitchen"].support.get_support_request(str(ours.id)).status == SupportStatus.DELIVERED
    )

    # Then: a reflection follows; a blank one is refused beside its field.
    eli = signed_in(kitchen, "eli")
    status, _, answered = post(eli, mine, mine + "/reflection", text="")
    assert status == 422
    assert '<p class="field-error" id="reflection-text-error">A reflection needs its words' in (
        answered
    )
    status, _, _ = post(eli, mine, mine + "/reflection", text="It helped us through March")
    assert status == 303
    page = eli.client.get(mine).text
    assert "It helped us through March" in page and 'action="' + mine + '/reflection"' not in page
    # ... and the co-op reads the delivery and the kitchen's reflection on its own page.
    sync(nodes)
    page = coop_ben.client.get(f"/support/{theirs.id}").text
    assert "Four Sundays covered" in page and "It helped us through March" in page
    assert 'action="/support/' + str(theirs.id) + '/reflection"' in page
