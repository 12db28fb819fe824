"""Lint and diff timings on the shipped rulesets: the solver-backed analyses must stay interactive.

    python benchmarks/analysis.py            # lint of every shipped ruleset, diff of every pair of
                                             # versions of one country and of neighbouring countries
    python benchmarks/analysis.py --all      # diff of every ordered pair of shipped rulesets

Each row shows the wall time and the CPU time of one run in this process. Lint and diff are single
threaded (the solver runs in-process), so on a quiet machine wall time equals CPU time; on a busy
one (the load average is printed) the CPU time is the figure to compare with the target of 10 s.
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from invictus_rules import load_ruleset  # noqa: E402
from invictus_rules.load import list_countries, list_versions  # noqa: E402
from invictus_rules.tools.diff import diff_rulesets  # noqa: E402
from invictus_rules.tools.lint import lint_file  # noqa: E402

TARGET_S = 10.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="diff every ordered pair of shipped rulesets")
    args = parser.parse_args(argv)
    shipped = [(f"{country}@{info.version}", info.path) for country in list_countries() for info in list_versions(country)]
    worst = 0.0
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    print(f"{'lint':<28} {'wall s':>8} {'cpu s':>8}  findings")
    for name, path in shipped:
        start, cpu = time.perf_counter(), time.process_time()
        problems = lint_file(path)
        elapsed, used = time.perf_counter() - start, time.process_time() - cpu
        worst = max(worst, used)
        print(f"{name:<28} {elapsed:>8.2f} {used:>8.2f}  {len(problems)}")
    rulesets = {name: load_ruleset(path) for name, path in shipped}
    names = list(rulesets)
    if args.all:
        pairs = list(itertools.permutations(names, 2))
    else:
        same = [(a, b) for a, b in itertools.combinations(names, 2) if a.split("@")[0] == b.split("@")[0]]
        pairs = same + list(zip(names, names[1:]))
    print()
    print(f"{'diff':<28} {'wall s':>8} {'cpu s':>8}  changes  effects changed / checked / undecided")
    for old, new in dict.fromkeys(pairs):
        start, cpu = time.perf_counter(), time.process_time()
        report = diff_rulesets(rulesets[old].compiled, rulesets[new].compiled)
        elapsed, used = time.perf_counter() - start, time.process_time() - cpu
        worst = max(worst, used)
        found = sum(1 for e in report.effects if e.verdict.found)
        undecided = sum(1 for e in report.effects if e.verdict.status == "undecided")
        print(f"{old + ' -> ' + new:<28} {elapsed:>8.2f} {used:>8.2f}  {len(report.changes):>7}  {found} / {len(report.effects)} / {undecided}")
    print()
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    print(f"slowest (cpu): {worst:.2f} s (target under {TARGET_S:g} s) {'ok' if worst < TARGET_S else 'TOO SLOW'}")
    return 0 if worst < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
