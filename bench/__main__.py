"""`python -m bench [--quick] [--only NAME,...]`: run the scenarios, write bench/RESULTS.md and
bench/results.json.

Sizes (full; `--quick` is a tenth, except where said):
- catch-up: 100,000 entries (and hypercore, the same count; and a restarted peer that missed
  as many)
- append: 20,000 entries batched; 2,000 commands one by one
- API: 16 clients x 125 consents (2,000 requests)
- fan-out: N = 10, 25, 50 peers (quick: 2, 4, 6)
- cold start: 1,000,000 events, a circle of 10,000 (quick: 100,000 and 1,000)
- PostgreSQL: catch-up and API at the sizes above
- member circle: 1,000 everyday decisions in a member circle of a co-op, and in a lone circle
- flat in history: a policy and an everyday decision at 1,000 and 10,000 decisions against
  the circle's start; list and logbook pages at 100,000 events against 1,000 (quick: 100 and
  1,000 decisions; 10,000 events)
- co-op host: 300 circles served by one process, a minute idle, 200 commands (quick: 5
  circles, 2 s idle, 20 commands)
- network (only when named, `make bench-network`: about ten minutes): four hosts of 250
  member circles and the co-op's host, a minute idle, one co-op policy (quick: 4 x 10
  circles, 10 s idle)
"""

from __future__ import annotations

import argparse
import time

from bench import (
    api,
    append,
    catchup,
    coldstart,
    fanout,
    flat,
    host,
    member,
    network,
    postgres,
    restarted_peer,
)
from bench.report import Report
from node.cli.serving import out_of_the_collectors_way

SCENARIOS = (
    "catch-up",
    "append",
    "api",
    "fan-out",
    "cold-start",
    "postgres",
    "member",
    "flat",
    "host",
)
# Run only when named: too long for every `make bench`.
NAMED_ONLY = ("network",)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="a tenth of the full size")
    parser.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help=f"comma-separated scenarios to run (default all: {','.join(SCENARIOS)}; also "
        f"{','.join(NAMED_ONLY)}, only when named)",
    )
    args = parser.parse_args()
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = only - set(SCENARIOS) - set(NAMED_ONLY)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    # As `circle-node serve` does once it is built: what is loaded now lives as long as the
    # process, and the garbage collector leaves it alone (the scenarios run nodes in this
    # process too, and would otherwise wait on collections walking every module loaded).
    out_of_the_collectors_way()
    scale = 10 if args.quick else 1
    report = Report(size="quick (1/10)" if args.quick else "full")
    started = time.perf_counter()
    pulled = served = None
    if "catch-up" in only:
        pulled = catchup.run(report, 100_000 // scale)
        restarted_peer.run(report, 100_000 // scale, pulled.rate)
    if "append" in only:
        append.run(report, 20_000 // scale, 2_000 // scale)
    if "api" in only:
        served = api.run(report, 125 // scale)
    if "fan-out" in only:
        fanout.run(report, [2, 4, 6] if args.quick else [10, 25, 50])
    if "cold-start" in only:
        coldstart.run(report, 1_000_000 // scale, 10_000 // scale)
    if "postgres" in only:
        postgres.run(report, 100_000 // scale, 125 // scale, pulled, served)
    if "member" in only:
        member.run(report, 1_000 // scale)
    if "flat" in only:
        flat.run(report, (1_000 // scale, 10_000 // scale), 100_000 // scale)
    if "host" in only:
        if args.quick:
            host.run(report, 5, idle=2.0, sample=1.0, requests=20)
        else:
            host.run(report, 300)
    if "network" in only:
        if args.quick:
            network.run(report, 4, 10, idle=10.0)
        else:
            network.run(report)
    report.write()
    print(f"wrote bench/RESULTS.md and bench/results.json in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
