"""Assessment -> text for a terminal, or Markdown. JSON is the model's own deterministic dump."""

from __future__ import annotations

from .result import Assessment

_MODE_TEXT = {
    "inform_only": "inform only: give the victim the contact",
    "opt_in": "opt-in: refer only with the victim's consent",
    "opt_out": "opt-out: refer unless the victim declines",
}


def _points(low: float, high: float) -> str:
    fmt = lambda v: str(int(v)) if float(v).is_integer() else str(v)  # noqa: E731
    return fmt(low) if low == high else f"{fmt(low)} to {fmt(high)}"


def render_text(assessment: Assessment) -> str:
    """A plain-text report of an assessment, for a caseworker's terminal."""
    ref = assessment.ruleset
    lines = [
        f"Assessment with {ref.id} {ref.version} ({ref.country}, sha256 {ref.sha256[:12]}), "
        f"as of {assessment.as_of.isoformat()}, language {assessment.language}",
        "Complete." if assessment.complete else "Not complete: some rules wait for answers (see Pending).",
        "",
        "Scores",
    ]
    for score in assessment.scores:
        if score.level is not None:
            level = score.level_label or score.level
        elif score.possible_levels:
            level = "undecided: " + " to ".join((score.possible_levels[0], score.possible_levels[-1]))
        else:
            level = "no level"
        extra = " (raised by professional judgement)" if score.overridden else ""
        critical = _points(score.critical_min, score.critical_max)
        lines.append(f"  {score.title}: {level}{extra}; {_points(score.points_min, score.points_max)} points, {critical} critical")
    if not assessment.scores:
        lines.append("  (none)")
    lines += ["", "Referrals"]
    for number, referral in enumerate(assessment.referrals, 1):
        contact = ", ".join(part for part in (referral.phone, referral.url) if part)
        lines.append(f"  {number}. [{referral.priority.upper()}] {referral.name}" + (f" ({contact})" if contact else ""))
        lines.append(f"     {_MODE_TEXT[referral.mode]}")
        if referral.hours:
            lines.append(f"     hours: {referral.hours}")
        for reason in referral.reasons:
            lines.append(f"     why: {reason.text}")
    if not assessment.referrals:
        lines.append("  (none)")
    lines += ["", "Information for the victim"]
    for item in assessment.information:
        lines.append(f"  * {item.title} [{'; '.join(item.legal_basis)}]")
        for paragraph in item.body.splitlines():
            if paragraph.strip():
                lines.append(f"      {paragraph.strip()}")
    if not assessment.information:
        lines.append("  (none)")
    if assessment.pending:
        lines += ["", "Pending (decided once these questions are answered)"]
        for pending in assessment.pending:
            what = f"{pending.kind} {pending.id}" + (f" -> {pending.service}" if pending.service else "")
            ask = ", ".join(pending.questions) or "no question left to ask"
            lines.append(f"  - {what}: ask {ask}")
            if pending.declined_or_unknown:
                lines.append(f"      also depends on declined or unknown: {', '.join(pending.declined_or_unknown)}")
    if assessment.next_questions:
        lines += ["", "Next questions: " + ", ".join(assessment.next_questions)]
    if assessment.declined:
        lines.append("Declined: " + ", ".join(assessment.declined))
    if assessment.unknown:
        lines.append("Not known: " + ", ".join(assessment.unknown))
    if assessment.ignored_answers:
        lines.append("Ignored (question not asked): " + ", ".join(a.question for a in assessment.ignored_answers))
    if assessment.warnings:
        lines += ["", "Warnings"]
        lines += [f"  - [{w.code}] {w.message}" for w in assessment.warnings]
    return "\n".join(lines) + "\n"
