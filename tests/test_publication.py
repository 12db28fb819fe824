"""Publication that cannot be bypassed: own tests, coverage, project folders, a lock and crash recovery."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import invictus_rules
from invictus_rules import RulesetError, load_ruleset
from invictus_rules.tools.files import exclusive_lock
from invictus_rules.tools.workflow import JOURNAL_FILE, LOCK_FILE

from .drafts import copy_rulesets, fixture_rulesets, make_publishable

PACKAGE = Path(invictus_rules.__file__).resolve().parent


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Two made-up countries with a published version, 24 covering tests each, and a manifest."""
    return fixture_rulesets(tmp_path / "rulesets", ("xx", "xy"))


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    return copy_rulesets(tmp_path / "rulesets", ("nl",))


def _draft(cli, folder: Path, country: str = "xx", effective_from: str = "2030-01-01") -> Path:
    made = cli("new-version", country, "--rulesets", str(folder))
    assert made.code == 0, made.err
    draft = next(p for p in (folder / country).glob("*.yaml") if "status: draft" in p.read_text())
    make_publishable(draft, effective_from)
    return draft


def _entries(folder: Path) -> dict[str, str]:
    return json.loads((folder / "manifest.json").read_text())["published"]


def test_new_version_carries_the_tests_forward_pinned_to_the_new_version(cli, folder):
    """The latest version's cases are copied into tests/v<version>.yaml, pinned, so the draft starts at full coverage."""
    draft = _draft(cli, folder)
    carried = folder / "xx" / "tests" / f"v{draft.stem.replace('.', '_')}.yaml"
    text = carried.read_text()
    assert f"ruleset: xx@{draft.stem}" in text and "&" not in text and "*" not in text
    result = cli("test", "--coverage", str(folder / "xx"))
    assert result.code == 0, result.out
    assert f"xx@{draft.stem}: 100% of" in result.out


def test_test_coverage_reports_a_draft_without_tests(cli, folder):
    """test --coverage lists a draft no case runs on, and exits 1."""
    draft = _draft(cli, folder)
    (folder / "xx" / "tests" / f"v{draft.stem.replace('.', '_')}.yaml").unlink()
    result = cli("test", "--coverage", str(folder / "xx"))
    assert result.code == 1 and f"xx@{draft.stem} (draft): 0%, no test case runs on it" in result.out
    payload = json.loads(cli("test", "--coverage", str(folder / "xx"), "--format", "json").out)
    assert payload["coverage"][f"xx@{draft.stem}"]["percent"] == 0.0


def test_publish_without_own_tests_is_refused(cli, folder):
    """A 2027 draft that downgrades every immediate referral, without tests of its own, is not published."""
    draft = _draft(cli, folder, effective_from="2027-01-01")
    carried = folder / "xx" / "tests" / f"v{draft.stem.replace('.', '_')}.yaml"
    carried.unlink()
    draft.write_text(draft.read_text().replace("priority: immediate", "priority: standard"))
    refused = cli("publish", str(draft), "--rulesets", str(folder))
    assert refused.code == 1 and "error[too-few-tests]" in refused.err and "has 0 test cases of its own" in refused.err
    assert "status: draft" in draft.read_text() and f"xx/{draft.name}" not in _entries(folder)


def test_publish_with_the_carried_tests_catches_the_downgrade(cli, folder):
    """With the tests carried forward, the same downgrade fails them."""
    draft = _draft(cli, folder, effective_from="2027-01-01")
    draft.write_text(draft.read_text().replace("priority: immediate", "priority: standard"))
    refused = cli("publish", str(draft), "--rulesets", str(folder))
    assert refused.code == 1 and "error[test-failed]" in refused.err


def test_publish_needs_every_rule_of_the_draft_covered(cli, folder):
    """Twenty passing cases are not enough when some rule is never made true or false."""
    draft = _draft(cli, folder)
    carried = folder / "xx" / "tests" / f"v{draft.stem.replace('.', '_')}.yaml"
    tests = yaml.safe_load(carried.read_text())
    tests["cases"] = [dict(tests["cases"][0], name=f"The same case, copy {n}") for n in range(25)]
    carried.write_text(json.dumps(tests, default=str))
    refused = cli("publish", str(draft), "--rulesets", str(folder))
    assert refused.code == 1 and "error[coverage-incomplete]" in refused.err


def test_drafts_go_to_a_project_folder_never_the_installed_package(cli, shipped, tmp_path, monkeypatch):
    """new-version writes to --rulesets, INVICTUS_RULESETS or ./rulesets; a folder inside the package is refused."""
    refused = cli("new-version", "nl", "--rulesets", str(PACKAGE / "rulesets"))
    assert refused.code == 1 and "error[installed-package]" in refused.err
    assert not (PACKAGE / "rulesets").exists()
    monkeypatch.delenv("INVICTUS_RULESETS", raising=False)
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    monkeypatch.chdir(empty)
    none = cli("new-version", "nl")
    assert none.code == 1 and "error[no-rulesets-folder]" in none.err
    monkeypatch.chdir(shipped.parent)
    made = cli("new-version", "nl")
    assert made.code == 0, made.err
    assert "created rulesets/nl/" in made.out


def test_publishing_from_outside_the_rulesets_folder_is_an_error(cli, folder, tmp_path):
    """A draft outside <rulesets>/<cc>/ cannot be published; nor one whose metadata names another country."""
    draft = _draft(cli, folder)
    outside = tmp_path / draft.name
    outside.write_text(draft.read_text())
    refused = cli("publish", str(outside), "--rulesets", str(folder))
    assert refused.code == 1 and "error[outside-rulesets]" in refused.err
    draft.write_text(draft.read_text().replace("country: xx", "country: fi"))
    wrong = cli("publish", str(draft), "--rulesets", str(folder))
    assert wrong.code == 1 and "error[wrong-country-folder]" in wrong.err


def _publish_process(draft: Path, folder: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "invictus_rules", "publish", str(draft), "--rulesets", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "INVICTUS_SIGNING_KEY": ""},
    )


def test_concurrent_publishes_keep_both_entries(cli, folder):
    """Two processes publishing two drafts into one folder at once both end up in the manifest."""
    drafts = [_draft(cli, folder, "xx"), _draft(cli, folder, "xy")]
    processes = [_publish_process(draft, folder) for draft in drafts]
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    entries = _entries(folder)
    assert {f"xx/{drafts[0].name}", f"xy/{drafts[1].name}"} <= set(entries)
    assert cli("verify", "--rulesets", str(folder)).code == 0


def test_publish_waits_for_the_lock(cli, folder):
    """While another process holds the publish lock, publish writes nothing; it finishes once the lock is free."""
    draft = _draft(cli, folder)
    before = (folder / "manifest.json").read_bytes()
    with exclusive_lock(folder / LOCK_FILE):
        process = _publish_process(draft, folder)
        time.sleep(3)
        assert process.poll() is None
        assert (folder / "manifest.json").read_bytes() == before and "status: draft" in draft.read_text()
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert f"xx/{draft.name}" in _entries(folder)


KILL_BETWEEN_WRITES = """
import os, signal, sys
from pathlib import Path
from invictus_rules.tools import files, manifest, workflow

folder = Path(sys.argv[2]).resolve()
record = manifest.record
write = workflow.write_atomic

def killed_before_the_manifest(path, digest, rulesets_dir=None, signature=None):
    if Path(rulesets_dir).resolve() == folder:
        os.kill(os.getpid(), signal.SIGKILL)
    return record(path, digest, rulesets_dir, signature)

def killed_before_the_ruleset(path, data):
    if Path(path).suffix == ".yaml":
        os.kill(os.getpid(), signal.SIGKILL)
    return write(path, data)

if sys.argv[3] == "manifest":
    manifest.record = killed_before_the_manifest
else:
    workflow.write_atomic = killed_before_the_ruleset
workflow.publish(Path(sys.argv[1]), folder)
"""


def _killed_publish(draft: Path, folder: Path, where: str) -> None:
    done = subprocess.run([sys.executable, "-c", KILL_BETWEEN_WRITES, str(draft), str(folder), where], capture_output=True, text=True, timeout=300)
    assert done.returncode == -9, done.stderr


@pytest.mark.skipif(not hasattr(os, "kill") or sys.platform == "win32", reason="needs SIGKILL")
def test_a_publish_killed_between_the_two_writes_is_completed_by_verify_repair(cli, folder):
    """Killed after writing the ruleset, before the manifest: the file is not used, verify says so, --repair completes it."""
    draft = _draft(cli, folder)
    _killed_publish(draft, folder, "manifest")
    assert "status: published" in draft.read_text() and f"xx/{draft.name}" not in _entries(folder)
    assert (folder / JOURNAL_FILE).is_file()
    with pytest.raises(RulesetError, match="not-in-manifest"):
        load_ruleset(f"xx@{draft.stem}", rulesets_dir=folder)
    found = cli("verify", "--rulesets", str(folder))
    assert found.code == 1 and "error[publish-interrupted]" in found.err and "verify --repair" in found.err
    repaired = cli("verify", "--repair", "--rulesets", str(folder))
    assert repaired.code == 0, repaired.err
    assert f"repaired: completed the interrupted publication of xx/{draft.name}" in repaired.err
    assert not (folder / JOURNAL_FILE).exists()
    assert load_ruleset(f"xx@{draft.stem}", rulesets_dir=folder).provenance.manifest == "match"


@pytest.mark.skipif(not hasattr(os, "kill") or sys.platform == "win32", reason="needs SIGKILL")
def test_the_next_publish_completes_or_rolls_back_an_interrupted_one(cli, folder):
    """A publish killed before its manifest write is completed by the next publish; one killed before its
    ruleset write is rolled back (the draft stays a draft)."""
    first = _draft(cli, folder, "xx")
    _killed_publish(first, folder, "manifest")
    second = _draft(cli, folder, "xy")
    done = cli("publish", str(second), "--rulesets", str(folder))
    assert done.code == 0, done.err
    assert {f"xx/{first.name}", f"xy/{second.name}"} <= set(_entries(folder))
    assert cli("verify", "--rulesets", str(folder)).code == 0
    third = _draft(cli, folder, "xx", effective_from="2031-01-01")
    _killed_publish(third, folder, "ruleset")
    assert "status: draft" in third.read_text() and (folder / JOURNAL_FILE).is_file()
    repaired = cli("verify", "--repair", "--rulesets", str(folder))
    assert repaired.code == 0, repaired.err
    assert "rolled back" in repaired.err and "status: draft" in third.read_text()
