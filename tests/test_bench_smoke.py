"""The benchmark code still runs (tiny sizes; no timing is asserted: figures live in bench/)."""

from __future__ import annotations

import math

import pytest

from bench import (
    api,
    append,
    catchup,
    coldstart,
    fanout,
    flat,
    host,
    hypercore_peer,
    member,
    network,
    postgres,
    restarted_peer,
)
from bench.report import Report

pytestmark = pytest.mark.timeout(600)


def test_catch_up_scenario_runs_over_several_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catchup, "RUNS", 1)  # one catch-up: the code runs all the same
    report = Report(size="smoke")
    catchup.run(report, 2_500, hypercore=False)  # three pages: multi-page pulls of large replies
    (row,) = report.rows
    assert row.scenario == "catch-up" and row.value > 0 and row.baseline and row.baseline > 0
    assert "2,500 entries" in row.note


def test_restarted_peer_scenario_times_a_real_peer_catching_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(restarted_peer, "RUNS", 1)  # one restart: the code runs all the same
    report = Report(size="smoke")
    (restart,) = restarted_peer.run(report, 1_500, catch_up_rate=10_000.0)  # two pages
    (row,) = report.rows
    assert row.scenario == "catch-up" and row.value == restart.held > 0
    assert row.baseline == 0.15 and "1,500 entries" in row.figure
    assert 0 < restart.first <= restart.held and restart.started > 0


def test_the_hypercore_peer_runs_or_says_why_not(monkeypatch: pytest.MonkeyPatch) -> None:
    if hypercore_peer.PEERS.joinpath("node_modules", "hypercore").exists():
        # Installed already (by a bench run): replicate a little. Tests never run npm ci.
        replication, problem = hypercore_peer.replicate(200)
        assert replication is not None, problem
        assert replication.entries == 200 and replication.rate > 0
    monkeypatch.setattr(hypercore_peer.shutil, "which", lambda name: None)
    replication, problem = hypercore_peer.replicate(200)
    assert replication is None and problem == "Node.js is not installed"


def test_append_scenario_runs() -> None:
    report = Report(size="smoke")
    append.run(report, 30, 5)
    assert [row.scenario for row in report.rows] == ["append", "append"]
    assert all(row.value > 0 and row.baseline for row in report.rows)


def test_api_scenario_runs_against_the_node_and_the_bare_app(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(api, "REPEATS", 1)  # one server of each, not three: the code is the same
    report = Report(size="smoke")
    result = api.run(report, 2)
    assert result.node.requests == result.bare.requests == 2 * api.CLIENTS
    assert [row.scenario for row in report.rows] == ["API", "API", "API"]
    assert f"{api.MANY_THREADS} request threads" in report.rows[2].figure


def test_fan_out_scenario_runs() -> None:
    report = Report(size="smoke")
    fanout.run(report, [1, 2])
    assert [row.scenario for row in report.rows] == ["fan-out", "fan-out"]
    assert all(row.value > 0 for row in report.rows)


def test_cold_start_scenario_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coldstart, "STARTS", 1)
    report = Report(size="smoke")
    coldstart.run(report, 2_000, 120)
    assert len(report.rows) == 4 and all(row.value > 0 for row in report.rows)
    assert "2,000 events" in report.rows[0].note


def test_postgres_scenario_runs_or_says_why_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "REPEATS", 1)  # the SQLite baseline's servers: one of each
    report = Report(size="smoke")
    if postgres.unavailable(postgres.server_url()) is None:
        postgres.run(report, 300, 2)
        assert [row.scenario for row in report.rows] == ["PostgreSQL"] * 3
        assert all(row.value > 0 and row.baseline for row in report.rows)
    monkeypatch.setenv("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:1/test")
    report = Report(size="smoke")
    postgres.run(report, 300, 2)
    assert all(row.baseline is None and "no PostgreSQL" in row.note for row in report.rows)


def test_member_circle_scenario_runs() -> None:
    report = Report(size="smoke")
    member.run(report, 20)
    assert len(report.rows) == 2
    for row in report.rows:
        assert row.scenario == "member circle" and row.value > 0 and row.baseline


def test_flat_in_history_scenario_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flat, "ROUNDS", 2)
    monkeypatch.setattr(flat, "ROUND", 3)
    monkeypatch.setattr(flat, "SMALL", 400)
    monkeypatch.setattr(flat, "PAGES", 2)
    report = Report(size="smoke")
    flat.run(report, (10, 20), 600)
    assert len(report.rows) == 9 and all(row.scenario == "flat in history" for row in report.rows)
    assert all(row.value > 0 and row.baseline for row in report.rows)
    assert "at 20 decisions" in report.rows[2].figure


def test_co_op_host_scenario_runs() -> None:
    report = Report(size="smoke")
    host.run(report, 3, idle=1.0, sample=0.5, requests=5)
    assert len(report.rows) == 8 and all(row.scenario == "co-op host" for row in report.rows)
    assert all(row.value >= 0 and row.baseline is not None for row in report.rows)
    assert "every one of 3 circles" in report.rows[0].figure
    assert report.rows[-1].note.startswith("5 proposals")


def test_network_scenario_runs() -> None:
    report = Report(size="smoke")
    network.run(report, 2, 2, idle=1.0)
    # The policy's time; each host's start; RSS per idle circle of each member host; the
    # co-op's host's RSS.
    assert len(report.rows) == 1 + 3 + 2 + 1
    assert all(row.scenario == "network" for row in report.rows)
    policy = report.rows[0]
    assert "last of 4 member circles" in policy.figure
    assert policy.value > 0 and policy.baseline is not None and policy.baseline > 0
    assert policy.note.startswith("4 of 4 member circles committed it")
    starts, per_circle, coop = report.rows[1:4], report.rows[4:6], report.rows[6]
    assert all(row.value > 0 and row.baseline for row in [*starts, coop])
    # A difference of two processes' RSS: at two circles a host's noise may outweigh one.
    assert all(math.isfinite(row.value) and row.baseline for row in per_circle)
