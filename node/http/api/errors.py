"""Errors as RFC 9457 problem details, with a machine-readable `reason`."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from domain.errors import DomainError, InvalidRequest, NotFound, NotPermitted, WrongStage
from node.app.idempotency import AlreadyCarriedOut, KeyReused

PROBLEM = "application/problem+json"


class Problem(Exception):
    """An error answered as RFC 9457 problem details."""

    def __init__(
        self, status: int, reason: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail
        self.headers = headers or {}


class ProblemDetails(BaseModel):
    """What every error response holds (the OpenAPI schema of errors)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    reason: str


def problem_response(problem: Problem) -> JSONResponse:
    body = ProblemDetails(
        title=problem.reason.replace("_", " "),
        status=problem.status,
        detail=problem.detail,
        reason=problem.reason,
    )
    return JSONResponse(
        body.model_dump(),
        status_code=problem.status,
        media_type=PROBLEM,
        headers=problem.headers,
    )


DOMAIN_STATUS: list[tuple[type[DomainError], int, str]] = [
    (AlreadyCarriedOut, 409, "already_done"),
    (KeyReused, 422, "key_reused"),
    (NotPermitted, 403, "not_permitted"),
    (NotFound, 404, "not_found"),
    (WrongStage, 409, "wrong_stage"),
    (InvalidRequest, 422, "invalid_request"),
]


def domain_problem(error: DomainError) -> Problem:
    """The HTTP form of a refusal by the circle's rules: its sentence is the detail."""
    for cls, status, reason in DOMAIN_STATUS:
        if isinstance(error, cls):
            return Problem(status, reason, str(error))
    return Problem(422, "refused", str(error))


def problem_documented(description: str, **extra: object) -> dict[str, object]:
    """An OpenAPI response that is a problem (RFC 9457)."""
    return {
        "model": ProblemDetails,
        "description": description,
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
        **extra,
    }


# The store cannot be reached or written (database down, disk full, read-only), or is too busy:
# any route that reads or writes the store may answer this (node/http/server.py).
STORE_UNAVAILABLE = problem_documented(
    "The node's store cannot be reached or written just now (store_unavailable), or too many "
    "changes are being made at once (store_busy), or the node, restored from a backup, is "
    "taking back its own feed from its peers and cannot publish yet (taking_back); try again "
    "after Retry-After seconds",
    headers={
        "Retry-After": {
            "description": "Seconds to wait before trying again",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
)

# Documented on every route that can refuse.
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    **{
        status: problem_documented(description)
        for status, description in (
            (400, "Malformed request"),
            (401, "No valid personal token"),
            (403, "The circle's rules do not let this person do this"),
            (404, "No such record"),
            (409, "Not at a stage of its process where this can happen"),
            (413, "The request body is larger than the member API takes (1 MiB)"),
            (422, "The request is incomplete or contradictory"),
        )
    },
    429: problem_documented(
        "Too many wrong personal tokens from this address (rate_limited); try again after "
        "Retry-After seconds",
        headers={
            "Retry-After": {
                "description": "Seconds to wait before trying again",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    ),
    503: STORE_UNAVAILABLE,
}
