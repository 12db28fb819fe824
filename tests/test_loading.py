"""Loading respects the manifest: changed, unrecorded, shadowing, misplaced and broken files."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from invictus_rules import RulesetError, load_ruleset
from invictus_rules.load import list_versions

from .drafts import copy_rulesets

CASE = Path(__file__).resolve().parents[1] / "examples" / "nl" / "dv-high-risk.json"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return copy_rulesets(tmp_path / "rulesets")


def _code(error: pytest.ExceptionInfo[RulesetError]) -> list[str]:
    return [p.code for p in error.value.problems]


def test_shipped_versions_load_vouched_for_by_the_manifest():
    """Every shipped published version loads with manifest 'match'."""
    assert load_ruleset("nl").provenance.manifest == "match"
    assert load_ruleset("nl@2025.1").provenance.manifest == "match"


def test_a_tampered_published_file_is_refused_at_load(cli, folder):
    """An edited published file is not used by load_ruleset, assess or test: published-changed, create a new version."""
    path = folder / "nl" / "2026.1.yaml"
    path.write_text(path.read_text().replace("points: 4", "points: 5", 1))
    for reference in ("nl", "nl@2026.1"):
        with pytest.raises(RulesetError) as refused:
            load_ruleset(reference, as_of="2026-03-01", rulesets_dir=folder)
        assert _code(refused) == ["published-changed"]
        assert "create a new version" in str(refused.value)
    with pytest.raises(RulesetError, match="published-changed"):
        load_ruleset(path)
    assessed = cli("assess", str(path), str(CASE))
    assert assessed.code == 1 and "error[published-changed]" in assessed.err
    tested = cli("test", str(folder / "nl" / "tests" / "dv_risk.yaml"))
    assert tested.code == 1 and "published-changed" in tested.out
    assert load_ruleset("nl@2025.1", rulesets_dir=folder).version == "2025.1"


def test_a_published_file_the_manifest_does_not_record_is_refused(folder):
    """A file that says published but was never recorded (or whose publish was cut short) is not used."""
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["published"]["nl/2026.1.yaml"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RulesetError) as refused:
        load_ruleset("nl@2026.1", rulesets_dir=folder)
    assert _code(refused) == ["not-in-manifest"] and "verify --repair" in str(refused.value)


def test_a_shadow_copy_claiming_a_published_version_is_an_error(folder):
    """nl/2026.1-fix.yaml claiming 2026.1 does not replace it: loading nl by date fails and names both files."""
    original = folder / "nl" / "2026.1.yaml"
    (folder / "nl" / "2026.1-fix.yaml").write_text(original.read_text().replace("points: 4", "points: 1"))
    with pytest.raises(RulesetError) as refused:
        load_ruleset("nl", as_of="2026-03-01", rulesets_dir=folder)
    assert "file-name-mismatch" in _code(refused)
    assert "2026.1-fix.yaml" in str(refused.value)
    exact = load_ruleset("nl@2026.1", rulesets_dir=folder)
    assert exact.sha256 == load_ruleset("nl@2026.1").sha256


def test_a_file_in_another_countrys_folder_is_an_error(folder):
    """A published file whose metadata names another country is refused; such a draft is skipped with a warning."""
    source = (folder / "nl" / "2026.1.yaml").read_text()
    (folder / "nl" / "2026.9.yaml").write_text(source.replace("country: nl", "country: fi").replace('version: "2026.1"', 'version: "2026.9"'))
    with pytest.raises(RulesetError) as refused:
        load_ruleset("nl", as_of="2026-03-01", rulesets_dir=folder)
    assert _code(refused) == ["wrong-country-folder"]
    draft = source.replace("country: nl", "country: fi").replace('version: "2026.1"', 'version: "2026.9"').replace("status: published", "status: draft")
    (folder / "nl" / "2026.9.yaml").write_text(draft)
    loaded = load_ruleset("nl", as_of="2026-03-01", rulesets_dir=folder)
    assert loaded.version == "2026.1" and [w.code for w in loaded.load_warnings] == ["wrong-country-folder"]
    with pytest.raises(RulesetError, match="wrong-country-folder"):
        load_ruleset("nl@2026.9", rulesets_dir=folder)


def test_a_broken_draft_never_stops_the_other_versions(folder, caplog):
    """A half-saved draft is skipped with a warning when listing or picking by date; cc@version reads only its own file."""
    (folder / "nl" / "2026.9.yaml").write_text("format: 1\nmetadata:\n  id: nl_victim_assessment\n  version: \"2026.9\n")
    loaded = load_ruleset("nl", as_of="2026-03-01", rulesets_dir=folder)
    assert loaded.version == "2026.1" and [w.code for w in loaded.load_warnings] == ["draft-skipped"]
    assert load_ruleset("nl@2026.1", rulesets_dir=folder).version == "2026.1"
    with caplog.at_level(logging.WARNING, logger="invictus_rules"):
        assert "2026.1" in [v.version for v in list_versions("nl", folder)] and "2026.9" not in [v.version for v in list_versions("nl", folder)]
    assert "2026.9.yaml cannot be read and is skipped" in caplog.text
    with pytest.raises(RulesetError):
        load_ruleset("nl@2026.9", rulesets_dir=folder)


def test_assess_prints_the_skipped_draft_warning(cli, folder, monkeypatch):
    """The CLI shows load warnings on standard error and still assesses."""
    (folder / "nl" / "2026.9.yaml").write_text("not: [valid")
    monkeypatch.setenv("INVICTUS_RULESETS", str(folder))
    result = cli("assess", "nl", str(CASE))
    assert result.code == 0 and "warning[draft-skipped]" in result.err


def test_the_registry_respects_the_manifest_too(folder):
    """The registry the HTTP service uses refuses a tampered published file and says the manifest vouched for the rest."""
    from invictus_rules import Registry

    registry = Registry(folder)
    assert registry.get("nl", as_of="2026-03-01").provenance.manifest == "match"
    path = folder / "nl" / "2025.1.yaml"
    path.write_text(path.read_text().replace("points: 4", "points: 5", 1))
    with pytest.raises(RulesetError, match="published-changed"):
        Registry(folder).get("nl", version="2025.1")
