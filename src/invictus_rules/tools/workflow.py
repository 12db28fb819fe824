"""From draft to published: start a new version from the latest one; publish a checked draft.

Both edit ruleset files as text, line by line at the positions the YAML reader recorded, so the
officer's comments and layout survive. Every file is written atomically; publishing writes the
ruleset and then the manifest, and puts the ruleset back if the manifest cannot be written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .._yaml import SourceMap
from ..errors import InvictusError, Location, Problem
from ..load import list_versions, read_bytes, read_document
from ..signing import sign_entry
from . import manifest
from .files import write_atomic
from .lint import is_clean, lint_file
from .testing import Runner, find_test_files


class WorkflowError(InvictusError):
    """A new version cannot be started, or a draft cannot be published."""

    code = "workflow"


def next_version(latest: str, today: dt.date) -> str:
    """The next calendar version: YYYY.N+1 within the same year, else this year's first."""
    year, number = (int(part) for part in latest.split("."))
    return f"{year}.{number + 1}" if year >= today.year else f"{today.year}.1"


def _replace_value(lines: list[str], source: SourceMap, path: tuple[str, ...], text: str) -> None:
    mark = source.values.get(path)
    key = source.keys.get(path)
    assert mark is not None and key is not None, path
    line = lines[mark.line - 1]
    comment = ""
    if "#" in line[mark.column - 1 :]:
        comment = "  " + line[line.index("#", mark.column - 1) :].rstrip("\n")
    lines[mark.line - 1] = line[: mark.column - 1] + text + comment + "\n"


def _drop_key(lines: list[str], source: SourceMap, path: tuple[str, ...]) -> None:
    key = source.keys.get(path)
    if key is not None:
        lines[key.line - 1] = ""


def start_new_version(country: str, rulesets_dir: Path, today: dt.date) -> Path:
    """Copy the latest version of ``country`` to the next version as a draft without a start date."""
    versions = list_versions(country, rulesets_dir)
    if not versions:
        raise WorkflowError([Problem("unknown-country", f'there is no ruleset for "{country}" in {rulesets_dir}', "check the country code")])
    latest = versions[-1]
    if latest.status == "draft":
        raise WorkflowError(
            [Problem("draft-exists", f"version {latest.version} of {country} is still a draft", f"edit {latest.path} and publish it first", Location(str(latest.path)))]
        )
    version = next_version(latest.version, today)
    target = latest.path.with_name(f"{version}.yaml")
    if target.exists():
        raise WorkflowError([Problem("version-exists", f"{target} exists already", "edit it, or remove it if it was started by mistake", Location(str(target)))])
    data = read_bytes(latest.path)
    _, source, _ = read_document(data, str(latest.path))
    lines = data.decode("utf-8").splitlines(keepends=True)
    _replace_value(lines, source, ("metadata", "version"), f'"{version}"')
    _replace_value(lines, source, ("metadata", "status"), "draft")
    _replace_value(lines, source, ("metadata", "effective_from"), "null  # set the first day this version is in force")
    _drop_key(lines, source, ("metadata", "effective_until"))
    write_atomic(target, "".join(lines))
    return target


@dataclass
class PublishCheck:
    lint: list[Problem]
    failures: list[str]

    @property
    def ok(self) -> bool:
        return is_clean(self.lint) and not self.failures


def _published_text(path: Path) -> tuple[str, str]:
    data = read_bytes(path)
    document, source, _ = read_document(data, str(path))
    if document.metadata.status == "published":
        raise WorkflowError([Problem("already-published", f"{path} is already published", "published versions are immutable: start a new version with 'invictus-rules new-version'", Location(str(path)))])
    if document.metadata.effective_from is None:
        raise WorkflowError([Problem("missing-date", "the draft has no effective_from", "set the first day this version is in force", source.location(("metadata", "effective_from")))])
    lines = data.decode("utf-8").splitlines(keepends=True)
    _replace_value(lines, source, ("metadata", "status"), "published")
    return document.metadata.country, "".join(lines)


def check_publication(path: Path, rulesets_dir: Path) -> PublishCheck:
    """Lint the file as it would be published, and run its country's tests with it in place."""
    country, text = _published_text(path)
    with tempfile.TemporaryDirectory(prefix="invictus-publish-") as scratch:
        trial = Path(scratch)
        shutil.copytree(rulesets_dir / country, trial / country)
        if manifest.manifest_path(rulesets_dir).exists():
            shutil.copy2(manifest.manifest_path(rulesets_dir), manifest.manifest_path(trial))
        trial_file = trial / country / path.name
        trial_file.write_text(text, encoding="utf-8")
        problems = [
            dataclasses.replace(p, location=dataclasses.replace(p.location, file=str(path)))
            for p in lint_file(trial_file, trial)
            if p.code != "not-in-manifest"
        ]
        runner = Runner()
        results = [r for test in find_test_files([trial / country]) for r in runner.run_file(test)]
        failures = [f"{Path(r.file).name}:{r.line} {r.name}" for r in results if not r.passed]
    return PublishCheck(problems, failures)


def publish(path: Path, rulesets_dir: Path, signing_key: Ed25519PrivateKey | None = None) -> str:
    """Mark a checked draft published and record its hash (signed with ``signing_key`` when given); returns the hash."""
    check = check_publication(path, rulesets_dir)
    if not check.ok:
        problems = [p for p in check.lint if p.severity in ("error", "warning")]
        problems += [Problem("test-failed", f"the country's test {name} fails with this version", "fix the ruleset or the test, then publish again", Location(str(path))) for name in check.failures]
        raise WorkflowError(problems)
    original = read_bytes(path)
    _, text = _published_text(path)
    _, _, digest = read_document(text, str(path))
    signature = sign_entry(signing_key, manifest.key_for(path, rulesets_dir), digest) if signing_key is not None else None
    write_atomic(path, text)
    try:
        manifest.record(path, digest, rulesets_dir, signature)
    except BaseException:
        write_atomic(path, original)
        raise
    return digest
