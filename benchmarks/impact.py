"""Impact of generated cases on nl (2025.1 -> 2026.1): cases per second and the time for N of them.

    python benchmarks/impact.py                    # 1,000,000 generated cases on all cores
    python benchmarks/impact.py --cases 100000     # fewer cases
    python benchmarks/impact.py --workers 1        # one process

The run is what ``invictus-rules impact nl@2025.1 nl@2026.1 --generate N`` does: the solver's
boundary cases (timed on their own), then N generated cases plus ``max(2, N // 100)`` variants of
each boundary case, made and assessed in worker processes. Target (issue 11): 1,000,000 generated
cases in under 60 s on 2 cores. The load average is printed: on a shared machine, compare runs made
one after the other, not figures from different days. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from invictus_rules import load_ruleset  # noqa: E402
from invictus_rules.tools.impact import GENERATOR, boundary_cases, run_generated_impact  # noqa: E402

TARGET_S = 60.0
OLD, NEW, AS_OF = "nl@2025.1", "nl@2026.1", dt.date(2026, 3, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="generated cases (default 1,000,000)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: all cores)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(f"{GENERATOR}, {args.cases:,} cases, {args.workers} processes, {os.cpu_count()} cores, load average at start {os.getloadavg()[0]:.2f}")
    started = time.perf_counter()
    focus = boundary_cases(load_ruleset(OLD), load_ruleset(NEW), AS_OF)
    solver = time.perf_counter() - started
    started = time.perf_counter()
    cpu = os.times()
    report = run_generated_impact(OLD, NEW, args.cases, args.seed, AS_OF, focus, workers=args.workers)
    elapsed = time.perf_counter() - started
    after = os.times()
    used = (after.user + after.system + after.children_user + after.children_system) - (cpu.user + cpu.system + cpu.children_user + cpu.children_system)
    total = solver + elapsed
    per_million = total / args.cases * 1_000_000 if args.cases else 0.0
    print(f"boundary cases from the solver: {len(focus)} in {solver:.1f} s")
    print(f"assessed {report.cases:,} cases ({report.changed:,} changed) in {elapsed:.1f} s: {report.cases / elapsed:,.0f} cases/s, CPU {used:.1f} s")
    print(f"total {total:.1f} s; {per_million:.0f} s per million generated cases; target under {TARGET_S:.0f} s on 2 cores: {'MET' if per_million < TARGET_S else 'NOT MET'}")
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
