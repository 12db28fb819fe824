"""The Registry's cache of compiled versions: bounded, refreshed when a file changes, and the folder it serves."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from invictus_rules import Registry, RulesetNotFoundError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A deployment's folder with the shipped Dutch versions and the manifest that vouches for them."""
    shutil.copy(ROOT / "rulesets" / "manifest.json", tmp_path / "manifest.json")
    shutil.copytree(ROOT / "rulesets" / "nl", tmp_path / "nl", ignore=shutil.ignore_patterns("tests"))
    return tmp_path


def test_the_registry_names_its_folder(folder: Path) -> None:
    """folder is the deployment's folder given, or the shipped one."""
    assert Registry(folder).folder == folder
    assert Registry().folder.name == "rulesets"


def test_the_cache_keeps_at_most_max_compiled_versions(folder: Path) -> None:
    """With room for one compiled version, asking for another compiles it again instead of holding both."""
    registry = Registry(folder, max_compiled=1)
    old = registry.get("nl", version="2025.1")
    assert registry.get("nl", version="2025.1") is old
    new = registry.get("nl", version="2026.1")
    assert new.version == "2026.1"
    again = registry.get("nl", version="2025.1")
    assert again is not old and again.sha256 == old.sha256


def test_a_country_folder_that_disappears_is_unknown(folder: Path) -> None:
    """A country whose folder was removed is no longer listed or served."""
    registry = Registry(folder)
    assert registry.versions("nl")
    shutil.rmtree(folder / "nl")
    assert registry.versions("nl") == []
    with pytest.raises(RulesetNotFoundError) as info:
        registry.get("nl")
    assert info.value.problems[0].code == "unknown-country"


def test_a_version_file_removed_after_listing_is_an_error_not_a_stale_answer(folder: Path) -> None:
    """A version listed, then deleted before it is compiled, raises an error instead of serving something else."""
    registry = Registry(folder)
    assert "2025.1" in [v.version for v in registry.versions("nl")]
    stamp = (folder / "nl").stat().st_mtime_ns
    (folder / "nl" / "2025.1.yaml").unlink()
    os.utime(folder / "nl", ns=(stamp, stamp))  # the listing is still thought current
    with pytest.raises(RulesetNotFoundError) as info:
        registry.get("nl", version="2025.1")
    (problem,) = info.value.problems
    assert problem.code == "file-not-readable" and problem.location.file.endswith("2025.1.yaml")
