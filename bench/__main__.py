"""`python -m bench [--quick]`: run every scenario, write bench/RESULTS.md and results.json."""

from __future__ import annotations

import argparse

from bench import catchup
from bench.report import Report


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="a tenth of the full size")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    report = Report(size="quick (1/10)" if args.quick else "full")
    catchup.run(report, 100_000 // scale)
    report.write()
    print("wrote bench/RESULTS.md and bench/results.json")


if __name__ == "__main__":
    main()
