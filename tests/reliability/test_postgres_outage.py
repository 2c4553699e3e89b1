"""A node on a PostgreSQL server of the test's own, stopped under a stream of commands and
started again: while it is down, commands fail cleanly (a 503 with a reason, quickly) and
none is written; after it returns, work resumes by itself; nothing acknowledged is lost and
nothing is applied twice. And a commit whose acknowledgement is lost is never re-applied."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.reliability import own_postgres
from tests.reliability.harness import (
    SOAK,
    Burst,
    Sent,
    Served,
    check_decisions,
    check_replay,
    found_with_rota,
    record,
    scaled,
    send_decisions,
)

pytestmark = pytest.mark.timeout(1800 if SOAK else 150)

DOWN_FOR = 10.0  # seconds the server stays down in each cycle
ANSWER_WITHIN = 12.0  # a command while it is down is refused within this
RESUME_WITHIN = 15.0  # after it is back, commands succeed again within this


def test_commands_fail_cleanly_while_postgres_is_down_and_resume_after(
    server: own_postgres.OwnPostgres, tmp_path: Path, rng: random.Random
) -> None:
    cycles = scaled(1, 20)
    env = {"CIRCLE_NODE_DATABASE_URL": f"{server.url}?schema=outage"}
    node = Served(tmp_path, "pgnode", env=env)
    store = node.open()
    try:
        _, hat, token = found_with_rota(store, "Kitchen")
        before = {d.title for d in store.records.list_decisions()}
    finally:
        store.close()
    total = Burst()
    rounds: list[dict[str, Any]] = []
    while_down: set[str] = set()  # sent once the server had stopped, answered before it was back
    at_the_stop: set[str] = set()  # in flight when it stopped: their outcome may be either
    node.start()
    try:
        for cycle in range(cycles):
            mode = ("immediate", "fast")[cycle % 2]
            burst, times = asyncio.run(_outage(node, server, token, hat, f"c{cycle}", mode, rng))
            total.merge(burst)
            rounds.append(_judge(burst, times, mode))
            while_down |= {s.title for s in burst.log if _while_down(s, times)}
            at_the_stop |= {s.title for s in burst.log if _at_the_stop(s, times)}
    finally:
        node.stop()
    store = node.open()
    try:
        figures = check_decisions(store, total, before)
        figures.update(check_replay(store))
        applied = {d.title for d in store.records.list_decisions()}
    finally:
        store.close()
    refused = {t for t, status in total.refused.items() if status == 503}
    assert not while_down & applied, "a command refused while the server was down was written"
    # A command in flight when the server went away may have been committed even though its
    # answer was a 503 (it was stored, then reading it back for the answer failed; or the
    # commit's acknowledgement was lost): stored once, never twice (checked above).
    ambiguous = len(refused & at_the_stop & applied)
    record(
        "postgres-outage",
        {
            "seed": rng.seed_value,  # type: ignore[attr-defined]
            "cycles": cycles,
            "down_for_s": DOWN_FOR,
            "commands_sent": len(total.attempted),
            "acknowledged": len(total.acknowledged),
            "refused_503": len(refused),
            "other_statuses": sorted({s for s in total.refused.values() if s != 503}),
            "unanswered": len(total.unanswered),
            "refused_while_down": len(while_down),
            "in_flight_at_the_stop": len(at_the_stop),
            "in_flight_refused_503_yet_stored_once": ambiguous,
            **figures,
            "rounds": rounds,
        },
    )


async def _outage(
    node: Served,
    server: own_postgres.OwnPostgres,
    token: str,
    hat: str,
    label: str,
    mode: str,
    rng: random.Random,
) -> tuple[Burst, dict[str, float]]:
    """Commands flow; the server stops under them, stays down, starts again; commands keep
    flowing until ten have succeeded after the restart (or RESUME_WITHIN has passed)."""
    times: dict[str, float] = {}
    burst = Burst()

    def keep_going() -> bool:
        if "started" not in times:
            return True
        late = [s for s in burst.log if s.sent > times["started"] and s.status == 201]
        return len(late) < 10 and time.monotonic() < times["started"] + RESUME_WITHIN

    sending = asyncio.create_task(
        send_decisions(
            node.url,
            token,
            hat,
            label,
            workers=3,
            stop_on_error=False,
            pause=0.05,
            timeout=30,
            keep_going=keep_going,
            into=burst,
        )
    )
    await asyncio.sleep(rng.uniform(0.3, 1.0))
    times["stopping"] = time.monotonic()
    await asyncio.to_thread(server.stop, mode)
    times["stopped"] = time.monotonic()
    await asyncio.sleep(DOWN_FOR)
    times["starting"] = time.monotonic()
    await asyncio.to_thread(server.start)
    times["started"] = time.monotonic()
    await sending
    return burst, times


def _judge(burst: Burst, times: dict[str, float], mode: str) -> dict[str, Any]:
    """While it was down: every command answered, refused with 503 store_unavailable, in time.
    After: commands succeed again within RESUME_WITHIN."""
    during = [s for s in burst.log if times["stopped"] < s.sent < times["starting"]]
    down = [s for s in during if _while_down(s, times)]
    assert down, "no command sent while the server was down was answered before it returned: " + (
        ", ".join(
            f"{s.status} sent at {s.sent - times['stopped']:.1f} s, answered at "
            f"{s.answered - times['stopped']:.1f} s"
            for s in burst.log
        )
    )
    for sent in down:
        assert sent.status == 503 and sent.reason == "store_unavailable", sent
        assert sent.answered - sent.sent < ANSWER_WITHIN, sent
    later = [s for s in burst.log if s.sent > times["started"] and s.status == 201]
    assert later, f"no command succeeded within {RESUME_WITHIN} s of the restart"
    first = min(s.answered for s in later) - times["started"]
    at_the_stop = [s for s in burst.log if _at_the_stop(s, times)]
    return {
        "mode": mode,
        "sent_while_down": len(down),
        "slowest_refusal_s": round(max(s.answered - s.sent for s in down), 2),
        "first_success_after_restart_s": round(first, 2),
        "statuses_at_the_stop": sorted({str(s.status) for s in at_the_stop}),
        "slowest_answer_at_the_stop_s": round(
            max((s.answered - s.sent for s in at_the_stop), default=0), 2
        ),
    }


def _while_down(sent: Sent, times: dict[str, float]) -> bool:
    return times["stopped"] < sent.sent and sent.answered < times["starting"]


def _at_the_stop(sent: Sent, times: dict[str, float]) -> bool:
    return sent.sent <= times["stopped"] and sent.answered >= times["stopping"]


def test_a_commit_whose_acknowledgement_is_lost_is_not_applied_twice(
    server: own_postgres.OwnPostgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server commits, then the connection drops before the client hears it (simulated:
    the connection fails once, right after a commit). Retrying that write blindly would store
    the command a second time: the command must fail instead (its outcome is unknown to the
    client), and be stored exactly once."""
    from node.app.persistence import open_node

    node = Served(tmp_path, "ambiguous", env={"CIRCLE_NODE_DATABASE_URL": f"{server.url}"
                                                  "?schema=ambiguous"})  # fmt: skip
    store = open_node(node.settings)
    try:
        founder, hat, _ = found_with_rota(store, "Kitchen")
        datastore = store.store.recorder.datastore  # type: ignore[attr-defined]
        original = datastore.get_connection
        lose_next_ack = [True]

        from contextlib import contextmanager

        @contextmanager
        def flaky_connection() -> Iterator[Any]:
            with original() as connection:
                yield connection
                committed = not connection.info.transaction_status  # idle: nothing pending
            if committed and lose_next_ack[0] and writing[0]:
                lose_next_ack[0] = False
                raise _lost_ack()

        writing = [False]
        insert = store.store.recorder.insert_events

        def insert_events(*args: Any, **kwargs: Any) -> Any:
            writing[0] = True
            try:
                return insert(*args, **kwargs)
            finally:
                writing[0] = False

        monkeypatch.setattr(datastore, "get_connection", flaky_connection)
        monkeypatch.setattr(store.store.recorder, "insert_events", insert_events)
        outcome = "stored"
        try:
            store.decisions.take_everyday_decision(
                founder, hat, "rota", "Once only", "Cover Sundays"
            )
        except Exception as error:  # the outcome is unknown: a failure is the honest answer
            outcome = type(error).__name__
        monkeypatch.undo()
        titles = [d.title for d in store.records.list_decisions()]
        assert titles.count("Once only") == 1, f"{outcome}: stored {titles.count('Once only')}x"
        record("postgres-lost-ack", {"outcome_reported": outcome, "stored": 1})
    finally:
        store.close()


def _lost_ack() -> Exception:
    from eventsourcing.persistence import OperationalError

    return OperationalError(str(psycopg.OperationalError("server closed the connection")))
