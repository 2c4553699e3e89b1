"""The appeals pages over HTTP (no browser): lodging an appeal against a decision, joining it,
the circle's answer, taking it further and withdrawing it (each confirmed), an appeal taken to
this circle answered, the proposal an upheld appeal calls for, and an appeal sent against a
linked circle's decision; each form offered only to whom the rules allow, each refusal with the
domain's sentence beside its field or at the top of the page.

Cast (tests/node/api/world.py): Ada (secretary), Ben (facilitator), Cleo (full, the care commons
organiser, who takes the everyday decision appealed), Eli (learning), Gus (guest)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.appeal import Appeal, AppealStatus, Hearing, Role
from domain.values import Purpose
from node.demo.scripted import consent_to
from tests.conftest import Clock
from tests.node.api.test_api_appeals import GARDEN, _decision
from tests.node.api.world import Circle, member_pair
from tests.node.circles import sync
from tests.web.visiting import post, signed_in


def beside(page: str, form: str, field: str, sentence: str) -> bool:
    """Whether `sentence` stands beside that field of that form, which it describes."""
    error = f'<p class="field-error" id="{form}-{field}-error">{sentence}</p>'
    described = re.search(rf'id="{form}-{field}"[^>]*aria-describedby="{form}-{field}-error"', page)
    return error in page and described is not None


def at_top(page: str, sentence: str) -> bool:
    return (
        f'<p class="refusal" role="alert" id="refusal" tabindex="-1" autofocus>{sentence}' in page
    )


def forms_of(page: str) -> set[str]:
    """The actions of the forms an appeal's page offers (less signing out)."""
    return set(re.findall(r'action="(/appeals[^"]*)"', page))


def heard(c: Circle) -> str:
    """Cleo's decision appealed by Eli, Ada and Ben, as the circle hears it."""
    decision = _decision(c)
    aid = c.node.appeals.lodge(c.ids["eli"], decision, "Sundays are for families")
    for who in ("ada", "ben"):
        c.node.appeals.join(c.ids[who], aid)
    return aid


def test_a_member_lodges_an_appeal_from_the_decisions_link(kitchen_circle: Circle) -> None:
    c = kitchen_circle
    decision = _decision(c)
    eli = signed_in(c, "eli")
    # Given: the link from a decision fills in the decision appealed.
    page = eli.client.get(f"/appeals?decision={decision}").text
    assert f'<option value="{decision}" selected>Sunday pairs</option>' in page

    # When: Eli sends it without grounds, then without a decision.
    no_grounds = post(eli, "/appeals", "/appeals", decision_id=decision, grounds=" ")
    no_decision = post(eli, "/appeals", "/appeals", decision_id="", grounds="Late")

    # Then: each sentence stands beside its field, what he chose kept, and nothing is lodged.
    assert no_grounds.status_code == 422
    assert beside(no_grounds.text, "lodge", "grounds", "An appeal says on what grounds")
    assert f'<option value="{decision}" selected>' in no_grounds.text
    assert no_decision.status_code == 422
    assert beside(no_decision.text, "lodge", "decision_id", "Choose the decision you appeal")
    assert c.node.appeals.appeals() == []

    # When: he lodges it. Then: its page shows it gathering appellants.
    lodged = post(eli, "/appeals", "/appeals", decision_id=decision, grounds="Late notice")
    assert lodged.status_code == 303
    (appeal,) = c.node.appeals.appeals()
    assert lodged.headers["location"] == f"/appeals/{appeal.id}"
    assert appeal.appellants == {c.ids["eli"]: "Late notice"}
    shown = eli.client.get(f"/appeals/{appeal.id}").text
    assert "Your appeal is lodged" in shown and 'class="tag gathering"' in shown

    # And: a second appeal of that decision is refused, pointing to the one to join.
    ada = signed_in(c, "ada")
    assert (
        f'<a href="/appeals/{appeal.id}">join it</a>'
        in ada.client.get(f"/appeals?decision={decision}").text
    )
    again = post(ada, "/appeals", "/appeals", decision_id=decision, grounds="Me too")
    assert again.status_code == 409
    assert at_top(again.text, "An appeal against this decision is gathering appellants: join it")
    assert len(c.node.appeals.appeals()) == 1


def test_who_took_the_decision_or_is_a_guest_gets_no_form_and_is_refused(
    kitchen_circle: Circle,
) -> None:
    c = kitchen_circle
    decision = _decision(c)
    # Gus, a guest, is offered no form; his post is refused with the rule's sentence.
    gus = signed_in(c, "gus")
    assert 'action="/appeals"' not in gus.client.get("/appeals").text
    refused = post(gus, "/appeals", "/appeals", decision_id=decision, grounds="No")
    assert refused.status_code == 403
    assert at_top(refused.text, "Guests take part in rounds; full and learning participants appeal")
    # Cleo took the decision: the rules refuse her appeal.
    cleo = signed_in(c, "cleo")
    refused = post(cleo, "/appeals", "/appeals", decision_id=decision, grounds="No")
    assert refused.status_code == 403
    assert at_top(refused.text, "The hat wearer who took a decision cannot appeal it")
    assert c.node.appeals.appeals() == []
    # Nor may she join one: her appeal's page offers her nothing.
    aid = c.node.appeals.lodge(c.ids["eli"], decision, "Late")
    assert forms_of(cleo.client.get(f"/appeals/{aid}").text) == set()
    refused = post(cleo, f"/appeals/{aid}", f"/appeals/{aid}/join")
    assert refused.status_code == 403
    assert at_top(refused.text, "The hat wearer who took a decision cannot appeal it")
    assert list(c.node.appeals.get_appeal(aid).appellants) == [c.ids["eli"]]


def test_two_join_and_the_circle_answers_by_whoever_the_rules_name(kitchen_circle: Circle) -> None:
    c = kitchen_circle
    decision = _decision(c)
    aid = c.node.appeals.lodge(c.ids["eli"], decision, "Sundays are for families")
    # Given: Ada and Ben join it on its page, Ben with grounds of his own.
    for who, grounds in (("ada", ""), ("ben", "The rota is full")):
        visitor = signed_in(c, who)
        assert f"/appeals/{aid}/join" in forms_of(visitor.client.get(f"/appeals/{aid}").text)
        joined = post(visitor, f"/appeals/{aid}", f"/appeals/{aid}/join", grounds=grounds)
        assert joined.status_code == 303
    appeal = c.node.appeals.get_appeal(aid)
    assert appeal.status == AppealStatus.BEING_HEARD
    assert appeal.appellants[c.ids["ben"]] == "The rota is full"

    # Then: the facilitator and the secretary appeal, so Cleo records the circle's answer:
    # only she is offered the form; Ben's post is refused with the rule's sentence.
    ben = signed_in(c, "ben")
    assert f"/appeals/{aid}/circle-answer" not in forms_of(ben.client.get(f"/appeals/{aid}").text)
    refused = post(
        ben, f"/appeals/{aid}", f"/appeals/{aid}/circle-answer", upheld="no", reason="Fine"
    )
    assert refused.status_code == 403
    assert at_top(
        refused.text,
        "An appellant does not record the circle&#39;s answer to their own appeal: when the "
        "facilitator appeals, the secretary records it",
    )
    cleo = signed_in(c, "cleo")
    page = f"/appeals/{aid}"
    assert f"/appeals/{aid}/circle-answer" in forms_of(cleo.client.get(page).text)

    # When: Cleo sends no reason, then no answer. Then: each beside its field.
    no_reason = post(cleo, page, f"{page}/circle-answer", upheld="yes", reason=" ")
    assert no_reason.status_code == 422
    assert beside(
        no_reason.text, "circle-answer", "reason", "The circle&#39;s answer gives its reason"
    )
    no_answer = post(cleo, page, f"{page}/circle-answer", reason="Families first")
    assert no_answer.status_code == 422
    assert beside(no_answer.text, "circle-answer", "upheld", "Say whether the appeal is upheld")
    assert c.node.appeals.get_appeal(aid).answers == []

    # When: she records that the circle upholds it, to revoke the decision.
    upheld = post(
        cleo, page, f"{page}/circle-answer", upheld="yes", reason="Families first", revoke="yes"
    )
    # Then: upheld, final, and the proposal it opened is linked from the page.
    assert upheld.status_code == 303
    appeal = c.node.appeals.get_appeal(aid)
    assert appeal.status == AppealStatus.UPHELD and appeal.proposal_id is not None
    assert c.node.records.get_proposal(appeal.proposal_id).purpose == Purpose.REVOKE_DECISION
    shown = cleo.client.get(page).text
    assert f'<a href="/proposals/{appeal.proposal_id}">' in shown
    assert "The circle: <strong>upheld</strong>" in shown
    assert forms_of(shown) == set()


def test_an_appellant_takes_it_further_and_withdraws_it_each_confirmed(
    kitchen_circle: Circle,
) -> None:
    c = kitchen_circle
    aid = heard(c)
    c.node.appeals.answer_as_circle(c.ids["cleo"], aid, False, "Pairs work")
    page = f"/appeals/{aid}"
    eli = signed_in(c, "eli")
    offered = forms_of(eli.client.get(page).text)
    assert {f"{page}/take-further", f"{page}/withdraw"} <= offered
    # Cleo is no appellant: no form, and her post is refused.
    cleo = signed_in(c, "cleo")
    assert forms_of(cleo.client.get(page).text) == set()
    refused = post(cleo, page, f"{page}/take-further", confirmed="yes")
    assert refused.status_code == 403
    assert at_top(refused.text, "Only the appellants take an appeal further")

    # When: Eli takes it further. Then: he is asked to confirm first, and nothing moved.
    asked = post(eli, page, f"{page}/take-further")
    assert asked.status_code == 200
    assert "Yes, take it to the care and counsel group" in asked.text
    assert c.node.appeals.get_appeal(aid).hearing == Hearing.CIRCLE
    # When: he confirms. Then: the circle's rules name no care and counsel group.
    confirmed = post(eli, page, f"{page}/take-further", confirmed="yes")
    assert confirmed.status_code == 409
    assert at_top(
        confirmed.text,
        "The circle&#39;s rules name no care and counsel group (a change of rules names one)",
    )

    # When: he withdraws it, with his reason. Then: confirmed in a second step, reason kept.
    asked = post(eli, page, f"{page}/withdraw", reason="We talked it over")
    assert "Yes, withdraw the appeal" in asked.text
    assert '<input type="hidden" name="reason" value="We talked it over">' in asked.text
    assert c.node.appeals.get_appeal(aid).status == AppealStatus.NOT_UPHELD
    blank = post(eli, page, f"{page}/withdraw", reason=" ", confirmed="yes")
    assert blank.status_code == 422
    assert beside(blank.text, "withdraw", "reason", "Say why the appeal is withdrawn")
    done = post(eli, page, f"{page}/withdraw", reason="We talked it over", confirmed="yes")
    assert done.status_code == 303
    assert c.node.appeals.get_appeal(aid).status == AppealStatus.WITHDRAWN
    assert forms_of(eli.client.get(page).text) == set()


def test_the_facilitator_answers_an_appeal_taken_to_this_circle(kitchen_circle: Circle) -> None:
    c = kitchen_circle
    # Given: the garden circle took one of its appeals here (its message, as kept).
    referred = Appeal.referred(
        c.node.records.get_circle(),
        GARDEN,
        "appeal-7",
        Hearing.CARE_AND_COUNSEL,
        "Hedges",
        "Cut in May",
        "Nesting birds",
        3,
        ["kim"],
    )
    c.node.save(referred, *c.node.records.filed("appeal", referred.id))
    aid, page = str(referred.id), f"/appeals/{referred.id}"

    # Then: the list marks it as waiting for Ben, who records the answer, and not for Eli.
    ben, eli = signed_in(c, "ben"), signed_in(c, "eli")
    row = re.search(rf'<tr id="appeal-{aid}"[^>]*>.*?</tr>', ben.client.get("/appeals").text, re.S)
    assert row is not None and "waiting for your answer" in row.group(0)
    assert "waiting for your answer" not in eli.client.get("/appeals").text
    assert forms_of(eli.client.get(page).text) == set()
    refused = post(eli, page, f"{page}/answer", upheld="yes", reason="Wait")
    assert refused.status_code == 403
    assert at_top(
        refused.text, "Only the facilitator can record the circle&#39;s answer to an appeal"
    )
    # Ben's home links to the appeal's page.
    assert f'href="{page}"' in ben.client.get("/home").text

    # When: Ben gives no reason. Then: beside the field, and nothing is recorded.
    assert forms_of(ben.client.get(page).text) == {f"{page}/answer"}
    blank = post(ben, page, f"{page}/answer", upheld="yes", reason="")
    assert blank.status_code == 422
    assert beside(blank.text, "answer", "reason", "An answer gives its reason")

    # When: he records that this circle upholds it. Then: final, and no form is left.
    answered = post(ben, page, f"{page}/answer", upheld="yes", reason="Wait until August")
    assert answered.status_code == 303
    appeal = c.node.appeals.get_appeal(aid)
    assert appeal.status == AppealStatus.UPHELD and appeal.answers[0].by == c.ids["ben"]
    shown = ben.client.get(page).text
    assert "recorded by Ben" in shown and forms_of(shown) == set()


@pytest.fixture
def pair(tmp_path: Path, clock: Clock) -> Iterator[tuple[Circle, Circle]]:
    """The co-op and the kitchen, the kitchen part of the co-op, which its rules name as its
    care and counsel group."""
    nodes, coop, kitchen = member_pair(tmp_path, clock)
    consent_to(kitchen.node, Purpose.CHANGE_RULES, {"care_and_counsel": coop.node.feed.node_id})
    yield coop, kitchen
    for node in nodes.values():
        node.close()


def _sync(coop: Circle, kitchen: Circle) -> None:
    sync({"coop": coop.node, "kitchen": kitchen.node})


def test_the_co_op_hears_the_kitchens_appeal_and_its_facilitator_opens_the_amendment(
    pair: tuple[Circle, Circle],
) -> None:
    coop, k = pair
    aid = heard(k)
    k.node.appeals.answer_as_circle(k.ids["cleo"], aid, False, "Pairs work")
    page = f"/appeals/{aid}"
    # Given: Eli takes it to the care and counsel group, the co-op, confirming.
    eli = signed_in(k, "eli")
    taken = post(eli, page, f"{page}/take-further", confirmed="yes")
    assert taken.status_code == 303
    assert "taken to the care and counsel group" in eli.client.get(page).text
    assert "being heard</strong>\n by the care and counsel group (Equal Care Co-op)" in (
        eli.client.get(page).text
    )
    _sync(coop, k)

    # When: the co-op's facilitator upholds it on the co-op's page of it.
    (referred,) = [a for a in coop.node.appeals.appeals() if a.role == Role.REFERRED]
    there = f"/appeals/{referred.id}"
    cben = signed_in(coop, "ben")
    assert "Sunday pairs" in cben.client.get(there).text
    upheld = post(cben, there, f"{there}/answer", upheld="yes", reason="Ask the families")
    assert upheld.status_code == 303
    _sync(coop, k)

    # Then: the kitchen's page tells the co-op's answer, and offers its facilitator (an
    # appellant too) the proposal to change the decision, and Cleo nothing.
    assert k.node.appeals.get_appeal(aid).status == AppealStatus.UPHELD
    ben = signed_in(k, "ben")
    shown = ben.client.get(page).text
    assert "recorded by Equal Care Co-op" in shown
    assert forms_of(shown) == {f"{page}/amendment"}
    cleo = signed_in(k, "cleo")
    assert forms_of(cleo.client.get(page).text) == set()
    refused = post(cleo, page, f"{page}/amendment", text="Three a visit")
    assert refused.status_code == 403
    blank = post(ben, page, f"{page}/amendment", text=" ")
    assert blank.status_code == 422
    assert k.node.appeals.get_appeal(aid).proposal_id is None
    opened = post(ben, page, f"{page}/amendment", text="Three a visit")
    assert opened.status_code == 303
    proposal = k.node.appeals.get_appeal(aid).proposal_id
    assert proposal is not None
    assert k.node.records.get_proposal(proposal).purpose == Purpose.AMEND_DECISION


def test_a_member_appeals_the_co_ops_decision_from_its_linked_page(
    pair: tuple[Circle, Circle],
) -> None:
    coop, k = pair
    coop_id = coop.node.feed.node_id
    consent_to(coop.node, Purpose.ADOPT_POLICY, {}, title="Dues", text="Ten a month")
    _sync(coop, k)
    (decision,) = [d for d in coop.node.records.list_decisions() if d.title == "Dues"]
    # Given: the kitchen reads the co-op's decisions, each with a link to appeal it.
    eli = signed_in(k, "eli")
    decisions = eli.client.get(f"/linked-circles/{coop_id}/decisions").text
    link = f"/appeals?elsewhere={coop_id}&amp;decision={decision.id}"
    assert link in decisions
    # A guest is offered no link, nor the form.
    gus = signed_in(k, "gus")
    assert "Appeal this decision" not in gus.client.get(f"/linked-circles/{coop_id}/decisions").text
    assert 'action="/appeals/elsewhere"' not in gus.client.get("/appeals").text

    # When: Eli follows it, and sends the form without grounds.
    form = eli.client.get(link.replace("&amp;", "&")).text
    assert f'<option value="{coop_id}" selected>Equal Care Co-op</option>' in form
    assert f'value="{decision.id}"' in form
    data = {"circle": coop_id, "decision_id": str(decision.id)}
    blank = post(eli, "/appeals", "/appeals/elsewhere", **data, grounds="")
    # Then: the sentence is beside the grounds; nothing is sent.
    assert blank.status_code == 422
    assert beside(blank.text, "elsewhere", "grounds", "An appeal says on what grounds")
    assert k.node.appeals.appeals() == []

    # When: he gives his grounds. Then: the appeal is sent, heard at the co-op.
    sent = post(eli, "/appeals", "/appeals/elsewhere", **data, grounds="Too dear for us")
    assert sent.status_code == 303
    (appeal,) = k.node.appeals.appeals()
    assert appeal.role == Role.SENT and appeal.origin == coop_id
    shown = eli.client.get(sent.headers["location"]).text
    assert "heard at Equal Care Co-op" in shown
    _sync(coop, k)
    (there,) = coop.node.appeals.appeals()
    assert there.role == Role.AGAINST_US and there.grounds == "Too dear for us"
