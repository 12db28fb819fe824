"""Reproduce a past assessment: same ruleset version (hash verified), same date, same language."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic

from ..api import Ruleset, load_ruleset
from ..cases import Case
from ..errors import CaseError, InvictusError, Location, Problem
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


_ERROR_KINDS = {"missing": "missing", "extra_forbidden": "not part of an assessment"}


def read_assessment(data: Any, file: str) -> Assessment:
    """The recorded assessment, or a CaseError that names no key and no value of the file (a
    tampered record may carry anything in its keys) and does not chain pydantic's error, which
    holds the whole input."""
    try:
        return Assessment.model_validate(data)
    except pydantic.ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
    kinds = sorted({_ERROR_KINDS.get(error["type"], "of the wrong type or form") for error in errors})
    count = len(errors)
    raise CaseError(
        [
            Problem(
                "invalid-assessment",
                f"the file is not an assessment made by invictus-rules: {count} field{'s' if count != 1 else ''} {'is' if count == 1 else 'are'} {' or '.join(kinds)}",
                "pass the JSON written by 'invictus-rules assess --format json', unchanged",
                Location(file),
            )
        ]
    )


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
        trace=recorded.trace is not None,
        trace_values=with_values,
    )
    # only what the recording holds: fields a later engine added are not differences
    before = recorded.model_dump(mode="json", exclude={"engine_version"}, exclude_unset=True)
    after = again.model_dump(mode="json", exclude={"engine_version"})
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
    if not result.hash_matches:
        lines.append(f"DIFFERENT RULESET: the recorded sha256 is {ref.sha256}, the {ref.country}@{ref.version} found now has {result.ruleset.sha256}.")
        lines.append("The published file was changed after the assessment; restore it from version control to reproduce the assessment.")
        return "\n".join(lines) + "\n"
    lines.append(f"ruleset hash verified: {ref.sha256}")
    recorded_engine, current_engine = result.engine_versions
    if recorded_engine != current_engine:
        lines.append(f"engine version: recorded {recorded_engine}, now {current_engine}")
    if result.identical:
        lines.append("IDENTICAL: the replayed assessment matches the recorded one.")
    else:
        lines.append(f"DIFFERENT: {len(result.differences)} difference(s):")
        for path, old, new in result.differences[:50]:
            if ".values" in path:
                lines.append(f"  {path}: recorded and replayed values differ (not shown)")
            else:
                lines.append(f"  {path}: recorded {old!r}, replayed {new!r}")
    return "\n".join(lines) + "\n"


__all__ = ["replay", "read_assessment", "render_text", "ReplayResult", "InvictusError"]
