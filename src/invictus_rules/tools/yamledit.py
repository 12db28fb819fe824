"""Edit a ruleset's YAML text in place: set, add or remove values, keeping comments and layout.

Tools that write into a draft (translations import, services import) never re-dump the YAML: they
replace the characters of one value at a time, at the offsets the YAML reader recorded
(``SourceMap.spans``), and leave every other character as it was. A value keeps its style (plain,
quoted, folded ``>-``) where the new text allows it. Each new scalar is checked on its own with
the project's YAML reader before it is used, and the whole edited text is read back and compared
with the data it must hold before anything is written: an edit that would change anything else
is refused, never written.
"""

from __future__ import annotations

import copy
import datetime as dt
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._yaml import SourceMap, read_yaml
from ..compile import compile_with_source
from ..errors import InvictusError, Location, Problem, RulesetError, TreePath
from ..load import (
    display_path,
    find_ruleset,
    read_bytes,
    read_document,
)
from .files import write_atomic

FOLD_WIDTH = 100
"""Longest line, in characters, of a new or rewritten folded (``>-``) text."""
_BOM = "\ufeff"


class EditError(InvictusError):
    """An edit cannot be made safely (the file is left as it was)."""

    code = "edit-failed"


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    text: str


class YamlEditor:
    """Collects edits of one YAML document and applies them to its text in one go."""

    def __init__(self, text: str, file: str = "<string>"):
        self.bom = text.startswith(_BOM)
        self.text = text[1:] if self.bom else text
        self.crlf = "\r\n" in self.text
        """Whether the file's lines end with CR LF (saved on Windows): new lines end the same way."""
        self.file = file
        self.data, self.source = read_yaml(self.text, file, spans=True)
        self.expected: Any = copy.deepcopy(self.data)
        self._edits: list[_Edit] = []

    @classmethod
    def from_parsed(cls, text: str, data: Any, source: SourceMap, file: str) -> YamlEditor:
        """An editor for a text already read (``data`` and ``source`` from ``read_yaml(text, spans=True)``)."""
        editor = cls.__new__(cls)
        editor.bom = text.startswith(_BOM)
        editor.text = text[1:] if editor.bom else text
        editor.crlf = "\r\n" in editor.text
        editor.file = file
        editor.data, editor.source = data, source
        editor.expected = copy.deepcopy(data)
        editor._edits = []
        return editor

    # -- what callers use ------------------------------------------------------------------------
    @property
    def changed(self) -> bool:
        return bool(self._edits)

    def set(self, path: TreePath, value: Any) -> None:
        """Give ``path`` the scalar ``value`` (text, true/false or a list of words), adding the key if needed.

        A text mapping (``{nl: ..., en: ...}``) is set with ``set_mapping``."""
        parent, key = path[:-1], path[-1]
        container = _get(self.data, parent)
        if not isinstance(container, dict) or not isinstance(key, str):
            raise self._fail(parent, "the place to write is not a mapping")
        if key in container:
            if container[key] == value:
                return
            if isinstance(container[key], dict):
                raise self._fail(path, "a mapping cannot be replaced by a single value here")
            start, end = self._value_span(path)
            rendered = self._render(value, flow=self._in_flow(parent), column=self._key_column(path), key=key, style=self._style(path))
            if isinstance(container[key], list) and not self._is_flow(path):  # a block list: write after the colon
                start = self.text.index(":", self.source.key_spans[path][1]) + 1
                rendered = " " + rendered
            self._edits.append(_Edit(start, end, rendered))
        else:
            self._insert(parent, key, value)
        _get(self.expected, parent)[key] = value

    def set_mapping(self, path: TreePath, value: dict[str, Any]) -> None:
        """Add the key ``path`` holding the mapping ``value`` (the key must not exist yet)."""
        parent, key = path[:-1], path[-1]
        container = _get(self.data, parent)
        if not isinstance(container, dict) or not isinstance(key, str) or key in container:
            raise self._fail(parent, "the mapping cannot be added here")
        self._insert(parent, key, value)
        _get(self.expected, parent)[key] = copy.deepcopy(value)

    def delete(self, path: TreePath) -> None:
        """Remove the key ``path`` and its value (nothing happens when it is absent)."""
        parent, key = path[:-1], path[-1]
        container = _get(self.data, parent)
        if not isinstance(container, dict) or key not in container:
            return
        key_start, _ = self.source.key_spans[path]
        _, end = self._value_span(path)
        if self._in_flow(parent):
            before = self.text[:key_start].rstrip()
            after = self.text[end:]
            if after.lstrip().startswith(","):
                end += len(after) - len(after.lstrip()) + 1
                end += len(self.text[end:]) - len(self.text[end:].lstrip(" "))
            elif before.endswith(","):
                key_start = len(before) - 1
            self._edits.append(_Edit(key_start, end, ""))
        else:
            line_start = self.text.rfind("\n", 0, key_start) + 1
            if self.text[line_start:key_start].strip():
                raise self._fail(path, "the key does not start its own line")
            line_end = self.text.find("\n", end)
            self._edits.append(_Edit(line_start, len(self.text) if line_end < 0 else line_end + 1, ""))
        del _get(self.expected, parent)[key]

    def result(self) -> str:
        """The edited text, read back and checked to hold exactly the intended data."""
        text = self.text
        previous = len(text) + 1
        for edit in sorted(self._edits, key=lambda e: (e.start, e.end), reverse=True):
            if edit.end > previous:
                raise EditError([Problem("edit-overlap", "two edits touch the same part of the file", "edit one value at a time", Location(self.file))])
            new = edit.text.replace("\n", "\r\n") if self.crlf else edit.text
            text = text[: edit.start] + new + text[edit.end :]
            previous = edit.start
        try:
            data, _ = read_yaml(text, self.file)
        except RulesetError as error:  # pragma: no cover - each new scalar was checked on its own
            raise EditError([Problem("edit-failed", "the edited file would not be valid YAML", "report this as a bug; the file was not changed", Location(self.file))]) from error
        if data != self.expected:  # pragma: no cover - a guard: never write what was not intended
            raise EditError([Problem("edit-failed", "the edited file would hold something other than intended", "report this as a bug; the file was not changed", Location(self.file))])
        return (_BOM if self.bom else "") + text

    # -- positions -------------------------------------------------------------------------------
    def _fail(self, path: TreePath, message: str) -> EditError:
        return EditError([self.source.problem(path, "edit-failed", f"cannot edit the file here: {message}", "edit this value by hand")])

    def _value_span(self, path: TreePath) -> tuple[int, int]:
        """Where the value at ``path`` starts and where its content ends (trailing blank lines excluded)."""
        start, end = self.source.spans[path]
        value = _get(self.data, path)
        if isinstance(value, (dict, list)) and not self._is_flow(path):
            children = list(value) if isinstance(value, dict) else list(range(len(value)))
            if not children:  # pragma: no cover - an empty container is written in flow style
                return start, end
            return start, max(self._value_span(path + (child,))[1] for child in children)
        return start, start + len(self.text[start:end].rstrip(" \t\r\n"))

    def _is_flow(self, path: TreePath) -> bool:
        start, _ = self.source.spans[path]
        return self.text[start : start + 1] in ("{", "[")

    def _in_flow(self, parent: TreePath) -> bool:
        return parent in self.source.spans and self._is_flow(parent)

    def _key_column(self, path: TreePath) -> int:
        start, _ = self.source.key_spans[path]
        return start - (self.text.rfind("\n", 0, start) + 1)

    def _style(self, path: TreePath) -> str:
        mark = self.source.values.get(path)
        if mark is None:
            return ""
        start, _ = self.source.spans[path]
        first = self.text[start : start + 1]
        return first if first in (">", "|", "'", '"') else ""

    def _insert(self, parent: TreePath, key: str, value: Any) -> None:
        container = _get(self.data, parent)
        if self._in_flow(parent):
            _, end = self.source.spans[parent]
            closing = end - 1
            separator = ", " if container else ""
            rendered = self._render(value, flow=True, column=0, key=key, style="")
            self._edits.append(_Edit(closing, closing, f"{separator}{key}: {rendered}"))
            return
        if not container:
            raise self._fail(parent, "the mapping is empty")
        last = list(container)[-1]
        column = self._key_column(parent + (last,))
        _, end = self._value_span(parent + (last,))
        line_end = self.text.find("\n", end)
        at = len(self.text) if line_end < 0 else line_end - (self.text[line_end - 1 : line_end] == "\r")
        if isinstance(value, dict):
            lines = [f"\n{' ' * column}{key}:"]
            for inner_key, inner in value.items():
                lines.append(f"\n{' ' * (column + 2)}{inner_key}: {self._render(inner, flow=False, column=column + 2, key=inner_key, style='')}")
            self._edits.append(_Edit(at, at, "".join(lines)))
        else:
            self._edits.append(_Edit(at, at, f"\n{' ' * column}{key}: {self._render(value, flow=False, column=column, key=key, style='')}"))

    # -- writing scalars -------------------------------------------------------------------------
    def _render(self, value: Any, *, flow: bool, column: int, key: str, style: str) -> str:
        """The text to write after ``key: `` for ``value``, in the style of the value it replaces."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            items = [self._render(item, flow=True, column=0, key=key, style="") for item in value]
            return "[" + ", ".join(items) + "]"
        if not isinstance(value, str):  # pragma: no cover - callers write text, booleans and lists
            raise self._fail((), "only text, true/false and lists can be written")
        candidates = _candidates(value, flow=flow, column=column, key=key, style=style)
        for candidate in candidates:
            if _reads_back(candidate, value, flow=flow):
                first, *rest = candidate.split("\n")
                return "\n".join([first, *((" " * column + line) if line else "" for line in rest)])
        raise self._fail((), "the text cannot be written as YAML")  # pragma: no cover - double quotes always work


def _candidates(value: str, *, flow: bool, column: int, key: str, style: str) -> list[str]:
    """Ways to write ``value``, best first; each is checked before it is used."""
    multiline = "\n" in value
    folded = None if flow or multiline else _folded(value)
    literal = None if flow or not multiline else _literal(value)
    quoted = [_double(value)] if style == '"' else [_single(value), _double(value)] if style == "'" else []
    plain_fits = column + len(key) + 2 + len(value) <= FOLD_WIDTH + 10
    ordered: list[str | None]
    if style in (">", "|"):
        ordered = [literal, folded, value if plain_fits else None, _double(value)]
    elif style in ('"', "'"):
        ordered = [literal, *quoted]
    else:
        ordered = [literal, value, _double(value), folded] if plain_fits or folded is None else [literal, folded, value, _double(value)]
    return [candidate for candidate in ordered if candidate is not None and (candidate != value or not multiline)]


def _folded(value: str) -> str | None:
    """``value`` as a folded block (``>-``), wrapped at single spaces; None when folding would change it."""
    if not value or value != value.strip() or "  " in value or "\t" in value or "\n" in value:
        return None
    lines = textwrap.wrap(value, width=FOLD_WIDTH - 2, break_long_words=False, break_on_hyphens=False)
    return ">-\n" + "\n".join("  " + line for line in lines)


def _literal(value: str) -> str | None:
    """``value`` as a literal block (``|``), for texts with line breaks."""
    body = value.rstrip("\n")
    if not body or body != body.lstrip(" ") or "\t" in body:
        return None
    trailing = len(value) - len(body)
    chomp = "-" if trailing == 0 else "" if trailing == 1 else "+"
    return f"|{chomp}\n" + "\n".join(("  " + line) if line else "" for line in body.split("\n")) + "\n" * max(trailing - 1, 0)


def _single(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _double(value: str) -> str:
    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F or char in "\u2028\u2029\ufeff" or 0xD800 <= ord(char) <= 0xDFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _reads_back(candidate: str, value: str, *, flow: bool) -> bool:
    """Whether ``key: candidate`` reads back as exactly ``value`` with the project's YAML reader."""
    snippet = "{k: " + candidate + "}" if flow else "k: " + candidate + "\n"
    try:
        data, _ = read_yaml(snippet)
    except RulesetError:
        return False
    return isinstance(data, dict) and list(data) == ["k"] and data["k"] == value and type(data["k"]) is str


def _get(data: Any, path: TreePath) -> Any:
    for part in path:
        data = data[part]
    return data


# -- drafts: what the tools that edit a ruleset file share --------------------------------------


def read_ruleset_file(path: Path) -> tuple[Any, Any, SourceMap, str]:
    """The validated document, the raw data, its positions and the text of a ruleset file."""
    data = read_bytes(path)
    document, _, _ = read_document(data, display_path(path))
    text = data.decode("utf-8")
    raw, source = read_yaml(text, display_path(path), spans=True)
    return document, raw, source, text


def published_problem(file: str, country: str, source: SourceMap) -> Problem:
    """The refusal to edit a published file, pointing at its status."""
    return source.problem(
        ("metadata", "status"),
        "published",
        f"{file} is published, and published versions are never edited",
        f"create a new version first: invictus-rules new-version {country}, then import into the new draft",
    )


def write_checked(path: Path, text: str) -> None:
    """Write an edited ruleset atomically, only if it still loads and compiles."""
    compile_with_source(text, display_path(path))
    write_atomic(path, text)


def ruleset_path(reference: str) -> Path:
    """The file a command's RULESET argument names: a path, a country code or cc@version."""
    return find_ruleset(reference, as_of=dt.date.today())
