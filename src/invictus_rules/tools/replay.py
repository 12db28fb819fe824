"""Replay on the command line: a decision record (answers verified by their digest) or, for older
files, a full assessment (answers cannot be verified: it holds no digest of them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..api import Ruleset, load_ruleset
from ..cases import Case, validate_model
from ..errors import InvictusError
from ..record import DecisionRecord
from ..record import ReplayResult as RecordReplay
from ..result import Assessment


@dataclass
class ReplayResult:
    recorded: Assessment
    ruleset: Ruleset
    hash_matches: bool
    differences: list[tuple[str, Any, Any]] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return self.hash_matches and not self.differences

    @property
    def engine_versions(self) -> tuple[str, str]:
        from .._version import __version__

        return self.recorded.engine_version, __version__


def read_assessment(data: Any, file: str) -> Assessment:
    """The recorded assessment, or a CaseError that names no key and no value of the file."""
    return validate_model(Assessment, data, file, "invalid-assessment", "an assessment", "pass the JSON written by 'invictus-rules assess --format json', unchanged")


def read_record(data: Any, file: str) -> DecisionRecord:
    """The decision record, or a CaseError that names no key and no value of the file."""
    return validate_model(DecisionRecord, data, file, "invalid-record", "a decision record", "pass the record as it was written, unchanged")


def replay(recorded: Assessment, case: Case, rulesets_dir: Path | None = None) -> ReplayResult:
    """Re-run ``case`` on the recorded ruleset version and compare with the recorded assessment."""
    reference = f"{recorded.ruleset.country}@{recorded.ruleset.version}"
    ruleset = load_ruleset(reference, rulesets_dir=rulesets_dir)
    result = ReplayResult(recorded, ruleset, ruleset.sha256 == recorded.ruleset.sha256)
    if not result.hash_matches:
        return result
    with_values = bool(recorded.trace and any("values" in e for e in recorded.trace.entries))
    again = ruleset.evaluate(
        case.answers,
        as_of=recorded.as_of,
        language=recorded.language,
        trace=True,  # for the indicators present, which older assessments hold without a trace
        trace_values=with_values,
    )
    # only what the recording holds: fields a later engine added are not differences; warnings
    # (dates, translations) are notes about the run, not decisions
    before = recorded.model_dump(mode="json", exclude={"engine_version", "warnings"}, exclude_unset=True)
    after = again.model_dump(mode="json", exclude={"engine_version", "warnings"})
    if recorded.trace is None:
        after["trace"] = None
    for old_score, new_score in zip(before.get("scores", []), after["scores"]):
        if old_score.get("present") is None:
            new_score["present"] = None
    result.differences = list(_differences(before, after, "$"))
    return result


def _differences(old: Any, new: Any, path: str) -> Any:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in old:
            yield from _differences(old[key], new.get(key), f"{path}.{key}")
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new)):
            yield from _differences(a, b, f"{path}[{index}]")
    elif old != new:
        yield path, old, new


def render_text(result: ReplayResult) -> str:
    ref = result.recorded.ruleset
    lines = [f"Replay of an assessment with {ref.country}@{ref.version} as of {result.recorded.as_of.isoformat()} in {result.recorded.language}"]
    lines.append(
        "warning[answers-not-verified]: an assessment holds no digest of its answers, so nothing shows these are the answers it was made from; "
        "keep decision records (assess --format record) and replay those"
    )
    if not result.hash_matches:
        lines.append(f"DIFFERENT RULESET: the recorded sha256 is {ref.sha256}, the {ref.country}@{ref.version} found now has {result.ruleset.sha256}.")
        lines.append("The published file was changed after the assessment; restore it from version control to reproduce the assessment.")
        return "\n".join(lines) + "\n"
    lines.append(f"ruleset hash verified: {ref.sha256}")
    recorded_engine, current_engine = result.engine_versions
    if recorded_engine != current_engine:
        lines.append(f"warning[engine-version-differs]: engine version recorded {recorded_engine}, now {current_engine}")
    if result.identical:
        lines.append("IDENTICAL: the replayed assessment matches the recorded one.")
    else:
        kinds: dict[str, int] = {}
        for path, _, _ in result.differences:
            kind = path.split(".")[1].split("[")[0]
            kinds[kind] = kinds.get(kind, 0) + 1
        counts = ", ".join(f"{kind} {count}" for kind, count in kinds.items())
        lines.append(f"DIFFERENT: {len(result.differences)} difference(s) ({counts}); the first:")
        for path, _, _ in result.differences[:MAX_SHOWN]:
            lines.append(f"  {path}")
        if len(result.differences) > MAX_SHOWN:
            lines.append(f"  ... and {len(result.differences) - MAX_SHOWN} more")
    return "\n".join(lines) + "\n"


MAX_SHOWN = 5


def render_record_replay(result: RecordReplay) -> str:
    """Text for a replayed record: what was verified, the warnings, then identical or the summary."""
    record = result.record
    ref = record.ruleset
    case = f" (case {record.case_id})" if record.case_id else ""
    digest = record.answers
    lines = [
        f"Replay of record {record.record_id}{case}: {ref.country}@{ref.version} as of {record.as_of.isoformat()}",
        f"ruleset hash verified: {ref.sha256}" + (f" (manifest entry signed by {ref.signed_by})" if ref.signed_by else ""),
        f"answers verified: {digest.algorithm}" + (f" with deployment key {digest.key_id}" if digest.key_id else " without a deployment key (weaker: see README, Audit trail)"),
    ]
    lines += [f"warning[{w.code}]: {w.message}" for w in result.warnings]
    lines.append(result.summary())
    return "\n".join(lines) + "\n"


__all__ = ["replay", "read_assessment", "render_text", "render_record_replay", "ReplayResult", "InvictusError"]
