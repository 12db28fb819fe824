"""Per-language texts: which language to show, and where a ruleset keeps its texts.

Every text a victim or caseworker reads is a mapping of language code to text. One rule picks the
one shown, everywhere (assessments, docs, prose, the questionnaire, the CLI, the service):

1. the requested language, when it has a text;
2. else the ruleset's default language, when it has one;
3. else the first language, in the order the texts are written, that has one;
4. else nothing ('' from :func:`pick_text`).

A language "has a text" when its entry is present and not empty. Steps 2 to 4 are fallbacks,
which the assessment reports as warnings (:func:`text_language` tells which language was used).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from .errors import TreePath

T = TypeVar("T")

TEXT_KEYS = frozenset({"text", "help", "label", "title", "description", "name", "hours", "reason", "body", "action", "advice"})
"""Keys whose value, in a ruleset document, is a text per language."""


def text_language(texts: Mapping[str, T] | None, language: str, default: str) -> str | None:
    """The language whose text is shown for ``language`` (see the module docstring), or None."""
    if not texts:
        return None
    for candidate in (language, default):
        if _has_text(texts.get(candidate)):
            return candidate
    return next((code for code, text in texts.items() if _has_text(text)), None)


def pick_text(texts: Mapping[str, str] | None, language: str, default: str) -> str:
    """The text shown for ``language``: its own, else the default language's, else any; '' when none."""
    shown = text_language(texts, language, default)
    return "" if shown is None or texts is None else texts[shown]


def _has_text(value: object) -> bool:
    return value is not None and value != ""


def iter_texts(data: Any, path: TreePath = ()) -> Iterator[tuple[TreePath, dict[str, str]]]:
    """Every per-language text in a ruleset document's data, with its path."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key in TEXT_KEYS and isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
                yield path + (key,), value
            else:
                yield from iter_texts(value, path + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from iter_texts(value, path + (index,))


__all__ = ["TEXT_KEYS", "iter_texts", "pick_text", "text_language"]
