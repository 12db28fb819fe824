"""Load time and peak memory of the largest legal ruleset: prints one line of figures.

    python benchmarks/largest_ruleset.py            # generate, load in a fresh process, print
    python benchmarks/largest_ruleset.py --write F  # also keep the generated ruleset in F

The generated ruleset is about 1.2 MB with 3,300 rules (1,300 score items in 4 scores, 1,500
referrals, 500 information items), over 200 questions, with a condition, a legal basis and a
two-language text on every rule, including the largest single conditions the limits allow
(count() over 1,000 arguments, a score of 1,000 items). Targets (issue 14): under 1 s and
under 50 MB to load, compile and check. The load runs in a fresh interpreter so that its peak
memory is its own. Wall-clock time grows with other work on the machine (the load average is
printed); CPU time much less.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_SECONDS = 1.0
TARGET_MB = 50.0


def generate(referrals: int = 1500, information: int = 500, scores: int = 3, items: int = 100) -> str:
    """The YAML text of a large, valid ruleset."""
    out = [
        "format: invictus-rules/v1",
        "metadata:",
        "  id: largest",
        "  country: xx",
        '  version: "2026.1"',
        "  effective_from: 2026-01-01",
        "  status: draft",
        "  languages: [en, nl]",
        "  default_language: en",
        "  title: {en: The largest ruleset, nl: De grootste regelset}",
        "  changelog:",
        '    - {version: "2026.1", date: 2025-12-01, changes: [Generated.]}',
        "questions:",
        "  - id: safe_to_talk",
        "    type: boolean",
        "    text: {en: Is it safe to talk now?, nl: Kunt u nu veilig praten?}",
        "  - id: x",
        "    type: boolean",
        "    text: {en: X?, nl: X?}",
        "  - id: note",
        "    type: text",
        "    max_length: 2000",
        "    text: {en: Anything else?, nl: Nog iets?}",
    ]
    for i in range(100):
        out += [f"  - id: b{i}", "    type: boolean", f"    text: {{en: Question b{i}?, nl: Vraag b{i}?}}"]
    for i in range(50):
        out += [f"  - id: n{i}", "    type: integer", "    min: 0", "    max: 120", f"    text: {{en: Number n{i}?, nl: Getal n{i}?}}"]
    for i in range(50):
        out += [f"  - id: c{i}", "    type: single_choice", f"    text: {{en: Choice c{i}?, nl: Keuze c{i}?}}", "    options:"]
        out += [f"      - {{value: o{k}, label: {{en: Option {k}, nl: Optie {k}}}}}" for k in range(5)]
    out.append("scores:")
    for s in range(scores):
        out += [f"  - id: s{s}", f"    title: {{en: Score {s}, nl: Score {s}}}", "    items:"]
        for i in range(items):
            out += [f"      - id: i{i}", f"        label: {{en: Item {i}, nl: Item {i}}}", f"        when: b{(i + s) % 100} and n{i % 50} > {i % 90}", f"        points: {1 + i % 5}"]
        out += ["    levels:", "      - {id: low, label: {en: Low, nl: Laag}}", f"      - {{id: high, label: {{en: High, nl: Hoog}}, when: score(s{s}) >= 40}}"]
    out += ["  - id: wide", "    title: {en: Wide score, nl: Brede score}", "    items:"]
    out += [f"      - {{id: w{i}, label: {{en: W{i}, nl: W{i}}}, when: b{i % 100}, points: 1}}" for i in range(1000)]
    out += ["    levels:", "      - {id: low, label: {en: Low, nl: Laag}}", "      - {id: high, label: {en: High, nl: Hoog}, when: score(wide) >= 500}"]
    out += ["services:"]
    for i in range(20):
        out += [f"  - id: svc{i}", "    category: general_support", f"    name: {{en: Service {i}, nl: Dienst {i}}}", f'    phone: "0800 {i:04d}"']
    out.append("referrals:")
    for r in range(referrals):
        when = f'b{r % 100} and (n{r % 50} >= {r % 100} or c{r % 50} in ["o{r % 5}", "o{(r + 2) % 5}"]) and not b{(r * 7) % 100}'
        if r % 10 == 0:
            when = f"level(s{r % scores}) == \"high\" or {when}"
        out += [
            f"  - id: r{r}",
            f"    service: svc{r % 20}",
            f"    when: '{when}'",
            "    priority: standard",
            "    mode: opt_in",
            f'    reason: {{en: "Referral {r}: the victim can call {{{{ services.svc{r % 20}.name }}}} on {{{{ services.svc{r % 20}.phone }}}}; '
            'tell them what happened and when, and ask about support during the criminal proceedings.", '
            f'nl: "Verwijzing {r}: het slachtoffer kan {{{{ services.svc{r % 20}.name }}}} bellen op {{{{ services.svc{r % 20}.phone }}}}; '
            'vertel wat er is gebeurd en wanneer, en vraag naar steun tijdens het strafproces."}',
        ]
    wide = ", ".join(["x"] * 1000)
    out += ["  - id: wide_count", "    service: svc0", f"    when: count({wide}) >= 3", "    priority: standard", "    mode: opt_in", "    reason: {en: Many answers., nl: Veel antwoorden.}"]
    out.append("information:")
    for i in range(information):
        out += [
            f"  - id: info{i}",
            f'    legal_basis: ["Directive 2012/29/EU Art. {4 + i % 20}"]',
            f"    when: 'c{i % 50} == \"o{i % 5}\" or (b{i % 100} and n{(i * 3) % 50} < {18 + i % 50})'",
            f"    title: {{en: Information {i}, nl: Informatie {i}}}",
            f'    body: {{en: "You can get support from {{{{ services.svc{i % 20}.name }}}}, free of charge and confidential, before, during and after the '
            'criminal proceedings, whether or not you report the crime to the police. You have the right to understand and be understood.", '
            f'nl: "U kunt steun krijgen van {{{{ services.svc{i % 20}.name }}}}, gratis en vertrouwelijk, voor, tijdens en na het strafproces, '
            'of u nu aangifte doet of niet. U hebt het recht te begrijpen en begrepen te worden."}',
        ]
    return "\n".join(out) + "\n"


CHILD = r"""
import json, resource, sys, time, tracemalloc
from pathlib import Path
import invictus_rules
data = Path(sys.argv[1])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start, cpu = time.perf_counter(), time.process_time()
ruleset = invictus_rules.load_ruleset(data)
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
start = time.perf_counter()
ruleset.evaluate({"safe_to_talk": True, "b1": True}, as_of="2026-02-01")
first = time.perf_counter() - start
del ruleset
tracemalloc.start()
ruleset = invictus_rules.load_ruleset(data)
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
compiled = ruleset.compiled
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "first_evaluation": first, "peak_mb": peak / 2**20, "rss_growth_mb": grown / 1024,
                  "rules": sum(len(s.items) for s in compiled.scores) + len(compiled.referrals) + len(compiled.information)}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", metavar="FILE", help="also keep the generated ruleset here")
    args = parser.parse_args()
    text = generate()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(args.write) if args.write else Path(folder) / "largest.yaml"
        path.write_text(text, encoding="utf-8")
        done = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, timeout=600)
    if done.returncode:
        sys.stderr.write(done.stderr)
        return 1
    figures = json.loads(done.stdout)
    print(
        f"largest legal ruleset: {len(text.encode()) / 1e6:.2f} MB, {figures['rules']:,} rules: "
        f"load {figures['seconds']:.2f} s, {figures['cpu_seconds']:.2f} s of CPU (target < {TARGET_SECONDS:g} s), "
        f"resident memory grew {figures['rss_growth_mb']:.1f} MB (target < {TARGET_MB:g} MB), "
        f"peak of Python allocations {figures['peak_mb']:.1f} MB; "
        f"first evaluation (generates the fast path) {figures['first_evaluation']:.2f} s; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
