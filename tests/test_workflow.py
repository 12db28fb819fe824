"""From draft to published: new-version, publish refusing bad drafts, manifest, atomic writes."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from invictus_rules.tools.workflow import next_version

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def rulesets(tmp_path: Path) -> Path:
    """A copy of the shipped Dutch rulesets with their manifest entries."""
    folder = tmp_path / "rulesets"
    shutil.copytree(ROOT / "rulesets" / "nl", folder / "nl")
    entries = json.loads((ROOT / "rulesets" / "manifest.json").read_text())["published"]
    nl_only = {k: v for k, v in entries.items() if k.startswith("nl/")}
    (folder / "manifest.json").write_text(json.dumps({"format": "invictus-rules/manifest/v1", "published": nl_only}))
    return folder


SAFETY = """safety:
  safe_to_talk: safe_to_talk
  safe_channels: safe_contact_channels
  emergency: [noodnummer_112]
  silent: []
  advice: {nl: Beëindig het gesprek rustig., en: End the conversation calmly.}
"""


def test_next_version_follows_calendar_versioning():
    """The number goes up within a year and restarts at 1 in a new year."""
    import datetime as dt

    assert next_version("2026.1", dt.date(2026, 11, 30)) == "2026.2"
    assert next_version("2025.3", dt.date(2026, 1, 5)) == "2026.1"


def test_new_version_copies_the_latest_as_a_draft(cli, rulesets):
    """new-version writes the next version as a draft with no start date, comments kept."""
    result = cli("new-version", "nl", "--rulesets", str(rulesets))
    assert result.code == 0, result.err
    created = sorted((rulesets / "nl").glob("*.yaml"))[-1]
    text = created.read_text(encoding="utf-8")
    assert "status: draft" in text and "effective_from: null" in text and "effective_until" not in text
    assert text.startswith("# yaml-language-server: $schema=")
    assert cli("validate", str(created)).code == 0
    again = cli("new-version", "nl", "--rulesets", str(rulesets))
    assert again.code == 1 and "draft" in again.err


def test_publish_refuses_until_clean_then_records_the_hash(cli, tmp_path):
    """publish refuses a draft without a date or changelog entry; then publishes and records it."""
    from .drafts import fixture_rulesets

    rulesets = fixture_rulesets(tmp_path / "fixture-rulesets")
    cli("new-version", "xx", "--rulesets", str(rulesets))
    draft = sorted((rulesets / "xx").glob("*.yaml"))[-1]
    version = draft.stem
    refused = cli("publish", str(draft), "--rulesets", str(rulesets))
    assert refused.code == 1 and "error[missing-date]" in refused.err
    text = draft.read_text(encoding="utf-8").replace("effective_from: null  # set the first day this version is in force", "effective_from: 2030-01-01")
    draft.write_text(text, encoding="utf-8")
    refused = cli("publish", str(draft), "--rulesets", str(rulesets))
    assert refused.code == 1 and "error[changelog-missing]" in refused.err
    assert str(draft) in refused.err
    text = text.replace("  changelog:\n", f'  changelog:\n    - version: "{version}"\n      date: 2029-12-01\n      changes: [Republished with safe contact.]\n', 1)
    draft.write_text(text, encoding="utf-8")
    if "\nsafety:" not in text:  # copied from a version published before the safety section
        refused = cli("publish", str(draft), "--rulesets", str(rulesets))
        assert refused.code == 1 and "error[safety-missing]" in refused.err and "error[handover-without-first-contact]" in refused.err
        text = re.sub(r"^(    category: .*\n)", r"\1    first_contact: phone\n", text, flags=re.MULTILINE)
        text = text.replace("\nreferrals:\n", "\n" + SAFETY + "referrals:\n", 1)
        draft.write_text(text, encoding="utf-8")
    before = draft.read_bytes()
    done = cli("publish", str(draft), "--rulesets", str(rulesets))
    assert done.code == 0, done.err
    assert "status: published" in draft.read_text() and draft.read_bytes() != before
    entries = json.loads((rulesets / "manifest.json").read_text())["published"]
    assert f"xx/{version}.yaml" in entries
    assert cli("verify", "--rulesets", str(rulesets)).code == 0
    assert cli("publish", str(draft), "--rulesets", str(rulesets)).code == 1


def test_publish_refuses_when_a_country_test_fails(cli, rulesets):
    """A draft that breaks one of the country's YAML tests is not published."""
    cli("new-version", "nl", "--rulesets", str(rulesets))
    draft = sorted((rulesets / "nl").glob("*.yaml"))[-1]
    text = draft.read_text(encoding="utf-8").replace("effective_from: null  # set the first day this version is in force", "effective_from: 2026-02-01")
    text = text.replace("  changelog:\n", f'  changelog:\n    - version: "{draft.stem}"\n      date: 2026-01-15\n      changes: [Veilig Thuis rule removed by mistake.]\n', 1)
    text = text.replace('service: veilig_thuis', 'service: slachtofferhulp')
    draft.write_text(text, encoding="utf-8")
    refused = cli("publish", str(draft), "--rulesets", str(rulesets))
    assert refused.code == 1 and "error[test-failed]" in refused.err
    assert "status: draft" in draft.read_text()


def test_edited_published_file_fails_verify(cli, rulesets):
    """Editing a published file makes verify fail and say to create a new version."""
    path = rulesets / "nl" / "2026.1.yaml"
    path.write_text(path.read_text().replace("points: 4", "points: 5", 1))
    result = cli("verify", "--rulesets", str(rulesets))
    assert result.code == 1
    assert "error[published-changed]" in result.err and "new-version" in result.err
