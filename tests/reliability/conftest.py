"""Fixtures of the reliability tests: a seeded random source (the seed is printed, and taken
from CIRCLE_NODE_RELIABILITY_SEED to replay a run)."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator

import pytest

from tests.reliability import own_postgres


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    seed = int(os.environ.get("CIRCLE_NODE_RELIABILITY_SEED") or time.time_ns() % 2**32)
    print(f"{request.node.name}: CIRCLE_NODE_RELIABILITY_SEED={seed}")
    generator = random.Random(seed)
    generator.seed_value = seed  # type: ignore[attr-defined]
    return generator


@pytest.fixture(scope="session")
def server() -> Iterator[own_postgres.OwnPostgres]:
    """The tests' own PostgreSQL server (never the machine's shared one)."""
    own_postgres.require()
    pg = own_postgres.OwnPostgres()
    try:
        pg.start()
        yield pg
    finally:
        pg.destroy()
