"""Ruleset tests written in YAML by policy staff, and rule coverage.

A test file (``rulesets/<cc>/tests/*.yaml``, format in docs/ruleset-tests.md) holds named cases with
answers and expectations. One runner serves the ``invictus-rules test`` command and the pytest plugin.
A failure reads like a diff: each expectation that did not hold, expected against actual.
Coverage records, per ruleset, which score items, levels, referral rules and information items some
test made true and some test made false.
"""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from .._yaml import SourceMap, format_path, read_yaml
from ..api import Ruleset, load_ruleset
from ..errors import InvictusError, Location, Problem, RulesetError
from ..expr.check import did_you_mean
from ..expr.nodes import Literal
from ..load import shipped_rulesets_dir
from ..model import Priority, ReferralMode
from ..refs import is_country_code, is_ruleset_ref
from ..result import Assessment, Status


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expectations(_Strict):
    """What must come out of a case; only what is written is checked."""

    levels: dict[str, str] = Field(default_factory=dict, description="the decided level of a score, by score id", examples=[{"dv_risk": "high"}])
    possible_levels: dict[str, list[str]] = Field(
        default_factory=dict, description="the levels a score can still reach while questions are open, by score id", examples=[{"vulnerability": ["standard", "elevated"]}]
    )
    points: dict[str, float] = Field(default_factory=dict, description="the decided points of a score, by score id", examples=[{"dv_risk": 5}])
    referrals: list[str] = Field(default_factory=list, description="services that must be referred to", examples=[["veilig_thuis"]])
    no_referrals: list[str] = Field(default_factory=list, description="services that must not be referred to", examples=[["centrum_seksueel_geweld"]])
    priorities: dict[str, Priority] = Field(default_factory=dict, description="the priority of a referral, by service", examples=[{"veilig_thuis": "immediate"}])
    modes: dict[str, ReferralMode] = Field(default_factory=dict, description="who decides a referral, by service", examples=[{"veilig_thuis": "report"}])
    information: list[str] = Field(default_factory=list, description="information items that must be given", examples=[["compensation"]])
    no_information: list[str] = Field(default_factory=list, description="information items that must not be given", examples=[["cross_border"]])
    pending: list[str] = Field(default_factory=list, description="referral rules, information items or scores that must be pending", examples=[["sexual_violence_to_csg"]])
    not_pending: list[str] = Field(default_factory=list, description="referral rules, information items or scores that must be decided", examples=[["compensation"]])
    next_questions: list[str] = Field(default_factory=list, description="questions that must be among those still to ask", examples=[["strangulation"]])
    no_next_questions: list[str] = Field(default_factory=list, description="questions that must not be asked (answered, or hidden by ask_if)", examples=[["pregnant"]])
    ignored: list[str] = Field(default_factory=list, description="exactly the answers ignored because their question was not asked", examples=[["strangulation"]])
    complete: StrictBool | None = Field(default=None, description="whether every required question that is asked has an answer", examples=[False])
    deferred: list[str] = Field(default_factory=list, description="referral rules or services deferred for safety", examples=[["dv_to_veilig_thuis"]])
    no_deferred: list[str] = Field(default_factory=list, description="referral rules or services not deferred", examples=[["politie"]])
    safety: StrictBool | None = Field(default=None, description="whether the safety block (not safe to talk) is shown", examples=[True])
    status: Status | None = Field(default=None, description="complete, complete_with_declined or in_progress", examples=["complete_with_declined"])
    undecidable: list[str] = Field(default_factory=list, description="rules undecidable by the victim's choice", examples=[["child_victim_to_kindertelefoon"]])


class TestCase(_Strict):
    """One case: answers as a case system would send them, and what must come out."""

    name: str = Field(min_length=1, description="what the case shows, in a sentence", examples=["Strangulation alone makes the risk high"])
    as_of: dt.date | None = Field(default=None, description="the assessment date (default: the file's as_of)", examples=["2026-03-01"])
    language: str | None = Field(default=None, description="the language of the texts (default: the file's language)", examples=["en"])
    ruleset: str | None = Field(default=None, description="the ruleset of this case (default: the file's ruleset)", examples=["nl@2026.2"])
    answers: dict[str, Any] = Field(
        description="answers by question id: true/false, a number, an option, a list of options, a date, or {status: declined} / {status: unknown}",
        examples=[{"safe_to_talk": True, "crime_type": "domestic_violence", "children_in_household": {"status": "declined"}}],
    )
    expect: Expectations = Field(
        description="what must come out; only what is written is checked",
        examples=[{"levels": {"dv_risk": "high"}, "referrals": ["veilig_thuis"], "no_referrals": ["centrum_seksueel_geweld"], "complete": False}],
    )


TEST_FORMAT = "invictus-rules/test/v1"
"""The ``format`` a test file may declare; a file that declares it is collected by the pytest plugin."""


class TestFile(_Strict):
    """A file of ruleset tests (docs/ruleset-tests.md)."""

    format: typing.Literal["invictus-rules/test/v1"] | None = Field(default=None, description="the test file format; a file that declares it is collected by the pytest plugin")
    ruleset: str | None = Field(
        default=None,
        description="the ruleset tested: a country (version in force on each case's as_of), cc@version, or a path relative to this file; required outside rulesets/<cc>/tests/",
        examples=["nl@2026.2"],
    )
    as_of: dt.date | None = Field(default=None, description="the default assessment date of every case", examples=["2026-03-01"])
    language: str | None = Field(default=None, description="the default language of every case", examples=["nl"])
    description: str | None = Field(default=None, description="what the file tests, for readers")
    cases: list[TestCase] = Field(
        min_length=1,
        description="the cases",
        examples=[[{"name": "Strangulation alone makes the risk high", "answers": {"safe_to_talk": True, "crime_type": "domestic_violence", "strangulation": True}, "expect": {"levels": {"dv_risk": "high"}}}]],
    )


def test_file_schema() -> dict[str, Any]:
    """The JSON Schema of a test file, for editors (hover help and completion)."""
    schema = TestFile.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "urn:invictus-rules:ruleset-test:v1", "title": "Ruleset tests", **{k: v for k, v in schema.items() if k != "title"}}


@dataclass(frozen=True)
class Mismatch:
    """One expectation that did not hold."""

    what: str
    expected: str
    actual: str

    def __str__(self) -> str:
        return f"{self.what}: expected {self.expected}, got {self.actual}"


@dataclass
class CaseResult:
    file: str
    line: int
    name: str
    ruleset: str = ""
    mismatches: list[Mismatch] = field(default_factory=list)
    error: InvictusError | None = None

    @property
    def passed(self) -> bool:
        return not self.mismatches and self.error is None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Coverage:
    """For one ruleset: the results each rule took across all cases."""

    ruleset: Ruleset
    seen: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    cases: int = 0

    def record(self, assessment: Assessment) -> None:
        self.cases += 1
        assert assessment.trace is not None
        for entry in assessment.trace.entries:
            if entry["kind"] != "question":
                self.seen.setdefault((entry["kind"], entry["id"]), set()).add(entry["result"])

    def gaps(self) -> list[tuple[str, str, str]]:
        """(kind, id, 'never true' | 'never false') for every rule a test has not made both ways."""
        missing = []
        for kind, rule_id, always in self.rules():
            results = self.seen.get((kind, rule_id), set())
            for outcome in ("true",) if always else ("true", "false"):
                if outcome not in results:
                    missing.append((kind, rule_id, f"never {outcome}"))
        return missing

    def rules(self) -> Iterator[tuple[str, str, bool]]:
        """(kind, id, written as always true) of every rule; a rule written 'true' cannot be made false."""
        compiled = self.ruleset.compiled
        for score in compiled.scores:
            for item in score.items:
                yield "score_item", f"{score.spec.id}.{item.spec.id}", _always(item.condition)
            for level_id, condition in score.levels:
                if condition is not None:
                    yield "level", f"{score.spec.id}.{level_id}", _always(condition)
        for rule in compiled.referrals:
            yield "referral", rule.spec.id, _always(rule.condition)
        for info in compiled.information:
            yield "information", info.spec.id, _always(info.condition)

    def outcomes_needed(self) -> int:
        return sum(1 if always else 2 for _, _, always in self.rules())

    def percent(self) -> float:
        total = self.outcomes_needed()
        return 100.0 if total == 0 else 100.0 * (total - len(self.gaps())) / total


def _always(condition: Any) -> bool:
    return isinstance(condition.node, Literal) and condition.node.value is True


class TestFileError(InvictusError):
    """A test file cannot be read."""

    code = "invalid-test-file"


def find_test_files(paths: Iterable[str | Path]) -> list[Path]:
    """Test files under the given files or folders (a rulesets folder, a country, a tests folder)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.yaml") if p.parent.name == "tests"))
    return sorted(dict.fromkeys(found))


@dataclass
class LoadedCase:
    case: TestCase
    line: int
    path: tuple[Any, ...]


def _not_a_test_file(path: Path) -> Problem:
    return Problem(
        "not-a-test-file",
        "the file is not a ruleset test file: it has no 'cases:'; its content is not shown, in case it holds a victim's data",
        "see docs/ruleset-tests.md; to assess a case use: invictus-rules assess RULESET CASE.json",
        Location(str(path), 1, 1),
    )


_BOOL_HINT = "write true or false: test files are read like rulesets (YAML 1.2), where yes, no, on and off are text"
_YES_NO = {"yes": "true", "y": "true", "on": "true", "no": "false", "n": "false", "off": "false"}


def yes_no_answers(case: TestCase, ruleset: Ruleset, source: SourceMap | None, path: tuple[Any, ...]) -> list[Problem]:
    """Answers to yes/no questions written yes or no: text in our YAML, so say how to write them."""
    problems = []
    kinds = {q.id: q.type for q in ruleset.questions}
    for question, value in case.answers.items():
        if kinds.get(question) == "boolean" and isinstance(value, str) and value.lower() in _YES_NO:
            message = f'the answer to "{question}" is written {value}, which is text in test files, not true or false'
            hint = f"write {question}: {_YES_NO[value.lower()]} ({_BOOL_HINT.split(': ', 1)[1]})"
            where = path + ("answers", question)
            problems.append(source.problem(where, "test-yes-no", message, hint) if source else Problem("test-yes-no", message, hint, Location(""), path=format_path(where)))
    return problems


def read_test_file(path: Path) -> tuple[TestFile, list[LoadedCase], SourceMap]:
    try:
        raw, source = read_yaml(path.read_bytes(), str(path))
    except OSError as exc:
        raise TestFileError([Problem("file-not-readable", f"cannot read the test file: {exc.strerror}", "", Location(str(path)))]) from None
    if source.problems or not (isinstance(raw, dict) and "cases" in raw):
        if isinstance(raw, dict) and "cases" in raw:
            raise TestFileError(source.problems)
        raise TestFileError([_not_a_test_file(path)])  # no line quoted: it may be a case with personal data
    try:
        parsed = TestFile.model_validate(raw)
    except pydantic.ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False, include_input=False):
            loc = tuple(error["loc"])
            hint = _BOOL_HINT if error["type"] in ("bool_type", "bool_parsing") else "see docs/ruleset-tests.md for the keys a test case may have"
            problems.append(source.problem(loc, "invalid-test", f"{format_path(loc)}: {error['msg']}", hint, key=error["type"] == "extra_forbidden"))
        raise TestFileError(problems) from None
    cases = []
    for index, case in enumerate(parsed.cases):
        mark = source.mark(("cases", index))
        cases.append(LoadedCase(case, mark.line if mark else 0, ("cases", index)))
    return parsed, cases, source


def _rulesets_folder_of(test_path: Path) -> Path | None:
    """The rulesets folder of a test file in ``<rulesets>/<cc>/tests/``, or None elsewhere."""
    resolved = test_path.resolve()
    country_dir = resolved.parent.parent
    if resolved.parent.name == "tests" and is_country_code(country_dir.name) and any(country_dir.glob("*.yaml")):
        return country_dir.parent
    return None


class Runner:
    """Runs test files, keeping compiled rulesets and coverage for the run (no global state)."""

    def __init__(self) -> None:
        self._rulesets: dict[tuple[str, str], Ruleset] = {}
        self.coverage: dict[str, Coverage] = {}

    def ruleset_for(self, test_path: Path, reference: str | None, as_of: dt.date) -> Ruleset:
        folder = _rulesets_folder_of(test_path)
        if reference is None:
            if folder is None:
                raise TestFileError(
                    [
                        Problem(
                            "test-ruleset-missing",
                            "this test file is not in a rulesets/<cc>/tests/ folder, so it must say which ruleset it tests",
                            "add a top-level key, e.g. ruleset: nl@2026.1 (or ruleset: ../my-ruleset.yaml)",
                            Location(str(test_path), 1, 1),
                        )
                    ]
                )
            reference = test_path.resolve().parent.parent.name
        if is_ruleset_ref(reference):
            rulesets_dir = folder if folder is not None else shipped_rulesets_dir()
            key = (str(rulesets_dir), f"{reference}|{as_of.isoformat() if '@' not in reference else ''}")
            if key not in self._rulesets:
                self._rulesets[key] = load_ruleset(reference, as_of=as_of, rulesets_dir=rulesets_dir)
        else:
            target = (test_path.parent / reference).resolve()
            key = (str(target), "")
            if key not in self._rulesets:
                self._rulesets[key] = load_ruleset(target)
        return self._rulesets[key]

    def run_file(self, path: Path) -> list[CaseResult]:
        try:
            parsed, cases, source = read_test_file(path)
        except InvictusError as error:
            return [CaseResult(str(path), error.problems[0].location.line, "(test file)", error=error)]
        return [self.run_case(path, parsed, loaded, source) for loaded in cases]

    def run_case(self, path: Path, parsed: TestFile, loaded: LoadedCase, source: SourceMap | None = None) -> CaseResult:
        case = loaded.case
        result = CaseResult(str(path), loaded.line, case.name)
        as_of = case.as_of or parsed.as_of
        if as_of is None:
            result.error = TestFileError(
                [Problem("missing-as-of", f'the case "{case.name}" has no as_of date', "add as_of: YYYY-MM-DD to the case or the file", Location(str(path), loaded.line, 1))]
            )
            return result
        try:
            ruleset = self.ruleset_for(path, case.ruleset or parsed.ruleset, as_of)
            result.ruleset = f"{ruleset.country}@{ruleset.version}"
            yes_no = yes_no_answers(case, ruleset, source, loaded.path)
            if yes_no:
                raise TestFileError(yes_no)
            assessment = ruleset.evaluate(case.answers, as_of=as_of, language=case.language or parsed.language, trace=True)
        except InvictusError as error:
            result.error = error
            return result
        coverage = self.coverage.setdefault(ruleset.sha256, Coverage(ruleset))
        coverage.record(assessment)
        result.mismatches = check_expectations(case.expect, assessment, ruleset)
        return result


def _listing(values: Iterable[str]) -> str:
    values = list(values)
    return ", ".join(values) if values else "(none)"


def _catalogue(ruleset: Ruleset) -> dict[str, tuple[str, set[str]]]:
    """For each expectation key that names ids: what kind of id it takes and every id of that kind."""
    compiled = ruleset.compiled
    services = set(compiled.services)
    scores = {s.spec.id for s in compiled.scores}
    questions = {q.id for q in ruleset.questions}
    referral_rules = {r.spec.id for r in compiled.referrals}
    information = {i.spec.id for i in compiled.information}
    rules = referral_rules | information | scores
    return {
        "levels": ("score", scores),
        "possible_levels": ("score", scores),
        "points": ("score", scores),
        "referrals": ("service", services),
        "no_referrals": ("service", services),
        "priorities": ("service", services),
        "modes": ("service", services),
        "information": ("information item", information),
        "no_information": ("information item", information),
        "pending": ("rule or score", rules),
        "not_pending": ("rule or score", rules),
        "next_questions": ("question", questions),
        "no_next_questions": ("question", questions),
        "ignored": ("question", questions),
        "deferred": ("referral rule or service", referral_rules | services),
        "no_deferred": ("referral rule or service", referral_rules | services),
        "undecidable": ("rule or score", rules),
    }


def check_ids(expect: Expectations, ruleset: Ruleset) -> list[Mismatch]:
    """Every id an expectation names that the ruleset does not have, with a did-you-mean.

    Checked before any result, so a misspelt id in a negative expectation (``no_referrals``,
    ``not_pending``, ...) fails the case instead of passing because nothing has that name.
    """
    out: list[Mismatch] = []
    where = f"{ruleset.country}@{ruleset.version}"
    for key, (what, known) in _catalogue(ruleset).items():
        for name in getattr(expect, key):
            if name not in known:
                article = "an" if what[0] in "aeiou" else "a"
                out.append(Mismatch(key, f"{article} {what} {name}", f"no such {what} in {where}" + _suggest(name, known)))
    levels = {s.spec.id: [level_id for level_id, _ in s.levels] for s in ruleset.compiled.scores}
    for key, wanted in (("levels", {k: [v] for k, v in expect.levels.items()}), ("possible_levels", expect.possible_levels)):
        for score_id, names in wanted.items():
            for name in names if score_id in levels else []:
                if name not in levels[score_id]:
                    out.append(Mismatch(f"{key}.{score_id}", f"a level {name} of {score_id}", f"no such level (levels: {_listing(levels[score_id])})" + _suggest(name, levels[score_id])))
    return out


def _suggest(name: str, known: Iterable[str]) -> str:
    hint = did_you_mean(name, sorted(known))
    return f"; {hint}" if hint else ""


def check_expectations(expect: Expectations, assessment: Assessment, ruleset: Ruleset) -> list[Mismatch]:
    """Every expectation that does not hold, as expected-versus-actual; misspelt ids first."""
    unknown_ids = check_ids(expect, ruleset)
    if unknown_ids:
        return unknown_ids
    out: list[Mismatch] = []
    scores = {s.id: s for s in assessment.scores}
    for score_id, level in expect.levels.items():
        score = scores[score_id]
        actual = score.level or (f"undecided ({' or '.join(score.possible_levels)})" if score.possible_levels else "no level")
        if score.level != level:
            out.append(Mismatch(f"levels.{score_id}", level, actual))
    for score_id, levels in expect.possible_levels.items():
        actual_levels = scores[score_id].possible_levels if score_id in scores else []
        if actual_levels != levels:
            out.append(Mismatch(f"possible_levels.{score_id}", _listing(levels), _listing(actual_levels)))
    for score_id, points in expect.points.items():
        scored = scores.get(score_id)
        actual = "no such score" if scored is None else (str(scored.points) if scored.points is not None else f"{scored.points_min} to {scored.points_max}")
        if scored is None or scored.points != points:
            out.append(Mismatch(f"points.{score_id}", f"{points:g}", actual))
    referred = {r.service: r for r in assessment.referrals}
    for service in expect.referrals:
        if service not in referred:
            out.append(Mismatch("referrals", f"a referral to {service}", f"referrals to {_listing(referred)}"))
    for service in expect.no_referrals:
        if service in referred:
            reasons = _listing(r.rule for r in referred[service].reasons)
            out.append(Mismatch("no_referrals", f"no referral to {service}", f"a referral by rule(s) {reasons}"))
    for service, priority in expect.priorities.items():
        actual = referred[service].priority if service in referred else "no referral"
        if actual != priority:
            out.append(Mismatch(f"priorities.{service}", priority, actual))
    for service, mode in expect.modes.items():
        actual = referred[service].mode if service in referred else "no referral"
        if actual != mode:
            out.append(Mismatch(f"modes.{service}", mode, actual))
    given = [i.id for i in assessment.information]
    for item in expect.information:
        if item not in given:
            out.append(Mismatch("information", f"the item {item}", f"items {_listing(given)}"))
    for item in expect.no_information:
        if item in given:
            out.append(Mismatch("no_information", f"no item {item}", "it was given"))
    pending = [p.id for p in assessment.pending]
    for rule in expect.pending:
        if rule not in pending:
            out.append(Mismatch("pending", f"{rule} to be pending", f"pending: {_listing(pending)}"))
    for rule in expect.not_pending:
        if rule in pending:
            questions = next(p.questions for p in assessment.pending if p.id == rule)
            out.append(Mismatch("not_pending", f"{rule} decided", f"pending on {_listing(questions)}"))
    for question in expect.next_questions:
        if question not in assessment.next_questions:
            out.append(Mismatch("next_questions", f"{question} among the questions to ask", _listing(assessment.next_questions)))
    for question in expect.no_next_questions:
        if question in assessment.next_questions:
            out.append(Mismatch("no_next_questions", f"{question} not to be asked", "it is still to ask"))
    ignored = [a.question for a in assessment.ignored_answers]
    if expect.ignored and sorted(expect.ignored) != sorted(ignored):
        out.append(Mismatch("ignored", f"answers ignored (not asked): {_listing(sorted(expect.ignored))}", _listing(ignored)))
    if expect.complete is not None and expect.complete != assessment.complete:
        out.append(Mismatch("complete", str(expect.complete).lower(), str(assessment.complete).lower()))
    out.extend(_check_safety(expect, assessment, ruleset))
    return out


def _check_safety(expect: Expectations, assessment: Assessment, ruleset: Ruleset) -> Iterator[Mismatch]:
    """The expectations about safety, deferral, status and rules undecidable by the victim's choice."""
    deferred = {name for d in assessment.deferred for name in (d.rule, d.service)}
    for name in expect.deferred:
        if name not in deferred:
            yield Mismatch("deferred", f"{name} to be deferred", f"deferred: {_listing(d.rule for d in assessment.deferred)}")
    for name in expect.no_deferred:
        if name in deferred:
            why = next(d.why for d in assessment.deferred if name in (d.rule, d.service))
            yield Mismatch("no_deferred", f"{name} not deferred", f"deferred ({why})")
    if expect.safety is not None and expect.safety != (assessment.safety is not None):
        yield Mismatch("safety", "a safety block" if expect.safety else "no safety block", "one" if assessment.safety else "none")
    if expect.status is not None and expect.status != assessment.status:
        yield Mismatch("status", expect.status, assessment.status)
    undecidable = [u.id for u in assessment.undecidable]
    for rule in expect.undecidable:
        if rule not in undecidable:
            yield Mismatch("undecidable", f"{rule} undecidable by the victim's choice", f"undecidable: {_listing(undecidable)}")


def format_result(result: CaseResult) -> str:
    status = "PASS" if result.passed else ("ERROR" if result.error else "FAIL")
    head = f"{status} {result.where} {result.name}" + (f" [{result.ruleset}]" if result.ruleset else "")
    if result.error is not None:
        body = "\n".join("    " + line for line in str(result.error).splitlines())
        return f"{head}\n{body}"
    if result.mismatches:
        return head + "\n" + "\n".join(f"    {m}" for m in result.mismatches)
    return head


def untested_versions(test_files: Iterable[Path], coverage: dict[str, Coverage]) -> list[tuple[str, str, str]]:
    """(country, version, status) of every version, drafts included, in the countries of
    ``test_files`` that no test case ran on."""
    from ..load import list_versions

    tested = {(c.ruleset.country, c.ruleset.version) for c in coverage.values()}
    found = []
    countries = dict.fromkeys(f.resolve().parent.parent for f in test_files if f.resolve().parent.name == "tests")
    for country_dir in countries:
        for info in list_versions(country_dir.name, country_dir.parent):
            if (info.country, info.version) not in tested:
                found.append((info.country, info.version, info.status))
    return found


def format_coverage(coverage: dict[str, Coverage], untested: Iterable[tuple[str, str, str]] = ()) -> str:
    lines = ["", "Rule coverage (each rule made true and false by some test):"]
    for item in sorted(coverage.values(), key=lambda c: (c.ruleset.country, c.ruleset.version)):
        gaps = item.gaps()
        lines.append(f"  {item.ruleset.country}@{item.ruleset.version}: {item.percent():.0f}% of {sum(1 for _ in item.rules())} rules, {item.cases} cases")
        for kind, rule_id, what in gaps:
            lines.append(f"    {kind} {rule_id}: {what}")
    for country, version, status in untested:
        lines.append(f"  {country}@{version} ({status}): 0%, no test case runs on it")
    return "\n".join(lines)


__all__ = ["Runner", "CaseResult", "Coverage", "find_test_files", "format_result", "format_coverage", "untested_versions", "RulesetError"]
