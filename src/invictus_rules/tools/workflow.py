"""From draft to published: start a new version from the latest one; publish a checked draft.

Both edit ruleset files as text, line by line at the positions the YAML reader recorded, so the
officer's comments and layout survive. Drafts are written to the project's rulesets folder, never
into the installed package. ``new-version`` carries the latest version's tests forward, pinned to
the new one; ``publish`` needs the draft's own tests (at least 20 cases, every rule made true and
false). Every file is written atomically; publishing holds a lock across processes and writes a
journal, then the ruleset, then the manifest, so a publish cut short is completed by the next one
or by ``verify --repair``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .._yaml import SourceMap, read_yaml
from ..errors import InvictusError, Location, Problem
from ..load import (
    MANIFEST,
    RULESETS_ENV,
    list_versions,
    placement_problems,
    read_bytes,
    read_document,
)
from ..signing import KEYS_FOLDER, sign_entry
from . import manifest
from .files import exclusive_lock, write_atomic
from .lint import is_clean, lint_file
from .testing import Runner, find_test_files

MIN_OWN_TESTS = 20


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


def project_rulesets_dir(option: str | os.PathLike[str] | None, *, near: Path | None = None) -> Path:
    """The project's rulesets folder that drafts are written to: ``--rulesets``, else
    ``INVICTUS_RULESETS``, else ``./rulesets`` when present, else (for a file being published) the
    folder two levels above it when it holds a manifest. Never a folder inside the installed package."""
    if option:
        folder = Path(option)
    elif os.environ.get(RULESETS_ENV):
        folder = Path(os.environ[RULESETS_ENV])
    elif (Path.cwd() / "rulesets").is_dir():
        folder = Path("rulesets")
    elif near is not None and (near.resolve().parent.parent / MANIFEST).is_file():
        folder = near.resolve().parent.parent
    else:
        raise WorkflowError(
            [
                Problem(
                    "no-rulesets-folder",
                    "there is no project rulesets folder to write to",
                    f"pass --rulesets DIR, set {RULESETS_ENV}, or run the command in a project that has a ./rulesets folder",
                )
            ]
        )
    package = Path(__file__).resolve().parents[1]
    if folder.resolve() == package or package in folder.resolve().parents:
        raise WorkflowError(
            [
                Problem(
                    "installed-package",
                    f"{folder} is inside the installed invictus-rules package; drafts are never written there",
                    f"copy the rulesets into your project (e.g. ./rulesets) and pass --rulesets DIR or set {RULESETS_ENV}",
                )
            ]
        )
    return folder


def start_new_version(country: str, rulesets_dir: Path, today: dt.date) -> Path:
    """Copy the latest version of ``country`` to the next version as a draft without a start date,
    and the tests of the latest version to a test file pinned to the new one (see :func:`carry_tests_forward`)."""
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
    tests = tests_file_for(rulesets_dir, country, version)
    for existing in (target, tests):
        if existing.exists():
            raise WorkflowError([Problem("version-exists", f"{existing} exists already", "edit it, or remove it if it was started by mistake", Location(str(existing)))])
    carried = carried_tests(rulesets_dir, country, latest.version, version, [v for v in versions])
    data = read_bytes(latest.path)
    _, source, _ = read_document(data, str(latest.path))
    lines = data.decode("utf-8").splitlines(keepends=True)
    _replace_value(lines, source, ("metadata", "version"), f'"{version}"')
    _replace_value(lines, source, ("metadata", "status"), "draft")
    _replace_value(lines, source, ("metadata", "effective_from"), "null  # set the first day this version is in force")
    _drop_key(lines, source, ("metadata", "effective_until"))
    if carried is not None:
        write_atomic(tests, carried)
    write_atomic(target, "".join(lines))
    return target


def tests_file_for(rulesets_dir: Path, country: str, version: str) -> Path:
    """Where new-version puts the tests carried forward to ``version``."""
    return rulesets_dir / country / "tests" / f"v{version.replace('.', '_')}.yaml"


class _Dumper(yaml.SafeDumper):
    """Plain YAML for test files: no anchors or aliases (the project's reader refuses them)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def carried_tests(rulesets_dir: Path, country: str, latest: str, version: str, versions: list[Any]) -> str | None:
    """The test cases of ``latest`` (pinned to it, or picking it by date), as one test file pinned to
    ``version``, each case keeping its date and language; None when there are none."""
    cases: list[dict[str, Any]] = []
    for test_file in find_test_files([rulesets_dir / country]):
        try:
            raw, source = read_yaml(test_file.read_bytes(), str(test_file))
        except (InvictusError, OSError):
            continue
        if source.problems or not isinstance(raw, dict) or not isinstance(raw.get("cases"), list):
            continue
        for case in raw["cases"]:
            if not isinstance(case, dict):
                continue
            reference = case.get("ruleset", raw.get("ruleset"))
            as_of = case.get("as_of", raw.get("as_of"))
            if _tested_version(reference, as_of, country, versions) != latest:
                continue
            carried = {"name": case.get("name")}
            for key, value in (("as_of", as_of), ("language", case.get("language", raw.get("language")))):
                if value is not None:
                    carried[key] = value
            carried.update({k: v for k, v in case.items() if k not in ("name", "as_of", "language", "ruleset")})
            cases.append(carried)
    if not cases:
        return None
    header = (
        f"# The tests of {country} {latest}, carried forward by 'invictus-rules new-version' and pinned to {version}.\n"
        f"# Change the expectations where {version} changes the rules; publish needs at least {MIN_OWN_TESTS} passing\n"
        f"# cases of {version} and every rule of it made true and false.\n"
    )
    body = yaml.dump({"ruleset": f"{country}@{version}", "cases": cases}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
    return header + body


def _tested_version(reference: Any, as_of: Any, country: str, versions: list[Any]) -> str | None:
    if isinstance(reference, str) and reference.startswith(f"{country}@"):
        return reference.split("@", 1)[1]
    if reference not in (None, country):
        return None  # a file path: not carried
    try:
        day = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
    except ValueError:
        return None
    in_force = [v for v in versions if v.in_force(day)]
    return max(in_force, key=lambda v: (v.effective_from, v.version)).version if in_force else None


@dataclass
class PublishCheck:
    lint: list[Problem]
    failures: list[str]
    own_cases: int = 0
    own_gaps: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    version: str = ""

    @property
    def ok(self) -> bool:
        return is_clean(self.lint) and not self.failures and self.own_cases >= MIN_OWN_TESTS and not self.own_gaps


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
    """Lint the file as it would be published, run its country's tests with it in place, and count
    the draft's own cases and its rule coverage."""
    country, text = _published_text(path)
    version = path.stem
    with tempfile.TemporaryDirectory(prefix="invictus-publish-") as scratch:
        trial = Path(scratch)
        shutil.copytree(rulesets_dir / country, trial / country)
        if manifest.manifest_path(rulesets_dir).exists():
            shutil.copy2(manifest.manifest_path(rulesets_dir), manifest.manifest_path(trial))
        if (rulesets_dir / KEYS_FOLDER).is_dir():
            shutil.copytree(rulesets_dir / KEYS_FOLDER, trial / KEYS_FOLDER)
        trial_file = trial / country / path.name
        trial_file.write_text(text, encoding="utf-8")
        manifest.record(trial_file, read_document(text, str(path))[2], trial)
        problems = [
            dataclasses.replace(p, location=dataclasses.replace(p.location, file=str(path)))
            for p in lint_file(trial_file, trial)
            if p.code != "not-in-manifest"
        ]
        runner = Runner()
        results = [r for test in find_test_files([trial / country]) for r in runner.run_file(test)]
        failures = [f"{Path(r.file).name}:{r.line} {r.name}" for r in results if not r.passed]
        own = f"{country}@{version}"
        own_cases = sum(1 for r in results if r.ruleset == own)
        coverage = [c for c in runner.coverage.values() if f"{c.ruleset.country}@{c.ruleset.version}" == own]
        gaps = [gap for c in coverage for gap in c.gaps()] if coverage else []
    return PublishCheck(problems, failures, own_cases, gaps, version)


def _refusals(check: PublishCheck, path: Path, country: str) -> list[Problem]:
    where = Location(str(path))
    problems = [p for p in check.lint if p.severity in ("error", "warning")]
    problems += [Problem("test-failed", f"the country's test {name} fails with this version", "fix the ruleset or the test, then publish again", where) for name in check.failures]
    if check.own_cases < MIN_OWN_TESTS:
        problems.append(
            Problem(
                "too-few-tests",
                f"{country}@{check.version} has {check.own_cases} test case{'s' if check.own_cases != 1 else ''} of its own; publishing needs at least {MIN_OWN_TESTS}",
                f"write cases pinned to it (ruleset: {country}@{check.version}) in {country}/tests/; 'invictus-rules new-version' carries the previous version's forward",
                where,
            )
        )
    elif check.own_gaps:
        shown = ", ".join(f"{kind} {rule} {what}" for kind, rule, what in check.own_gaps[:8])
        more = f" and {len(check.own_gaps) - 8} more" if len(check.own_gaps) > 8 else ""
        problems.append(
            Problem(
                "coverage-incomplete",
                f"the tests of {country}@{check.version} do not make every rule true and false: {shown}{more}",
                f"add cases until 'invictus-rules test --coverage {country}/tests' reports 100% for {check.version}",
                where,
            )
        )
    return problems


# -- publishing: a lock, and a journal so that a crash between the two writes is repaired ---------

LOCK_FILE = ".publish.lock"
JOURNAL_FILE = ".publish-journal.json"
JOURNAL_FORMAT = "invictus-rules/publish-journal/v1"


def publish(path: Path, rulesets_dir: Path, signing_key: Ed25519PrivateKey | None = None) -> str:
    """Mark a checked draft published and record its hash (signed with ``signing_key`` when given); returns the hash.

    Refused unless the draft sits in ``rulesets_dir/<country>/<version>.yaml``, is lint-clean, the
    country's tests pass with it in place, and at least 20 cases of its own pass with every rule
    made true and false. The two writes (the ruleset, then the manifest) happen under a lock held
    across processes, after a journal entry: a publish cut short is completed by the next publish
    or by ``verify --repair``.
    """
    _check_placement(path, rulesets_dir)
    with exclusive_lock(rulesets_dir / LOCK_FILE):
        repair(rulesets_dir)
    checked = read_bytes(path)
    country, _ = _published_text(path)
    check = check_publication(path, rulesets_dir)
    if not check.ok:
        raise WorkflowError(_refusals(check, path, country))
    with exclusive_lock(rulesets_dir / LOCK_FILE):
        repair(rulesets_dir)
        if read_bytes(path) != checked:
            raise WorkflowError([Problem("draft-changed", f"{path} changed while it was being checked", "publish it again", Location(str(path)))])
        _, text = _published_text(path)
        _, _, digest = read_document(text, str(path))
        key = manifest.key_for(path, rulesets_dir)
        signature = sign_entry(signing_key, key, digest) if signing_key is not None else None
        journal = {"format": JOURNAL_FORMAT, "file": key, "sha256": digest, "draft_sha256": hashlib.sha256(checked).hexdigest(), "signature": signature}
        write_atomic(rulesets_dir / JOURNAL_FILE, json.dumps(journal, indent=2) + "\n")
        try:
            write_atomic(path, text)
            manifest.record(path, digest, rulesets_dir, signature)
        except BaseException:
            write_atomic(path, checked)
            (rulesets_dir / JOURNAL_FILE).unlink(missing_ok=True)
            raise
        (rulesets_dir / JOURNAL_FILE).unlink()
    return digest


def _check_placement(path: Path, rulesets_dir: Path) -> None:
    """A draft is published where it lives: ``rulesets_dir/<country>/<version>.yaml``."""
    resolved = path.resolve()
    if resolved.parent.parent != rulesets_dir.resolve():
        raise WorkflowError(
            [
                Problem(
                    "outside-rulesets",
                    f"{path} is not in the rulesets folder {rulesets_dir}: a draft is published where it lives, as {rulesets_dir}/<country>/<version>.yaml",
                    "move the draft into the rulesets folder (or start it there with 'invictus-rules new-version CC'), or pass --rulesets DIR",
                    Location(str(path)),
                )
            ]
        )
    document, _, _ = read_document(read_bytes(path), str(path))
    problems = placement_problems(resolved, document.metadata)
    if problems:
        raise WorkflowError(problems)


def interrupted(rulesets_dir: Path) -> Problem | None:
    """A publication cut short between its two writes, as a problem for ``verify``; None when there is none."""
    journal = _read_journal(rulesets_dir)
    if journal is None:
        return None
    return Problem(
        "publish-interrupted",
        f"the publication of {journal.get('file')} was interrupted between writing the ruleset and the manifest",
        "run 'invictus-rules verify --repair' (or publish again) to complete or roll it back",
        Location(str(rulesets_dir / JOURNAL_FILE)),
    )


def repair(rulesets_dir: Path) -> list[str]:
    """Complete or roll back a publication cut short; returns what was done (nothing: ``[]``).

    Call it holding the publish lock. If the ruleset was written, its manifest entry (and signature)
    is recorded from the journal; if it was not, the draft is left as it was.
    """
    journal = _read_journal(rulesets_dir)
    if journal is None:
        return []
    key = str(journal.get("file", ""))
    path = rulesets_dir / key
    where = Location(str(rulesets_dir / JOURNAL_FILE))
    data = path.read_bytes() if path.is_file() else b""
    try:
        digest = read_document(data, str(path))[2] if data else ""
    except InvictusError:
        digest = ""
    if digest and digest == journal.get("sha256"):
        manifest.record(path, digest, rulesets_dir, journal.get("signature") or None)
        done = f"completed the interrupted publication of {key}: its manifest entry is recorded"
    elif data and hashlib.sha256(data).hexdigest() == journal.get("draft_sha256"):
        done = f"rolled back the interrupted publication of {key}: the ruleset was not yet written and stays a draft"
    else:
        raise WorkflowError(
            [Problem("publish-unrepairable", f"the interrupted publication of {key} cannot be completed: the file changed since", f"restore {key} from version control, then remove {JOURNAL_FILE}", where)]
        )
    (rulesets_dir / JOURNAL_FILE).unlink()
    return [done]


def _read_journal(rulesets_dir: Path) -> dict[str, Any] | None:
    path = rulesets_dir / JOURNAL_FILE
    if not path.is_file():
        return None
    try:
        journal = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise WorkflowError([Problem("publish-journal-unreadable", f"{path} is not readable JSON", "remove it after checking the manifest with 'invictus-rules verify'", Location(str(path)))]) from None
    if not isinstance(journal, dict) or journal.get("format") != JOURNAL_FORMAT:
        raise WorkflowError([Problem("publish-journal-unreadable", f"{path} is not a publish journal", "remove it after checking the manifest", Location(str(path)))])
    return journal
