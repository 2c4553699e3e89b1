"""Each member API request hands its command to a worker thread once: the command runs off
the event loop, and FastAPI checks the answer where it is (node/http/api/threaded.py)."""

from __future__ import annotations

import threading
from typing import Any

import anyio.to_thread
import pytest

from node.http.api import ROUTERS
from node.http.api.threaded import ThreadedRoute
from tests.node.api.test_api_consent import draft, to_consent_round
from tests.node.api.world import Circle


def test_a_command_is_one_hand_off_to_a_worker_thread(
    circle: Circle, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = circle
    proposal = draft(c)["id"]
    to_consent_round(c, proposal)
    handed: list[str] = []
    loop_thread: list[str] = []
    ran_in: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(function: Any, *args: Any, **options: Any) -> Any:
        loop_thread.append(threading.current_thread().name)
        handed.append(repr(function))
        return await run_sync(function, *args, **options)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    consent = c.node.consent.consent

    def consent_here(*args: Any) -> Any:
        ran_in.append(threading.current_thread().name)
        return consent(*args)

    monkeypatch.setattr(c.node.consent, "consent", consent_here)
    answer = c.ok("ben", f"/processes/{proposal}/consents", {"concern": ""}, status=201)
    assert answer["person_id"] == c.ids["ben"] and answer["consents"] is True
    # One hand-off (the command; the answer is checked on the event loop), and the command
    # ran in it, not on the event loop's thread.
    assert len(handed) == 1 and "consent" in handed[0]
    assert ran_in and ran_in[0] != loop_thread[0]


def test_every_route_of_the_api_keeps_its_answer_model() -> None:
    routes = [route for router in ROUTERS for route in router.routes]
    assert routes and all(isinstance(route, ThreadedRoute) for route in routes)
    # The wrapper hides nothing from FastAPI: each route still declares its answer's model,
    # read from the endpoint's own annotation.
    consent = next(r for r in routes if r.path == "/processes/{process_id}/consents")  # type: ignore[attr-defined]
    assert consent.response_model.__name__ == "AnswerOut"  # type: ignore[attr-defined]
    answered = [r for r in routes if r.status_code != 204]  # type: ignore[attr-defined]
    assert all(route.response_model is not None for route in answered)  # type: ignore[attr-defined]
