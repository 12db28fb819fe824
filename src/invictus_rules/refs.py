"""Ruleset references and the names of the rulesets folder: one rule for telling them apart.

A reference is a country code (``nl``: the version in force on a date) or a country and a version
(``nl@2026.1``). A country code is two lower-case ASCII letters; a version is CalVer ``YYYY.N`` in
ASCII digits. Nothing else matches: no capitals, no spaces or newlines around it, no other
scripts' digits. The rulesets folder holds ``<country>/<version>.yaml``.
"""

from __future__ import annotations

import re

COUNTRY = "[a-z]{2}"
VERSION = r"[0-9]{4}\.[0-9]+"
RULESET_REFERENCE = f"^{COUNTRY}(@{VERSION})?$"
"""A reference as a pattern for JSON Schema and pydantic fields (which match the whole text)."""

_REFERENCE = re.compile(f"(?P<country>{COUNTRY})(?:@(?P<version>{VERSION}))?", re.ASCII)
_COUNTRY = re.compile(COUNTRY, re.ASCII)
_VERSION = re.compile(VERSION, re.ASCII)


def parse_ruleset_ref(reference: object) -> tuple[str, str | None] | None:
    """(country, version or None) for ``nl`` or ``nl@2026.1``; None for anything else (a path)."""
    match = _REFERENCE.fullmatch(reference) if isinstance(reference, str) else None
    return (match["country"], match["version"]) if match else None


def is_ruleset_ref(reference: object) -> bool:
    """Whether ``reference`` names a ruleset by country (and version), not by a path."""
    return parse_ruleset_ref(reference) is not None


def is_country_code(name: str) -> bool:
    """Whether ``name`` is a country code, as a folder of the rulesets folder is named."""
    return _COUNTRY.fullmatch(name) is not None


def is_version(name: str) -> bool:
    """Whether ``name`` is a CalVer version, as a ruleset file (without ``.yaml``) is named."""
    return _VERSION.fullmatch(name) is not None


def version_key(version: str) -> tuple[int, ...]:
    """A version's sort key: 2026.10 after 2026.9."""
    return tuple(int(part) for part in version.split("."))


__all__ = ["COUNTRY", "RULESET_REFERENCE", "VERSION", "is_country_code", "is_ruleset_ref", "is_version", "parse_ruleset_ref", "version_key"]
