"""`invictus-rules diff` on small edits of the mini fixture: each kind of change reported as policy staff read it."""

from __future__ import annotations

import pytest

from .conftest import FIXTURES

MINI = FIXTURES / "mini.yaml"
LEVEL = """      - id: high
        label: {en: High, nl: Hoog}
        when: score(dv_risk) >= 6 or critical(dv_risk) >= 1"""
MEDIUM = """      - id: medium
        label: {en: Medium, nl: Middel}
        when: score(dv_risk) >= 3
"""
SERVICE = """    phone: "116 006"
"""
POLICE = """  - id: police
    category: police
    name: {en: Police, nl: Politie}
    phone: "0900 8844"
"""
STRANGULATION = """  - id: strangulation
    type: boolean
    ask_if: crime_type == "domestic_violence"
    text: {en: Has the person ever strangled you?, nl: Heeft de persoon u ooit gewurgd?}
"""
THREATS = """  - id: threats
    type: boolean
    ask_if: crime_type == "domestic_violence"
    text: {en: Has the person threatened to kill you?, nl: Heeft de persoon gedreigd u te doden?}
"""


def _variant(tmp_path, name: str, *edits: tuple[str, str]) -> str:
    text = MINI.read_text(encoding="utf-8").replace('version: "2026.1"\n  effective', 'version: "2026.2"\n  effective', 1)
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _diff(cli, old: str, new: str) -> list[str]:
    result = cli("diff", old, new, "--colour", "never")
    assert result.code == 0, result.err
    return result.out.splitlines()


@pytest.fixture
def with_medium_and_police(tmp_path):
    return _variant(tmp_path, "new", (LEVEL, MEDIUM + LEVEL), (SERVICE, SERVICE + POLICE))


def test_an_added_level_and_service_are_listed_with_their_effect(cli, with_medium_and_police):
    """A new level shows its condition, a new service its contact; the effect on outcomes comes with a confirming case."""
    lines = _diff(cli, str(MINI), with_medium_and_police)
    assert lines[lines.index("Score levels") + 1 : lines.index("Score levels") + 3] == ["  + dv_risk.medium (added)", "      when: score(dv_risk) >= 3"]
    services = lines[lines.index("Services") + 1 :]
    assert services[0] == "  + police (added)" and "      phone: 0900 8844" in services[:5]
    effects = lines[lines.index("Effects on outcomes (over every case; each case found is confirmed by the engine)") + 1 :]
    assert effects[0].startswith("  ~ level dv_risk: under OLD standard or high, under NEW standard or medium or high")
    assert effects[1].startswith("      case: ")


def test_removed_level_and_service_read_the_other_way(cli, with_medium_and_police):
    """Diffing the other way round reports the same level and service as removed."""
    lines = _diff(cli, with_medium_and_police, str(MINI))
    assert "  - dv_risk.medium (removed)" in lines
    assert "  - police (removed)" in lines


def test_questions_asked_in_another_order(cli, tmp_path):
    """Swapping two questions is an order change of the questionnaire, with no effect on outcomes."""
    swapped = _variant(tmp_path, "swapped", (STRANGULATION + THREATS, THREATS + STRANGULATION))
    lines = _diff(cli, str(MINI), swapped)
    assert any("the order in which questions are asked changed" in line for line in lines)
    assert "Changes without effect on outcomes" in lines


def test_the_same_file_twice_has_no_change(cli):
    """A version diffed with itself has the same hash and no change in meaning."""
    lines = _diff(cli, str(MINI), str(MINI))
    assert any(line.startswith("Identical content: both versions have the same hash") for line in lines)
    assert "No change in meaning." in lines

FEAR_SCORE = """  - id: fear
    title: {en: Fear, nl: Angst}
    items:
      - id: threats
        label: {en: Threats, nl: Bedreiging}
        when: threats
        points: 2
        critical: true
    levels:
      - id: low
        label: {en: Low, nl: Laag}
      - id: raised
        label: {en: Raised, nl: Verhoogd}
        when: score(fear) >= 2
services:
"""


def test_an_added_score_and_a_changed_level_condition(cli, tmp_path):
    """A new score lists its items and levels; a level whose condition changed shows both conditions and a case that tells them apart."""
    new = _variant(tmp_path, "scored", ("services:\n", FEAR_SCORE), ("when: score(dv_risk) >= 6 or", "when: score(dv_risk) >= 8 or"))
    lines = _diff(cli, str(MINI), new)
    added = lines.index("  + fear (added)")
    assert lines[added + 1 : added + 3] == ['      items: ["threats: threats (2 points, critical)"]', '      levels: ["low: (lowest, no condition)", "raised: score(fear) >= 2"]']
    changed = lines.index("  ~ dv_risk.high (changed)")
    assert lines[changed + 1] == "      when: score(dv_risk) >= 6 or critical(dv_risk) >= 1 -> score(dv_risk) >= 8 or critical(dv_risk) >= 1"
    assert lines[changed + 2].startswith("        in words, before: the score of ") and lines[changed + 3].startswith("        in words, now:    the score of ")
    assert "threshold raised by 2; no case is decided differently with the rest of this version (proved)" in lines[changed + 4]
    assert "  level dv_risk.high" in lines[lines.index("Changes without effect on outcomes") :]
