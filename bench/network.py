"""A network of a thousand circles (issue 17): four hosts of 250 member circles each and the
co-op's circle on a fifth, each host a real `circle-node serve --data HOST` process on SQLite.

Set-up (reported, not a row; bench/network_setup.py): the hosts' folders and every circle in
them are founded in this process with `init --slug`'s own function, as bench/host.py does;
each circle forms its aim and starts its work. The operator peers each member circle with the
co-op on both sides (`peer add URL --expect NODE_ID`'s own calls, the descriptor built here
rather than fetched: nothing serves yet); not `join`, whose requests from one host share the
co-op's per-address rate limit (3 at once, then one every 10 s: a thousand of them take hours).
Each member circle then applies to be part of the co-op by consent, and the co-op admits each
by consent (node/app's service layer in this process, not a dozen requests per consent process
over HTTP), the messages carried between the two stores as the outbox and the puller carry
them. No circle selects a delegate or the co-op a leader: no double-link seats, so the co-op's
circle decides alone.

Then, served with the defaults an operator gets (only the port given), and measured:
- each host's start: from its process being started until its `/healthz` lists all its circles
  and then every circle's own `/c/<slug>/healthz` has answered, asked one after another. The
  hosts start one after another: a host of one circle (the baseline), the member hosts, the
  co-op's host last (so that its pulls of its thousand peers find them served);
- each host's RSS (VmRSS) once every host has served IDLE seconds idle, and its CPU seconds
  over that minute (each circle pulls its peers every 30 s: on the co-op's host a thousand
  pulls each way); RSS per idle circle: (the host's RSS - the host of one circle's) / (N - 1);
- one co-op policy that binds its member circles, taken through the consent process over the
  co-op's API with its founder's token, and timed from its save (the time in the co-op's
  signed entry, as its clock said) to the last member circle's commit of it (when the member's
  view of the co-op's records took the entry, as its host's clock said: the same machine's
  clock). The bench sees it arrive by the hosts' `/metrics` (entries received from the co-op,
  per circle), polled every POLL seconds; the times come from the stores once all hosts stop.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.host import TARGET_RSS_PER_CIRCLE_MB, found, slug_of
from bench.network_setup import COOP_SLUG, Built, HostPlan, build, plan_hosts
from bench.network_times import PolicyTimes, policy_times
from bench.report import Report, Row
from bench.servers import ROOT, rss_mb, stop
from node.demo.local_cluster import free_port

SCENARIO = "network"
HOSTS = 4
PER_HOST = 250
IDLE = 60.0
POLL = 5.0  # seldom: each poll reads every circle's metrics, on the hosts being timed
START_TIMEOUT = 900.0
POLICY_TIMEOUT = 300.0
TARGET_POLICY_S = 10.0
POLICY_TEXT = "Every circle reviews its budget each quarter"
Say = Callable[[str], None]


@dataclass
class Served:
    """One host's `serve` process and what it gave."""

    plan: HostPlan
    process: subprocess.Popen[bytes]
    listed_s: float = 0.0  # until its /healthz listed every circle
    start_s: float = 0.0  # until every circle's own /healthz had answered too
    rss_start_mb: float = 0.0
    rss_idle_mb: float = 0.0
    cpu_idle_s: float = 0.0  # CPU seconds over the idle minute
    cpu_policy_s: float = 0.0  # CPU seconds from the policy's close to the last poll

    @property
    def circles(self) -> int:
        return len(self.plan.slugs)


def _get(url: str, timeout: float = 10.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()  # type: ignore[no-any-return]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _log(plan: HostPlan) -> Path:
    return plan.folder.parent / f"{plan.folder.name}-serve.log"


def start(plan: HostPlan) -> Served:
    """Serve the host and wait until every circle of it answers."""
    env = {k: v for k, v in os.environ.items() if k != "CIRCLE_NODE_DATABASE_URL"}
    command = [sys.executable, "-m", "node", "serve", "--data", str(plan.folder)]
    log = _log(plan)
    with log.open("ab") as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            [*command, "--port", str(plan.port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=env,
        )
    served = Served(plan, process)
    try:
        while True:
            if process.poll() is not None:
                said = " / ".join(log.read_text(errors="replace").splitlines()[-5:])
                raise RuntimeError(f"{plan.folder.name} exited ({process.returncode}): {said}")
            with contextlib.suppress(OSError, ValueError):
                listed = json.loads(_get(f"{plan.url}/healthz", timeout=5)).get("circles")
                if listed is not None and len(listed) == len(plan.slugs):
                    break
            if time.perf_counter() - started > START_TIMEOUT:
                raise RuntimeError(f"{plan.folder.name}: no answer in {START_TIMEOUT:.0f} s")
            time.sleep(0.05)
        served.listed_s = time.perf_counter() - started
        served.rss_start_mb = rss_mb(process.pid)
        for slug in plan.slugs:
            _get(f"{plan.circle_url(slug)}/healthz", timeout=START_TIMEOUT)
        served.start_s = time.perf_counter() - started
    except BaseException:
        stop(process)
        raise
    return served


def _api(url: str, token: str, path: str, body: object | None = None) -> dict:  # type: ignore[type-arg]
    request = urllib.request.Request(
        f"{url}/api{path}",
        data=json.dumps(body if body is not None else {}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)  # type: ignore[no-any-return]


def adopt_policy(coop_url: str, token: str) -> tuple[float, str]:
    """Take a binding policy through the consent process over the co-op's API (the founder
    facilitates, the only full participant consents); the wall-clock time the closing request
    was sent, and the decision's id."""
    proposal = _api(
        coop_url,
        token,
        "/proposals",
        {
            "title": "Quarterly budget reviews",
            "text": POLICY_TEXT,
            "purpose": "adopt_policy",
            "subject": {"binds_member_circles": True},
        },
    )["id"]
    _api(coop_url, token, f"/proposals/{proposal}/present")
    _api(coop_url, token, f"/proposals/{proposal}/reaction-round")
    _api(coop_url, token, f"/processes/{proposal}/consent-round")
    _api(coop_url, token, f"/processes/{proposal}/consents")
    closing = time.time()
    outcome = _api(coop_url, token, f"/processes/{proposal}/close")
    if outcome["outcome"] != "consented" or not outcome["decision_id"]:
        raise RuntimeError(f"the co-op's policy was not adopted: {outcome}")
    return closing, outcome["decision_id"]


def coop_head(plan: HostPlan) -> int:
    """The seq of the co-op's last entry, as its host's /healthz says."""
    return int(json.loads(_get(f"{plan.url}/healthz"))["circles"][COOP_SLUG]["head"])


def received_from(url: str, coop: str) -> dict[str, float]:
    """Entries each circle of the host has taken from the co-op, from the host's /metrics."""
    counts: dict[str, float] = {}
    for line in _get(f"{url}/metrics", timeout=30).decode().splitlines():
        if line.startswith("circle_node_entries_received_total{") and f'peer="{coop}"' in line:
            labels, value = line.rsplit(" ", 1)
            circle = labels.split('circle="', 1)[1].split('"', 1)[0]
            counts[circle] = float(value)
    return counts


def wait_for_policy(members: list[Served], coop: str, before: dict[str, float], say: Say) -> int:
    """Poll the member hosts' /metrics until every member circle has taken an entry more from
    the co-op; how many had when it ended (all of them, or fewer at POLICY_TIMEOUT)."""
    deadline = time.monotonic() + POLICY_TIMEOUT
    total = sum(served.circles for served in members)
    while True:
        time.sleep(POLL)
        now: dict[str, float] = {}
        for served in members:
            now.update(received_from(served.plan.url, coop))
        reached = sum(1 for slug, count in now.items() if count > before.get(slug, 0.0))
        if reached == total or time.monotonic() > deadline:
            say(f"  {reached} of {total} member circles took an entry more from the co-op")
            return reached


@contextlib.contextmanager
def serving(plans: list[HostPlan], say: Say) -> Iterator[list[Served]]:
    """Start each host in turn, measured; stop them all at the end."""
    running: list[Served] = []
    try:
        for plan in plans:
            running.append(start(plan))
            say(
                f"  {plan.folder.name}: {len(plan.slugs)} circles answered in "
                f"{running[-1].start_s:.1f} s"
            )
        yield running
    finally:
        for served in running:
            stop(served.process)


def run(report: Report, hosts: int = HOSTS, per_host: int = PER_HOST, idle: float = IDLE) -> None:
    say = print
    members = hosts * per_host
    say(
        f"network: {hosts} hosts of {per_host} member circles and the co-op's host, "
        f"{idle:.0f} s idle"
    )
    with tempfile.TemporaryDirectory(prefix="bench-network-") as tmp:
        root = Path(tmp)
        ports = [free_port() for _ in range(hosts + 2)]
        plans = plan_hosts(root, ports[:-1], hosts, per_host)
        one = HostPlan(root / "one", ports[-1], [slug_of(0)])
        started = time.perf_counter()
        built = build(plans, say)
        found(one.folder, slug_of(0), "A circle alone")
        setup_s = time.perf_counter() - started
        say(f"  set up in {setup_s:.0f} s: {built.steps}")
        coop_plan = plans[-1]
        with serving([one, *plans], say) as running:
            marks = {id(s): _cpu_seconds(s.process.pid) for s in running}
            time.sleep(idle)
            for served in running:
                served.rss_idle_mb = rss_mb(served.process.pid)
                served.cpu_idle_s = _cpu_seconds(served.process.pid) - marks[id(served)]
            member_hosts = running[1:-1]
            before: dict[str, float] = {}
            for served in member_hosts:
                before.update(received_from(served.plan.url, built.coop_node_id))
            head = coop_head(coop_plan)
            marks = {id(s): _cpu_seconds(s.process.pid) for s in running}
            closing, decision = adopt_policy(coop_plan.circle_url(COOP_SLUG), built.coop_token)
            reached = wait_for_policy(member_hosts, built.coop_node_id, before, say)
            seen_s = time.time() - closing
            for served in running:
                served.cpu_policy_s = _cpu_seconds(served.process.pid) - marks[id(served)]
        times = policy_times(plans, decision, head)
    add_rows(report, running, built, times, reached, members, setup_s, seen_s, idle)


def add_rows(
    report: Report,
    running: list[Served],
    built: Built,
    times: PolicyTimes,
    reached: int,
    members: int,
    setup_s: float,
    seen_s: float,
    idle: float,
) -> None:
    one, *member_hosts, coop = running
    last = times.last_s
    report.add(
        Row(
            scenario=SCENARIO,
            figure=f"seconds from a co-op policy's save to its commit in the last of {members} "
            "member circles",
            value=last if last is not None else float("nan"),
            baseline_name="the same, to the first member circle's commit",
            baseline=times.first_s,
            target=f"< {TARGET_POLICY_S:.0f} s",
            met=last is not None and last < TARGET_POLICY_S and reached == members,
            note=f"{times.committed} of {members} member circles committed it (median "
            f"{_s(times.median_s)}, 90th percentile {_s(times.percentile_s(90))}); from "
            f"closing the consent round over the API to the bench's poll (every {POLL:.0f} s) "
            f"seeing all: {seen_s:.1f} s, in which the hosts used CPU s: the co-op's "
            f"{coop.cpu_policy_s:.1f}, the member hosts' "
            + " / ".join(f"{served.cpu_policy_s:.1f}" for served in member_hosts)
            + f"; one push of it {times.push_bytes:,} bytes "
            f"of MessagePack; {len(member_hosts)} member hosts and the "
            f"co-op's on 2 cores shared with other work; the co-op's feed at {built.coop_head} "
            f"entries before it; set up in this process in {setup_s:.0f} s ("
            + ", ".join(f"{step} {seconds:.0f} s" for step, seconds in built.steps.items())
            + ")",
        )
    )
    for served in [*member_hosts, coop]:
        report.add(
            Row(
                scenario=SCENARIO,
                figure=f"seconds from process start to every one of {served.circles} circles' "
                f"/healthz answering, {served.plan.folder.name}",
                value=served.start_s,
                baseline_name="the same, a host of 1 circle",
                baseline=one.start_s,
                target="(report)",
                met=None,
                note=f"its /healthz listed them all at {served.listed_s:.2f} s; RSS "
                f"{served.rss_start_mb:.0f} MiB as it started answering",
            )
        )
    for served in member_hosts:
        per_circle = (served.rss_idle_mb - one.rss_idle_mb) / max(1, served.circles - 1)
        report.add(
            Row(
                scenario=SCENARIO,
                figure=f"RSS MiB per idle circle, {served.plan.folder.name} "
                f"({served.circles} circles, each peered with the co-op)",
                value=per_circle,
                baseline_name="RSS MiB of a host of 1 circle after the same idle",
                baseline=one.rss_idle_mb,
                target=f"a few MiB (< {TARGET_RSS_PER_CIRCLE_MB:.0f} MiB)",
                met=per_circle < TARGET_RSS_PER_CIRCLE_MB,
                note=f"RSS {served.rss_idle_mb:.0f} MiB after {idle:.0f} s with every host "
                f"serving; {served.cpu_idle_s:.1f} CPU s over that minute (the host of 1: "
                f"{one.cpu_idle_s:.1f})",
            )
        )
    report.add(
        Row(
            scenario=SCENARIO,
            figure=f"RSS MiB after {idle:.0f} s idle, the co-op's host (1 circle, {members} peers)",
            value=coop.rss_idle_mb,
            baseline_name="RSS MiB of a host of 1 circle after the same idle",
            baseline=one.rss_idle_mb,
            target="(report)",
            met=None,
            note=f"{coop.cpu_idle_s:.1f} CPU s over that minute (pulling its peers every 30 s, "
            f"and answering their pulls)",
        )
    )


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"
