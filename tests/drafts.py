"""Helpers for tests of the publication workflow: a rulesets folder and publishable drafts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATE_LINE = "effective_from: null  # set the first day this version is in force"


def copy_rulesets(target: Path, countries: tuple[str, ...] = ("nl",)) -> Path:
    """A rulesets folder with the shipped versions of ``countries`` and their manifest entries."""
    target.mkdir(parents=True, exist_ok=True)
    for country in countries:
        shutil.copytree(ROOT / "rulesets" / country, target / country)
    entries = json.loads((ROOT / "rulesets" / "manifest.json").read_text())["published"]
    kept = {k: v for k, v in entries.items() if k.split("/")[0] in countries}
    (target / "manifest.json").write_text(json.dumps({"format": "invictus-rules/manifest/v1", "published": kept}, indent=2) + "\n")
    return target


def make_publishable(draft: Path, effective_from: str = "2030-01-01", change: str = "Republished without changes.") -> None:
    """Give a draft made by new-version a start date and a changelog entry, so that it can be published."""
    text = draft.read_text(encoding="utf-8").replace(DATE_LINE, f"effective_from: {effective_from}")
    entry = f'  changelog:\n    - version: "{draft.stem}"\n      date: {effective_from}\n      changes: [{change}]\n'
    draft.write_text(text.replace("  changelog:\n", entry, 1), encoding="utf-8")
