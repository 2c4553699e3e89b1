"""The Idempotency-Key of the member API: a change sent again with the same key (after a lost
answer or a 503) is not carried out twice."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError

from node.app.idempotency import CarriedOut
from tests.node.api.test_api_decisions import ORGANISER, organiser
from tests.node.api.world import Circle, assert_problem

EVERYDAY = {"hat_id": ORGANISER, "area": "Rota", "title": "Sunday pairs", "text": "Two a visit"}


def _send(c: Circle, who: str, key: str | None, body: dict[str, Any]) -> Any:
    headers = c.as_(who) | ({"Idempotency-Key": key} if key else {})
    return c.client.post("/api/decisions", headers=headers, json=body)


def _titles(c: Circle) -> list[str]:
    return [d.title for d in c.node.records.list_decisions()]


def test_a_change_sent_again_with_its_key_is_not_done_twice(circle: Circle) -> None:
    c = circle
    organiser(c)
    first = _send(c, "cleo", "k-1", EVERYDAY)
    assert first.status_code == 201, first.text
    assert_problem(_send(c, "cleo", "k-1", EVERYDAY), 409, "already_done")
    assert _titles(c) == ["Sunday pairs"]
    # The same key for another request is a mistake, refused; a new key is a new request.
    other = {**EVERYDAY, "title": "Monday pairs"}
    assert_problem(_send(c, "cleo", "k-1", other), 422, "key_reused")
    assert _send(c, "cleo", "k-2", other).status_code == 201
    # Keys are the sender's own: another person's k-1 is another request.
    draft = {"title": "Compost", "text": "We compost the kitchen's waste"}
    keyed = c.as_("ada") | {"Idempotency-Key": "k-1"}
    ada = c.client.post("/api/proposals", headers=keyed, json=draft)
    assert ada.status_code == 201, ada.text
    # Changes without a key are carried out each time they are sent.
    assert _send(c, "cleo", None, {**EVERYDAY, "title": "No key"}).status_code == 201
    assert _send(c, "cleo", None, {**EVERYDAY, "title": "No key"}).status_code == 201
    assert _titles(c) == ["Sunday pairs", "Monday pairs", "No key", "No key"]
    # A refused change records nothing: sent again with its key once allowed, it is done.
    ben = _send(c, "ben", "b-1", EVERYDAY)
    assert_problem(ben, 403, "not_permitted")
    assert_problem(_send(c, "ben", "b-1", EVERYDAY), 403, "not_permitted")
    # What the node keeps of a key holds neither the key nor the sender nor the request.
    stored = b"".join(
        bytes(n.state)
        for n in c.node.store.recorder.select_notifications(start=1, limit=10_000)
        if n.topic.endswith("CarriedOut.Recorded")
    )
    assert stored and b"k-1" not in stored and c.tokens["cleo"].encode() not in stored
    assert b"Sunday" not in stored and c.ids["cleo"].encode() not in stored


def test_a_change_stored_but_answered_503_is_not_done_again(
    circle: Circle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The change is stored, then reading it back for the answer fails (the store went away):
    503. Sent again with its key, it is refused as done: one decision, not two."""
    c = circle
    organiser(c)
    node = c.node
    real = type(node.records).get_decision

    def gone(self: Any, decision_id: str) -> Any:
        monkeypatch.setattr(type(node.records), "get_decision", real)
        raise OperationalError("the store went away")

    monkeypatch.setattr(type(node.records), "get_decision", gone)
    assert_problem(_send(c, "cleo", "k-503", EVERYDAY), 503, "store_unavailable")
    assert _titles(c) == ["Sunday pairs"]
    assert_problem(_send(c, "cleo", "k-503", EVERYDAY), 409, "already_done")
    assert _titles(c) == ["Sunday pairs"]


def test_the_same_key_sent_twice_at_once_is_carried_out_once(circle: Circle) -> None:
    c = circle
    organiser(c)
    start = threading.Barrier(4)
    answers: list[int] = []

    def send() -> None:
        start.wait()
        answers.append(_send(c, "cleo", "k-race", EVERYDAY).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [201, 409, 409, 409]
    assert _titles(c) == ["Sunday pairs"]
    records = [
        n
        for n in c.node.store.recorder.select_notifications(start=1, limit=10_000)
        if n.topic.endswith("CarriedOut.Recorded")
    ]
    assert len(records) == 1  # one record of the key, with the one decision
    assert isinstance(c.node.store.repository.get(records[0].originator_id), CarriedOut)
