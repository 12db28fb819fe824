"""Cross-country views: one case under every country's ruleset, and which Directive elements each
country's ruleset covers.

Countries share a question vocabulary (docs/common-vocabulary.md), so one case can be assessed under
each ruleset; answers a ruleset does not know, or that do not fit its questionnaire, are set aside and
listed, never silently dropped.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any

from ..api import Ruleset
from ..errors import AnswersError
from ..result import Assessment
from ..templates import referenced_names, ruleset_texts

ARTICLE_4 = {
    "a": "support available",
    "b": "reporting a crime, role in proceedings",
    "c": "protection",
    "d": "legal advice and legal aid",
    "e": "compensation",
    "f": "interpretation and translation",
    "g": "victims resident in another Member State",
    "h": "complaints about the authorities",
    "i": "contact details about the case",
    "j": "restorative justice",
    "k": "reimbursement of expenses",
}
_ARTICLE_4 = re.compile(r"Art\.\s*4\(1\)\(([a-k])\)")

# Art. 22 elements and the common-vocabulary questions or scores that address them.
ARTICLE_22: list[tuple[str, str, tuple[str, ...]]] = [
    ("22(2)(a)", "personal characteristics", ("victim_age", "disability_or_illness", "needs_interpreter", "insecure_residence_status", "pregnant")),
    ("22(2)(b)", "type or nature of the crime", ("crime_type",)),
    ("22(2)(c)", "circumstances of the crime", ("crime_date", "crime_in_other_member_state", "resides_in_other_member_state")),
    ("22(3)", "considerable harm", ("physical_injury", "severe_distress", "financial_loss")),
    ("22(3)", "bias or discriminatory motive", ("bias_motive", "bias_grounds")),
    ("22(3)", "relationship to or dependence on the offender", ("offender_relationship", "dependent_on_offender", "lives_with_offender")),
    ("22(3)", "trafficking", ("trafficking_indicators",)),
    ("22(3)", "violence in close relationships (risk score)", ("score:dv_risk",)),
    ("22(3)", "disability", ("disability_or_illness",)),
    ("22(1)", "repeat victimisation", ("previous_victimisation",)),
    ("22(1)", "intimidation and retaliation", ("fears_retaliation",)),
    ("22(4)", "child victims presumed to have specific needs", ("victim_age", "age_uncertain_may_be_child")),
    ("22(6)", "the victim's wishes on special measures", ("wants_special_measures",)),
    ("", "safety first: safe to talk, safe contact", ("safe_to_talk", "safe_contact_channels")),
]


# Routes the engine must find for canonical cases (issue 10): (article, element, the case, what
# counts as the route in the assessment). "DECLINED" marks every question declined.
DECLINED = "every answer declined"
CHILD_VICTIM = {"victim_age": 10, "crime_type": "sexual_violence", "offender_relationship": "family_member", "lives_with_offender": True}
TRAFFICKING = {"crime_type": "trafficking", "insecure_residence_status": True}


def _emergency_routes(assessment: Assessment) -> list[str]:
    return [route.service for route in assessment.safety.emergency] if assessment.safety is not None else []


def _reports(assessment: Assessment) -> list[str]:
    return [referral.service for referral in assessment.referrals if referral.mode == "report"]


def _residence_information(assessment: Assessment) -> list[str]:
    return [item.id for item in assessment.information if item.id == "trafficking_residence"]


ROUTES: list[tuple[str, str, dict[str, Any] | str, Any]] = [
    ("", "safety first: emergency route when every answer is declined", DECLINED, _emergency_routes),
    ("22(4)", "statutory child-protection route for a child victim (a report)", CHILD_VICTIM, _reports),
    ("22(3)", "trafficking: reflection period and residence information", TRAFFICKING, _residence_information),
]


def article_4_letters(legal_basis: list[str]) -> list[str]:
    return sorted({m.group(1) for basis in legal_basis for m in _ARTICLE_4.finditer(basis)})


@dataclass
class CountryResult:
    country: str
    ruleset: Ruleset
    assessment: Assessment | None
    not_used: list[str] = field(default_factory=list)
    not_valid: list[str] = field(default_factory=list)


def assess_everywhere(rulesets: list[Ruleset], answers: dict[str, Any], as_of: dt.date, language: str | None) -> list[CountryResult]:
    """Assess one case under each ruleset, setting aside answers a ruleset does not know or accept."""
    results = []
    for ruleset in rulesets:
        known = {q.id for q in ruleset.questions}
        usable = {k: v for k, v in answers.items() if k in known}
        result = CountryResult(ruleset.country, ruleset, None, not_used=sorted(k for k in answers if k not in known))
        try:
            validated = ruleset.validate_answers(usable)
        except AnswersError as error:
            bad = {p.path.removeprefix("$.") for p in error.problems}
            result.not_valid = sorted(bad)
            validated = ruleset.validate_answers({k: v for k, v in usable.items() if k not in bad})
        result.assessment = ruleset.evaluate(validated, as_of=as_of, language=language, trace=False)
        results.append(result)
    return results


def _level(assessment: Assessment, score_id: str) -> str:
    score = next((s for s in assessment.scores if s.id == score_id), None)
    if score is None:
        return "—"
    if score.level:
        return score.level
    return "undecided: " + "/".join(score.possible_levels) if score.possible_levels else "no level"


def comparison_rows(results: list[CountryResult]) -> list[tuple[str, list[str]]]:
    """The side-by-side table: one row per aspect, one cell per country."""
    rows: list[tuple[str, list[str]]] = []
    rows.append(("ruleset version", [f"{r.ruleset.version}" for r in results]))
    rows.append(("not safe to talk: safety block", [_safety_cell(r) for r in results]))
    for score_id in ("dv_risk", "vulnerability"):
        rows.append((f"level {score_id}", [_level(r.assessment, score_id) for r in results if r.assessment]))
    categories = sorted({ref.category for r in results if r.assessment for ref in r.assessment.referrals})
    for category in categories:
        cells = []
        for r in results:
            assert r.assessment is not None
            refs = [f"{ref.service} ({ref.priority}, {ref.mode.replace('_', '-')})" for ref in r.assessment.referrals if ref.category == category]
            cells.append("; ".join(refs) or "—")
        rows.append((f"referral: {category.replace('_', ' ')}", cells))
    for letter, label in ARTICLE_4.items():
        cells = []
        for r in results:
            assert r.assessment is not None
            given = [i.id for i in r.assessment.information if letter in article_4_letters(i.legal_basis)]
            pending = [p.id for p in r.assessment.pending if p.kind == "information" and letter in _item_letters(r.ruleset, p.id)]
            cells.append(", ".join(given) if given else ("pending" if pending else "—"))
        rows.append((f"info Art. 4(1)({letter}) {label}", cells))
    rows.append(("deferred until safe", [", ".join(f"{d.service} ({d.why.replace('_', ' ')})" for d in r.assessment.deferred) or "—" for r in results if r.assessment]))
    rows.append(("status", [r.assessment.status.replace("_", " ") for r in results if r.assessment]))
    rows.append(("pending rules", [str(len(r.assessment.pending)) for r in results if r.assessment]))
    rows.append(("undecidable (victim's choice)", [str(len(r.assessment.undecidable)) for r in results if r.assessment]))
    rows.append(("still to ask", [", ".join(r.assessment.next_questions[:6]) + (" …" if len(r.assessment.next_questions) > 6 else "") or "—" for r in results if r.assessment]))
    rows.append(("answers not used", [", ".join(r.not_used) or "—" for r in results]))
    rows.append(("answers not valid here", [", ".join(r.not_valid) or "—" for r in results]))
    return rows


def _safety_cell(result: CountryResult) -> str:
    if result.ruleset.compiled.safety is None:
        return "not checked (version predates it)"
    block = result.assessment.safety if result.assessment else None
    return "—" if block is None else "shown; emergency: " + ", ".join(route.service for route in block.emergency)


def _item_letters(ruleset: Ruleset, item_id: str) -> list[str]:
    item = next((i for i in ruleset.compiled.information if i.spec.id == item_id), None)
    return article_4_letters(item.spec.legal_basis) if item else []


def coverage_matrix(rulesets: list[Ruleset], as_of: dt.date) -> list[tuple[str, str, list[list[str]]]]:
    """(article, element, per ruleset the ids that address it) for Art. 4(1)(a)-(k) and Art. 22, and
    the routes found by running canonical cases through the engine (``ROUTES``)."""
    rows = []
    for letter, label in ARTICLE_4.items():
        cells = [[i.spec.id for i in r.compiled.information if letter in article_4_letters(i.spec.legal_basis)] for r in rulesets]
        rows.append((f"4(1)({letter})", label, cells))
    for article, label, needs in ARTICLE_22:
        cells = []
        for ruleset in rulesets:
            used = _used_questions(ruleset)
            scores = {s.spec.id for s in ruleset.compiled.scores}
            found = [n for n in needs if (n.startswith("score:") and n[6:] in scores) or n in used]
            cells.append(found)
        rows.append((article, label, cells))
    every_question = {q.id: {"status": "declined"} for r in rulesets for q in r.questions}
    for article, label, case, route in ROUTES:
        answers = every_question if isinstance(case, str) else case
        results = assess_everywhere(rulesets, answers, as_of, None)
        rows.append((article, label, [route(r.assessment) if r.assessment else [] for r in results]))
    return rows


def _used_questions(ruleset: Ruleset) -> set[str]:
    compiled = ruleset.compiled
    used: set[str] = set()
    for question in compiled.questions:
        if question.ask_if:
            used.update(question.ask_if.reads)
    for score in compiled.scores:
        for item in score.items:
            used.update(item.condition.reads)
        for _, condition in score.levels:
            if condition:
                used.update(condition.reads)
    for rule in (*compiled.referrals, *compiled.information):
        used.update(rule.condition.reads)
    used.update(referenced_names(ruleset_texts(compiled.document))["answers"])
    return used


# -- rendering ----------------------------------------------------------------------------------


def render_grid(headers: list[str], rows: list[tuple[str, list[str]]], width: int = 26) -> str:
    """A plain-text table with wrapped cells."""
    label_width = min(max(len(label) for label, _ in rows), 40)
    widths = [label_width] + [width] * len(headers)
    lines = []

    def emit(cells: list[str]) -> None:
        wrapped = [textwrap.wrap(cell, w) or [""] for cell, w in zip(cells, widths)]
        for index in range(max(len(w) for w in wrapped)):
            lines.append(" | ".join((w[index] if index < len(w) else "").ljust(widths[i]) for i, w in enumerate(wrapped)).rstrip())

    emit([""] + headers)
    lines.append("-+-".join("-" * w for w in widths))
    for label, cells in rows:
        emit([label] + cells)
    return "\n".join(lines) + "\n"


def render_markdown_table(headers: list[str], rows: list[tuple[str, list[str]]]) -> str:
    escape = lambda text: text.replace("|", "\\|")  # noqa: E731
    lines = ["| | " + " | ".join(headers) + " |", "|---|" + "---|" * len(headers)]
    lines += ["| " + escape(label) + " | " + " | ".join(escape(c) for c in cells) + " |" for label, cells in rows]
    return "\n".join(lines) + "\n"
