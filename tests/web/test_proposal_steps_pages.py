"""The rest of the consent process on a proposal's page (over HTTP, no browser): a formal vote
where the rules need one, answers in advance, changing one's answer before the round closes,
escalation, the two confirmations (closing a round with answers missing, withdrawing someone
else's proposal), and refusals beside their field."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from domain.records import GoverningRules
from domain.values import AbsenteePolicy, Stage
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.demo.scripted import form_aim, select
from node.settings import Settings
from tests.conftest import Clock
from tests.node.api.world import Circle, kitchen, serve
from tests.web.test_draft_pages import field_tag
from tests.web.test_sessions import Browserless
from tests.web.visiting import signed_in

BUDGET = "budget"


@pytest.fixture
def kitchen_circle(tmp_path: Path, clock: Clock) -> Iterator[Circle]:
    """The kitchen circle: Ada (secretary), Ben (facilitator), Cleo (full), Eli (learning),
    Gus (guest); no broader circle, absentees cannot object, everything by consent."""
    node: CircleNode = open_node(Settings(data_dir=tmp_path / "kitchen"), clock)
    yield kitchen(node)
    node.close()


@pytest.fixture
def part_of_a_coop(tmp_path: Path, clock: Clock) -> Iterator[Circle]:
    """The kitchen's people in a circle within a broader one, whose rules take answers in
    advance and decide the budget by formal vote."""
    node: CircleNode = open_node(Settings(data_dir=tmp_path / "within"), clock)
    rules = GoverningRules(
        absentee_policy=AbsenteePolicy.REACTED_IN_ADVANCE,
        methods_by_topic={BUDGET: "formal_vote"},
    )
    ada = node.circle.found_circle(
        name="Kitchen",
        aim="Feed the neighbourhood",
        domain="Food",
        founder_name="Ada",
        parent="the-co-op",
        rules=rules,
    )
    ids = {"ada": ada}
    for name, level in (("Ben", "full"), ("Cleo", "full"), ("Eli", "learning"), ("Gus", "guest")):
        ids[name.lower()] = node.people.add_founding_member(ada, name, level)
    form_aim(node, "Good food is good care")
    select(node, "facilitator", ids["ben"])
    select(node, "secretary", ada)
    node.circle.activate_circle(ada)
    tokens = {who: node.tokens.issue_token(person)[1] for who, person in ids.items()}
    yield Circle(node, serve(node), ids, tokens)
    node.close()


def step(visitor: Browserless, pid: str, name: str, **fields: str) -> httpx.Response:
    """Post a step of the proposal's page, as its form would (with the session's token)."""
    csrf = visitor.csrf(f"/proposals/{pid}")
    return visitor.client.post(
        f"/proposals/{pid}/{name}", data={"csrf": csrf, **fields}, follow_redirects=False
    )


def presented(c: Circle, title: str = "Tea rota", topic: str | None = None) -> str:
    pid = c.node.proposals.draft_proposal(c.ids["cleo"], title, "Everyone makes tea.", topic=topic)
    c.node.proposals.present(c.ids["cleo"], pid)
    return pid


def in_round(c: Circle, title: str = "Tea rota", topic: str | None = None) -> str:
    pid = presented(c, title, topic)
    c.node.proposals.open_reactions(c.ids["ben"], pid)
    c.node.consent.open_consent_round(c.ids["ben"], pid)
    return pid


def has_box(page: str, box: str) -> bool:
    return f'id="{box}"' in page


def test_the_secretary_records_a_formal_vote(part_of_a_coop: Circle) -> None:
    c = part_of_a_coop
    cleo, ada = signed_in(c, "cleo"), signed_in(c, "ada")
    # Given: the draft form offers the topics the rules decide otherwise; Cleo drafts the
    # budget under its topic, and it reaches its round.
    form = cleo.client.get("/proposals/new?purpose=adopt_policy").text
    assert '<option value="budget">budget (decided by formal vote)</option>' in form
    drafted = cleo.client.post(
        "/proposals",
        data={
            "csrf": cleo.csrf("/proposals"),
            "title": "Oven fund",
            "text": "Save for a new oven.",
            "topic": BUDGET,
        },
        follow_redirects=False,
    )
    assert drafted.status_code == 303, drafted.text
    pid = drafted.headers["location"].rsplit("/", 1)[1]
    c.node.proposals.present(c.ids["cleo"], pid)
    c.node.proposals.open_reactions(c.ids["ben"], pid)
    c.node.consent.open_consent_round(c.ids["ben"], pid)
    # Then: Ada, the secretary, is offered the vote's form and no consent or objection;
    # Cleo is offered neither.
    page = ada.client.get(f"/proposals/{pid}").text
    assert "decided by formal vote" in page
    assert has_box(page, "vote") and not has_box(page, "your-answer")
    assert not has_box(cleo.client.get(f"/proposals/{pid}").text, "vote")
    # When: Ada types a count that is not a number.
    refused = step(ada, pid, "vote", in_favour="many", against="0")
    # Then: refused beside that field, and nothing recorded.
    assert refused.status_code == 422
    text = refused.text
    assert 'id="vote-in_favour-error">Choose how many voted in favour</p>' in text
    assert "autofocus" in field_tag(text, "vote", "in_favour")
    assert 'value="many"' in field_tag(text, "vote", "in_favour")
    # When: the votes cast are below the quorum: the rules' sentence, at the top.
    refused = step(ada, pid, "vote", in_favour="1", against="0", abstentions="")
    assert refused.status_code == 409
    assert "Below quorum: 1 vote(s) cast" in refused.text
    # When: Cleo, who is not the secretary, records a vote: refused.
    assert step(cleo, pid, "vote", in_favour="3", against="0").status_code == 403
    assert c.node.records.get_proposal(pid).vote is None
    # When: Ada records three in favour, one against.
    done = step(ada, pid, "vote", in_favour="3", against="1", abstentions="1")
    # Then: the vote carries the proposal.
    assert done.status_code == 303
    proposal = c.node.records.get_proposal(pid)
    assert proposal.stage == Stage.CONSENTED
    assert proposal.vote is not None and (proposal.vote.in_favour, proposal.vote.against) == (3, 1)
    assert "The vote is recorded: consented." in ada.client.get(f"/proposals/{pid}").text


def test_an_answer_is_given_in_advance_where_the_rules_take_it(
    part_of_a_coop: Circle, kitchen_circle: Circle
) -> None:
    c = part_of_a_coop
    pid = presented(c)
    cleo = signed_in(c, "cleo")
    # Given: the presented proposal offers Cleo, a full participant, an answer in advance; not
    # Gus, a guest.
    assert has_box(cleo.client.get(f"/proposals/{pid}").text, "in-advance")
    assert not has_box(signed_in(c, "gus").client.get(f"/proposals/{pid}").text, "in-advance")
    # When: she objects in advance without an argument: refused beside it, nothing kept.
    refused = step(cleo, pid, "advance", consents="no", text=" ")
    assert refused.status_code == 422
    assert 'id="advance-text-error">An objection needs its argument</p>' in refused.text
    assert c.node.records.get_proposal(pid).advance_answers == {}
    # When: she objects in advance, with her argument.
    done = step(cleo, pid, "advance", consents="no", text="Mondays are market days.")
    assert done.status_code == 303
    # Then: the page lists her answer, and it counts in the first round, as an objection.
    page = cleo.client.get(f"/proposals/{pid}").text
    assert re.search(r"Cleo: <strong>objects</strong>", page.split('id="advance-answers"')[1])
    c.node.proposals.open_reactions(c.ids["ben"], pid)
    c.node.consent.open_consent_round(c.ids["ben"], pid)
    (objection,) = c.node.records.get_proposal(pid).objections
    assert (objection.person_id, objection.argument) == (c.ids["cleo"], "Mondays are market days.")
    # And: a circle whose rules take no answers in advance offers no such form, and refuses one.
    other = presented(kitchen_circle)
    ben = signed_in(kitchen_circle, "ben")
    assert not has_box(ben.client.get(f"/proposals/{other}").text, "in-advance")
    refused = step(ben, other, "advance", consents="yes")
    assert refused.status_code == 403
    assert "does not take answers in advance" in refused.text


def test_an_answer_is_changed_before_the_round_closes(kitchen_circle: Circle) -> None:
    c = kitchen_circle
    pid = in_round(c)
    cleo = signed_in(c, "cleo")
    # Given: Cleo has not answered: she is offered her answer, not a change of it.
    page = cleo.client.get(f"/proposals/{pid}").text
    assert has_box(page, "your-answer") and not has_box(page, "change-answer")
    c.node.consent.consent(c.ids["cleo"], pid)
    page = cleo.client.get(f"/proposals/{pid}").text
    assert has_box(page, "change-answer") and not has_box(page, "your-answer")
    assert "You have answered in this round: you consent." in page
    # When: she changes to an objection without its argument: refused beside it.
    refused = step(cleo, pid, "change", consents="no", text="")
    assert refused.status_code == 422
    text = refused.text
    assert 'id="change-text-error">An objection needs its argument</p>' in text
    assert "autofocus" in field_tag(text, "change", "text")
    assert c.node.records.get_proposal(pid).answers[c.ids["cleo"]].consents
    # When: she objects, with her argument.
    done = step(cleo, pid, "change", consents="no", text="Nobody is free on Mondays.")
    assert done.status_code == 303
    # Then: her objection is raised.
    page = cleo.client.get(f"/proposals/{pid}").text
    assert "Your answer is changed: your objection is recorded as objection 1." in page
    (objection,) = c.node.records.get_proposal(pid).objections
    assert objection.is_open
    # When: she consents again: her objection of this round is withdrawn.
    assert step(cleo, pid, "change", consents="yes").status_code == 303
    proposal = c.node.records.get_proposal(pid)
    assert proposal.answers[c.ids["cleo"]].consents and not proposal.objections[0].is_open
    # And: Eli, a learning participant, is offered no change (nor any answer to block with).
    assert not has_box(signed_in(c, "eli").client.get(f"/proposals/{pid}").text, "change-answer")


def test_the_facilitator_escalates_to_the_broader_circle(
    part_of_a_coop: Circle, kitchen_circle: Circle
) -> None:
    c = part_of_a_coop
    pid = in_round(c)
    ben, cleo = signed_in(c, "ben"), signed_in(c, "cleo")
    # Given: Ben, who wears the facilitator's hat, is offered escalation; Cleo is not.
    assert has_box(ben.client.get(f"/proposals/{pid}").text, "escalate")
    assert not has_box(cleo.client.get(f"/proposals/{pid}").text, "escalate")
    # When: he escalates without saying why: refused beside the reason.
    refused = step(ben, pid, "escalate", reason="  ")
    assert refused.status_code == 422
    assert 'id="escalate-reason-error">Say why the circle is stuck</p>' in refused.text
    # When: Cleo tries: refused, and nothing changed.
    assert step(cleo, pid, "escalate", reason="Stuck").status_code == 403
    assert c.node.records.get_proposal(pid).stage == Stage.CONSENT_ROUND
    # When: Ben says why.
    done = step(ben, pid, "escalate", reason="Two rounds, no way through.")
    # Then: the decision is the broader circle's.
    assert done.status_code == 303
    assert c.node.records.get_proposal(pid).stage == Stage.ESCALATED
    assert "passed to the broader circle" in ben.client.get(f"/proposals/{pid}").text
    # And: a circle with no broader circle offers no escalation.
    other = in_round(kitchen_circle)
    assert not has_box(
        signed_in(kitchen_circle, "ben").client.get(f"/proposals/{other}").text, "escalate"
    )


def test_closing_a_round_with_answers_missing_asks_to_confirm(kitchen_circle: Circle) -> None:
    c = kitchen_circle
    pid = in_round(c)
    c.node.consent.consent(c.ids["ada"], pid)
    c.node.consent.consent(c.ids["ben"], pid)
    ben = signed_in(c, "ben")
    # When: Ben, the facilitator, closes the round while Cleo has not answered.
    asked = step(ben, pid, "close-round")
    # Then: a page lists who has not answered and asks him to confirm; nothing has happened.
    assert asked.status_code == 200
    page = asked.text
    assert "Close the round with answers missing?" in page
    (listed,) = re.findall(r'<ul id="not-answered">(.*?)</ul>', page, re.S)
    assert re.findall(r"<li>(.*?)</li>", listed) == ["Cleo"]
    assert '<input type="hidden" name="confirmed" value="yes">' in page
    assert "Yes, close the round" in page
    assert c.node.records.get_proposal(pid).stage == Stage.CONSENT_ROUND
    # And: Cleo, who may not close it, is refused rather than asked.
    refused = step(signed_in(c, "cleo"), pid, "close-round")
    assert refused.status_code == 403
    assert c.node.records.get_proposal(pid).stage == Stage.CONSENT_ROUND
    # When: he confirms.
    done = step(ben, pid, "close-round", confirmed="yes")
    # Then: the round closes, Cleo recorded as not having answered.
    assert done.status_code == 303
    proposal = c.node.records.get_proposal(pid)
    assert proposal.stage == Stage.CONSENTED
    assert proposal.rounds[-1].missing == [c.ids["cleo"]]


def test_a_round_everyone_answered_closes_without_asking(kitchen_circle: Circle) -> None:
    c = kitchen_circle
    pid = in_round(c)
    for who in ("ada", "ben", "cleo"):
        c.node.consent.consent(c.ids[who], pid)
    done = step(signed_in(c, "ben"), pid, "close-round")
    assert done.status_code == 303
    assert c.node.records.get_proposal(pid).stage == Stage.CONSENTED


def test_withdrawing_someone_elses_proposal_asks_to_confirm(kitchen_circle: Circle) -> None:
    c = kitchen_circle
    pid = presented(c)
    ben = signed_in(c, "ben")
    # When: Ben, the facilitator, withdraws Cleo's proposal.
    asked = step(ben, pid, "withdraw")
    # Then: he is asked to confirm, naming whose it is; nothing has happened.
    assert asked.status_code == 200
    page = asked.text
    assert "Withdraw someone else&#39;s proposal?" in page
    assert "This is Cleo&#39;s proposal." in page and "Yes, withdraw the proposal" in page
    assert c.node.records.get_proposal(pid).stage == Stage.PRESENTED
    # When: he confirms: it is withdrawn.
    assert step(ben, pid, "withdraw", confirmed="yes").status_code == 303
    assert c.node.records.get_proposal(pid).stage == Stage.WITHDRAWN
    # And: Cleo withdraws her own proposal at once, without being asked.
    own = presented(c, "Coffee rota")
    done = step(signed_in(c, "cleo"), own, "withdraw")
    assert done.status_code == 303
    assert c.node.records.get_proposal(own).stage == Stage.WITHDRAWN


def test_a_refused_step_shows_its_sentence_beside_the_field(kitchen_circle: Circle) -> None:
    c = kitchen_circle
    pid = presented(c)
    cleo = signed_in(c, "cleo")
    # Given: the amend box starts with the proposal's text.
    page = cleo.client.get(f"/proposals/{pid}").text
    assert re.search(r'id="amend-text"[^>]*>Everyone makes tea.</textarea>', page)
    # When: she asks a blank question.
    refused = step(cleo, pid, "question", question="   ")
    # Then: the sentence is beside the question's field, which takes the focus.
    assert refused.status_code == 422
    text = refused.text
    assert 'id="question-question-error">A question needs its words</p>' in text
    tag = field_tag(text, "question", "question")
    assert 'aria-describedby="question-question-error"' in tag and "autofocus" in tag
    # When: she amends it to nothing: refused beside the amend box, which keeps what she typed.
    refused = step(cleo, pid, "amend", text=" ")
    text = refused.text
    assert 'id="amend-text-error">An amended proposal needs its text</p>' in text
    assert re.search(r'id="amend-text"[^>]*> </textarea>', text)
    assert c.node.records.get_proposal(pid).text == "Everyone makes tea."
    # When: Ben asks a question, and Cleo answers it with nothing: beside that question's box.
    c.node.proposals.ask_question(c.ids["ben"], pid, "Who buys the milk?")
    refused = step(cleo, pid, "answer", number="1", answer="")
    assert refused.status_code == 422
    assert 'id="answer-1-answer-error">An answer needs its words</p>' in refused.text
    assert "autofocus" in field_tag(refused.text, "answer-1", "answer")
