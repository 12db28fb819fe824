"""The ``invictus-rules`` command: argument parsing and wiring only.

``main(argv, stdout, stderr) -> int`` so that tests can run it with swapped streams.
Exit codes: 0 ok, 1 invalid ruleset, case or failing check, 2 usage error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from ._version import __version__
from .api import Ruleset, load_ruleset
from .cases import Case, read_case
from .compile import compile_file
from .errors import InvictusError, Location, Problem, format_problems
from .load import shipped_rulesets_dir
from .render import render_text
from .schemas import SCHEMAS
from .texts import pick_text

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class _Usage(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class _Parser(argparse.ArgumentParser):
    stream: IO[str] | None = None

    def _print_message(self, message: str, file: Any = None) -> None:  # argparse passes a stream we ignore
        if message:
            (self.stream or sys.stdout).write(message)

    def error(self, message: str) -> Any:  # argparse would exit; we return a code instead
        raise _Usage(f"{self.prog}: error: {message}\n{self.format_usage().strip()}")

    def exit(self, status: int = 0, message: str | None = None) -> Any:
        raise _Exit(status, message or "")


class _Exit(Exception):
    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message


class IO_:
    """The streams a command writes to."""

    def __init__(self, stdout: IO[str], stderr: IO[str], stdin: IO[bytes] | None):
        self.out = stdout
        self.err = stderr
        self.stdin = stdin


def _date_arg(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date written YYYY-MM-DD") from None


def _report(error: InvictusError, io: IO_, fmt: str) -> int:
    if fmt == "json":
        io.out.write(json.dumps(error.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        io.err.write(format_problems(error.problems) + "\n")
    return EXIT_INVALID


def _load(reference: str, as_of: dt.date | None) -> Ruleset:
    if Path(reference).suffix in (".yaml", ".yml") or "/" in reference or Path(reference).is_file():
        return load_ruleset(Path(reference))
    return load_ruleset(reference, as_of=as_of)


# -- commands ------------------------------------------------------------------------------------


def cmd_assess(args: argparse.Namespace, io: IO_) -> int:
    case = read_case(args.case, io.stdin)
    as_of = args.as_of or case.as_of or dt.date.today()
    ruleset = _load(args.ruleset, as_of)
    for warning in ruleset.load_warnings:
        io.err.write(f"{warning}\n")
    answers = ruleset.validate_answers(case.answers, file=case.file, path_prefix="$.answers")
    assessment = ruleset.evaluate(
        answers,
        as_of=as_of,
        language=args.language or case.language,
        trace=args.trace,
        trace_values=args.trace_values,
    )
    if args.format == "json":
        io.out.write(assessment.model_dump_json(indent=2) + "\n")
    elif args.format == "record":
        record = assessment.record(answers, case_id=args.case_id or case.case_id)
        io.out.write(record.model_dump_json(indent=2) + "\n")
    else:
        io.out.write(render_text(assessment))
    return EXIT_OK


def cmd_questions(args: argparse.Namespace, io: IO_) -> int:
    case: Case | None = read_case(args.case, io.stdin) if args.case else None
    as_of = args.as_of or (case.as_of if case else None) or dt.date.today()
    ruleset = _load(args.ruleset, as_of)
    language = args.language or (case.language if case else None) or ruleset.compiled.metadata.default_language
    if case is not None:
        answers = ruleset.validate_answers(case.answers, file=case.file, path_prefix="$.answers")
        questions = ruleset.next_questions(answers, as_of=as_of)
    else:
        questions = ruleset.questions

    def pick(texts: Mapping[str, str] | None) -> str:
        return pick_text(texts, language, ruleset.compiled.metadata.default_language)

    asks = {q.spec.id: q.ask_if.text if q.ask_if else None for q in ruleset.compiled.questions}
    if args.format == "json":
        document = ruleset.questionnaire()
        if case is not None:
            still_to_ask = {q.id for q in questions}
            document["questions"] = [q for q in document["questions"] if q["id"] in still_to_ask]
        io.out.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    title = "Questions still to ask" if case is not None else "Questionnaire"
    io.out.write(f"{title}: {ruleset.id} {ruleset.version} ({ruleset.country}), language {language}\n")
    for number, q in enumerate(questions, 1):
        flag = " (required)" if q.required else ""
        io.out.write(f"\n{number}. {pick(q.text)}{flag}\n   id: {q.id}, type: {q.type}")
        if q.min is not None or q.max is not None:
            io.out.write(f", from {q.min if q.min is not None else '...'} to {q.max if q.max is not None else '...'}")
        io.out.write("\n")
        if asks[q.id] and case is None:
            io.out.write(f"   asked if: {asks[q.id]}\n")
        for option in q.options or ():
            io.out.write(f"   - {option.value}: {pick(option.label)}\n")
    if not questions:
        io.out.write("\nNothing left to ask.\n")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace, io: IO_) -> int:
    failed = 0
    results = []
    for file in args.files:
        try:
            compiled = compile_file(file)
        except InvictusError as error:
            failed += 1
            results.append({"file": file, "valid": False, "problems": [p.to_dict() for p in error.problems]})
            if args.format == "text":
                io.err.write(format_problems(error.problems) + "\n")
            continue
        meta = compiled.metadata
        results.append({"file": file, "valid": True, "id": meta.id, "version": meta.version, "sha256": compiled.digest})
        if args.format == "text":
            io.out.write(f"ok: {file} ({meta.id} {meta.version}, {meta.status}, sha256 {compiled.digest[:12]})\n")
        if args.show_fast_path:
            from .fastpath import fast_path_source

            if args.format == "json":
                results[-1]["fast_path"] = fast_path_source(compiled)
            else:
                io.out.write(fast_path_source(compiled))
    if args.format == "json":
        io.out.write(json.dumps({"files": results}, ensure_ascii=False, indent=2) + "\n")
    return EXIT_INVALID if failed else EXIT_OK


def cmd_test(args: argparse.Namespace, io: IO_) -> int:
    from .tools.testing import Runner, find_test_files, format_coverage, format_result, untested_versions

    files = find_test_files(args.paths or [shipped_rulesets_dir()])
    if not files:
        io.err.write("no test files found (they live in rulesets/<cc>/tests/*.yaml)\n")
        return EXIT_INVALID
    runner = Runner()
    results = [result for path in files for result in runner.run_file(path)]
    failed = [r for r in results if not r.passed]
    whole_folders = not args.paths or any(Path(p).is_dir() for p in args.paths)
    untested = untested_versions(files, runner.coverage) if args.coverage and whole_folders else []
    if args.format == "json":
        payload: dict[str, Any] = {
            "passed": len(results) - len(failed),
            "failed": len(failed),
            "cases": [
                {
                    "file": r.file,
                    "line": r.line,
                    "name": r.name,
                    "ruleset": r.ruleset,
                    "passed": r.passed,
                    "mismatches": [{"what": m.what, "expected": m.expected, "actual": m.actual} for m in r.mismatches],
                    "problems": [p.to_dict() for p in r.error.problems] if r.error else [],
                }
                for r in results
            ],
        }
        if args.coverage:
            payload["coverage"] = {
                f"{c.ruleset.country}@{c.ruleset.version}": {"percent": round(c.percent(), 1), "cases": c.cases, "gaps": [{"kind": k, "id": i, "missing": w} for k, i, w in c.gaps()]}
                for c in runner.coverage.values()
            }
            for country, version, status in untested:
                payload["coverage"][f"{country}@{version}"] = {"percent": 0.0, "cases": 0, "status": status, "gaps": [{"kind": "version", "id": version, "missing": "no test case runs on it"}]}
        io.out.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    else:
        for result in results:
            if args.verbose or not result.passed:
                io.out.write(format_result(result) + "\n")
        if args.coverage:
            io.out.write(format_coverage(runner.coverage, untested) + "\n")
        io.out.write(f"{len(results) - len(failed)} passed, {len(failed)} failed\n")
    incomplete = args.coverage and (any(c.gaps() for c in runner.coverage.values()) or bool(untested))
    return EXIT_INVALID if failed or incomplete else EXIT_OK


def cmd_lint(args: argparse.Namespace, io: IO_) -> int:
    from .tools.lint import is_clean, lint_file

    results = {}
    for file in args.files:
        results[file] = lint_file(Path(file), timeout_ms=args.timeout_ms)
    every = [p for problems in results.values() for p in problems]
    if args.format == "json":
        payload = {"clean": is_clean(every), "files": [{"file": f, "clean": is_clean(ps), "problems": [p.to_dict() for p in ps]} for f, ps in results.items()]}
        io.out.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    else:
        for file, problems in results.items():
            if problems:
                io.out.write(format_problems(problems) + "\n")
            else:
                io.out.write(f"clean: {file}\n")
    return EXIT_OK if is_clean(every) else EXIT_INVALID


def cmd_verify(args: argparse.Namespace, io: IO_) -> int:
    from .tools.files import exclusive_lock
    from .tools.manifest import signature_states, verify
    from .tools.workflow import LOCK_FILE, interrupted, repair

    folder = Path(args.rulesets) if args.rulesets else shipped_rulesets_dir()
    if args.repair:
        with exclusive_lock(folder / LOCK_FILE):
            for done in repair(folder):
                io.err.write(f"repaired: {done}\n")
    pending = interrupted(folder)
    problems = ([pending] if pending else []) + verify(folder)
    states = signature_states(folder)
    if args.format == "json":
        signatures = [{"file": key, "signature": state, "key_id": key_id} for key, state, key_id in states]
        io.out.write(json.dumps({"ok": not problems, "problems": [p.to_dict() for p in problems], "signatures": signatures}, ensure_ascii=False, indent=2) + "\n")
        return EXIT_INVALID if problems else EXIT_OK
    if not problems:
        io.out.write(f"ok: every published ruleset in {folder} matches the manifest\n")
    for key, state, key_id in states:
        io.out.write(f"{key}: " + {"valid": f"signed by key {key_id}", "unsigned": "unsigned"}.get(state, f"{state} (key {key_id})") + "\n")
    if problems:
        io.err.write(format_problems(problems) + "\n")
    return EXIT_INVALID if problems else EXIT_OK


def cmd_schema(args: argparse.Namespace, io: IO_) -> int:
    if args.answers:
        ruleset = _load(args.answers, args.as_of or dt.date.today())
        io.out.write(json.dumps(ruleset.answers_schema(), ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    io.out.write(schema_text(args.name))
    return EXIT_OK


def schema_text(name: str = "ruleset") -> str:
    """A published JSON Schema exactly as committed in schema/<name>.schema.json."""
    return json.dumps(SCHEMAS[name](), ensure_ascii=False, indent=2, sort_keys=False) + "\n"


# -- parser --------------------------------------------------------------------------------------

Command = Callable[[argparse.Namespace, IO_], int]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="invictus-rules",
        description="Assess crime victims' needs with versioned YAML rulesets (EU Directive 2012/29/EU).",
        epilog="Exit codes: 0 ok, 1 invalid ruleset or case (or a failing check), 2 usage error.",
    )
    parser.add_argument("--version", action="version", version=f"invictus-rules {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name: str, handler: Command, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    assess = add("assess", cmd_assess, "assess one case against a ruleset and print the referrals, information and scores")
    assess.add_argument("ruleset", metavar="RULESET", help="a country code (nl), cc@version (nl@2026.1) or a ruleset file")
    assess.add_argument("case", metavar="CASE", help="a case JSON file, or - for standard input")
    assess.add_argument("--language", help="language of the texts (default: the case's, else the ruleset's default)")
    assess.add_argument("--as-of", type=_date_arg, help="assessment date YYYY-MM-DD (default: the case's, else today); also picks the ruleset version in force")
    assess.add_argument(
        "--format",
        choices=("text", "json", "record"),
        default="text",
        help="output format (default text); record: the decision record for case files and logs, without answers "
        "(its digest of the answers is keyed with INVICTUS_RECORD_KEY when set)",
    )
    assess.add_argument("--case-id", help="the case id to put in the record (default: the case file's case_id)")
    assess.add_argument(
        "--trace",
        action="store_true",
        help="add the rule-by-rule trace and the indicators present to the JSON output (they read back answers: special-category personal data)",
    )
    assess.add_argument("--no-trace", action="store_true", help=argparse.SUPPRESS)  # the default now; kept so old scripts run
    assess.add_argument("--trace-values", action="store_true", help="also put answer values in the trace (implies --trace; only where the output is protected)")

    questions = add("questions", cmd_questions, "print the questionnaire, or the questions still to ask for a partial case")
    questions.add_argument("ruleset", metavar="RULESET", help="a country code, cc@version or a ruleset file")
    questions.add_argument("case", metavar="CASE", nargs="?", help="a partial case JSON file, or - for standard input")
    questions.add_argument("--language", help="language of the texts")
    questions.add_argument("--as-of", type=_date_arg, help="date YYYY-MM-DD (picks the version in force)")
    questions.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")

    validate = add("validate", cmd_validate, "check ruleset files; errors as file:line:col: error[code]: message")
    validate.add_argument("files", metavar="FILE", nargs="+", help="ruleset files")
    validate.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    validate.add_argument("--show-fast-path", action="store_true", help="also print the Python source generated for each valid file's fast path (for debugging)")

    schema = add("schema", cmd_schema, "print a JSON Schema: the ruleset format (for editors), case files, assessments, the questionnaire export, or one version's answers")
    schema.add_argument("name", metavar="NAME", nargs="?", default="ruleset", choices=sorted(SCHEMAS), help=f"which schema: {', '.join(sorted(SCHEMAS))} (default ruleset)")
    schema.add_argument("--answers", metavar="RULESET", help="instead, the answers accepted by one version: a country code, cc@version or a ruleset file")
    schema.add_argument("--as-of", type=_date_arg, help="with --answers and a country code: the version in force on this date")

    lint = add("lint", cmd_lint, "find mistakes schema validation cannot: dead or always-true rules, level gaps, unused questions and services, translations, versions")
    lint.add_argument("files", metavar="FILE", nargs="+", help="ruleset files")
    lint.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    lint.add_argument("--timeout-ms", type=int, default=5000, help="time the solver may take per question (default 5000); past it: 'could not be decided'")

    verify = add("verify", cmd_verify, "check that every published ruleset file matches the hash in the manifest")
    verify.add_argument("--rulesets", metavar="DIR", help="the rulesets folder (default: the shipped one)")
    verify.add_argument("--repair", action="store_true", help="first complete (or roll back) a publication that was cut short between its two writes")
    verify.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")

    test = add("test", cmd_test, "run the YAML tests written beside rulesets (rulesets/<cc>/tests/*.yaml); 'test add RULESET CASE.json' writes a new one")
    test.add_argument("paths", metavar="PATH", nargs="*", help="test files or folders (default: every shipped ruleset's tests)")
    test.add_argument(
        "--coverage",
        action="store_true",
        help="report rules no test makes true or false, and versions (drafts too) no test runs on; exit 1 unless every rule is covered",
    )
    test.add_argument("--verbose", "-v", action="store_true", help="list passing cases too")
    test.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")

    for add_commands in _tool_commands():
        add_commands(add)
    return parser


def _tool_commands() -> list[Callable[[Callable[..., argparse.ArgumentParser]], None]]:
    """Tools that bring their own commands: each module has add_commands(add), where
    add(name, handler, help) -> argparse parser, and handlers take (args, io) -> exit code.
    Imported when the parser is built, in the order their commands are listed."""
    from .service import commands as service_commands
    from .tools import commands, docs, services_csv, testwriter, translations
    from .workbench import commands as workbench_commands

    return [
        commands.add_commands,
        docs.add_commands,
        service_commands.add_commands,
        translations.add_commands,
        services_csv.add_commands,
        testwriter.add_commands,
        workbench_commands.add_commands,
    ]


def main(argv: Sequence[str] | None = None, stdout: IO[str] | None = None, stderr: IO[str] | None = None, stdin: IO[bytes] | None = None) -> int:
    io = IO_(stdout or sys.stdout, stderr or sys.stderr, stdin if stdin is not None else sys.stdin.buffer)
    parser = build_parser()
    _Parser.stream = io.out
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:2] == ["test", "add"]:
        argv = ["test-add", *argv[2:]]  # 'test add' is its own command; 'test PATH...' runs tests
    try:
        args = parser.parse_args(argv)
    except _Usage as usage:
        io.err.write(usage.message + "\n")
        return EXIT_USAGE
    except _Exit as done:
        (io.err if done.status else io.out).write(done.message)
        return EXIT_OK if done.status == 0 else EXIT_USAGE
    if not getattr(args, "handler", None):
        io.out.write(parser.format_help())
        return EXIT_USAGE
    fmt = getattr(args, "format", "text")
    try:
        code: int = args.handler(args, io)
        return code
    except InvictusError as error:
        return _report(error, io, fmt if fmt in ("text", "json") else "text")
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:  # a file or folder a command needed: missing, unreadable or unwritable
        where = Location(os.fsdecode(exc.filename)) if isinstance(exc.filename, (str, bytes)) else Location()
        problem = Problem("file-error", f"cannot use the file or folder: {exc.strerror or type(exc).__name__}", "check the path, the permissions and the free space", where)
        return _report(InvictusError([problem]), io, fmt if fmt in ("text", "json") else "text")
    except KeyboardInterrupt:
        io.err.write("interrupted\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
