"""The manifest of published ruleset versions: their content hashes, so none is edited in place.

``rulesets/manifest.json`` maps each published file (relative to the rulesets folder) to the sha256
of its canonical form. ``verify`` finds published files that changed, published files missing from
the manifest and entries whose file is gone; ``record`` adds or updates one entry atomically.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InvictusError, Location, Problem
from ..load import MANIFEST, read_document, shipped_rulesets_dir
from .files import write_atomic

MANIFEST_FORMAT = "invictus-rules/manifest/v1"


def manifest_path(rulesets_dir: Path | None = None) -> Path:
    return (rulesets_dir or shipped_rulesets_dir()) / MANIFEST


def read_entries(rulesets_dir: Path | None = None) -> dict[str, str]:
    path = manifest_path(rulesets_dir)
    if not path.is_file():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")).get("published", {}))


def write_entries(entries: dict[str, str], rulesets_dir: Path | None = None) -> None:
    payload = {"format": MANIFEST_FORMAT, "published": dict(sorted(entries.items()))}
    write_atomic(manifest_path(rulesets_dir), json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


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
    return problems


def record(path: Path, digest: str, rulesets_dir: Path | None = None) -> None:
    """Record one published file's hash in the manifest (atomically)."""
    folder = rulesets_dir or shipped_rulesets_dir()
    entries = read_entries(folder)
    entries[key_for(path, folder)] = digest
    write_entries(entries, folder)
