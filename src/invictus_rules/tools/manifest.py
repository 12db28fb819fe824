"""The manifest of published ruleset versions: their content hashes, so none is edited in place.

``rulesets/manifest.json`` maps each published file (relative to the rulesets folder) to the sha256
of its canonical form. ``verify`` finds published files that changed, published files missing from
the manifest and entries whose file is gone, and checks each entry's Ed25519 signature (see
:mod:`invictus_rules.signing`); ``record`` adds or updates one entry, with its signature, atomically.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InvictusError, Location, Problem
from ..load import MANIFEST, read_document, shipped_rulesets_dir
from ..signing import check_signature, read_public_keys
from .files import write_atomic

MANIFEST_FORMAT = "invictus-rules/manifest/v1"


def manifest_path(rulesets_dir: Path | None = None) -> Path:
    return (rulesets_dir or shipped_rulesets_dir()) / MANIFEST


def read_entries(rulesets_dir: Path | None = None) -> dict[str, str]:
    path = manifest_path(rulesets_dir)
    if not path.is_file():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")).get("published", {}))


def read_signatures(rulesets_dir: Path | None = None) -> dict[str, dict[str, str]]:
    """Each signed entry's signature (key id and base64 Ed25519 signature), by path."""
    path = manifest_path(rulesets_dir)
    if not path.is_file():
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
    states = []
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
    entries = read_entries(folder)
    problems: list[Problem] = []
    seen: set[str] = set()
    for path in sorted(folder.glob("*/*.yaml")):
        key = key_for(path, folder)
        try:
            document, _, digest = read_document(path.read_bytes(), str(path))
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
    problems.extend(_signature_problems(folder))
    return problems


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
