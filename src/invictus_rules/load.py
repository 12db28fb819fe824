"""Find and read ruleset files: by path, or by country and date among the shipped versions.

Reading goes YAML text -> plain data with positions (``_yaml``) -> validated document
(``validate``), with the content hash; compiling it is :mod:`invictus_rules.compile`'s job.
A published file is used only when the manifest vouches for it. Every error on the way is a
positioned :class:`Problem`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic

from ._yaml import SourceMap, read_yaml
from .errors import InvictusError, Location, Problem, RulesetError, RulesetNotFoundError
from .expr.check import did_you_mean
from .model import Metadata, RulesetDocument
from .refs import is_country_code, is_ruleset_ref, parse_ruleset_ref, version_key
from .signing import check_signature, read_public_keys
from .validate import validate_document

logger = logging.getLogger("invictus_rules")

RULESETS_ENV = "INVICTUS_RULESETS"
MANIFEST = "manifest.json"


def shipped_rulesets_dir() -> Path:
    """The folder of shipped rulesets: inside the installed package, or the source checkout's."""
    override = os.environ.get(RULESETS_ENV)
    if override:
        return Path(override)
    packaged = Path(__file__).resolve().parent / "rulesets"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "rulesets"


def read_document(data: bytes | str, file: str) -> tuple[RulesetDocument, SourceMap, str]:
    """Parse and validate a ruleset's structure; return the document, its source map and digest."""
    if _looks_like_a_case(data):
        raise RulesetError(
            [
                Problem(
                    "not-a-ruleset",
                    'the file looks like a case (a JSON object with "answers"), not a ruleset; '
                    "its content is not shown, to protect the victim's data",
                    "assess a case with: invictus-rules assess RULESET CASE.json",
                    Location(file, 1, 1),
                )
            ]
        )
    if not _says_format(data):
        raise RulesetError([_not_a_ruleset(file)])
    raw, source = read_yaml(data, file)
    if isinstance(raw, dict) and "format" not in raw:
        raise RulesetError([_not_a_ruleset(file)])
    if not isinstance(raw, dict):
        raise RulesetError(
            [
                Problem(
                    "not-a-ruleset",
                    "the file is empty" if raw is None else "the file does not hold a ruleset: expected a mapping with format, metadata and questions",
                    "start from an existing ruleset under rulesets/",
                    Location(file, 1, 1),
                )
            ]
        )
    return validate_document(raw, source), source, content_digest(raw)


def content_digest(data: Any) -> str:
    """sha256 of the canonical JSON form of a ruleset's data: layout and comments do not count."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _says_format(data: bytes | str) -> bool:
    """Whether the text names the ruleset format anywhere (every ruleset starts with it)."""
    return (b"invictus-rules/" in data) if isinstance(data, bytes) else ("invictus-rules/" in data)


def _not_a_ruleset(file: str) -> Problem:
    """A file that does not say it is a ruleset: no line of it is quoted, since it may well be a case
    or another file with personal data in it."""
    return Problem(
        "not-a-ruleset",
        "the file does not hold a ruleset: it has no 'format: invictus-rules/v1'; "
        "its content is not shown, in case it holds a victim's data",
        "give a ruleset file (start from an existing one under rulesets/), or a country such as nl",
        Location(file, 1, 1),
    )


def _looks_like_a_case(data: bytes | str) -> bool:
    """A JSON case given where a ruleset belongs: refused before any line of it is quoted in an error."""
    text = data.lstrip(b"\xef\xbb\xbf \t\r\n") if isinstance(data, bytes) else data.lstrip("\ufeff \t\r\n")
    marker = b'"answers"' if isinstance(text, bytes) else '"answers"'
    return text[:1] in (b"{", "{") and marker in text  # type: ignore[operator]


def display_path(path: Path) -> str:
    """A path as users typed it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def usable_path(path: Path) -> Path:
    """``path``, unless it holds a NUL character (no file can have such a name; open() and resolve()
    would raise ValueError): then an invalid-reference error that does not repeat it."""
    if "\0" in str(path):
        raise RulesetNotFoundError([Problem("invalid-reference", "the path contains a NUL character", "check the path")])
    return path


def read_bytes(path: Path) -> bytes:
    usable_path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(20 * 1024 * 1024 + 1)
    except OSError as exc:
        raise RulesetNotFoundError(
            [Problem("file-not-readable", f"cannot read the file: {exc.strerror or type(exc).__name__}", "check the path", Location(str(path)))]
        ) from None
    return data


@dataclass(frozen=True)
class VersionInfo:
    """One ruleset file of a country, as listed without compiling it."""

    path: Path
    country: str
    version: str
    status: str
    effective_from: dt.date | None
    effective_until: dt.date | None

    def in_force(self, on: dt.date) -> bool:
        return self.status == "published" and self.effective_from is not None and self.effective_from <= on and (
            self.effective_until is None or on <= self.effective_until
        )


def read_metadata(path: Path) -> Metadata:
    """A ruleset file's metadata, reading no further than it (positioned errors on any problem)."""
    data = read_bytes(path)
    try:
        raw, _ = read_yaml(data, display_path(path), until_key="metadata")
        return Metadata.model_validate(raw["metadata"])
    except (RulesetError, pydantic.ValidationError, KeyError, TypeError):
        return read_document(data, display_path(path))[0].metadata  # raises the full, positioned errors


def list_versions(country: str, rulesets_dir: Path | None = None) -> list[VersionInfo]:
    """Every readable ruleset file of a country, oldest version first.

    A draft that cannot be read (half-saved, broken) is skipped with a logged warning; a published
    file that cannot be read is an error (see :func:`scan_versions`).
    """
    versions, warnings = scan_versions(country, rulesets_dir or shipped_rulesets_dir(), strict=False)
    for warning in warnings:
        logger.warning("%s", warning)
    return versions


def list_countries(rulesets_dir: Path | None = None) -> list[str]:
    folder = rulesets_dir or shipped_rulesets_dir()
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and is_country_code(p.name)) if folder.is_dir() else []


def path_reference(reference: str) -> Path:
    """The file a string names when it is not ``cc`` or ``cc@YYYY.N``: only a path to a ``.yaml`` or
    ``.yml`` file. Any other string is refused without touching the file system, so a service that
    passes on a country from a request cannot be made to read, or report on, other files.

    The reference is not repeated in the error (it may come from anywhere); a country written in
    capitals or with spaces gets the code it was probably meant to be.
    """
    def refuse(message: str, hint: str) -> RulesetNotFoundError:
        return RulesetNotFoundError([Problem("invalid-reference", message, hint)])

    if not isinstance(reference, str):
        raise refuse("a ruleset reference must be text or a path", 'give a country code such as "nl", "nl@2026.1", or a pathlib.Path')
    if "\0" in reference:
        raise refuse("the ruleset reference contains a NUL character", 'give a country code such as "nl", "nl@2026.1", or a path to a .yaml file')
    if reference.lower().endswith((".yaml", ".yml")) and len(reference) <= 4096 and reference.strip() == reference:
        return Path(reference)
    meant = unicodedata.normalize("NFKC", reference[:40]).strip().lower()
    if is_ruleset_ref(meant):
        raise refuse("the ruleset reference is not a country code as written", f'write it in lower case without spaces: "{meant}"')
    raise refuse(
        "the ruleset reference is neither a country code (like nl), nor a version (like nl@2026.1), nor a path to a .yaml file",
        "give a country code in lower case, a country and version, or a file name ending in .yaml (or a pathlib.Path)",
    )


def find_ruleset(
    reference: str,
    *,
    as_of: dt.date,
    version: str | None = None,
    rulesets_dir: Path | None = None,
) -> Path:
    """The file a reference names: a path, ``cc`` (version in force on ``as_of``) or ``cc@YYYY.N``."""
    parsed = parse_ruleset_ref(reference)
    if parsed is None:
        return path_reference(reference)
    country, version = parsed[0], parsed[1] or version
    folder = rulesets_dir or shipped_rulesets_dir()
    require_country(country, folder)
    return choose_version(country, list_versions(country, folder), as_of=as_of, version=version).path


def require_country(country: str, rulesets_dir: Path) -> None:
    """Raise ``unknown-country`` (with a did-you-mean) unless the folder has rulesets for ``country``."""
    countries = list_countries(rulesets_dir)
    if country not in countries:
        raise RulesetNotFoundError(
            [
                Problem(
                    "unknown-country",
                    f'there is no ruleset for the country "{country}"',
                    did_you_mean(country, countries) or f"shipped countries: {', '.join(countries) or '(none)'}",
                )
            ]
        )


def choose_version(country: str, versions: list[VersionInfo], *, as_of: dt.date, version: str | None = None) -> VersionInfo:
    """The exact ``version`` among a country's versions, or the published one in force on ``as_of``."""
    if version is not None:
        for info in versions:
            if info.version == version:
                return info
        raise RulesetNotFoundError(
            [
                Problem(
                    "unknown-version",
                    f'there is no version "{version}" of the {country} ruleset',
                    f"versions: {', '.join(v.version for v in versions)}",
                )
            ]
        )
    in_force = [info for info in versions if info.in_force(as_of)]
    if not in_force:
        published = [f"{v.version} (from {v.effective_from}{' to ' + str(v.effective_until) if v.effective_until else ''})" for v in versions if v.status == "published"]
        raise RulesetNotFoundError(
            [
                Problem(
                    "no-version-in-force",
                    f"no published {country} ruleset is in force on {as_of.isoformat()}",
                    f"published versions: {', '.join(published) or '(none)'}",
                )
            ]
        )
    return max(in_force, key=lambda v: (v.effective_from, v.version))


def read_manifest(rulesets_dir: Path | None = None) -> dict[str, str]:
    """The checked-in digests of published versions, by path relative to the rulesets folder."""
    path = (rulesets_dir or shipped_rulesets_dir()) / MANIFEST
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return dict(data.get("published", {}))


# -- loading that respects the manifest ----------------------------------------------------------
#
# A published file is used only when its hash is the one the manifest records (and its signature,
# when it has one, is valid); a file must be named after its version and sit in its country's folder;
# a broken draft never stops the other versions of its country from loading.


@dataclass(frozen=True)
class Located:
    """The file a reference names, the rulesets folder it belongs to (None: outside any), and the
    warnings met on the way (drafts skipped)."""

    path: Path
    rulesets_dir: Path | None
    warnings: tuple[Problem, ...] = ()


def rulesets_folder_of(path: Path, hint: Path | None = None) -> Path | None:
    """The rulesets folder holding ``path`` as ``<folder>/<cc>/<file>``: ``hint`` when it does, else
    a folder with a manifest; None for a file outside any rulesets folder (nothing to check against)."""
    resolved = path.resolve()
    candidate = resolved.parent.parent
    if hint is not None and hint.resolve() == candidate:
        return hint
    if is_country_code(resolved.parent.name) and ((candidate / MANIFEST).is_file() or candidate == shipped_rulesets_dir().resolve()):
        return candidate
    return None


def locate_ruleset(reference: str, *, as_of: dt.date, version: str | None = None, rulesets_dir: Path | None = None) -> Located:
    """Like :func:`find_ruleset`, respecting the manifest's rules: ``cc@version`` reads only its own
    file; ``cc`` lists the country's files, skipping broken drafts with a warning and refusing a
    published file that shadows another, is misnamed or sits in another country's folder."""
    parsed = parse_ruleset_ref(reference)
    if parsed is None:
        path = path_reference(reference)  # a .yaml path or nothing: never any string as a file
        return Located(path, rulesets_folder_of(path, rulesets_dir))
    folder = rulesets_dir or shipped_rulesets_dir()
    country, version = parsed[0], parsed[1] or version
    if version is not None:
        path = folder / country / f"{version}.yaml"
        if path.is_file():
            return Located(path, folder)
        if not (folder / country).is_dir():
            find_ruleset(country, as_of=as_of, rulesets_dir=folder)  # raises unknown-country with its hint
        known = sorted(p.stem for p in (folder / country).glob("*.yaml"))
        raise RulesetNotFoundError(
            [Problem("unknown-version", f'there is no version "{version}" of the {country} ruleset', f"versions: {', '.join(known) or '(none)'}")]
        )
    if country not in list_countries(folder):
        find_ruleset(country, as_of=as_of, rulesets_dir=folder)  # raises unknown-country with its hint
    versions, warnings = scan_versions(country, folder, strict=True)
    in_force = [info for info in versions if info.in_force(as_of)]
    if not in_force:
        find_ruleset(country, as_of=as_of, rulesets_dir=folder)  # raises no-version-in-force with the versions
    chosen = max(in_force, key=lambda v: (v.effective_from, v.version))
    return Located(chosen.path, folder, tuple(warnings))


def scan_versions(country: str, rulesets_dir: Path, *, strict: bool) -> tuple[list[VersionInfo], list[Problem]]:
    """A country's files, oldest version first, and warnings about the drafts skipped.

    A file that cannot be read is an error when the manifest records it (a published file), else a
    draft skipped with a warning. With ``strict``, a file claiming ``published`` whose name is not its
    version, whose country is not its folder's, or whose version another file holds, is an error (a
    draft like that is skipped with a warning).
    """
    folder = rulesets_dir / country
    recorded = read_manifest(rulesets_dir) if (rulesets_dir / MANIFEST).is_file() else {}
    versions: list[VersionInfo] = []
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for path in sorted(folder.glob("*.yaml")):
        key = f"{country}/{path.name}"
        try:
            meta = read_metadata(path)
        except InvictusError as error:
            if key in recorded:
                errors.extend(error.problems)
            else:
                warnings.append(Problem("draft-skipped", f"{display_path(path)} cannot be read and is skipped ({error.problems[0].code}: {error.problems[0].message})", f"fix it, or remove it: run 'invictus-rules validate {display_path(path)}'", Location(display_path(path)), severity="warning"))
            continue
        problems = placement_problems(path, meta) if strict else []
        if problems:
            if meta.status == "published" or key in recorded:
                errors.extend(problems)
            else:
                warnings.extend(dataclasses.replace(p, severity="warning", message=p.message + "; the draft is skipped") for p in problems)
            continue
        versions.append(VersionInfo(path, meta.country, meta.version, meta.status, meta.effective_from, meta.effective_until))
    if strict:
        errors.extend(_duplicates(errors, versions))
    if errors:
        raise RulesetError(errors)
    return sorted(versions, key=lambda v: version_key(v.version)), warnings


def placement_problems(path: Path, meta: Metadata) -> list[Problem]:
    """A file not named after its version, or not in its country's folder."""
    where = Location(display_path(path))
    problems = []
    if path.parent.name != meta.country:
        problems.append(
            Problem("wrong-country-folder", f'{display_path(path)} says it is a ruleset for "{meta.country}", but it is in the folder of "{path.parent.name}"', f"move it to {meta.country}/ or correct metadata.country", where)
        )
    if path.stem != meta.version:
        problems.append(
            Problem("file-name-mismatch", f'{display_path(path)} holds version "{meta.version}", but its file name says "{path.stem}"', f"a version lives in <country>/<version>.yaml: name it {meta.version}.yaml, or give it its own version", where)
        )
    return problems


def _duplicates(errors: list[Problem], versions: list[VersionInfo]) -> list[Problem]:
    seen: dict[str, Path] = {}
    found = []
    for info in versions:
        if info.version in seen:
            found.append(Problem("duplicate-version", f"{display_path(info.path)} and {display_path(seen[info.version])} both hold version {info.version}", "remove the copy: each version is one file", Location(display_path(info.path))))
        seen.setdefault(info.version, info.path)
    return found


def vouch_for(path: Path, meta: Metadata, digest: str, rulesets_dir: Path | None) -> tuple[str, str | None]:
    """("match" | "draft" | "not-checked", signing key id) for a compiled file, or a RulesetError when
    the manifest does not vouch for a published file: changed, unrecorded, or badly signed."""
    if rulesets_dir is None:
        return "not-checked", None
    problems = placement_problems(path, meta)
    if problems:
        raise RulesetError(problems)
    if meta.status != "published":
        return "draft", None
    key = f"{path.parent.name}/{path.name}"
    where = Location(display_path(path))
    manifest = _manifest_document(rulesets_dir)
    recorded = manifest.get("published", {}).get(key)
    if recorded is None:
        raise RulesetError(
            [
                Problem(
                    "not-in-manifest",
                    f"{key} says it is published, but the manifest does not record it, so it is not used",
                    "publish drafts with 'invictus-rules publish FILE'; if a publish was interrupted, run 'invictus-rules verify --repair'",
                    where,
                )
            ]
        )
    if recorded != digest:
        raise RulesetError(
            [
                Problem(
                    "published-changed",
                    f"{key} is published but its content no longer matches the manifest (recorded {recorded[:12]}, now {digest[:12]}), so it is not used",
                    f"published versions are immutable: undo the edit, and create a new version with 'invictus-rules new-version {meta.country}'",
                    where,
                )
            ]
        )
    signature = manifest.get("signatures", {}).get(key)
    if not signature:
        return "match", None
    state = check_signature(signature, key, digest, read_public_keys(rulesets_dir))
    if state != "valid":
        raise RulesetError(
            [Problem("bad-signature" if state == "bad-signature" else "unknown-signing-key", f"the manifest entry of {key} carries a signature that does not verify ({state}), so it is not used", "run 'invictus-rules verify' and restore the manifest or keys/ from version control", where)]
        )
    return "match", str(signature.get("key_id"))


def _manifest_document(rulesets_dir: Path) -> dict[str, Any]:
    path = rulesets_dir / MANIFEST
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise RulesetError([Problem("manifest-unreadable", f"{display_path(path)} is not readable JSON", "restore it from version control", Location(display_path(path)))]) from None
    return data if isinstance(data, dict) else {}
