"""Assessment -> text for a terminal. JSON is the model's own deterministic dump.

Every word around the ruleset's own texts comes from the phrase table in :mod:`invictus_rules.labels`,
in the assessment's language. When it is not safe to talk, the safety block comes first.
"""

from __future__ import annotations

from collections.abc import Mapping

from .labels import labels
from .numbers import format_number
from .result import Assessment, PendingResult, SafetyRoute


def _points(low: float, high: float, words: Mapping[str, str]) -> str:
    return format_number(low) if low == high else words["out.range"].format(low=format_number(low), high=format_number(high))


def _route(route: SafetyRoute) -> str:
    contact = ", ".join(part for part in (route.phone, route.url) if part)
    return route.name + (f" ({contact})" if contact else "")


def render_text(assessment: Assessment) -> str:
    """A plain-text report of an assessment, for a caseworker's terminal, in its language."""
    words = labels(assessment.language)
    ref = assessment.ruleset
    lines = _safety(assessment, words)
    lines += [
        words["out.header"].format(
            ruleset=ref.id, version=ref.version, country=ref.country, sha=ref.sha256[:12], date=assessment.as_of.isoformat(), language=assessment.language
        ),
        words[f"out.status.{assessment.status}"],
        "",
        words["scores"],
    ]
    for score in assessment.scores:
        if score.level is not None:
            level = score.level_label or score.level
        elif score.possible_levels:
            level = words["out.undecided"].format(low=score.possible_level_labels[0], high=score.possible_level_labels[-1])
        else:
            level = words["out.no_level"]
        extra = f" ({words['out.raised']})" if score.overridden else ""
        amount = words["out.points"].format(points=_points(score.points_min, score.points_max, words), critical=_points(score.critical_min, score.critical_max, words))
        lines.append("  " + _field(words, score.title, f"{level}{extra}; {amount}"))
    lines += _none(not assessment.scores, words)
    lines += ["", words["referrals"]]
    for number, referral in enumerate(assessment.referrals, 1):
        contact = ", ".join(part for part in (referral.phone, referral.url) if part)
        lines.append(f"  {number}. [{words[f'out.priority.{referral.priority}']}] {referral.name}" + (f" ({contact})" if contact else ""))
        lines.append("     " + _field(words, words[f"mode.{referral.mode}"], words[f"mode_explained.{referral.mode}"]))
        if referral.hours:
            lines.append("     " + _field(words, words["hours"], referral.hours))
        for reason in referral.reasons:
            lines.append("     " + _field(words, words["out.why"], reason.text))
            if reason.action:
                lines.append("     " + _field(words, words["out.action"], reason.action))
            if reason.legal_basis:
                lines.append("     " + _field(words, words["legal_basis"], "; ".join(reason.legal_basis)))
    lines += _none(not assessment.referrals, words)
    if assessment.deferred and assessment.safety is None:
        lines += ["", words["out.deferred"], *_deferred(assessment, words)]
    lines += ["", words["information"]]
    for item in assessment.information:
        lines.append(f"  * {item.title} [{'; '.join(item.legal_basis)}]")
        for paragraph in item.body.splitlines():
            if paragraph.strip():
                lines.append(f"      {paragraph.strip()}")
    lines += _none(not assessment.information, words)
    if assessment.pending:
        lines += ["", words["out.pending"]]
        for pending in assessment.pending:
            lines.append("  - " + _field(words, _what(pending, words), words["out.ask"].format(questions=", ".join(pending.questions))))
            if pending.declined_or_unknown:
                lines.append(f"      {words['out.also_depends'].format(questions=', '.join(pending.declined_or_unknown))}")
    if assessment.undecidable:
        lines += ["", words["out.undecidable"]]
        for undecidable in assessment.undecidable:
            lines.append("  - " + _field(words, _what(undecidable, words), words["out.depends_on"].format(questions=", ".join(undecidable.declined_or_unknown))))
    if assessment.next_questions:
        lines += ["", _field(words, words["out.next_questions"], ", ".join(assessment.next_questions))]
    if assessment.declined:
        lines.append(_field(words, words["out.declined"], ", ".join(assessment.declined)))
    if assessment.unknown:
        lines.append(_field(words, words["out.unknown"], ", ".join(assessment.unknown)))
    if assessment.ignored_answers:
        lines.append(_field(words, words["out.ignored"], ", ".join(a.question for a in assessment.ignored_answers)))
    if assessment.warnings:
        lines += ["", words["out.warnings"]]
        lines += [f"  - [{w.code}] {w.message}" for w in assessment.warnings]
    return "\n".join(lines) + "\n"


def _safety(assessment: Assessment, words: Mapping[str, str]) -> list[str]:
    """The first lines when it is not safe to talk: what to do now, the routes, what is deferred."""
    block = assessment.safety
    if block is None:
        return []
    heading = words[f"out.safety.{block.safe_to_talk}"]
    lines = ["!" * len(heading), heading, "!" * len(heading), _field(words, words["out.do_now"], block.advice)]
    if block.emergency:
        lines.append(_field(words, words["out.emergency"], "; ".join(_route(r) for r in block.emergency)))
    if block.silent:
        lines.append(_field(words, words["out.silent"], "; ".join(_route(r) for r in block.silent)))
    if assessment.deferred:
        lines += [words["out.deferred"], *_deferred(assessment, words)]
    return lines + [""]


def _deferred(assessment: Assessment, words: Mapping[str, str]) -> list[str]:
    lines = []
    for item in assessment.deferred:
        lines.append("  - " + _field(words, f"[{words[f'out.priority.{item.priority}']}] {item.name} ({words[f'mode.{item.mode}']})", item.possible_when))
        lines.append("      " + _field(words, words["out.why"], item.reason))
    return lines


def _field(words: Mapping[str, str], label: str, text: str) -> str:
    """'label: text', punctuated as the language does (French puts a space before the colon)."""
    return words["out.field"].format(label=label, text=text)


def _what(record: PendingResult, words: Mapping[str, str]) -> str:
    return f"{words[f'out.kind.{record.kind}']} {record.id}" + (f" -> {record.service}" if record.service else "")


def _none(empty: bool, words: Mapping[str, str]) -> list[str]:
    return [f"  ({words['none']})"] if empty else []
