"""The manifest of published ruleset versions: their content hashes, so none is edited in place.

``rulesets/manifest.json`` maps each published file (relative to the rulesets folder) to the sha256
of its canonical form. ``verify`` finds published files that changed, published files missing from
the manifest and entries whose file is gone, and checks each entry's Ed25519 signature (see
:mod:`invictus_rules.signing`); ``record`` adds or updates one entry, with its signature, atomically.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import InvictusError, Location, Problem
from ..load import MANIFEST, read_bytes, read_document, shipped_rulesets_dir
from ..refs import COUNTRY, VERSION
from ..signing import check_signature, read_public_keys
from .files import write_atomic

MANIFEST_FORMAT = "invictus-rules/manifest/v1"


def manifest_path(rulesets_dir: Path | None = None) -> Path:
    return (rulesets_dir or shipped_rulesets_dir()) / MANIFEST


def read_entries(rulesets_dir: Path | None = None) -> dict[str, str]:
    entries, problems = read_manifest(manifest_path(rulesets_dir))
    if problems:
        raise InvictusError(problems)
    return entries


MAX_MANIFEST_BYTES = 10 * 1024 * 1024
_HASH = re.compile(r"[0-9a-f]{64}")
_KEY = re.compile(f"{COUNTRY}/{VERSION}\\.yaml", re.ASCII)


def read_manifest(path: Path) -> tuple[dict[str, str], list[Problem]]:
    """The manifest's entries, or the problems that make it unreadable, each at its line and column.

    The manifest is read as hostile input: bounded in size, a regular file only, UTF-8 JSON of the
    expected shape; no value of it is repeated in a problem but entry names of the expected form.
    """
    name = str(path)
    if not path.exists() and not path.is_symlink():
        return {}, []
    if not path.is_file():
        return {}, [Problem("manifest-unreadable", "the manifest is not a regular file", "restore rulesets/manifest.json from version control", Location(name))]
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        return {}, [Problem("manifest-unreadable", f"cannot read the manifest: {exc.strerror or type(exc).__name__}", "check the file's permissions", Location(name))]
    if len(data) > MAX_MANIFEST_BYTES:
        return {}, [Problem("manifest-too-large", f"the manifest is larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MB", "restore it from version control", Location(name, 1, 1))]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line, column = before.count(b"\n") + 1, exc.start - (before.rfind(b"\n") + 1) + 1
        return {}, [Problem("manifest-invalid", "the manifest is not UTF-8 text", "restore it from version control", Location(name, line, column))]
    try:
        payload = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        where = Location(name, exc.lineno, exc.colno) if isinstance(exc, json.JSONDecodeError) else Location(name, 1, 1)
        return {}, [Problem("manifest-invalid", "the manifest is not valid JSON" + (f": {exc.msg}" if isinstance(exc, json.JSONDecodeError) else ""), "restore it from version control", where)]
    published = payload.get("published", {}) if isinstance(payload, dict) else None
    if not isinstance(published, dict):
        return {}, [Problem("manifest-invalid", 'the manifest must be a JSON object with "published": an object of file names and hashes', "restore it from version control", _position(text, '"published"', name))]
    entries: dict[str, str] = {}
    problems: list[Problem] = []
    for index, (key, digest) in enumerate(published.items(), 1):
        if not _KEY.fullmatch(key) or not isinstance(digest, str) or not _HASH.fullmatch(digest):
            shown = key if _KEY.fullmatch(key) else f"entry {index}"
            problems.append(
                Problem(
                    "manifest-invalid",
                    f'{shown} of the manifest must be "<country>/<version>.yaml": "<64 hex digits of sha256>"',
                    "restore it from version control, or record the file again with 'invictus-rules publish'",
                    _position(text, json.dumps(key), name),
                )
            )
        else:
            entries[key] = digest
    return entries, problems


def _position(text: str, needle: str, file: str) -> Location:
    """The line and column of the first ``needle`` in ``text`` (1:1 when it is not there)."""
    offset = max(text.find(needle), 0)
    return Location(file, text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1)


def read_signatures(rulesets_dir: Path | None = None) -> dict[str, dict[str, str]]:
    """Each signed entry's signature (key id and base64 Ed25519 signature), by path."""
    path = manifest_path(rulesets_dir)
    _, problems = read_manifest(path)  # bounded and checked first: verify reports what is wrong
    if problems or not path.is_file():
        return {}
    signatures = json.loads(path.read_text(encoding="utf-8")).get("signatures", {})
    return {str(k): dict(v) for k, v in signatures.items() if isinstance(v, dict)} if isinstance(signatures, dict) else {}


def write_entries(entries: dict[str, str], rulesets_dir: Path | None = None, signatures: dict[str, dict[str, str]] | None = None) -> None:
    if signatures is None:
        signatures = read_signatures(rulesets_dir)
    payload: dict[str, object] = {"format": MANIFEST_FORMAT, "published": dict(sorted(entries.items()))}
    kept = {key: value for key, value in sorted(signatures.items()) if key in entries}
    if kept:
        payload["signatures"] = kept
    write_atomic(manifest_path(rulesets_dir), json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def signature_states(rulesets_dir: Path | None = None) -> list[tuple[str, str, str | None]]:
    """(path, valid | unsigned | unknown-key | bad-signature, key id) for every manifest entry."""
    folder = rulesets_dir or shipped_rulesets_dir()
    keys = read_public_keys(folder)
    signatures = read_signatures(folder)
    states: list[tuple[str, str, str | None]] = []
    for key, digest in sorted(read_entries(folder).items()):
        signature = signatures.get(key)
        states.append((key, check_signature(signature, key, digest, keys), signature.get("key_id") if signature else None))
    return states


def _signature_problems(folder: Path) -> list[Problem]:
    problems = []
    where = Location(str(manifest_path(folder)))
    for key, state, key_id in signature_states(folder):
        if state == "bad-signature":
            problems.append(Problem("bad-signature", f"the signature on the manifest entry of {key} is not valid for key {key_id}", "the entry or its signature was changed after publication: restore the manifest from version control", where))
        elif state == "unknown-key":
            problems.append(Problem("unknown-signing-key", f"the manifest entry of {key} is signed by key {key_id}, which is not in {folder.name}/keys/", "add the publisher's public key (keys/<key id>.pub) to the repository, or restore the manifest", where))
    return problems


def key_for(path: Path, rulesets_dir: Path) -> str:
    return path.resolve().relative_to(rulesets_dir.resolve()).as_posix()


def verify(rulesets_dir: Path | None = None) -> list[Problem]:
    """Every way the published files and the manifest disagree."""
    folder = rulesets_dir or shipped_rulesets_dir()
    if not folder.is_dir():
        return [Problem("rulesets-not-found", "the rulesets folder does not exist or is not a folder", "give the folder that holds <country>/<version>.yaml and manifest.json", Location(str(folder)))]
    entries, problems = read_manifest(manifest_path(folder))
    manifest_readable = not problems
    seen: set[str] = set()
    for path in sorted(folder.glob("*/*.yaml")):
        unsafe = _unsafe_file(path, folder)
        if unsafe is not None:
            problems.append(unsafe)
            continue
        key = key_for(path, folder)
        try:
            document, _, digest = read_document(read_bytes(path), str(path))
        except InvictusError as error:
            problems.extend(error.problems)
            continue
        if document.metadata.status != "published":
            continue
        seen.add(key)
        recorded = entries.get(key)
        if recorded is None:
            problems.append(
                Problem(
                    "not-in-manifest",
                    f"{key} is published but not recorded in the manifest",
                    "publish it with 'invictus-rules publish FILE', which records its hash",
                    Location(str(path)),
                )
            )
        elif recorded != digest:
            problems.append(
                Problem(
                    "published-changed",
                    f"{key} is published but its content no longer matches the manifest (recorded {recorded[:12]}, now {digest[:12]})",
                    "published versions are immutable: undo the edit and create a new version with 'invictus-rules new-version "
                    f"{document.metadata.country}'",
                    Location(str(path)),
                )
            )
    for key in sorted(set(entries) - seen):
        problems.append(
            Problem(
                "manifest-orphan",
                f"the manifest records {key}, but there is no published file there",
                "restore the file (published versions are never deleted) or remove the entry",
                Location(str(manifest_path(folder))),
            )
        )
    if manifest_readable:
        problems.extend(_signature_problems(folder))
    return problems


def _unsafe_file(path: Path, folder: Path) -> Problem | None:
    """A ruleset file verify must not read: a link out of the folder, or not a regular file."""
    try:
        inside = path.resolve().is_relative_to(folder.resolve())
        regular = path.is_file()
    except (OSError, RuntimeError):  # a link loop
        inside, regular = False, False
    if not inside:
        return Problem("outside-folder", "the file is a link to somewhere outside the rulesets folder; it is not read", "replace the link with the file itself", Location(str(path)))
    if not regular:
        return Problem("not-a-file", "this is not a regular file (a device, a folder or a broken link); it is not read", "replace it with the ruleset file itself", Location(str(path)))
    return None


def record(path: Path, digest: str, rulesets_dir: Path | None = None, signature: dict[str, str] | None = None) -> None:
    """Record one published file's hash, and its signature when given, in the manifest (atomically)."""
    folder = rulesets_dir or shipped_rulesets_dir()
    entries = read_entries(folder)
    signatures = read_signatures(folder)
    key = key_for(path, folder)
    entries[key] = digest
    if signature:
        signatures[key] = signature
    else:
        signatures.pop(key, None)
    write_entries(entries, folder, signatures)
