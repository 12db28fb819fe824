"""Commands of the auditor's and policy officer's tools, wired onto the ``invictus-rules`` CLI."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..api import Ruleset, load_ruleset
from ..cases import iter_cases, read_case
from ..refs import is_ruleset_ref
from .files import write_atomic

EXIT_OK, EXIT_INVALID = 0, 1


def _load(reference: str, rulesets: str | None = None, as_of: dt.date | None = None) -> Ruleset:
    if is_ruleset_ref(reference):
        return load_ruleset(reference, as_of=as_of, rulesets_dir=rulesets)
    return load_ruleset(Path(reference))


def _reference_for_workers(reference: str) -> str:
    return reference if is_ruleset_ref(reference) else str(Path(reference).resolve())


def _emit(io: Any, text: str, out: str | None) -> None:
    if out:
        write_atomic(out, text)
        io.err.write(f"wrote {out}\n")
    else:
        io.out.write(text)


# -- diff ---------------------------------------------------------------------------------------


def cmd_diff(args: argparse.Namespace, io: Any) -> int:
    from .diff import RENDERERS, diff_rulesets, render_text

    old, new = _load(args.old, args.rulesets), _load(args.new, args.rulesets)
    report = diff_rulesets(old.compiled, new.compiled, as_of=args.as_of, timeout_ms=args.timeout_ms)
    if args.format == "text":
        colour = args.colour == "always" or (args.colour == "auto" and hasattr(io.out, "isatty") and io.out.isatty())
        text = render_text(report, colour=colour)
    else:
        text = RENDERERS[args.format](report)
    _emit(io, text, args.out)
    return EXIT_INVALID if args.exit_code and report.changed else EXIT_OK


# -- impact -------------------------------------------------------------------------------------


def _case_stream(path: Path, as_of: dt.date) -> Iterator[Any]:
    """The corpus's cases; a file or line that cannot be read becomes an ``Unreadable`` entry."""
    from ..cases import read_case
    from ..errors import CaseError
    from .impact import Unreadable

    def entries() -> Iterator[Any]:
        if path.is_dir():
            for child in sorted(path.glob("*.json")):
                try:
                    yield read_case(child)
                except CaseError as error:
                    yield Unreadable(child.name, error.problems[0].code if error.problems else "case-error")
            return
        try:
            yield from iter_cases(path)
        except CaseError as error:
            yield Unreadable(path.name, error.problems[0].code if error.problems else "case-error")

    number = 0
    for case in entries():
        if isinstance(case, Unreadable):
            yield case
            continue
        number += 1
        yield case.case_id or f"case-{number}", case.answers, (case.as_of or as_of).isoformat()


def _progress(io: Any) -> Callable[[int], None] | None:
    if not (hasattr(io.err, "isatty") and io.err.isatty()):
        return None
    return lambda done: io.err.write(f"\r{done:,} cases assessed under both versions")


def run_impact_for(args: argparse.Namespace, io: Any, old: Ruleset, new: Ruleset) -> tuple[Any, str]:
    from .impact import GENERATOR, affected_jsonl, boundary_cases, run_generated_impact, run_impact

    as_of = args.as_of or dt.date.today()
    progress = _progress(io)
    keep_affected = bool(getattr(args, "affected_out", None))
    if args.cases:
        source = f"from {args.cases}"
        report = run_impact(
            _reference_for_workers(args.old),
            _reference_for_workers(args.new),
            _case_stream(Path(args.cases), as_of),
            workers=args.workers,
            rulesets_dir=args.rulesets,
            progress=progress,
            as_of=as_of,
            keep_affected=keep_affected,
        )
    else:
        focus = boundary_cases(old, new, as_of)
        source = f"{args.generate} synthetic cases generated ({GENERATOR}) with seed {args.seed} on {as_of.isoformat()}, plus {len(focus)} boundary cases from the solver (synthetic: not a sample of real cases)"
        report = run_generated_impact(
            _reference_for_workers(args.old),
            _reference_for_workers(args.new),
            args.generate,
            args.seed,
            as_of,
            focus,
            workers=args.workers,
            rulesets_dir=args.rulesets,
            progress=progress,
            keep_affected=keep_affected,
        )
    if progress:
        io.err.write("\n")
    if keep_affected:
        write_atomic(args.affected_out, affected_jsonl(report))
    return report, source


def cmd_impact(args: argparse.Namespace, io: Any) -> int:
    from .impact import RENDERERS

    if not args.cases and not args.generate:
        io.err.write("impact needs --cases PATH or --generate N\n")
        return 2
    old, new = _load(args.old, args.rulesets), _load(args.new, args.rulesets)
    report, _ = run_impact_for(args, io, old, new)
    _emit(io, RENDERERS[args.format](report), args.out)
    return EXIT_OK


def cmd_audit_report(args: argparse.Namespace, io: Any) -> int:
    from .audit import render_audit_report
    from .diff import diff_rulesets

    old, new = _load(args.old, args.rulesets), _load(args.new, args.rulesets)
    diff = diff_rulesets(old.compiled, new.compiled)
    impact, source = (None, "")
    if args.cases or args.generate:
        impact, source = run_impact_for(args, io, old, new)
    html = render_audit_report(old.compiled, new.compiled, diff, impact, impact_source=source, generated=dt.date.today())
    write_atomic(args.out, html)
    io.out.write(f"wrote {args.out}\n")
    return EXIT_OK


# -- replay -------------------------------------------------------------------------------------


def cmd_replay(args: argparse.Namespace, io: Any) -> int:
    from ..cases import MAX_CASE_BYTES, parse_json, read_limited
    from ..errors import Location
    from ..record import RECORD_FORMAT, ReplayError
    from .replay import read_assessment, read_record, render_record_replay, render_text, replay

    # a record or an assessment is read with the size limit of a case (parse_json's): it is one case's
    raw = io.stdin.read(MAX_CASE_BYTES + 1) if args.record == "-" else read_limited(args.record, MAX_CASE_BYTES, "record")
    data = parse_json(raw, args.record)
    case = read_case(args.case, io.stdin)
    if isinstance(data, dict) and data.get("format") == RECORD_FORMAT:
        record = read_record(data, args.record)
        ruleset = load_ruleset(f"{record.ruleset.country}@{record.ruleset.version}", rulesets_dir=args.rulesets)
        try:
            replayed = ruleset.replay(record, case.answers)
        except ReplayError as refused:  # point at the record the refusal is about
            raise ReplayError([dataclasses.replace(p, location=Location(args.record)) for p in refused.problems]) from None
        if args.format == "json":
            io.out.write(json.dumps(replayed.to_dict(), ensure_ascii=False, indent=2) + "\n")
        else:
            io.out.write(render_record_replay(replayed))
        return EXIT_OK if replayed.identical else EXIT_INVALID
    recorded = read_assessment(data, args.record)
    result = replay(recorded, case, Path(args.rulesets) if args.rulesets else None)
    if args.format == "json":
        payload = {
            "identical": result.identical,
            "answers_verified": False,
            "hash_matches": result.hash_matches,
            "recorded_sha256": recorded.ruleset.sha256,
            "current_sha256": result.ruleset.sha256,
            "engine_versions": {"recorded": result.engine_versions[0], "current": result.engine_versions[1]},
            "differences": len(result.differences),
            "first_differences": [path for path, _, _ in result.differences[:5]],
        }
        io.out.write(json.dumps(payload, indent=2) + "\n")
    else:
        io.out.write(render_text(result))
    return EXIT_OK if result.identical else EXIT_INVALID


# -- registration -------------------------------------------------------------------------------


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date written YYYY-MM-DD") from None


MAX_GENERATE = 10_000_000


def _bounded(low: int, high: int, what: str) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``, with a message saying so."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{what} must be from {low:,} to {high:,}")
        return value

    return parse


def _impact_options(parser: argparse.ArgumentParser) -> None:
    from ..batch import MAX_WORKERS

    parser.add_argument("--cases", metavar="PATH", help="a folder of case JSON files or a JSON Lines file")
    parser.add_argument("--generate", metavar="N", type=_bounded(0, MAX_GENERATE, "--generate"), default=0, help=f"without a corpus: generate N cases from the questionnaire (at most {MAX_GENERATE:,})")
    parser.add_argument("--seed", type=int, default=1, help="seed for --generate (default 1), so runs are reproducible")
    parser.add_argument("--as-of", type=_date, help="date for cases without one (default today)")
    parser.add_argument("--workers", "--jobs", type=_bounded(1, MAX_WORKERS, "--workers"), help=f"processes to use (default: all cores; at most {MAX_WORKERS}); the report is the same for any number")
    parser.add_argument("--affected-out", metavar="FILE", help="write the id and kinds of change of every affected case to FILE (JSON Lines)")


def add_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    refs = "a ruleset file, cc@version (e.g. nl@2025.1) or a country code (version in force today)"

    diff = add("diff", cmd_diff, "show what changed in meaning between two ruleset versions")
    diff.add_argument("old", metavar="OLD", help=refs)
    diff.add_argument("new", metavar="NEW", help=refs)
    diff.add_argument("--format", choices=("text", "markdown", "json", "html"), default="text", help="output format (default text)")
    diff.add_argument("--colour", "--color", choices=("auto", "always", "never"), default="auto", help="colour the text output (default: when writing to a terminal)")
    diff.add_argument("--exit-code", action="store_true", help="exit 1 when anything changed, for scripts")
    diff.add_argument("--out", metavar="FILE", help="write to a file (atomically) instead of standard output")
    diff.add_argument("--rulesets", metavar="DIR", help="rulesets folder for cc@version references")
    diff.add_argument("--as-of", type=_date, help="the date cases are judged on (default: the new version's effective_from)")
    diff.add_argument("--timeout-ms", type=int, default=5000, help="time the solver may take per question (default 5000); past it: 'could not be decided'")

    impact = add("impact", cmd_impact, "count how outcomes change for a corpus of cases between two versions")
    impact.add_argument("old", metavar="OLD", help=refs)
    impact.add_argument("new", metavar="NEW", help=refs)
    _impact_options(impact)
    impact.add_argument("--format", choices=("text", "markdown", "json"), default="text", help="output format (default text)")
    impact.add_argument("--out", metavar="FILE", help="write to a file (atomically)")
    impact.add_argument("--rulesets", metavar="DIR", help="rulesets folder for cc@version references")

    audit = add("audit-report", cmd_audit_report, "write one self-contained HTML audit report: identities, changelogs, diff and impact")
    audit.add_argument("old", metavar="OLD", help=refs)
    audit.add_argument("new", metavar="NEW", help=refs)
    _impact_options(audit)
    audit.add_argument("--out", metavar="FILE", required=True, help="the HTML file to write")
    audit.add_argument("--rulesets", metavar="DIR", help="rulesets folder for cc@version references")

    replay = add("replay", cmd_replay, "re-run a decision record with its answers on its ruleset version: identical, or a short summary of what differs")
    replay.add_argument(
        "record",
        metavar="RECORD",
        help="a decision record written by 'assess --format record' (an older assessment JSON is accepted, without verifying the answers)",
    )
    replay.add_argument("case", metavar="CASE", help="the case JSON it was made from")
    replay.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    replay.add_argument("--rulesets", metavar="DIR", help="the rulesets folder (default: the shipped one)")

    add_cross_country_commands(add)
    add_workflow_commands(add)




# -- cross-country ------------------------------------------------------------------------------


def _countries(args: argparse.Namespace) -> list[str]:
    from ..errors import Location, Problem, RulesetNotFoundError
    from ..load import list_countries

    if args.rulesets and not Path(args.rulesets).is_dir():  # not "no countries, no gaps"
        raise RulesetNotFoundError([Problem("rulesets-not-found", "the rulesets folder does not exist or is not a folder", "give the folder that holds <country>/<version>.yaml", Location(args.rulesets))])
    available = list_countries(Path(args.rulesets) if args.rulesets else None)
    if not args.countries:
        return available
    wanted = [c.strip() for c in args.countries.split(",") if c.strip()]
    return wanted


def cmd_compare(args: argparse.Namespace, io: Any) -> int:
    from .compare import assess_everywhere, comparison_rows, render_grid, render_markdown_table

    case = read_case(args.case, io.stdin)
    as_of = args.as_of or case.as_of or dt.date.today()
    rulesets = [load_ruleset(country, as_of=as_of, rulesets_dir=args.rulesets) for country in _countries(args)]
    results = assess_everywhere(rulesets, case.answers, as_of, args.language)
    rows = comparison_rows(results)
    headers = [f"{r.country}@{r.ruleset.version}" for r in results]
    if args.format == "json":
        payload = {
            "as_of": as_of.isoformat(),
            "language": args.language,
            "countries": [
                {
                    "country": r.country,
                    "ruleset": r.ruleset.ref.model_dump(mode="json"),
                    "answers_not_used": r.not_used,
                    "answers_not_valid": r.not_valid,
                    "assessment": r.assessment.model_dump(mode="json", exclude={"trace"}) if r.assessment else None,
                }
                for r in results
            ],
            "table": [{"row": label, "cells": dict(zip(headers, cells, strict=True))} for label, cells in rows],
        }
        io.out.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    elif args.format == "markdown":
        io.out.write(f"# One case under each country's ruleset (as of {as_of.isoformat()})\n\n" + render_markdown_table(headers, rows))
    else:
        io.out.write(f"One case under each country's ruleset, as of {as_of.isoformat()}, texts in {args.language}\n\n" + render_grid(headers, rows))
    return EXIT_OK


def cmd_coverage_matrix(args: argparse.Namespace, io: Any) -> int:
    from .compare import coverage_matrix, render_grid, render_markdown_table

    as_of = args.as_of or dt.date.today()
    rulesets = [load_ruleset(country, as_of=as_of, rulesets_dir=args.rulesets) for country in _countries(args)]
    matrix = coverage_matrix(rulesets, as_of)
    headers = [f"{r.country}@{r.version}" for r in rulesets]
    if args.format == "json":
        payload = {
            "as_of": as_of.isoformat(),
            "rulesets": headers,
            "rows": [{"article": article, "element": label, "covered_by": dict(zip(headers, cells, strict=True))} for article, label, cells in matrix],
        }
        io.out.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK

    def mark(ids: list[str]) -> str:
        if args.format == "text":
            return "yes" if ids else "NO"
        return "✓ " + ", ".join(ids) if ids else "—"

    rows = [((f"Art. {article} " if article else "") + label, [mark(ids) for ids in cells]) for article, label, cells in matrix]
    if args.format == "markdown":
        io.out.write(f"# Directive coverage by country (rulesets in force on {as_of.isoformat()})\n\n" + render_markdown_table(headers, rows))
    else:
        gaps = sum(1 for _, cells in rows for cell in cells if cell == "NO")
        io.out.write(f"Directive 2012/29/EU coverage, rulesets in force on {as_of.isoformat()} ({gaps} gap{'s' if gaps != 1 else ''})\n\n" + render_grid(headers, rows, width=9))
    return EXIT_OK


def add_cross_country_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    compare = add("compare", cmd_compare, "assess one case under every country's ruleset and show the results side by side")
    compare.add_argument("case", metavar="CASE", help="a case JSON file, or - for standard input")
    compare.add_argument("--countries", metavar="CC,CC", help="comma-separated country codes (default: every shipped country)")
    compare.add_argument("--language", default="en", help="language of the texts (default en, which every ruleset has)")
    compare.add_argument("--as-of", type=_date, help="date (default: the case's, else today); picks each country's version in force")
    compare.add_argument("--format", choices=("text", "markdown", "json"), default="text", help="output format (default text)")
    compare.add_argument("--rulesets", metavar="DIR", help="rulesets folder (default: the shipped one)")

    matrix = add("coverage-matrix", cmd_coverage_matrix, "show which Directive Art. 4 and Art. 22 elements each country's ruleset covers")
    matrix.add_argument("--countries", metavar="CC,CC", help="comma-separated country codes (default: every shipped country)")
    matrix.add_argument("--as-of", type=_date, help="date whose rulesets in force are compared (default today)")
    matrix.add_argument("--format", choices=("text", "markdown", "json"), default="text", help="output format (default text)")
    matrix.add_argument("--rulesets", metavar="DIR", help="rulesets folder (default: the shipped one)")


# -- draft to published -------------------------------------------------------------------------


def cmd_new_version(args: argparse.Namespace, io: Any) -> int:
    from .workflow import project_rulesets_dir, start_new_version, tests_file_for

    folder = project_rulesets_dir(args.rulesets)
    target = start_new_version(args.country, folder, dt.date.today())
    tests = tests_file_for(folder, args.country, target.stem)
    io.out.write(
        f"created {target} (draft)\n"
        + (f"created {tests}: the previous version's tests, pinned to {target.stem}\n" if tests.exists() else "")
        + 
        "next: set effective_from, make your changes, add a changelog entry, run 'invictus-rules lint' and "
        f"'invictus-rules test', then 'invictus-rules publish {target}'\n"
    )
    return EXIT_OK


def cmd_publish(args: argparse.Namespace, io: Any) -> int:
    from ..signing import key_id_of, signing_key_from
    from .workflow import project_rulesets_dir, publish

    path = Path(args.file)
    folder = project_rulesets_dir(args.rulesets, near=path)
    signing_key = signing_key_from(args.signing_key)
    digest = publish(path, folder, signing_key)
    signed = f", signed by key {key_id_of(signing_key.public_key())}" if signing_key is not None else ", unsigned (no signing key configured)"
    io.out.write(f"published {path} (sha256 {digest}); recorded in {folder / 'manifest.json'}{signed}\n")
    return EXIT_OK


def cmd_keygen(args: argparse.Namespace, io: Any) -> int:
    from ..load import shipped_rulesets_dir
    from ..signing import generate_key

    folder = Path(args.rulesets) if args.rulesets else shipped_rulesets_dir()
    key_id = generate_key(Path(args.out), folder)
    io.out.write(
        f"created signing key {key_id}: private key in {args.out} (keep it secret, out of the repository), "
        f"public key in {folder / 'keys' / (key_id + '.pub')} (commit it)\n"
        f"publish with: invictus-rules publish FILE --signing-key {args.out}   (or set INVICTUS_SIGNING_KEY)\n"
    )
    return EXIT_OK


def add_workflow_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    new = add("new-version", cmd_new_version, "start the next version of a country's ruleset as a draft copy of the latest one")
    new.add_argument("country", metavar="CC", help="country code, e.g. nl")
    new.add_argument("--rulesets", metavar="DIR", help="the project's rulesets folder (default: INVICTUS_RULESETS, else ./rulesets); never the installed package")

    publish = add(
        "publish",
        cmd_publish,
        "publish a draft: refused unless it is lint-clean, its country's tests pass and at least 20 cases of its own cover every rule; records its hash",
    )
    publish.add_argument("file", metavar="FILE", help="the draft ruleset file")
    publish.add_argument("--rulesets", metavar="DIR", help="the rulesets folder the draft is in (default: INVICTUS_RULESETS, else ./rulesets, else the folder above the file's country folder when it has a manifest)")
    publish.add_argument("--signing-key", metavar="FILE", help="Ed25519 private key (PEM) to sign the manifest entry with (default: INVICTUS_SIGNING_KEY; unsigned without)")

    keygen = add("keygen", cmd_keygen, "create an Ed25519 signing key for publishing: the private key to a file, the public key into the rulesets folder's keys/")
    keygen.add_argument("--out", metavar="FILE", required=True, help="where to write the private key (never overwritten; mode 0600)")
    keygen.add_argument("--rulesets", metavar="DIR", help="rulesets folder whose keys/ receives the public key (default: the shipped one)")
