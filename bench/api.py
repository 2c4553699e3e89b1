"""API: a consent-round command over HTTP, 16 concurrent clients, against a real
`circle-node serve` process (uvicorn), store on SQLite (or PostgreSQL: see bench/postgres.py).

Set-up (not timed): a circle of M full participants (founding members) with 16 proposals in
their consent round, and a personal token for everyone (`issue_token`). Each client takes one
proposal and sends `POST /api/processes/{id}/consents` for each participant in turn, with that
participant's token: 16 x M requests, each one a command that loads the circle and the process
and saves the answer (the member API authenticates the token first).

Baseline, same run: a bare FastAPI endpoint doing one eventsourcing save (bench/bare_app.py),
served by uvicorn in a subprocess the same way, with the same client and the same number of
requests. The node and the bare endpoint are each run REPEATS times, in turns; the rows give
the run with the median rate of each.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.load import LoadResult, Request, run_load
from bench.report import Report, Row
from bench.servers import ROOT, served, stop, wait_until_serving
from node.app.persistence import open_node
from node.demo.local_cluster import free_port
from node.http.server import ServerOptions
from node.settings import Settings

CLIENTS = 16
TARGET_RATE = 1_000.0
TARGET_P99_MS = 50.0
TARGET_RATIO = 0.8  # issue 17 (it was 0.6x before)
DEFAULT_THREADS = ServerOptions.threads
MANY_THREADS = 40
REPEATS = 3


@dataclass(frozen=True)
class ApiResult:
    node: LoadResult  # of the node's runs, the one with the median rate
    bare: LoadResult  # likewise of the bare endpoint's
    members: int
    node_rates: list[float]  # every run's, in order
    bare_rates: list[float]


def build_circle(data: Path, members: int, database_url: str | None = None) -> list[list[Request]]:
    """The node's store with its circle, proposals and tokens; returns each client's requests."""
    node = open_node(Settings(data_dir=data, database_url=database_url))
    try:
        founder = node.circle.found_circle(
            name="Assembly", aim="Decide together", domain="Co-op", founder_name="Ada"
        )
        people = [founder] + [
            node.people.add_founding_member(founder, f"Member {n}") for n in range(1, members)
        ]
        processes = []
        for number in range(CLIENTS):
            proposal = node.proposals.draft_proposal(
                founder, f"Policy {number}", "Share the rota fairly"
            )
            node.proposals.present(founder, proposal)
            node.proposals.open_reactions(founder, proposal)
            node.consent.open_consent_round(founder, proposal)
            processes.append(proposal)
        tokens = {person: node.tokens.issue_token(person)[1] for person in people}
    finally:
        node.close()
    return [
        [
            Request(
                "POST",
                f"/api/processes/{process}/consents",
                {"Authorization": f"Bearer {tokens[person]}"},
                {"concern": ""},
            )
            for person in people
        ]
        for process in processes
    ]


def measure_node(
    members: int, database_url: str | None = None, threads: int | None = None
) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        data = Path(tmp) / "node"
        clients = build_circle(data, members, database_url)
        with served(data, database_url=database_url, threads=threads) as url:
            result = run_load(url, clients)
    if result.failures:
        raise RuntimeError(f"{result.failures} requests failed, e.g. {result.first_failure}")
    return result


def measure_bare(requests_per_client: int, database_url: str | None = None) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="bench-bare-") as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "BENCH_SQLITE": str(Path(tmp) / "bare.sqlite")}
        if database_url:
            env["BENCH_DATABASE_URL"] = database_url
        log_path = Path(tmp) / "bare.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "bench.bare_app:create_app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--no-access-log",
                    "--log-level",
                    "warning",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env=env,
            )
            try:
                wait_until_serving(process, url, log_path)
                clients = [
                    [
                        Request("POST", f"/api/processes/p{c}/consents", {}, {"concern": ""})
                        for _ in range(requests_per_client)
                    ]
                    for c in range(CLIENTS)
                ]
                result = run_load(url, clients)
            finally:
                stop(process)
    if result.failures:
        raise RuntimeError(f"{result.failures} requests failed, e.g. {result.first_failure}")
    return result


def _median(runs: list[LoadResult]) -> LoadResult:
    return sorted(runs, key=lambda run: run.rate)[len(runs) // 2]


def measure(members: int, database_url: str | None = None) -> ApiResult:
    """REPEATS runs of the node and of the bare endpoint, taken in turns (the machine's load
    drifts: one run of each gave ratios from 0.51 to 0.65 within minutes)."""
    nodes, bares = [], []
    for _ in range(REPEATS):
        nodes.append(measure_node(members, database_url))
        bares.append(measure_bare(members, database_url))
    return ApiResult(
        node=_median(nodes),
        bare=_median(bares),
        members=members,
        node_rates=[run.rate for run in nodes],
        bare_rates=[run.rate for run in bares],
    )


def run(report: Report, members: int) -> ApiResult:
    print(f"API: {CLIENTS} clients x {members} consents, SQLite")
    result = measure(members)
    add_rows(report, result, "SQLite")
    print(f"API: the same with {MANY_THREADS} request threads")
    many = measure_node(members, threads=MANY_THREADS)
    node = result.node
    report.add(
        Row(
            scenario="API",
            figure=f"p99 latency ms with {MANY_THREADS} request threads (anyio's default)",
            value=many.percentile(99),
            baseline_name=f"p99 ms with {DEFAULT_THREADS} (the node's default, `--threads`)",
            baseline=node.percentile(99),
            target="(report: why the default is few threads)",
            met=None,
            note=f"{many.rate:,.0f} req/s against {node.rate:,.0f} req/s",
        )
    )
    return result


def add_rows(report: Report, result: ApiResult, store: str) -> None:
    node, bare = result.node, result.bare
    p99 = node.percentile(99)
    runs = ", ".join(
        f"{n:,.0f}/{b:,.0f}" for n, b in zip(result.node_rates, result.bare_rates, strict=True)
    )
    note = (
        f"median of {len(result.node_rates)} runs of {node.requests:,} requests (node/bare "
        f"req/s: {runs}); p50 {node.percentile(50):.1f} ms, p99 {p99:.1f} ms; bare endpoint "
        f"p99 {bare.percentile(99):.1f} ms"
    )
    scenario = "API" if store == "SQLite" else f"API ({store})"
    report.add(
        Row(
            scenario=scenario,
            figure=f"req/s, POST consents, {CLIENTS} clients, {store}",
            value=node.rate,
            baseline_name="bare FastAPI endpoint, one eventsourcing save",
            baseline=bare.rate,
            target=">= 1,000 req/s; >= 0.8x baseline",
            met=node.rate >= TARGET_RATE and node.rate >= TARGET_RATIO * bare.rate,
            note=note,
        )
    )
    report.add(
        Row(
            scenario=scenario,
            figure=f"p99 latency ms, POST consents, {CLIENTS} clients, {store}",
            value=p99,
            baseline_name="bare endpoint p99 ms",
            baseline=bare.percentile(99),
            target="< 50 ms",
            met=p99 < TARGET_P99_MS,
            note=f"p50 {node.percentile(50):.1f} ms, p90 {node.percentile(90):.1f} ms",
        )
    )
