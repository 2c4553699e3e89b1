"""PostgreSQL: the catch-up and API scenarios with the nodes' stores on PostgreSQL, reported as
the ratio to the same scenarios on SQLite in the same run.

The server is BENCH_POSTGRES, else CIRCLE_NODE_TEST_POSTGRES, else
postgresql://postgres@127.0.0.1:5432/test (trust auth). Each node of each run gets a schema of
its own (`?schema=` in its database URL), dropped afterwards. If no server answers, the rows
say so instead.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator

from bench import api, catchup
from bench.api import ApiResult
from bench.catchup import CatchUp
from bench.report import Report, Row

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
# Issue 17: catch-up and the API on PostgreSQL at least this share of the same run's SQLite.
TARGET_RATIO = 0.8


def server_url() -> str:
    return os.environ.get("BENCH_POSTGRES") or os.environ.get(
        "CIRCLE_NODE_TEST_POSTGRES", DEFAULT_URL
    )


def unavailable(url: str) -> str | None:
    """None if the server answers; else why not."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    try:
        with psycopg.connect(url, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except Exception as error:  # any failure to connect: the row says what it was
        return f"no PostgreSQL server answers at {url}: {str(error).strip()[:160]}"
    return None


@contextlib.contextmanager
def schemas(url: str, *roles: str) -> Iterator[list[str]]:
    """Database URLs, one per role, each with a fresh schema; the schemas are dropped after."""
    import psycopg
    from psycopg import sql

    names = [f"bench_{secrets.token_hex(4)}_{role}" for role in roles]
    try:
        yield [f"{url}?schema={name}" for name in names]
    finally:
        with psycopg.connect(url, autocommit=True) as connection:
            for name in names:
                connection.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name))
                )


def _missing(report: Report, why: str) -> None:
    for figure in ("catch-up entries/s", "API req/s", "API p99 ms"):
        report.add(
            Row(
                scenario="PostgreSQL",
                figure=f"{figure}, PostgreSQL",
                value=0.0,
                baseline_name="the same on SQLite",
                baseline=None,
                target="report the ratio",
                met=None,
                note=why,
            )
        )


def run(
    report: Report,
    count: int,
    members: int,
    sqlite_catchup: CatchUp | None = None,
    sqlite_api: ApiResult | None = None,
) -> None:
    url = server_url()
    print(f"PostgreSQL ({url}): catch-up of {count:,} entries; API with {members} members")
    why = unavailable(url)
    if why is not None:
        print(f"  {why}")
        _missing(report, why)
        return
    if sqlite_catchup is None:
        sqlite_catchup = catchup.measure(count)
    if sqlite_api is None:
        sqlite_api = api.measure(members)
    with schemas(url, "author", "receiver") as (author, receiver):
        pulled = catchup.measure(count, author, receiver)
    with schemas(url, "api") as (node_url,):
        served = api.measure_node(members, node_url)
    report.add(
        Row(
            scenario="PostgreSQL",
            figure="catch-up entries/s, both stores on PostgreSQL",
            value=pulled.rate,
            baseline_name="the same on SQLite",
            baseline=sqlite_catchup.rate,
            target=">= 0.8x SQLite",
            met=pulled.rate >= TARGET_RATIO * sqlite_catchup.rate,
            note=f"{count:,} entries in {pulled.seconds:.2f} s",
        )
    )
    report.add(
        Row(
            scenario="PostgreSQL",
            figure="API req/s, POST consents, 16 clients, PostgreSQL",
            value=served.rate,
            baseline_name="the same on SQLite",
            baseline=sqlite_api.node.rate,
            target=">= 0.8x SQLite",
            met=served.rate >= TARGET_RATIO * sqlite_api.node.rate,
            note=f"{served.requests:,} requests in {served.seconds:.2f} s",
        )
    )
    report.add(
        Row(
            scenario="PostgreSQL",
            figure="API p99 latency ms, PostgreSQL",
            value=served.percentile(99),
            baseline_name="the same on SQLite",
            baseline=sqlite_api.node.percentile(99),
            target="report the ratio",
            met=None,
            note=f"p50 {served.percentile(50):.1f} ms",
        )
    )
