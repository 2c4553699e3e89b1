"""The circle node application on every event store: memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.errors import InvalidRequest, NotFound, NotPermitted, WrongStage
from domain.register import KINDS, REGISTER_ID, index_id
from domain.values import DecisionStatus, Membership, Stage
from node.app.logbook import read_logbook
from node.app.node import CircleNode
from node.app.records import FORMER_PARTICIPANT
from node.demo.scripted import form_aim
from node.demo.story import run_story
from tests.conftest import Clock, NodeOpener


def found(node: CircleNode) -> dict[str, str]:
    """A small active circle: Ada (secretary), Ben (facilitator), Cleo full, Eli learning."""
    ada = node.circle.found_circle(
        name="Kitchen circle",
        aim="Feed the neighbourhood",
        domain="The kitchen",
        founder_name="Ada",
        parent="Neighbourhood co-op",
    )
    ben = node.people.add_founding_member(ada, "Ben")
    cleo = node.people.add_founding_member(ada, "Cleo")
    eli = node.people.add_founding_member(ada, "Eli", level="learning")
    people = {"ada": ada, "ben": ben, "cleo": cleo, "eli": eli}
    form_aim(node, "Feeding people is caring for them")
    for hat_id, wearer, host in (("facilitator", ben, ada), ("secretary", ada, ben)):
        selection = node.hats.open_selection(host, hat_id)
        node.hats.nominate(ada, selection, wearer, "Good at it")
        node.hats.open_change_round(host, selection)
        node.hats.propose_candidate(host, selection, wearer, "Nominated")
        for person in (ada, ben, cleo):
            node.consent.consent(person, selection)
        assert node.consent.close_consent_round(host, selection) == Stage.CONSENTED
    node.circle.activate_circle(ada)
    return people


def notification_count(node: CircleNode) -> int:
    return node.store.recorder.max_notification_id() or 0


def state_of(node: CircleNode) -> dict[str, Any]:
    """Every aggregate the node holds, as plain attribute values."""
    ids: list[UUID] = [REGISTER_ID, node.records.circle_id]
    for kind in KINDS:
        if index_id(kind) in node.store.repository:
            ids.append(index_id(kind))
            ids.extend(node.store.repository.get(index_id(kind)).ids())
    return {
        str(aggregate_id): {
            key: value
            for key, value in vars(node.store.repository.get(aggregate_id)).items()
            if key != "_pending_events"
        }
        for aggregate_id in ids
    }


def test_a_proposal_with_an_objection_is_integrated_then_consented(node: CircleNode) -> None:
    p = found(node)
    # Cleo proposes; questions, reactions, then the consent round.
    proposal = node.proposals.draft_proposal(p["cleo"], "Compost", "We compost all kitchen waste.")
    node.proposals.present(p["cleo"], proposal)
    node.proposals.ask_question(p["eli"], proposal, "Where does the compost go?")
    node.proposals.answer_question(p["cleo"], proposal, 1, "To the community garden.")
    node.proposals.open_reactions(p["ben"], proposal)
    node.proposals.react(p["eli"], proposal, "Lovely")
    node.consent.open_consent_round(p["ben"], proposal)
    # Eli, a learning participant, speaks but does not block.
    with pytest.raises(NotPermitted, match="Only full participants"):
        node.consent.raise_objection(p["eli"], proposal, "Smell")
    node.consent.consent(p["ada"], proposal)
    node.consent.consent(p["ben"], proposal)
    number = node.consent.raise_objection(p["cleo"], proposal, "Rats would harm our food safety")
    assert node.consent.close_consent_round(p["ben"], proposal) == Stage.INTEGRATING
    # The round cannot repeat until the objection is integrated.
    with pytest.raises(WrongStage, match="Integrate objection 1"):
        node.consent.open_consent_round(p["ben"], proposal)
    node.consent.integrate(p["ben"], proposal, "add_measure", "Sealed bins only", [number])
    node.consent.open_consent_round(p["ben"], proposal)
    for person in ("ada", "ben", "cleo"):
        node.consent.consent(p[person], proposal)
    assert node.consent.close_consent_round(p["ben"], proposal) == Stage.CONSENTED
    # The consented proposal became a policy in the same save.
    (policy,) = node.records.list_decisions()
    assert policy.title == "Compost"
    assert policy.measures == ["Sealed bins only"]
    assert policy.status == DecisionStatus.IN_FORCE


def test_a_refused_command_stores_nothing(node: CircleNode) -> None:
    p = found(node)
    before = notification_count(node)
    with pytest.raises(NotPermitted, match="outside the domain"):
        node.decisions.take_everyday_decision(
            p["ben"], "facilitator", "budget", "Buy an oven", "Spend 900"
        )
    with pytest.raises(InvalidRequest, match="argument"):
        proposal = node.proposals.draft_proposal(p["cleo"], "Open late", "Open until 10pm")
        before = notification_count(node)
        node.proposals.present(p["cleo"], proposal)
        node.proposals.open_reactions(p["ben"], proposal)
        node.consent.open_consent_round(p["ben"], proposal)
        before = notification_count(node)
        node.consent.raise_objection(p["ada"], proposal, "   ")
    assert notification_count(node) == before
    with pytest.raises(NotFound):
        node.consent.consent(p["ada"], "00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFound):
        node.consent.consent(p["ada"], "not an id")
    assert notification_count(node) == before


def test_consented_proposals_bind_the_circle(node: CircleNode) -> None:
    p = found(node)

    def consent_to(purpose: str, subject: dict[str, str]) -> str:
        proposal = node.proposals.draft_proposal(
            p["ada"], purpose, "As discussed", purpose=purpose, subject=subject
        )
        node.proposals.present(p["ada"], proposal)
        node.proposals.open_reactions(p["ben"], proposal)
        node.consent.open_consent_round(p["ben"], proposal)
        for person in ("ada", "ben", "cleo"):
            node.consent.consent(p[person], proposal)
        assert node.consent.close_consent_round(p["ben"], proposal) == Stage.CONSENTED
        return proposal

    consent_to("change_aim", {"aim": "Feed and teach the neighbourhood"})
    assert node.records.get_circle().aim == "Feed and teach the neighbourhood"
    consent_to("remove_participant", {"person_id": p["eli"]})
    assert node.records.get_circle().participants[p["eli"]].status == Membership.REMOVED
    with pytest.raises(NotPermitted, match="left the circle"):
        node.proposals.draft_proposal(p["eli"], "Back", "Let me back")
    consent_to(
        "incorporate",
        {"registered_name": "Kitchen Co-op Ltd", "number": "RS0099", "registry": "FCA"},
    )
    circle = node.records.get_circle()
    assert circle.status == "incorporated"
    assert circle.legal_entity is not None and circle.legal_entity.number == "RS0099"


def select_rota_holder(node: CircleNode, p: dict[str, str]) -> tuple[str, str]:
    """Cleo is selected to wear a new hat, the rota holder (domain: the rota); returns the
    hat and the selection."""
    rota = node.hats.define_hat(p["ada"], "Rota holder", "Keeps the rota", ["Publish it"], ["rota"])
    node.records.get_circle().hat(rota)
    selection = node.hats.open_selection(p["ben"], rota)
    node.hats.nominate(p["ada"], selection, p["cleo"], "Organised")
    node.hats.open_change_round(p["ben"], selection)
    node.hats.propose_candidate(p["ben"], selection, p["cleo"], "Nominated")
    for person in ("ada", "ben", "cleo"):
        node.consent.consent(p[person], selection)
    node.consent.close_consent_round(p["ben"], selection)
    return rota, selection


def test_records_are_filed_in_order_without_loading_their_index(open_store: NodeOpener) -> None:
    """Commands file their records by appending to the kind's index at its next version
    (the index is not loaded): across the index's snapshots, and with two handles on one
    store filing in turn, every record is listed once, in the order it was filed."""
    node = open_store()
    p = found(node)
    rota, selection = select_rota_holder(node, p)
    other = node if open_store.kind == "memory" else open_store()  # type: ignore[attr-defined]
    made = [
        (node, other)[number % 2].decisions.take_everyday_decision(
            p["cleo"], rota, "rota", f"Rota {number}", "Publish fortnightly"
        )
        for number in range(230)
    ]
    for handle in {node, other}:
        assert [str(d.id) for d in handle.records.list_decisions()] == made
    index = index_id("decision")
    assert node.store.repository.get(index).version == 231  # opened, then one filing per decision
    assert node.store.snapshots is not None
    snapshots = list(node.store.snapshots.get(index))
    # Only the latest is kept, where a store outlives the process (node/store/snapshot_rows.py).
    kept = [100, 200] if open_store.kind == "memory" else [200]  # type: ignore[attr-defined]
    assert [s.originator_version for s in snapshots] == kept
    assert node.store.repository.get(index).entries == _replay(node, index).entries
    # Selections have an index of their own, untouched by the decisions (the two of found()
    # and the rota's).
    assert [str(s) for s in node.store.repository.get(index_id("selection")).ids()] == [
        str(s.id) for s in node.records.list_selections()
    ]
    assert node.store.repository.get(index_id("selection")).ids()[-1] == UUID(selection)
    assert node.store.repository.get(index_id("selection")).version == 4


def test_everyday_decision_review_comes_due_and_can_be_challenged(
    node: CircleNode, clock: Clock
) -> None:
    p = found(node)
    rota, _ = select_rota_holder(node, p)
    decision = node.decisions.take_everyday_decision(
        p["cleo"],
        rota,
        "rota",
        "Two-week rota",
        "Publish fortnightly",
        review_date=clock().date() + timedelta(days=14),
    )
    assert node.decisions.reviews_due() == []
    # Two weeks on, the review is due and listed.
    clock.advance(days=15)
    assert node.decisions.update_due_dates()["review_due"] == [decision]
    assert [d.title for d in node.decisions.reviews_due()] == ["Two-week rota"]
    assert node.records.get_decision(decision).status == DecisionStatus.REVIEW_DUE
    # Anyone may challenge it: that opens a proposal to amend it.
    proposal = node.decisions.challenge_decision(p["eli"], decision, "Publish weekly instead")
    assert node.records.get_proposal(proposal).purpose == "amend_decision"
    assert node.records.get_decision(decision).challenges == [proposal]
    # The hat's term ending is listed too.
    assert [t.hat_id for t in node.hats.hat_terms_ending(within_days=400)][-1] == rota


def test_stepping_back_releases_hats_and_leaving_keeps_thanks(node: CircleNode) -> None:
    p = found(node)
    node.people.step_back(p["ada"], p["ben"], note="Thank you for hosting us")
    circle = node.records.get_circle()
    assert circle.participants[p["ben"]].status == Membership.STEPPED_BACK
    assert circle.wearers("facilitator") == []
    node.people.welcome_back(p["ben"], p["ben"])
    node.people.leave(p["ben"], p["ben"], note="Thanks for everything, Ben")
    participant = node.records.get_circle().participants[p["ben"]]
    assert participant.status == Membership.LEFT
    # The note names Ben, so it is kept with his personal details, not in the circle's record.
    assert participant.note_of_appreciation is None
    assert node.people.note_of_appreciation(p["ben"], "left") == "Thanks for everything, Ben"
    assert node.people.note_of_appreciation(p["ben"], "stepped_back") == "Thank you for hosting us"
    assert node.records.person_name(p["ben"]) == "Ben"
    assert node.records.person_name("11111111-1111-1111-1111-111111111111") == FORMER_PARTICIPANT
    assert any(
        "Ben left the circle, with thanks: Thanks for everything, Ben" in e.text
        for e in read_logbook(node)
    )


def test_someone_who_left_may_have_their_personal_data_erased(node: CircleNode) -> None:
    p = found(node)
    # Cleo is still here: her data is not erased.
    with pytest.raises(WrongStage, match="once someone has left"):
        node.erasure.erase_person(p["ada"], p["cleo"])
    node.people.leave(p["cleo"], p["cleo"], note="Thank you, Cleo Marsh")
    with pytest.raises(NotPermitted):
        node.erasure.erase_person(p["eli"], p["cleo"])
    node.erasure.erase_person(p["ada"], p["cleo"])
    # Her name and the note naming her are gone; the record keeps her id and what she did.
    assert node.records.person_name(p["cleo"]) == FORMER_PARTICIPANT
    assert node.people.note_of_appreciation(p["cleo"], "left") is None
    assert node.records.get_circle().participants[p["cleo"]].status == Membership.LEFT
    lines = [e.text for e in read_logbook(node)]
    assert not any("Cleo" in line for line in lines)
    assert any(line.startswith("a former participant left the circle") for line in lines)


def test_async_proposal_lapses_after_its_deadline(node: CircleNode, clock: Clock) -> None:
    p = found(node)
    proposal = node.proposals.draft_proposal(
        p["cleo"],
        "New menu",
        "Seasonal menu",
        mode="async",
        deadline=clock() + timedelta(days=7),
    )
    node.proposals.present(p["cleo"], proposal)
    clock.advance(days=8)
    assert node.decisions.update_due_dates()["lapsed"] == [proposal]
    assert node.records.get_proposal(proposal).stage == Stage.LAPSED


def async_round(node: CircleNode, clock: Clock, p: dict[str, str], title: str, **draft: Any) -> str:
    """Cleo's asynchronous proposal, open for a week, in its consent round."""
    proposal = node.proposals.draft_proposal(
        p["cleo"],
        title,
        "As discussed",
        mode="async",
        deadline=clock() + timedelta(days=7),
        **draft,
    )
    node.proposals.present(p["cleo"], proposal)
    node.proposals.open_reactions(p["ben"], proposal)
    node.consent.open_consent_round(p["ben"], proposal)
    return proposal


def test_the_calendar_closes_an_unanswered_async_round_as_lapsed(
    node: CircleNode, clock: Clock
) -> None:
    # Given: an asynchronous proposal that nobody answers.
    p = found(node)
    proposal = async_round(node, clock, p, "New menu")

    # When: the deadline passes and the calendar runs.
    clock.advance(days=8)
    due = node.decisions.update_due_dates()

    # Then: the round is closed below quorum and lapses; it never becomes a policy.
    assert due["closed"] == [proposal] and due["lapsed"] == []
    closed = node.records.get_proposal(proposal)
    assert closed.stage == Stage.LAPSED
    assert closed.rounds[0].reason == (
        "Below quorum: 0 of 3 full participant(s) answered, and 2 are needed"
    )
    assert node.records.list_decisions() == []
    assert list(read_logbook(node))[-1].text.endswith("3 absent): " + closed.rounds[0].reason)


def test_a_late_round_whose_decision_cannot_be_carried_out_is_left_to_the_facilitator(
    node: CircleNode, clock: Clock
) -> None:
    # Given: two asynchronous proposals, each answered by the quorum: one removes Eli, who
    # then leaves of her own accord; the other adopts a policy.
    p = found(node)
    removal = async_round(
        node, clock, p, "Remove Eli", purpose="remove_participant", subject={"person_id": p["eli"]}
    )
    policy = async_round(node, clock, p, "Compost")
    for proposal in (removal, policy):
        for who in ("ada", "ben"):
            node.consent.consent(p[who], proposal)
    node.people.leave(p["eli"], p["eli"])

    # When: the deadline passes and the calendar runs.
    clock.advance(days=8)
    due = node.decisions.update_due_dates()

    # Then: the policy is consented and in force; the removal, which cannot be carried out,
    # stays open, and the facilitator hears why on closing it.
    assert due["closed"] == [policy]
    assert [d.proposal_id for d in node.records.list_decisions()] == [policy]
    assert node.records.get_proposal(removal).stage == Stage.CONSENT_ROUND
    with pytest.raises(WrongStage, match="cannot be removed"):
        node.consent.close_consent_round(p["ben"], removal)
    node.consent.withdraw(p["ben"], removal)


def tell(node: CircleNode, clock: Clock) -> None:
    run_story(node, lambda line: None, lambda days: clock.advance(days=days))


def test_the_logbook_tells_the_story(node: CircleNode, clock: Clock) -> None:
    tell(node, clock)
    lines = [entry.text for entry in read_logbook(node)]
    assert lines[0].startswith("Ada Okafor founded the circle 'Calder Valley Care Circle'")
    assert any("Cleo Marsh objected" in line for line in lines)
    assert any("closed: consented" in line and "Paid travel time" in line for line in lines)
    assert any(line.startswith("Review due: 'Sunday cover") for line in lines)
    assert lines[-1].startswith("Dev Patel stepped back, with thanks")


@pytest.mark.parametrize("open_store", ["sqlite", "postgres"], indirect=True)
def test_a_rebuilt_node_has_exactly_the_state_it_had(open_store: NodeOpener, clock: Clock) -> None:
    node = open_store()
    tell(node, clock)
    before = state_of(node)
    logbook = [(e.when, e.text) for e in read_logbook(node)]
    node.close()
    reopened = open_store()
    assert state_of(reopened) == before
    assert [(e.when, e.text) for e in read_logbook(reopened)] == logbook


@pytest.mark.parametrize("open_store", ["sqlite", "postgres"], indirect=True)
def test_snapshots_give_the_same_state_as_a_full_replay(open_store: NodeOpener) -> None:
    node = open_store()
    p = found(node)
    for number in range(60):
        node.hats.define_hat(p["ada"], f"Helper {number}", "Helps", [], [f"area {number}"])
    assert node.store.snapshots is not None
    snapshots = list(node.store.snapshots.get(node.records.circle_id))
    assert snapshots, "the circle should have been snapshotted after 50 events"
    from_snapshot = vars(node.store.repository.get(node.records.circle_id))
    replayed = vars(_replay(node, node.records.circle_id))
    ignore = {"_pending_events"}
    assert {k: v for k, v in from_snapshot.items() if k not in ignore} == {
        k: v for k, v in replayed.items() if k not in ignore
    }


def _replay(node: CircleNode, aggregate_id: UUID) -> Any:
    """Rebuild an aggregate from its events alone, ignoring snapshots."""
    aggregate = None
    for event in node.store.events.get(aggregate_id):
        aggregate = event.mutate(aggregate)
    return aggregate


@pytest.mark.parametrize("open_store", ["sqlite", "postgres"], indirect=True)
def test_after_an_erasure_the_store_takes_snapshots_and_commands_as_before(
    open_store: NodeOpener,
) -> None:
    # Given: someone left and asked for their personal data to be erased (the store is
    # compacted afterwards: VACUUM on PostgreSQL, which needs autocommit on its connection).
    node = open_store()
    p = found(node)
    node.people.leave(p["eli"], p["eli"], "Thank you all")
    node.erasure.erase_person(p["ada"], p["eli"])
    # When: the circle changes often enough for snapshots to be taken, and snapshots are
    # stored on every pooled connection the store hands out.
    for number in range(60):
        node.hats.define_hat(p["ada"], f"Helper {number}", "Helps", [], [f"area {number}"])
    for number in range(4):
        node.hats.define_hat(p["ada"], f"Keeper {number}", "Keeps", [], [f"keeping {number}"])
        node.store.take_snapshot(node.records.circle_id)
    # Then: every change was stored, and the circle loads from its snapshot as from its events.
    assert node.store.snapshots is not None and list(
        node.store.snapshots.get(node.records.circle_id)
    )
    assert len(node.records.get_circle().hats) >= 64
    assert (
        vars(node.store.repository.get(node.records.circle_id)).keys()
        == vars(_replay(node, node.records.circle_id)).keys()
    )


@pytest.mark.parametrize("open_store", ["sqlite", "postgres"], indirect=True)
def test_a_later_snapshot_deletes_the_older_ones_and_an_older_version_still_loads(
    open_store: NodeOpener,
) -> None:
    """A store keeps only each aggregate's latest snapshot (node/store/snapshot_rows.py): an
    older version loads from the events, and the latest from its snapshot."""
    node = open_store()
    p = found(node)
    circle_id = node.records.circle_id
    assert node.store.snapshots is not None
    for number in range(3):
        node.hats.define_hat(p["ada"], f"Keeper {number}", "Keeps", [], [f"keeping {number}"])
        node.store.take_snapshot(circle_id)
    versions = [s.originator_version for s in node.store.snapshots.get(circle_id)]
    latest = node.store.repository.get(circle_id).version
    assert versions == [latest]
    older = node.store.repository.get(circle_id, version=latest - 1)
    assert older.version == latest - 1 and len(older.hats) == len(_replay(node, circle_id).hats) - 1
    assert node.store.repository.get(circle_id).hats == _replay(node, circle_id).hats
