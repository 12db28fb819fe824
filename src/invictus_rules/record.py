"""Decision records: what a case file or a log keeps of an assessment, without the answers.

A record binds the decisions of one assessment to exactly what produced them::

    format, record_id, created_at, case_id, as_of
    ruleset      id, country, version, sha256; whether that file matched the manifest; signing key id
    engine       version and build (a hash of the installed package's own files)
    answers      a digest of the answers: HMAC-SHA256 with a deployment key, else salted SHA-256
    decisions    levels, referrals (service, mode, priority), deferred, information ids, pending ids

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


class DecisionRecord(_Part):
    """The record of one assessment: ids, hashes, engine build, digest of the answers, decisions.

    Not special-category data in itself (no answer, trace, points or indicator), but personal data
    wherever ``case_id`` links it to a person: decisions such as a referral say something about a case.
    """

    format: Literal["invictus-rules/record/v1"] = RECORD_FORMAT
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
        deferred=[RecordDeferred(rule=d.rule, service=d.service, mode=d.mode, priority=d.priority, why=d.why) for d in getattr(assessment, "deferred", None) or ()],
        information=[item.id for item in assessment.information],
        pending=[item.id for item in assessment.pending],
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


__all__ = [
    "DecisionRecord",
    "Decisions",
    "Provenance",
    "RecordKeyError",
    "canonical_answers",
    "decisions_of",
    "digest_answers",
    "digest_matches",
    "engine_build",
    "make_record",
]
