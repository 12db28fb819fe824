"""Decision records: what a case file or a log keeps of an assessment, without the answers.

A record binds the decisions of one assessment to exactly what produced them::

    format, record_id, created_at, case_id, as_of
    ruleset      id, country, version, sha256; whether that file matched the manifest; signing key id
    engine       version and build (a hash of the installed package's own files)
    answers      a digest of the answers: HMAC-SHA256 with a deployment key, else salted SHA-256
    decisions    levels, referrals (service, mode, priority), deferred, information, pending and undecidable ids

It holds no answer values, no trace, no points and no indicators: nothing from which an answer can
be read back. The digest lets a replay prove that the answers it is given are the recorded ones.
Without a deployment key the digest is a salted SHA-256, which anyone holding the record can test
guesses against (answers have few possible values); with a key (``INVICTUS_RECORD_KEY`` or the
``key`` argument) only holders of the key can.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
import os
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field

from ._version import __version__
from .answers import Answers
from .errors import InvictusError, Problem

RECORD_FORMAT = "invictus-rules/record/v1"
RECORD_KEY_ENV = "INVICTUS_RECORD_KEY"
MIN_KEY_BYTES = 16
_DIGEST_CONTEXT = b"invictus-rules/answers/v1\n"

Clock = Callable[[], dt.datetime]
ManifestState = Literal["match", "draft", "not-checked"]


@dataclass(frozen=True)
class Provenance:
    """Where a loaded ruleset came from, as far as the manifest can vouch for it.

    ``manifest`` is ``match`` (a published file whose hash is the manifest's), ``draft`` (a draft,
    never in the manifest) or ``not-checked`` (text, or a file outside a rulesets folder);
    ``signed_by`` the id of the key whose signature on the manifest entry was verified.
    """

    manifest: ManifestState = "not-checked"
    signed_by: str | None = None


NOT_CHECKED = Provenance()


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RecordRuleset(_Part):
    id: str
    country: str
    version: str
    sha256: str
    manifest: ManifestState = Field(description="match: the published file's hash is the manifest's; draft; not-checked: loaded from text or outside a rulesets folder")
    signed_by: str | None = Field(description="id of the key whose signature on the manifest entry was verified, or null when unsigned")


class EngineBuild(_Part):
    version: str
    build: str = Field(description="sha256 over the installed package's own files (code and templates, not rulesets)")


class AnswersDigest(_Part):
    algorithm: Literal["hmac-sha256", "sha256"] = Field(description="hmac-sha256 with a deployment key; sha256 (weaker: guesses can be tested) without")
    key_id: str | None = Field(description="identifies the deployment key (not the key); null for sha256")
    salt: str = Field(description="random, per record, so equal answers give unrelated digests")
    value: str


class RecordReferral(_Part):
    service: str
    mode: str
    priority: str


class RecordDeferred(_Part):
    rule: str
    service: str
    mode: str
    priority: str
    why: str


class Decisions(_Part):
    levels: dict[str, str | None] = Field(description="per score, its level; null when none or not yet decided")
    referrals: list[RecordReferral]
    deferred: list[RecordDeferred]
    information: list[str]
    pending: list[str] = Field(description="ids of the rules and scores unanswered questions keep open")
    undecidable: list[str] = Field(default_factory=list, description="ids of the rules only declined or unknown answers keep open")


class DecisionRecord(_Part):
    """The record of one assessment: ids, hashes, engine build, digest of the answers, decisions.

    Not special-category data in itself (no answer, trace, points or indicator), but personal data
    wherever ``case_id`` links it to a person: decisions such as a referral say something about a case.
    """

    format: Literal["invictus-rules/record/v1"] = "invictus-rules/record/v1"
    record_id: str
    created_at: dt.datetime
    case_id: str | None
    as_of: dt.date
    ruleset: RecordRuleset
    engine: EngineBuild
    answers: AnswersDigest
    decisions: Decisions


# -- the engine build ----------------------------------------------------------------------------

_BUILD_SUFFIXES = frozenset({".py", ".j2", ".html", ".md", ".css", ".json", ".typed"})


@functools.cache
def engine_build() -> str:
    """sha256 over the installed package's own files (code, templates, schema), computed once.

    Rulesets shipped inside the package are left out: they have their own hashes.
    """
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256(b"invictus-rules/engine-build/v1\n")
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package)
        if not path.is_file() or path.suffix not in _BUILD_SUFFIXES or relative.parts[0] in ("rulesets", "__pycache__") or "__pycache__" in relative.parts:
            continue
        data = path.read_bytes()
        digest.update(f"{relative.as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


# -- the digest of the answers -------------------------------------------------------------------


class RecordKeyError(InvictusError):
    """A deployment key for records is too short to protect the answers."""

    code = "record-key"


def resolve_key(key: bytes | str | None) -> bytes | None:
    """The deployment key: the argument, else ``INVICTUS_RECORD_KEY``, else none."""
    if key is None:
        key = os.environ.get(RECORD_KEY_ENV) or None
    if key is None:
        return None
    raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if len(raw) < MIN_KEY_BYTES:
        raise RecordKeyError(
            [Problem("record-key-too-short", f"the deployment key for records must have at least {MIN_KEY_BYTES} bytes", "generate one with: python -c \"import secrets; print(secrets.token_hex(32))\"")]
        )
    return raw


def key_id(key: bytes) -> str:
    """A short public name for a deployment key (a hash of it, from which the key cannot be found)."""
    return hashlib.sha256(b"invictus-rules/record-key/v1\n" + key).hexdigest()[:16]


def canonical_answers(answers: Mapping[str, Any] | Answers) -> bytes:
    """One byte string per set of answers, whether given raw (JSON-like) or validated.

    Not answered (null) is left out; declined and unknown are their markers; numbers that are whole
    are written as integers; dates as YYYY-MM-DD; lists of choices sorted and without repeats.
    """
    if isinstance(answers, Answers):
        items: dict[str, Any] = {key: _canonical_value(value) for key, value in answers.values.items()}
        items.update({key: {"status": "declined"} for key in answers.declined})
        items.update({key: {"status": "unknown"} for key in answers.unknown})
    else:
        items = {str(key): _canonical_value(value) for key, value in answers.items() if value is not None}
    return json.dumps(items, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _canonical_value(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _canonical_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        unique = {json.dumps(item, sort_keys=True): item for item in map(_canonical_value, value)}
        return [unique[text] for text in sorted(unique)]
    return str(value)


def digest_answers(answers: Mapping[str, Any] | Answers, *, salt: str, key: bytes | None) -> AnswersDigest:
    """The digest of ``answers`` with ``salt``: keyed when ``key`` is given."""
    message = _DIGEST_CONTEXT + salt.encode("ascii") + b"\n" + canonical_answers(answers)
    if key is not None:
        return AnswersDigest(algorithm="hmac-sha256", key_id=key_id(key), salt=salt, value=hmac.new(key, message, hashlib.sha256).hexdigest())
    return AnswersDigest(algorithm="sha256", key_id=None, salt=salt, value=hashlib.sha256(message).hexdigest())


def digest_matches(recorded: AnswersDigest, answers: Mapping[str, Any] | Answers, key: bytes | None) -> bool:
    """Whether ``answers`` are the ones ``recorded`` was made from (in constant time)."""
    again = digest_answers(answers, salt=recorded.salt, key=key if recorded.algorithm == "hmac-sha256" else None)
    return hmac.compare_digest(again.value, recorded.value)


# -- the record ----------------------------------------------------------------------------------


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def decisions_of(assessment: Any) -> Decisions:
    """The decisions of an assessment: levels, referrals, deferred, information and pending ids."""
    return Decisions(
        levels={score.id: score.level for score in assessment.scores},
        referrals=[RecordReferral(service=r.service, mode=r.mode, priority=r.priority) for r in assessment.referrals],
        deferred=[RecordDeferred(rule=d.rule, service=d.service, mode=d.mode, priority=d.priority, why=d.why) for d in assessment.deferred],
        information=[item.id for item in assessment.information],
        pending=[item.id for item in assessment.pending],
        undecidable=[item.id for item in assessment.undecidable],
    )


def make_record(
    assessment: Any,
    answers: Mapping[str, Any] | Answers,
    *,
    provenance: Provenance = NOT_CHECKED,
    case_id: str | None = None,
    key: bytes | str | None = None,
    clock: Clock | None = None,
    record_id: str | None = None,
) -> DecisionRecord:
    """The decision record of ``assessment``, made from ``answers`` (which it does not keep)."""
    created = (clock or utc_now)()
    if created.tzinfo is None:
        raise ValueError("the clock must give an aware datetime (e.g. in UTC)")
    ref = assessment.ruleset
    return DecisionRecord(
        record_id=record_id or uuid.uuid4().hex,
        created_at=created.astimezone(dt.timezone.utc),
        case_id=case_id,
        as_of=assessment.as_of,
        ruleset=RecordRuleset(
            id=ref.id, country=ref.country, version=ref.version, sha256=ref.sha256, manifest=provenance.manifest, signed_by=provenance.signed_by
        ),
        engine=EngineBuild(version=__version__, build=engine_build()),
        answers=digest_answers(answers, salt=secrets.token_hex(16), key=resolve_key(key)),
        decisions=decisions_of(assessment),
    )




# -- replaying a record --------------------------------------------------------------------------

MAX_DIFFERENCES_SHOWN = 5


class ReplayError(InvictusError):
    """A record cannot be replayed with what was given: other answers, another key or another ruleset."""

    code = "replay-refused"


@dataclass(frozen=True)
class ReplayNotice:
    code: str
    message: str


@dataclass(frozen=True)
class ReplayResult:
    """What replaying a record gave: identical, or which decisions differ; and what to be wary of."""

    record: DecisionRecord
    replayed: Decisions
    differences: tuple[tuple[str, Any, Any], ...]
    warnings: tuple[ReplayNotice, ...]

    @property
    def identical(self) -> bool:
        return not self.differences

    def summary(self, limit: int = MAX_DIFFERENCES_SHOWN) -> str:
        """One line: IDENTICAL, or the number of differences by kind and the first few paths."""
        if self.identical:
            return "IDENTICAL: the replayed decisions are the recorded ones"
        kinds: dict[str, int] = {}
        for path, _, _ in self.differences:
            kind = path.split(".")[1]
            kinds[kind] = kinds.get(kind, 0) + 1
        counts = ", ".join(f"{kind} {count}" for kind, count in kinds.items())
        first = "; ".join(f"{path}: recorded {_shown(old)}, replayed {_shown(new)}" for path, old, new in self.differences[:limit])
        more = f"; and {len(self.differences) - limit} more" if len(self.differences) > limit else ""
        return f"DIFFERENT: {len(self.differences)} difference{'s' if len(self.differences) != 1 else ''} ({counts}): {first}{more}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "identical": self.identical,
            "record_id": self.record.record_id,
            "differences": len(self.differences),
            "first_differences": [{"path": p, "recorded": o, "replayed": n} for p, o, n in self.differences[:MAX_DIFFERENCES_SHOWN]],
            "warnings": [{"code": w.code, "message": w.message} for w in self.warnings],
            "summary": self.summary(),
        }


def _shown(value: Any) -> str:
    return "absent" if value is None else json.dumps(value, ensure_ascii=False)


def check_replayable(record: DecisionRecord, sha256: str, answers: Mapping[str, Any] | Answers, key: bytes | str | None) -> None:
    """Refuse (ReplayError) another ruleset, another deployment key, or answers that are not the recorded ones."""
    ref = record.ruleset
    if ref.sha256 != sha256:
        raise ReplayError(
            [Problem("different-ruleset", f"the record was made with {ref.country}@{ref.version} sha256 {ref.sha256}, not with this ruleset (sha256 {sha256})", f"replay with {ref.country}@{ref.version} as published (restore it from version control)")]
        )
    digest = record.answers
    deployment_key = resolve_key(key) if digest.algorithm == "hmac-sha256" else None
    if digest.algorithm == "hmac-sha256":
        if deployment_key is None:
            raise ReplayError(
                [Problem("record-key-needed", f"the record's digest of the answers is keyed (key id {digest.key_id}), and no key was given", f"give the deployment key: set {RECORD_KEY_ENV} or pass key=")]
            )
        if key_id(deployment_key) != digest.key_id:
            raise ReplayError(
                [Problem("record-key-differs", f"the record was made with the deployment key {digest.key_id}, not with the key given ({key_id(deployment_key)})", "use the key of the deployment that made the record")]
            )
    if not digest_matches(digest, answers, deployment_key):
        raise ReplayError(
            [
                Problem(
                    "not-the-recorded-answers",
                    f"these are not the recorded answers: their digest differs from record {record.record_id}'s" + (f" (case {record.case_id})" if record.case_id else ""),
                    "replay with the answers the record was made from, exactly (values are not shown, to protect the victim's data)",
                )
            ]
        )


def replay_warnings(record: DecisionRecord, effective_from: dt.date | None, effective_until: dt.date | None) -> list[ReplayNotice]:
    """What makes a replay less than proof: another engine build, a date outside the version's, no manifest."""
    warnings = []
    build = engine_build()
    if record.engine.build != build or record.engine.version != __version__:
        warnings.append(
            ReplayNotice(
                "engine-build-differs",
                f"the record was made by engine {record.engine.version} build {record.engine.build[:12]}; this is engine {__version__} build {build[:12]}: a difference may come from the engine",
            )
        )
    if outside_dates(record.as_of, effective_from, effective_until):
        until = f" until {effective_until.isoformat()}" if effective_until else ""
        warnings.append(
            ReplayNotice(
                "as-of-outside-version",
                f"the record's as_of {record.as_of.isoformat()} is outside the dates of {record.ruleset.country}@{record.ruleset.version} (in force from {effective_from}{until})",
            )
        )
    if record.ruleset.manifest != "match":
        state = {"draft": "a draft", "not-checked": "not checked against a manifest"}[record.ruleset.manifest]
        warnings.append(ReplayNotice("not-in-manifest", f"the record's ruleset was {state} when the record was made, not a published version the manifest vouched for"))
    return warnings


def outside_dates(day: dt.date, effective_from: dt.date | None, effective_until: dt.date | None) -> bool:
    """Whether ``day`` falls outside a version's effective dates (a version without dates has none to fall outside)."""
    return effective_from is not None and (day < effective_from or (effective_until is not None and day > effective_until))


def compare_decisions(recorded: Decisions, replayed: Decisions) -> tuple[tuple[str, Any, Any], ...]:
    """Differences as (path, recorded, replayed): levels by score, referrals and deferred by service,
    information and pending by id (present or absent)."""
    found: list[tuple[str, Any, Any]] = []
    for score in dict.fromkeys([*recorded.levels, *replayed.levels]):
        old, new = recorded.levels.get(score, "(no such score)"), replayed.levels.get(score, "(no such score)")
        if old != new:
            found.append((f"decisions.levels.{score}", old, new))
    for kind, key in (("referrals", "service"), ("deferred", "rule")):
        old_items = {getattr(item, key): item.model_dump() for item in getattr(recorded, kind)}
        new_items = {getattr(item, key): item.model_dump() for item in getattr(replayed, kind)}
        for name in dict.fromkeys([*old_items, *new_items]):
            old_item, new_item = old_items.get(name), new_items.get(name)
            if old_item is None or new_item is None:
                found.append((f"decisions.{kind}.{name}", old_item and "present", new_item and "present"))
                continue
            for field in old_item:
                if old_item[field] != new_item[field]:
                    found.append((f"decisions.{kind}.{name}.{field}", old_item[field], new_item[field]))
    for kind in ("information", "pending", "undecidable"):
        old_ids, new_ids = getattr(recorded, kind), getattr(replayed, kind)
        for name in dict.fromkeys([*old_ids, *new_ids]):
            if (name in old_ids) != (name in new_ids):
                found.append((f"decisions.{kind}.{name}", "present" if name in old_ids else None, "present" if name in new_ids else None))
    order = [item.service for item in recorded.referrals]
    if not found and order != [item.service for item in replayed.referrals]:
        found.append(("decisions.referrals.(order)", order, [item.service for item in replayed.referrals]))
    return tuple(found)


__all__ = [
    "DecisionRecord",
    "Decisions",
    "Provenance",
    "RecordKeyError",
    "ReplayError",
    "ReplayResult",
    "canonical_answers",
    "decisions_of",
    "digest_answers",
    "digest_matches",
    "engine_build",
    "make_record",
]
