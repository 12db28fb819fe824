"""Signed manifest entries: publish signs with a configured key, verify checks against the repository's public keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from invictus_rules.signing import SIGNING_KEY_ENV

from .drafts import copy_rulesets, fixture_rulesets, make_publishable


@pytest.fixture
def signed(cli, tmp_path: Path) -> tuple[Path, Path, str]:
    """A rulesets folder with one draft published and signed by a new key."""
    folder = fixture_rulesets(tmp_path / "rulesets")
    key = tmp_path / "publisher.pem"
    made = cli("keygen", "--out", str(key), "--rulesets", str(folder))
    assert made.code == 0, made.err
    assert (key.stat().st_mode & 0o777) == 0o600
    assert cli("new-version", "xx", "--rulesets", str(folder)).code == 0
    draft = sorted((folder / "xx").glob("*.yaml"))[-1]
    make_publishable(draft)
    done = cli("publish", str(draft), "--rulesets", str(folder), "--signing-key", str(key))
    assert done.code == 0, done.err
    assert "signed by key" in done.out
    return folder, key, f"xx/{draft.name}"


def test_publish_signs_and_verify_checks_the_signature(cli, signed):
    """The new entry is signed; verify names the key and says the shipped entries are unsigned."""
    folder, _, entry = signed
    key_id = next((folder / "keys").glob("*.pub")).stem
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["signatures"][entry]["key_id"] == key_id
    result = cli("verify", "--rulesets", str(folder))
    assert result.code == 0, result.err
    assert f"{entry}: signed by key {key_id}" in result.out and "xx/2027.1.yaml: unsigned" in result.out
    states = {s["file"]: s["signature"] for s in json.loads(cli("verify", "--rulesets", str(folder), "--format", "json").out)["signatures"]}
    assert states[entry] == "valid" and states["xx/2027.1.yaml"] == "unsigned"


def test_a_tampered_signature_is_rejected(cli, signed):
    """Changing the signature, or the signed hash, makes verify fail with bad-signature."""
    folder, _, entry = signed
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    original = manifest["signatures"][entry]["signature"]
    manifest["signatures"][entry]["signature"] = ("A" if original[0] != "A" else "B") + original[1:]
    path.write_text(json.dumps(manifest))
    result = cli("verify", "--rulesets", str(folder))
    assert result.code == 1 and "error[bad-signature]" in result.err
    manifest["signatures"][entry]["signature"] = original
    manifest["signatures"]["xx/2027.1.yaml"] = manifest["signatures"][entry]  # a signature moved to another entry
    path.write_text(json.dumps(manifest))
    moved = cli("verify", "--rulesets", str(folder))
    assert moved.code == 1 and "error[bad-signature]" in moved.err and "xx/2027.1.yaml" in moved.err


def test_a_signature_by_a_key_not_in_the_repository_fails(cli, signed):
    """Without the publisher's public key in keys/, verify cannot vouch for the entry and fails."""
    folder, _, _ = signed
    for public in (folder / "keys").glob("*.pub"):
        public.unlink()
    result = cli("verify", "--rulesets", str(folder))
    assert result.code == 1 and "error[unknown-signing-key]" in result.err


def test_signing_key_from_the_environment_and_bad_keys(cli, tmp_path, monkeypatch):
    """INVICTUS_SIGNING_KEY names the key file; a file that is not a key is refused with a fix."""
    folder = copy_rulesets(tmp_path / "rulesets")
    bad = tmp_path / "not-a-key.pem"
    bad.write_text("hello")
    monkeypatch.setenv(SIGNING_KEY_ENV, str(bad))
    cli("new-version", "nl", "--rulesets", str(folder))
    draft = sorted((folder / "nl").glob("*.yaml"))[-1]
    make_publishable(draft)
    refused = cli("publish", str(draft), "--rulesets", str(folder))
    assert refused.code == 1 and "error[signing-key-invalid]" in refused.err and "keygen" in refused.err
    assert "status: draft" in draft.read_text()
    again = cli("keygen", "--out", str(bad), "--rulesets", str(folder))
    assert again.code == 1 and "error[key-file-exists]" in again.err


def test_records_name_the_signing_key_and_loading_checks_the_signature(signed):
    """A signed version loads with its key id, which its records name; a tampered signature stops loading."""
    from invictus_rules import RulesetError, load_ruleset

    folder, _, entry = signed
    key_id = next((folder / "keys").glob("*.pub")).stem
    version = entry.split("/")[1].removesuffix(".yaml")
    ruleset = load_ruleset(f"xx@{version}", rulesets_dir=folder)
    assert ruleset.provenance.manifest == "match" and ruleset.provenance.signed_by == key_id
    answers = {"safe_to_talk": True, "crime_type": "robbery"}
    record = ruleset.evaluate(answers, as_of="2030-02-01").record(answers)
    assert record.ruleset.signed_by == key_id and record.ruleset.manifest == "match"
    manifest = json.loads((folder / "manifest.json").read_text())
    signature = manifest["signatures"][entry]["signature"]
    manifest["signatures"][entry]["signature"] = ("A" if signature[0] != "A" else "B") + signature[1:]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RulesetError, match="bad-signature"):
        load_ruleset(f"xx@{version}", rulesets_dir=folder)
