"""The selection pages over HTTP (no browser): opening a selection, and on its page the
nominations with reasons, the change round, the candidate and the consent round on them, to the
hat worn; objections integrated by proposing another nominee or by a measure. Each step is
offered only to those the circle's rules let take it; others who post anyway get a 403 page,
and a refused step comes back with the domain's sentence beside its field, nothing changed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.app.persistence import open_node
from node.settings import Settings
from tests.conftest import Clock
from tests.node.api.world import Circle, kitchen, serve
from tests.web.test_hat_pages import Member, beside


@pytest.fixture
def kitchen_circle(tmp_path: Path, clock: Clock) -> Iterator[Circle]:
    node = open_node(Settings(data_dir=tmp_path / "kitchen"), clock)
    circle = kitchen(node)
    node.hats.define_hat(circle.ids["cleo"], "Tea maker", "Keeps the tea flowing", [], ["tea"])
    yield circle
    node.close()


def tea_selections(c: Circle) -> list[str]:
    return [str(s.id) for s in c.node.records.list_selections() if s.hat_id == "tea-maker"]


def opened(c: Circle) -> str:
    """Ben, the facilitator, opens a selection for the tea maker (through the pages)."""
    done = Member(c, "ben").post("/selections", "/selections", hat_id="tea-maker")
    assert done.status_code == 200, done.text
    found = re.search(r"/selections/([0-9a-f-]{36})$", str(done.url))
    assert found, done.url
    return found.group(1)


def test_the_facilitator_opens_a_selection(kitchen_circle: Circle) -> None:
    c = kitchen_circle
    ben, cleo = Member(c, "ben"), Member(c, "cleo")
    # Given: only Ben, the facilitator, is offered the form, on /selections and on the hat.
    assert 'action="/selections"' in ben.client.get("/selections").text
    assert 'action="/selections"' in ben.client.get("/hats/tea-maker").text
    assert 'action="/selections"' not in cleo.client.get("/selections").text
    assert 'action="/selections"' not in cleo.client.get("/hats/tea-maker").text

    # When: Cleo posts it anyway, and Ben asks for a term that has already ended.
    refused = cleo.post("/selections", "/selections", hat_id="tea-maker")
    past = ben.post("/selections", "/selections", hat_id="tea-maker", review_date="2020-01-01")

    # Then: both are refused, Ben's beside the review date with his choice kept; none opened.
    assert refused.status_code == 403
    assert "Only the facilitator can open a selection" in refused.text
    assert past.status_code == 422
    assert beside("open", "review_date", "The term's review date must be in the future") in (
        past.text
    )
    assert 'value="2020-01-01"' in past.text
    assert tea_selections(c) == []

    # When: Ben opens it from the hat's page.
    done = ben.post("/selections", "/hats/tea-maker", hat_id="tea-maker")

    # Then: he is on the selection's page, nominating.
    assert done.status_code == 200
    assert "The selection is open" in done.text
    assert 'id="stage" class="tag nominating"' in done.text
    assert len(tea_selections(c)) == 1


def test_a_selection_taken_through_the_pages_gives_the_hat(kitchen_circle: Circle) -> None:
    c, ids = kitchen_circle, kitchen_circle.ids
    sid = opened(c)
    page = f"/selections/{sid}"
    ada, ben, cleo, eli, gus = (Member(c, who) for who in ("ada", "ben", "cleo", "eli", "gus"))

    # Nominations: the list marks the selection for Cleo until she nominates.
    assert "Your nomination is awaited" in cleo.client.get("/selections").text
    # Gus, a guest, is offered no nomination, and is refused if he posts one.
    assert f'action="{page}/nominate"' not in gus.client.get(page).text
    refused = gus.post(f"{page}/nominate", page, nominee=ids["cleo"], reason="She cares")
    assert refused.status_code == 403
    assert "Guests do not nominate; full and learning participants do" in refused.text
    # Eli forgets his reason: refused beside it.
    no_reason = eli.post(f"{page}/nominate", page, nominee=ids["eli"], reason="")
    assert no_reason.status_code == 422
    assert beside("nominate", "reason", "Give a reason for your nomination") in no_reason.text
    assert c.node.records.get_selection(sid).nominations == {}
    for member, nominee in ((ada, "cleo"), (ben, "cleo"), (cleo, "ada"), (eli, "eli")):
        done = member.post(f"{page}/nominate", page, nominee=ids[nominee], reason="Loves tea")
        assert done.status_code == 200 and "is recorded" in done.text
    assert "Your nomination is awaited" not in cleo.client.get("/selections").text
    assert "You have nominated" in cleo.client.get(page).text

    # The change round: only the facilitator opens it.
    assert "Open the change round" not in cleo.client.get(page).text
    assert cleo.post(f"{page}/change-round", page).status_code == 403
    assert "The change round is open" in ben.post(f"{page}/change-round", page).text
    changed = eli.post(f"{page}/change-nomination", page, nominee=ids["cleo"], reason="Heard Ada")
    assert "Your nomination is now Cleo." in changed.text
    assert c.node.records.get_selection(sid).nominations[ids["eli"]].changed

    # The candidate: only a nominee (Gus was nominated by nobody), and only by the facilitator.
    assert 'action="' + page + '/candidate"' not in cleo.client.get(page).text
    not_nominated = ben.post(f"{page}/candidate", page, candidate=ids["gus"], reason="Why not")
    assert not_nominated.status_code == 422
    sentence = "The candidate must be someone the circle nominated"
    assert beside("candidate", "candidate", sentence) in not_nominated.text
    proposed = ben.post(f"{page}/candidate", page, candidate=ids["cleo"], reason="Three for her")
    assert "Cleo is proposed" in proposed.text
    assert 'id="stage" class="tag consent_round"' in proposed.text

    # The consent round: full participants answer, and the list marks it until they do.
    assert "Your answer is awaited" in cleo.client.get("/selections").text
    assert 'action="' + page + '/consent"' not in eli.client.get(page).text
    learning = eli.post(f"{page}/consent", page)
    assert learning.status_code == 403
    for member in (ada, ben, cleo):
        assert "Your consent is recorded." in member.post(f"{page}/consent", page).text
    assert "Your answer is awaited" not in cleo.client.get("/selections").text
    assert "Close the consent round" not in cleo.client.get(page).text
    assert cleo.post(f"{page}/close-round", page).status_code == 403

    # Closed by the facilitator: consented, Cleo wears the hat, and /hats says so.
    closed = ben.post(f"{page}/close-round", page)
    assert "Consented: Cleo wears the tea maker hat." in closed.text
    assert c.node.records.peek_circle().wears(ids["cleo"], "tea-maker")
    hats = cleo.client.get("/hats").text
    row = re.search(r'<a href="/hats/tea-maker">.*?</tr>', hats, re.S)
    assert row and "Cleo" in row.group(0)
    assert f'href="/selections/{sid}"' in cleo.client.get("/hats/tea-maker").text


def to_the_consent_round(c: Circle) -> str:
    """A selection for the tea maker, Cleo its candidate, its consent round open."""
    ids, sid = c.ids, opened(c)
    for who in ("ada", "ben", "cleo"):
        c.node.hats.nominate(ids[who], sid, ids["cleo"], "Loves tea")
    c.node.hats.nominate(ids["eli"], sid, ids["eli"], "Me")
    c.node.hats.open_change_round(ids["ben"], sid)
    c.node.hats.propose_candidate(ids["ben"], sid, ids["cleo"], "Three for her")
    return sid


def test_an_objection_to_the_candidate_is_integrated_on_the_page(kitchen_circle: Circle) -> None:
    c = kitchen_circle
    sid = to_the_consent_round(c)
    page = f"/selections/{sid}"
    ada, ben, cleo = Member(c, "ada"), Member(c, "ben"), Member(c, "cleo")

    # Ada objects without an argument: refused beside it. Then with one.
    bare = ada.post(f"{page}/object", page, argument="")
    assert bare.status_code == 422
    assert 'id="object-argument-error"' in bare.text
    ada.post(f"{page}/object", page, argument="Cleo has no time for it this term")
    for member in (ben, cleo):
        member.post(f"{page}/consent", page)
    integrating = ben.post(f"{page}/close-round", page)
    assert "integrating" in integrating.text
    assert "Open the consent round again" not in integrating.text

    # Integrated by a measure (Cleo), then the facilitator opens the round again.
    measure = cleo.post(
        f"{page}/integrate", page, objection="1", how="add_measure", text="Eli helps on Mondays"
    )
    assert "Objection 1 integrated" in measure.text
    assert "Eli helps on Mondays" in measure.text
    again = ben.post(f"{page}/open-round", page)
    assert "The consent round is open again." in again.text
    assert c.node.records.get_selection(sid).round_number == 2


def test_proposing_another_nominee_integrates_the_objections(kitchen_circle: Circle) -> None:
    c, ids = kitchen_circle, kitchen_circle.ids
    sid = to_the_consent_round(c)
    page = f"/selections/{sid}"
    ada, ben = Member(c, "ada"), Member(c, "ben")
    ada.post(f"{page}/object", page, argument="Cleo has no time")
    for who in ("ben", "cleo"):
        c.node.consent.consent(ids[who], sid)
    ben.post(f"{page}/close-round", page)
    # The facilitator is offered another nominee; Eli was nominated.
    assert "Propose another nominee" in ben.client.get(page).text
    done = ben.post(f"{page}/candidate", page, candidate=ids["eli"], reason="Eli has the time")
    assert "Eli is proposed" in done.text
    selection = c.node.records.get_selection(sid)
    assert selection.candidate == ids["eli"] and selection.open_objections() == []


def test_the_home_page_leads_to_the_selection_and_unknown_ones_are_404(
    kitchen_circle: Circle,
) -> None:
    c = kitchen_circle
    sid = to_the_consent_round(c)
    cleo = Member(c, "cleo")
    assert f'href="/selections/{sid}"' in cleo.client.get("/home").text
    assert cleo.client.get("/selections/00000000-0000-0000-0000-000000000000").status_code == 404
    assert cleo.client.get("/selections/nonsense").status_code == 404
    unknown = cleo.post(f"/selections/{sid}/vote", f"/selections/{sid}")
    assert unknown.status_code == 404
    assert "A selection has no step called" in unknown.text


def test_an_asynchronous_selection_without_a_deadline_is_refused_beside_it(
    kitchen_circle: Circle,
) -> None:
    c = kitchen_circle
    ben = Member(c, "ben")
    refused = ben.post("/selections", "/selections", hat_id="tea-maker", mode="async")
    assert refused.status_code == 422
    assert beside("open", "deadline", "An asynchronous decision needs a deadline") in refused.text
    assert '<option value="async" selected>' in refused.text
    assert tea_selections(c) == []


def select_through_the_pages(c: Circle, hat: str, host: str, candidate: str) -> None:
    """`host` runs a selection for `hat` through the pages; everyone full nominates and
    consents to `candidate`."""
    ids, members = c.ids, {who: Member(c, who) for who in ("ada", "ben", "cleo")}
    done = members[host].post("/selections", "/selections", hat_id=hat)
    page = str(done.url).removeprefix("http://testserver")
    for member in members.values():
        member.post(f"{page}/nominate", page, nominee=ids[candidate], reason="Willing")
    members[host].post(f"{page}/change-round", page)
    members[host].post(f"{page}/candidate", page, candidate=ids[candidate], reason="Everyone's")
    for member in members.values():
        member.post(f"{page}/consent", page)
    closed = members[host].post(f"{page}/close-round", page)
    assert "Consented" in closed.text, closed.text


def test_a_new_circle_selects_its_facilitator_and_secretary_through_the_pages(
    tmp_path: Path, clock: Clock
) -> None:
    # Given: a circle just founded, nobody wearing its hats, with its people's tokens.
    node = open_node(Settings(data_dir=tmp_path / "new"), clock)
    try:
        ada = node.circle.found_circle(
            name="New", aim="Feed the neighbourhood", domain="Food", founder_name="Ada"
        )
        ids = {"ada": ada}
        for name in ("Ben", "Cleo"):
            ids[name.lower()] = node.people.add_founding_member(ada, name, "full")
        tokens = {who: node.tokens.issue_token(person)[1] for who, person in ids.items()}

        c = Circle(node, serve(node), ids, tokens)
        assert node.records.peek_circle().wearers("facilitator") == []

        # When: Ada (any full participant, while nobody facilitates) runs the facilitator's
        # selection, and Ben, selected, runs the secretary's.
        select_through_the_pages(c, "facilitator", "ada", "ben")
        select_through_the_pages(c, "secretary", "ben", "cleo")

        # Then: Ben facilitates and Cleo keeps the records; now only Ben opens a selection.
        circle = node.records.peek_circle()
        assert circle.wearers("facilitator") == [ids["ben"]]
        assert circle.wearers("secretary") == [ids["cleo"]]
        assert 'action="/selections"' not in Member(c, "ada").client.get("/selections").text
    finally:
        node.close()


def test_a_selection_is_withdrawn_once_asked_again(kitchen_circle: Circle) -> None:
    c = kitchen_circle
    sid = opened(c)
    page = f"/selections/{sid}"
    ben, cleo = Member(c, "ben"), Member(c, "cleo")
    # Given: Cleo neither opened it nor facilitates: no form, and refused if she posts anyway.
    assert f'action="{page}/withdraw"' not in cleo.client.get(page).text
    refused = cleo.post(f"{page}/withdraw", page, confirmed="yes")
    assert refused.status_code == 403
    assert "Only the facilitator can withdraw" in refused.text

    # When: Ben, who opened it, withdraws it: he is asked once more, nothing changed yet.
    asked = ben.post(f"{page}/withdraw", page)
    assert asked.status_code == 200 and "Yes, withdraw the selection" in asked.text
    assert c.node.records.get_selection(sid).stage == "nominating"

    # When: he says yes. Then: it is withdrawn, and offers no more steps.
    done = ben.post(f"{page}/withdraw", page, confirmed="yes")
    assert "The selection is withdrawn." in done.text
    assert c.node.records.get_selection(sid).stage == "withdrawn"
    assert f'action="{page}/' not in done.text
