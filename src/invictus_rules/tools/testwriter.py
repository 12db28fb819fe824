"""Write a case with its current results as a YAML test case: ``invictus-rules test add``.

The test is pinned to the ruleset version it was written from (``ruleset: nl@2026.3``), so it keeps
testing that version after newer ones appear. The expectations are everything the assessment
decided: status, safety, levels, referrals with priority and mode, services not referred, deferred
rules, information given and not given, pending and undecidable rules. The file is read back and
run before this returns: a written test passes, or nothing is written.

The workbench's "save as test" calls :func:`write_test`, the command calls it too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..api import Ruleset
from ..errors import InvictusError, Location, Problem
from ..refs import is_country_code, is_ruleset_ref
from ..result import Assessment
from .files import write_atomic
from .testing import TEST_FORMAT, Runner, format_result, read_test_file

_SLUG = re.compile(r"[^a-z0-9]+")


class TestWriteError(InvictusError):
    """A test case cannot be written."""

    code = "test-add"


@dataclass(frozen=True)
class WrittenTest:
    """Where the case went, and the YAML text of the file."""

    path: Path
    text: str
    appended: bool


def expectations(assessment: Assessment, ruleset: Ruleset) -> dict[str, Any]:
    """Every result of the assessment, as the ``expect`` block of a test case."""
    compiled = ruleset.compiled
    expect: dict[str, Any] = {"status": assessment.status, "safety": assessment.safety is not None}
    levels = {s.id: s.level for s in assessment.scores if s.level is not None}
    if levels:
        expect["levels"] = levels
    undecided = {s.id: list(s.possible_levels) for s in assessment.scores if s.level is None and s.possible_levels}
    if undecided:
        expect["possible_levels"] = undecided
    points = {s.id: s.points for s in assessment.scores if s.points is not None}
    if points:
        expect["points"] = points
    referred = [r.service for r in assessment.referrals]
    expect["referrals"] = referred
    if referred:
        expect["priorities"] = {r.service: r.priority for r in assessment.referrals}
        expect["modes"] = {r.service: r.mode for r in assessment.referrals}
    targets = dict.fromkeys(rule.spec.service for rule in compiled.referrals)
    not_referred = [service for service in targets if service not in referred]
    if not_referred:
        expect["no_referrals"] = not_referred
    if assessment.deferred:
        expect["deferred"] = [d.rule for d in assessment.deferred]
    given = [i.id for i in assessment.information]
    expect["information"] = given
    not_given = [i.spec.id for i in compiled.information if i.spec.id not in given]
    if not_given:
        expect["no_information"] = not_given
    if assessment.pending:
        expect["pending"] = [p.id for p in assessment.pending]
    if assessment.undecidable:
        expect["undecidable"] = [u.id for u in assessment.undecidable]
    if assessment.ignored_answers:
        expect["ignored"] = [a.question for a in assessment.ignored_answers]
    return expect


def test_case(ruleset: Ruleset, answers: dict[str, Any], *, name: str, as_of: dt.date, language: str | None = None) -> dict[str, Any]:
    """The test case (name, as_of, language, answers, expect) for ``answers`` under ``ruleset``."""
    assessment = ruleset.evaluate(answers, as_of=as_of, language=language, trace=False)
    case: dict[str, Any] = {"name": name, "as_of": as_of, "language": assessment.language, "answers": dict(answers)}
    case["expect"] = expectations(assessment, ruleset)
    return case


def default_name(ruleset: Ruleset, assessment_day: dt.date) -> str:
    return f"Case saved from {ruleset.country}@{ruleset.version} on {assessment_day.isoformat()}"


def slug(text: str) -> str:
    return _SLUG.sub("_", text.lower()).strip("_")[:60] or "case"


def reference_for(ruleset: Ruleset, ruleset_path: Path, test_path: Path) -> str:
    """How the test file names the ruleset: ``cc@version`` in its country's tests folder, else a relative path."""
    ruleset_path, test_path = ruleset_path.resolve(), test_path.resolve()
    country_dir = ruleset_path.parent
    if test_path.parent.name == "tests" and test_path.parent.parent == country_dir and is_country_code(country_dir.name):
        return f"{ruleset.country}@{ruleset.version}"
    return Path(os.path.relpath(ruleset_path, test_path.parent)).as_posix()


def default_test_path(ruleset_path: Path, name: str) -> Path:
    """``<country folder>/tests/<version>_<slug of the name>.yaml``, never an existing file."""
    folder = ruleset_path.resolve().parent / "tests"
    stem = f"{ruleset_path.stem.replace('.', '_')}_{slug(name)}"
    candidate = folder / f"{stem}.yaml"
    number = 2
    while candidate.exists():
        candidate = folder / f"{stem}_{number}.yaml"
        number += 1
    return candidate


class _Dumper(yaml.SafeDumper):
    """Lists indented under their key, as people write them; no anchors or aliases (the project's reader refuses them)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _dump(data: Any) -> str:
    return str(yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=None, width=120))


def render_new_file(reference: str, case: dict[str, Any], *, source: str = "") -> str:
    """A whole test file holding one case, with a header saying how it was made."""
    made = f" from {source}" if source else ""
    header = (
        f"# Written by 'invictus-rules test add'{made}: the case's results under {reference} when it was saved.\n"
        "# Review every expectation before committing: it records what the ruleset does, not what it should do.\n"
        "# Use made-up cases only, never a real victim's answers.\n"
    )
    return header + _dump({"format": TEST_FORMAT, "ruleset": reference, "cases": [case]})


def render_appended_case(case: dict[str, Any], indent: int) -> str:
    """One case as an item of an existing file's ``cases:`` list, its dash ``indent`` columns in."""
    body = _dump([case])
    return "\n" + "".join(" " * indent + line if line.strip() else line for line in body.splitlines(keepends=True))


def write_test(
    ruleset: Ruleset,
    ruleset_path: Path,
    answers: dict[str, Any],
    *,
    as_of: dt.date,
    language: str | None = None,
    name: str | None = None,
    out: Path | None = None,
    source: str = "",
) -> WrittenTest:
    """Write the case as a test pinned to ``ruleset`` (at ``ruleset_path``); run it; return where it went.

    ``out`` defaults to a new file in the country's tests folder. An existing ``out`` gets the case
    appended to its ``cases`` list when that list ends the file; anything else is refused.
    """
    name = name or default_name(ruleset, as_of)
    target = out or default_test_path(ruleset_path, name)
    reference = reference_for(ruleset, ruleset_path, target)
    case = test_case(ruleset, answers, name=name, as_of=as_of, language=language)
    appended = target.exists()
    cases_before = 0
    if appended:
        parsed, existing, positions = read_test_file(target)
        cases_before = len(existing)
        first = positions.mark(("cases", 0))
        indent = max(first.column - 3, 0) if first else 2
        if (parsed.ruleset or "") != reference:
            raise TestWriteError(
                [Problem("test-file-other-ruleset", f"{target.name} tests {parsed.ruleset or 'its country folder'}, not {reference}", "write to a new file (leave out --out)", Location(str(target)))]
            )
        old_text = target.read_text(encoding="utf-8")
        text = old_text.rstrip("\n") + "\n" + render_appended_case(case, indent)
    else:
        old_text = None
        text = render_new_file(reference, case, source=source)
    write_atomic(target, text)
    try:
        _check_written(target, cases_before + 1)
    except BaseException:
        if old_text is None:
            target.unlink(missing_ok=True)
        else:
            write_atomic(target, old_text)
        raise
    return WrittenTest(target, text, appended)


def _check_written(target: Path, expected_cases: int) -> None:
    """The file reads back with one more case, and that case passes; else the caller puts the file back."""
    parsed, cases, _ = read_test_file(target)
    if len(cases) != expected_cases:
        raise TestWriteError(
            [
                Problem(
                    "test-file-layout",
                    f"the case could not be added to {target.name}: its cases list is not the last thing in the file",
                    "write to a new file (leave out --out)",
                    Location(str(target)),
                )
            ]
        )
    result = Runner().run_case(target, parsed, cases[-1])
    if not result.passed:
        raise TestWriteError(
            [
                Problem(
                    "test-add-failed",
                    "the written test does not pass when run: " + format_result(result).splitlines()[0],
                    "this is a bug in invictus-rules: please report it with the ruleset (not the case)",
                    Location(str(target)),
                )
            ]
        )


# -- the command ------------------------------------------------------------------------------------


def cmd_test_add(args: argparse.Namespace, io: Any) -> int:
    from ..api import load_ruleset
    from ..cases import read_case
    from ..load import display_path, find_ruleset, shipped_rulesets_dir

    case = read_case(args.case, io.stdin)
    as_of = args.as_of or case.as_of or dt.date.today()
    if is_ruleset_ref(args.ruleset):
        folder = Path(args.rulesets) if args.rulesets else shipped_rulesets_dir()
        ruleset_path = find_ruleset(args.ruleset, as_of=as_of, rulesets_dir=folder)
    else:
        ruleset_path = Path(args.ruleset)
    ruleset = load_ruleset(ruleset_path)
    answers = ruleset.validate_answers(case.answers, file=case.file, path_prefix="$.answers")
    del answers  # validated for its errors only: the test keeps the answers as written
    written = write_test(
        ruleset,
        ruleset_path,
        case.answers,
        as_of=as_of,
        language=args.language or case.language,
        name=args.name or case.case_id,
        out=Path(args.out) if args.out else None,
        source=Path(case.file).name if case.file and case.file != "-" else "",
    )
    how = "added a case to" if written.appended else "wrote"
    io.out.write(f"{how} {display_path(written.path)} (pinned to {ruleset.country}@{ruleset.version}): review its expectations before committing\n")
    return 0


def add_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    help_text = "write a case with its current results as a YAML test case, pinned to the ruleset version (also spelled 'test add')"
    parser = add("test-add", cmd_test_add, help_text)
    parser.prog = parser.prog.replace("test-add", "test add")
    parser.add_argument("ruleset", metavar="RULESET", help="a ruleset file (e.g. a draft), cc@version, or a country code (the version in force)")
    parser.add_argument("case", metavar="CASE", help="a case JSON file, or - for standard input")
    parser.add_argument("--name", help="the test case's name (default: the case id, else 'Case saved from cc@version on DATE')")
    parser.add_argument("--out", metavar="FILE", help="the test file (default: a new file in the country's tests folder); an existing file gets the case appended")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, help="assessment date YYYY-MM-DD (default: the case's, else today)")
    parser.add_argument("--language", help="language of the assessment (default: the case's, else the ruleset's)")
    parser.add_argument("--rulesets", metavar="DIR", help="the rulesets folder, for a country reference (default: the shipped one)")
