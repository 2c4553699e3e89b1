"""Co-op host: N circles served by one `circle-node serve --data HOST` process (issue 16).

Set-up (not timed in the rows, but reported): the host's folder with N circles, each founded
by `circle-node init --data HOST --slug S` run in this process (the command's own function,
`node.cli.circle.init`: one `init` process per circle spends most of its time importing, and
300 of them take many minutes on this machine); the founder's token of one circle, the
measured one, read from what `init` prints. The same for a host of one circle, and for a node
alone (`init` without a slug).

Each is served by a real `circle-node serve` process with the defaults an operator gets
(only the port given), and measured:
- start: from the process being started until the host's `/healthz` answers listing all its
  circles, and then every circle's own `/c/<slug>/healthz` has answered, asked one after
  another (a node alone: its `/healthz`). The host's `/healthz` answers as soon as it listens;
  the circles' answers wait behind the work each circle starts with (its calendar, its pulls)
  for the request threads;
- RSS (VmRSS of /proc/<pid>/status) as it starts answering, and after IDLE seconds idle;
- while idle, over the last IDLE_SAMPLE seconds of those: the process's read system calls
  (`syscr` of /proc/<pid>/io: SQLite's page reads of its files, files opened, and the event
  loop's wake-ups; every thread's) and its CPU time (utime + stime of /proc/<pid>/stat);
- a command's latency: one client drafting proposals (`POST /c/<slug>/api/proposals` with the
  founder's bearer token), one after another, REQUESTS of them; p50 and p99.

Baselines, same run: the host of one circle for start, RSS and idle work; for the RSS per
idle circle (the difference between the two hosts after the same idle, divided by N - 1), the
RSS of the host of one circle, which is what a circle costs in a process of its own; a node
alone, served before the host and again after it, for the command's latency (the two runs'
latencies taken together; each is measured the same way, after the same idle, and its other
figures are in the notes).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.load import LoadResult, Request, run_load
from bench.report import Report, Row
from bench.servers import ROOT, rss_mb, stop
from node.cli.circle import init
from node.demo.local_cluster import free_port

SCENARIO = "co-op host"
TOKEN_LINE = "Founder's personal token"
TARGET_RSS_PER_CIRCLE_MB = 4.0  # the "a few MiB" per idle circle
START_TIMEOUT = 600.0
IDLE = 60.0  # seconds served idle before the RSS is read again
IDLE_SAMPLE = 30.0  # the last seconds of those, over which reads and CPU time are counted
REQUESTS = 200


@dataclass(frozen=True)
class Served:
    """What one `serve` process gave."""

    circles: int
    listed_s: float  # until the host's /healthz listed every circle (a node alone: answered)
    start_s: float  # until every circle's own /healthz had answered too, one after another
    rss_start_mb: float
    rss_idle_mb: float
    reads_per_s: float
    cpu_s_per_min: float
    latency: LoadResult


@contextlib.contextmanager
def _without_database_url() -> Iterator[None]:
    """`init` reads the environment as the command does: keep the stores on SQLite."""
    saved = os.environ.pop("CIRCLE_NODE_DATABASE_URL", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["CIRCLE_NODE_DATABASE_URL"] = saved


def found(folder: Path, slug: str | None, name: str) -> str:
    """`circle-node init --data FOLDER [--slug SLUG] ...`, in this process; the founder's token."""
    printed = io.StringIO()
    with _without_database_url(), contextlib.redirect_stdout(printed):
        init(
            name=name,
            aim=f"{name}'s aim",
            domain="Care",
            founder="Ada",
            kind="general",
            parent=None,
            data=folder,
            slug=slug,
        )
    (line,) = [each for each in printed.getvalue().splitlines() if each.startswith(TOKEN_LINE)]
    return line.rsplit(": ", 1)[1]


def slug_of(number: int) -> str:
    return f"circle-{number:04d}"


def build_host(folder: Path, circles: int) -> tuple[str, str]:
    """A host of `circles` circles; (the measured circle's slug, its founder's token). The
    measured circle is the middle one."""
    measured = slug_of(circles // 2)
    token = ""
    for number in range(circles):
        given = found(folder, slug_of(number), f"Circle {number}")
        if slug_of(number) == measured:
            token = given
    return measured, token


def _cpu_seconds(pid: int) -> float:
    """The process's user and system CPU time (every thread's), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _read_calls(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("syscr:"):
            return int(line.split()[1])
    raise RuntimeError(f"no syscr for process {pid}")


def _get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read()


def _wait_for(process: subprocess.Popen[bytes], url: str, circles: int, log: Path) -> None:
    """Wait until `url`/healthz answers 200 listing `circles` circles (a node alone: answers
    200)."""
    started = time.perf_counter()
    while True:
        if process.poll() is not None:
            said = log.read_text(errors="replace").splitlines()[-5:]
            raise RuntimeError(f"the server exited ({process.returncode}): " + " / ".join(said))
        try:
            status, body = _get(f"{url}/healthz")
            listed = json.loads(body).get("circles")
            if status == 200 and (listed is None or len(listed) == circles):
                return
        except OSError:
            pass
        if time.perf_counter() - started > START_TIMEOUT:
            raise RuntimeError(f"no answer in {START_TIMEOUT:.0f} s; see {log}")
        time.sleep(0.05)


def serve_and_measure(
    folder: Path,
    slugs: list[str],
    measured: str | None,
    token: str,
    idle: float,
    sample: float,
    requests: int,
) -> Served:
    """Serve `folder` (a host of `slugs`, or a node alone when `slugs` is empty) and measure it;
    the command goes to the circle `measured` (None: the node alone)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "CIRCLE_NODE_DATABASE_URL"}
    log_path = folder.parent / f"{folder.name}-serve.log"
    command = [sys.executable, "-m", "node", "serve", "--data", str(folder), "--port", str(port)]
    with log_path.open("ab") as log:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        try:
            _wait_for(process, url, len(slugs), log_path)
            listed_s = time.perf_counter() - start
            rss_start = rss_mb(process.pid)
            for slug in slugs:
                status, _ = _get(f"{url}/c/{slug}/healthz", timeout=START_TIMEOUT)
                if status != 200:
                    raise RuntimeError(f"circle {slug} answered {status}; see {log_path}")
            start_s = time.perf_counter() - start
            time.sleep(max(0.0, idle - sample))
            reads, cpu = _read_calls(process.pid), _cpu_seconds(process.pid)
            time.sleep(sample)
            reads_per_s = (_read_calls(process.pid) - reads) / sample
            cpu_per_min = (_cpu_seconds(process.pid) - cpu) / sample * 60
            rss_idle = rss_mb(process.pid)
            base = f"{url}/c/{measured}" if measured else url
            draft = [
                Request(
                    "POST",
                    "/api/proposals",
                    {"Authorization": f"Bearer {token}"},
                    {"title": f"Rota {n}", "text": "Share the rota fairly"},
                )
                for n in range(requests)
            ]
            latency = run_load(base, [draft])
        finally:
            stop(process)
    if latency.failures:
        raise RuntimeError(f"{latency.failures} requests failed, e.g. {latency.first_failure}")
    return Served(
        len(slugs) or 1, listed_s, start_s, rss_start, rss_idle, reads_per_s, cpu_per_min, latency
    )


def _pooled(runs: list[LoadResult]) -> LoadResult:
    return LoadResult(
        requests=sum(run.requests for run in runs),
        seconds=sum(run.seconds for run in runs),
        latencies=sorted(t for run in runs for t in run.latencies),
        failures=sum(run.failures for run in runs),
        first_failure="",
    )


def run(
    report: Report,
    circles: int,
    idle: float = IDLE,
    sample: float = IDLE_SAMPLE,
    requests: int = REQUESTS,
) -> None:
    print(
        f"co-op host: {circles} circles in one serve process, {idle:.0f} s idle, "
        f"{requests} proposals drafted"
    )
    with tempfile.TemporaryDirectory(prefix="bench-host-") as tmp:
        root = Path(tmp)
        alone_token = found(root / "alone", None, "Alone")
        one_slug, one_token = build_host(root / "one", 1)
        started = time.perf_counter()
        slug, token = build_host(root / "host", circles)
        founded_s = time.perf_counter() - started
        every = [slug_of(n) for n in range(circles)]
        before = serve_and_measure(root / "alone", [], None, alone_token, idle, sample, requests)
        one = serve_and_measure(
            root / "one", [one_slug], one_slug, one_token, idle, sample, requests
        )
        many = serve_and_measure(root / "host", every, slug, token, idle, sample, requests)
        after = serve_and_measure(root / "alone", [], None, alone_token, idle, sample, requests)
    add_rows(report, circles, many, one, before, after, founded_s, idle, sample)


def add_rows(
    report: Report,
    circles: int,
    many: Served,
    one: Served,
    before: Served,
    after: Served,
    founded_s: float,
    idle: float,
    sample: float,
) -> None:
    alone = _pooled([before.latency, after.latency])
    per_circle = (many.rss_idle_mb - one.rss_idle_mb) / max(1, circles - 1)
    report.add(
        Row(
            scenario=SCENARIO,
            figure=f"seconds from process start to every one of {circles} circles' /healthz "
            "answering",
            value=many.start_s,
            baseline_name="the same, a host of 1 circle",
            baseline=one.start_s,
            target="(report)",
            met=None,
            note=f"the host's /healthz listed them all at {many.listed_s:.2f} s (a host of 1: "
            f"{one.listed_s:.2f} s); a node alone started in "
            f"{before.start_s:.2f} s and {after.start_s:.2f} s; the {circles} circles were "
            f"founded in {founded_s:.1f} s (`init --slug`, in the bench's process)",
        )
    )
    report.add(
        Row(
            scenario=SCENARIO,
            figure=f"RSS MiB as it starts answering, {circles} circles",
            value=many.rss_start_mb,
            baseline_name="the same, a host of 1 circle",
            baseline=one.rss_start_mb,
            target="(report)",
            met=None,
            note=f"a node alone: {before.rss_start_mb:.1f} and {after.rss_start_mb:.1f} MiB",
        )
    )
    report.add(
        Row(
            scenario=SCENARIO,
            figure=f"RSS MiB after {idle:.0f} s idle, {circles} circles",
            value=many.rss_idle_mb,
            baseline_name="the same, a host of 1 circle",
            baseline=one.rss_idle_mb,
            target="(report)",
            met=None,
            note=f"a node alone: {before.rss_idle_mb:.1f} and {after.rss_idle_mb:.1f} MiB",
        )
    )
    report.add(
        Row(
            scenario=SCENARIO,
            figure=f"RSS MiB per idle circle, {circles} circles",
            value=per_circle,
            baseline_name="RSS MiB of a host of 1 circle after the same idle (a circle alone)",
            baseline=one.rss_idle_mb,
            target=f"a few MiB (< {TARGET_RSS_PER_CIRCLE_MB:.0f} MiB)",
            met=per_circle < TARGET_RSS_PER_CIRCLE_MB,
            note=f"(RSS at {circles} - RSS at 1) / {circles - 1}, after {idle:.0f} s idle",
        )
    )
    extra = (many.reads_per_s - one.reads_per_s) / max(1, circles - 1)
    report.add(
        Row(
            scenario=SCENARIO,
            figure=f"read system calls per second while idle, {circles} circles",
            value=many.reads_per_s,
            baseline_name="the same, a host of 1 circle",
            baseline=one.reads_per_s,
            target="(report: no periodic work per idle circle)",
            met=None,
            note=f"syscr of /proc/<pid>/io over the last {sample:.0f} s of {idle:.0f} s idle: "
            f"SQLite's reads, files opened, the event loop's wake-ups; "
            f"{extra:.2f}/s more per circle; a node alone: {before.reads_per_s:.1f}/s and "
            f"{after.reads_per_s:.1f}/s",
        )
    )
    report.add(
        Row(
            scenario=SCENARIO,
            figure=f"CPU seconds per idle minute, {circles} circles",
            value=many.cpu_s_per_min,
            baseline_name="the same, a host of 1 circle",
            baseline=one.cpu_s_per_min,
            target="(report: no periodic work per idle circle)",
            met=None,
            note=f"utime + stime of /proc/<pid>/stat over the same {sample:.0f} s; a node "
            f"alone: {before.cpu_s_per_min:.2f} and {after.cpu_s_per_min:.2f}",
        )
    )
    for percentile in (50, 99):
        report.add(
            Row(
                scenario=SCENARIO,
                figure=f"p{percentile} ms, POST a proposal in one of {circles} circles",
                value=many.latency.percentile(percentile),
                baseline_name=f"p{percentile} ms, the same on a node alone",
                baseline=alone.percentile(percentile),
                target="(report)",
                met=None,
                note=f"{many.latency.requests} proposals one after another, one client; "
                f"the node alone served before the host and after it "
                f"({alone.requests} requests in all; p{percentile} "
                f"{before.latency.percentile(percentile):.1f} and "
                f"{after.latency.percentile(percentile):.1f} ms); a host of 1 circle: "
                f"{one.latency.percentile(percentile):.1f} ms",
            )
        )
