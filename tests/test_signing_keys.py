"""Signing keys read from files: what is refused and what is skipped."""

from __future__ import annotations

import pytest

from invictus_rules.signing import KEYS_FOLDER, SigningError, generate_key, read_private_key, read_public_keys


def test_a_missing_private_key_file_is_refused_with_the_path(tmp_path):
    """A signing key path that cannot be read is a signing-key-unreadable error at that path."""
    missing = tmp_path / "missing.pem"
    with pytest.raises(SigningError) as info:
        read_private_key(missing)
    (problem,) = info.value.problems
    assert problem.code == "signing-key-unreadable" and problem.location.file == str(missing)
    assert "INVICTUS_SIGNING_KEY" in problem.hint


def test_files_in_the_keys_folder_that_are_not_ed25519_keys_are_skipped(tmp_path):
    """Only Ed25519 public keys count: a broken .pub file and other files are left out."""
    key_id = generate_key(tmp_path / "private.pem", tmp_path)
    keys = tmp_path / KEYS_FOLDER
    (keys / "broken.pub").write_text("not a key", encoding="utf-8")
    (keys / "notes.txt").write_text("hello", encoding="utf-8")
    assert list(read_public_keys(tmp_path)) == [key_id]
    assert read_private_key(tmp_path / "private.pem").public_key() is not None


def test_no_keys_folder_means_no_keys(tmp_path):
    """A rulesets folder without keys/ has no public keys."""
    assert read_public_keys(tmp_path) == {}
