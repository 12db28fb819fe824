"""Safe YAML reading with source positions.

The dialect (see DESIGN.md): PyYAML's safe parser (libyaml when present) driven event by event, so
that we decide every scalar's type ourselves with the YAML 1.2 core schema: only ``true``/``false``
are booleans (``no``, ``yes``, ``on``, ``off`` stay text), no octal ``012`` or sexagesimal ``1:30``
numbers, no implicit dates. Duplicate keys, non-text keys, anchors, aliases, custom tags and
multiple documents are rejected. Size and nesting are bounded before anything is built, so a hostile
file cannot exhaust memory or the stack. Every value and key keeps its 1-based line and column.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NoReturn

import yaml

from .errors import Location, Problem, RulesetError, TreePath

try:  # the C parser is much faster; both report the same events and marks
    from yaml import CSafeLoader as _Parser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Parser  # type: ignore[assignment]

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 200_000

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"^[-+]?[0-9]+$")
_INT_OCT = re.compile(r"^0o[0-7]+$")
_INT_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9]+$")  # octal in YAML 1.1 (010 = 8), decimal in YAML 1.2
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_SPECIAL_FLOAT = re.compile(r"^(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
_STANDARD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}
MAX_INT_DIGITS = 30


@dataclass(frozen=True)
class Mark:
    """A 1-based line and column, and how a scalar was quoted (for columns inside it)."""

    line: int
    column: int
    style: str = ""


@dataclass
class SourceMap:
    """Positions of every value and key in one YAML document, by path."""

    file: str
    lines: list[str] = field(default_factory=list)
    values: dict[TreePath, Mark] = field(default_factory=dict)
    keys: dict[TreePath, Mark] = field(default_factory=dict)
    spans: dict[TreePath, tuple[int, int]] = field(default_factory=dict)
    """Where each value starts and ends, as character offsets into the text: kept only when asked for
    (``read_yaml(..., spans=True)``), by tools that edit the text in place."""
    key_spans: dict[TreePath, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    """Problems found while reading that do not stop reading (duplicate keys): reported with the rest."""

    def mark(self, path: TreePath, *, key: bool = False) -> Mark | None:
        """The position of ``path``, or of its nearest enclosing node."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while True:
            if probe in table:
                return table[probe]
            if key and probe in self.values:
                return self.values[probe]
            if not probe:
                return None
            probe = probe[:-1]

    def location(self, path: TreePath, *, key: bool = False, offset: int = 0) -> Location:
        mark = self.mark(path, key=key)
        if mark is None:
            return Location(self.file)
        shift = offset + (1 if mark.style in ("'", '"') and offset else 0)
        return Location(self.file, mark.line, mark.column + shift)

    def line_text(self, line: int) -> str:
        if 1 <= line <= len(self.lines):
            return self.lines[line - 1].rstrip("\n")
        return ""

    def problem(
        self,
        path: TreePath,
        code: str,
        message: str,
        hint: str = "",
        *,
        key: bool = False,
        offset: int = 0,
        span: int = 1,
        severity: str = "error",
    ) -> Problem:
        """A problem positioned at ``path`` (and ``offset`` characters into its scalar)."""
        location = self.location(path, key=key, offset=offset)
        return Problem(
            code=code,
            message=message,
            hint=hint,
            location=location,
            path=format_path(path),
            severity=severity,
            source_line=self.line_text(location.line),
            span=span,
        )


def format_path(path: TreePath) -> str:
    text = "$"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def read_yaml(data: bytes | str, file: str = "<string>", *, until_key: str | None = None, spans: bool = False) -> tuple[Any, SourceMap]:
    """Parse one YAML document into plain Python data and a source map, or raise RulesetError.

    With ``until_key``, reading stops once that top-level key's value is complete (listing versions
    needs only the metadata, which comes first). With ``spans``, the source map also keeps where
    each value and key starts and ends in the text.
    """
    text = _decode(data, file)
    source = SourceMap(file=file, lines=text.splitlines())
    try:
        value = _Builder(source, until_key, spans).build(yaml.parse(text, Loader=_Parser))
    except _Stop as stop:
        raise RulesetError([stop.problem]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        message = (exc.problem or exc.context or "invalid YAML").strip()
        if "nesting depth" in message:  # libyaml stops at 1000 flow levels before our own limit is seen
            raise RulesetError([_too_deep(file, line, column, source.line_text(line))]) from None
        hint = "check indentation (use spaces, not tabs), colons after keys and matching quotes"
        if "\t" in message or "tab" in message or "\t" in source.line_text(line)[: max(column, 1)]:
            hint = "YAML does not allow tabs for indentation: use spaces"
        else:
            explained = explain_syntax_error(source, message, line, column)
            if explained is not None:
                raise RulesetError([explained]) from None
        raise RulesetError(
            [
                Problem(
                    "yaml-syntax",
                    f"this is not valid YAML: {message}",
                    hint,
                    Location(file, line, column),
                    source_line=source.line_text(line),
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise RulesetError(
            [Problem("yaml-syntax", f"this is not valid YAML: {exc}", "", Location(file))]
        ) from None
    return value, source


# -- the YAML mistakes people make most, said in their words ----------------------------------

_KEY_LINE = re.compile(r"^(?P<indent> *)(?P<dash>- +)?(?P<key>[^\s:#'\"{}\[\],&*!|>%@`-][^:#]*?):(?: +(?P<value>.*))?$")


@dataclass(frozen=True)
class _Line:
    number: int
    indent: int
    """Where the line's key starts (after a '- '), counted in spaces."""
    dash: int | None
    key: str
    value: str


def _key_line(source: SourceMap, number: int) -> _Line | None:
    match = _KEY_LINE.match(source.line_text(number).rstrip())
    if match is None:
        return None
    indent = len(match["indent"])
    dash = match["dash"]
    return _Line(number, indent + (len(dash) if dash else 0), indent if dash else None, match["key"].strip(), (match["value"] or "").strip())


def _content_lines_above(source: SourceMap, line: int) -> Iterator[int]:
    """Line numbers above ``line`` that hold something other than blanks and comments, nearest first."""
    for number in range(line - 1, 0, -1):
        text = source.line_text(number).strip()
        if text and not text.startswith("#"):
            yield number


def explain_syntax_error(source: SourceMap, message: str, line: int, column: int) -> Problem | None:
    """A plain-words problem for the YAML mistakes policy staff make most, or None to keep PyYAML's own.

    Covered: a line indented less than the lines it belongs with ("did not find expected key" or
    "'-' indicator"), a key out-dented so far that the next line is read as part of its text (PyYAML
    blames the next line), and an unquoted ': ' inside a text.
    """
    if message.startswith("did not find expected"):
        return _too_shallow(source, line)
    if message.startswith("mapping values are not allowed"):
        return _runaway_text(source, line) or _colon_in_text(source, line, column)
    return None


def _too_shallow(source: SourceMap, line: int) -> Problem | None:
    here = _key_line(source, line)
    if here is None:
        return None
    above = [found for number in _content_lines_above(source, line) if (found := _key_line(source, number)) is not None]
    if not above:
        return None
    if here.dash is not None:  # a list item: line its '-' up with the item before it
        partner = next((a for a in above if a.dash is not None and a.dash != here.dash), None)
        if partner is None or partner.dash is None:
            return None
        wanted, what = partner.dash, f"the '-' of the item on line {partner.number}"
        spaces = here.dash
    else:
        partner = above[0]
        if partner.indent <= here.indent:
            return None
        wanted, what = partner.indent, f"'{partner.key}' on line {partner.number}"
        spaces = here.indent
    shown = f"'- {here.key}'" if here.dash is not None else f"'{here.key}'"
    return Problem(
        "yaml-indentation",
        f"{shown} is indented {spaces} spaces, which lines up with nothing above it",
        f"indent it {wanted} spaces, like {what}: in YAML the indentation says what belongs to what",
        Location(source.file, line, spaces + 1),
        source_line=source.line_text(line),
    )


def _runaway_text(source: SourceMap, line: int) -> Problem | None:
    """A key out-dented above this line, whose plain text YAML continued onto this line."""
    here = source.line_text(line)
    previous = next(_content_lines_above(source, line), None)
    if previous is None:
        return None
    before = _key_line(source, previous)
    indent = len(here) - len(here.lstrip(" "))
    if before is None or before.dash is not None or not before.value or before.value[0] in "'\"|>[{" or before.indent >= indent:
        return None
    siblings = (found for number in _content_lines_above(source, previous) if (found := _key_line(source, number)) is not None)
    partner = next((s for s in siblings if s.indent > before.indent), None)
    hint = f"indent it {partner.indent} spaces, like '{partner.key}' on line {partner.number}" if partner else "indent it like the keys it belongs with"
    return Problem(
        "yaml-indentation",
        f"'{before.key}' is out-dented to column {before.indent + 1}, so it ends the block above it and YAML reads line {line} as more of its text",
        hint,
        Location(source.file, previous, before.indent + 1),
        source_line=source.line_text(previous),
    )


def _colon_in_text(source: SourceMap, line: int, column: int) -> Problem | None:
    here = _key_line(source, line)
    if here is None or not here.value or column - 1 <= here.indent + len(here.key):
        return None
    quoted = here.value.replace('"', '\\"')
    return Problem(
        "yaml-colon-in-text",
        f"the text of '{here.key}' contains ': ' (a colon and a space), which YAML reads as the start of another key",
        f'put the text in quotes: {here.key}: "{quoted}"',
        Location(source.file, line, column),
        source_line=source.line_text(line),
    )


def _plain(line: str) -> str:
    """The value written after the first ': ' of a line (for a hint that shows the line fixed)."""
    return line.split(": ", 1)[1].strip() if ": " in line else ""


def _too_deep(file: str, line: int, column: int, source_line: str) -> Problem:
    return Problem(
        "too-deep",
        f"the file nests more than {MAX_DEPTH} levels deep",
        "flatten the structure; long conditions can use 'all:' and 'any:' lists",
        Location(file, line, column),
        source_line=source_line,
    )


def _decode(data: bytes | str, file: str) -> str:
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > MAX_BYTES:
        head = raw[:MAX_BYTES]
        line_start = head.rfind(b"\n") + 1
        line = head.count(b"\n") + 1
        column = len(head[line_start:].decode("utf-8", "replace")) + 1
        raise RulesetError(
            [
                Problem(
                    "file-too-large",
                    f"the file is {len(raw):,} bytes; rulesets are limited to {MAX_BYTES:,} bytes, a limit passed on line {line:,}",
                    "split the file or remove repeated content",
                    Location(file, line, column),
                )
            ]
        )
    if isinstance(data, str):
        text = data
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
            raise RulesetError(
                [
                    Problem(
                        "encoding",
                        "the file is not valid UTF-8",
                        "save the file as UTF-8 (most editors offer this under 'Save with encoding')",
                        Location(file, line, column),
                    )
                ]
            ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    bad = _NOT_PRINTABLE.search(text)
    if bad is not None:
        position = bad.start()
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        char = ord(bad.group())
        name = _CONTROL_NAMES.get(char, "a control character" if char < 0x20 or 0x7F <= char < 0xA0 else "a character YAML does not allow")
        raise RulesetError(
            [
                Problem(
                    "control-character",
                    f"the file contains U+{char:04X} ({name}), which YAML does not allow",
                    "remove it: it is usually left over from copying text out of another program",
                    Location(file, line, column),
                )
            ]
        )
    return text


# What YAML 1.2 calls printable (section 5.1), less the surrogates a str may carry: PyYAML refuses
# the rest with a message counting characters from the start of the file; this says file:line:col.
_NOT_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CONTROL_NAMES = {0: "NUL", 7: "BEL", 8: "BACKSPACE", 0x1B: "ESCAPE", 0x7F: "DELETE"}


_DISCARD: Any = object()  # the key of a duplicate entry: its value is read (to keep going) and dropped


class _Stop(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


@dataclass
class _Frame:
    container: Any
    path: TreePath
    pending_key: str | None = None
    key_mark: Mark | None = None
    start: int = 0


class _Builder:
    """Builds plain data from parser events with an explicit stack (no recursion)."""

    def __init__(self, source: SourceMap, until_key: str | None = None, spans: bool = False):
        self.source = source
        self.nodes = 0
        self.until_key = until_key
        self.spans: dict[TreePath, tuple[int, int]] | None = source.spans if spans else None

    def fail(self, event: Any, code: str, message: str, hint: str) -> NoReturn:
        mark = event.start_mark
        line, column = mark.line + 1, mark.column + 1
        raise _Stop(
            Problem(
                code,
                message,
                hint,
                Location(self.source.file, line, column),
                source_line=self.source.line_text(line),
            )
        )

    def build(self, events: Any) -> Any:
        stack: list[_Frame] = []
        root: Any = None
        documents = 0
        for event in events:
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    self.fail(
                        event,
                        "multiple-documents",
                        "the file holds more than one YAML document",
                        "remove the '---' line: one ruleset per file",
                    )
                continue
            if isinstance(event, (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent)):
                continue
            if isinstance(event, yaml.AliasEvent):
                self.fail(
                    event,
                    "yaml-alias",
                    "aliases (*name) are not allowed in rulesets",
                    "write the repeated content out in full, so each rule reads on its own",
                )
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frame = stack.pop()
                value = frame.container
                if self.spans is not None:
                    self.spans[frame.path] = (frame.start, event.end_mark.index)  # type: ignore[union-attr]  # the parser always sets marks
                if stack:
                    self._attach(stack[-1], value, event, None)
                    if len(stack) == 1 and self.until_key is not None and self.until_key in stack[0].container:
                        return stack[0].container
                else:
                    root = value
                continue
            if getattr(event, "anchor", None):
                self.fail(
                    event,
                    "yaml-anchor",
                    f"anchors (&{event.anchor}) are not allowed in rulesets",
                    "write the repeated content out in full, so each rule reads on its own",
                )
            self.nodes += 1
            if self.nodes > MAX_NODES:
                self.fail(
                    event,
                    "too-many-nodes",
                    f"the file has more than {MAX_NODES:,} values",
                    "split the ruleset",
                )
            self._check_tag(event)
            path = self._child_path(stack, event)
            mark = Mark(event.start_mark.line + 1, event.start_mark.column + 1)
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if len(stack) >= MAX_DEPTH:
                    raise _Stop(_too_deep(self.source.file, mark.line, mark.column, self.source.line_text(mark.line)))
                self.source.values[path] = mark
                container: Any = {} if isinstance(event, yaml.MappingStartEvent) else []
                stack.append(_Frame(container, path, start=event.start_mark.index))  # type: ignore[union-attr]  # the parser always sets marks
                continue
            value = self._scalar(event)
            style = event.style or ""
            if stack and isinstance(stack[-1].container, dict) and stack[-1].pending_key is None:
                self._take_key(stack[-1], value, event, Mark(mark.line, mark.column, style))
                continue
            self.source.values[path] = Mark(mark.line, mark.column, style)
            if self.spans is not None:
                self.spans[path] = (event.start_mark.index, event.end_mark.index)
            if stack:
                self._attach(stack[-1], value, event, None)
            else:
                root = value
        return root

    def _child_path(self, stack: list[_Frame], event: Any) -> TreePath:
        if not stack:
            return ()
        frame = stack[-1]
        if isinstance(frame.container, list):
            return frame.path + (len(frame.container),)
        if frame.pending_key is None:
            if not isinstance(event, yaml.ScalarEvent):
                self.fail(
                    event,
                    "non-text-key",
                    "a key must be plain text, not a list or a mapping",
                    "write keys as simple names, e.g. 'id:'",
                )
            return frame.path
        if frame.pending_key is _DISCARD:
            return frame.path + ("\x00duplicate",)
        return frame.path + (frame.pending_key,)

    def _take_key(self, frame: _Frame, value: Any, event: Any, mark: Mark) -> None:
        if not isinstance(value, str):
            self.fail(
                event,
                "non-text-key",
                f"the key {event.value!r} is read as a {type(value).__name__}, but keys must be text",
                f"put the key in quotes: '{event.value}':",
            )
        if value in frame.container or value == frame.pending_key:
            first = self.source.keys.get(frame.path + (value,))
            where = f" (first at line {first.line})" if first else ""
            line, column = event.start_mark.line + 1, event.start_mark.column + 1
            if value == "id" and frame.path and isinstance(frame.path[-1], int):
                # every later key of the item would repeat too: one clear error instead of many
                self.fail(
                    event,
                    "yaml-missing-dash",
                    f"a second 'id' in the same list item{where}: the '-' that starts a new item is missing",
                    f"put '- ' before it, two spaces further left, so the line reads '{' ' * max(column - 3, 0)}- id: {_plain(self.source.line_text(line))}'",
                )
            self.source.problems.append(
                Problem(
                    "duplicate-key",
                    f"the key '{value}' appears twice in the same mapping{where}",
                    "remove or rename one of them: YAML would silently keep only the last",
                    Location(self.source.file, line, column),
                    source_line=self.source.line_text(line),
                )
            )
            frame.pending_key = _DISCARD
            return
        frame.pending_key = value
        self.source.keys[frame.path + (value,)] = mark
        if self.spans is not None:
            self.source.key_spans[frame.path + (value,)] = (event.start_mark.index, event.end_mark.index)

    def _attach(self, frame: _Frame, value: Any, event: Any, _: Any) -> None:
        if isinstance(frame.container, list):
            frame.container.append(value)
        else:
            assert frame.pending_key is not None
            if frame.pending_key is not _DISCARD:
                frame.container[frame.pending_key] = value
            frame.pending_key = None

    def _check_tag(self, event: Any) -> None:
        tag = getattr(event, "tag", None)
        if tag and tag not in _STANDARD_TAGS and tag != "!":
            self.fail(
                event,
                "yaml-tag",
                f"the tag '{tag}' is not allowed in rulesets",
                "remove the tag: rulesets use plain YAML values only",
            )

    def _scalar(self, event: Any) -> Any:
        text: str = event.value
        tag = event.tag
        plain = event.implicit[0] and not event.style
        if tag == "tag:yaml.org,2002:str" or (not plain and not tag) or tag == "!":
            return text
        if tag in (None, "tag:yaml.org,2002:null") and _NULL.match(text):
            return None
        if tag in (None, "tag:yaml.org,2002:bool") and text in _BOOL:
            return _BOOL[text]
        if tag in (None, "tag:yaml.org,2002:int") and (_INT_OCT.match(text) or _LEADING_ZERO.match(text)):
            self.fail(
                event,
                "octal-number",
                f"'{text}' is read differently by YAML tools: as an octal number by some, as "
                + ("text" if _INT_OCT.match(text) else "a decimal number")
                + " by others",
                "write the number without leading zeros (e.g. 120), or in quotes if it is text such as a phone number",
            )
        if tag in (None, "tag:yaml.org,2002:int") and (_INT.match(text) or _INT_HEX.match(text)):
            digits = text.lstrip("+-")
            if len(digits) > MAX_INT_DIGITS:
                self.fail(
                    event,
                    "number-too-large",
                    f"the number has {len(digits)} digits; numbers in rulesets are limited to {MAX_INT_DIGITS}",
                    "use a realistic value",
                )
            if _INT.match(text):
                return int(text, 10)
            return int(text, 0)
        if tag in (None, "tag:yaml.org,2002:float") and (_FLOAT.match(text) or _SPECIAL_FLOAT.match(text)):
            number = math.nan if _SPECIAL_FLOAT.match(text) else float(text)
            if not math.isfinite(number):
                self.fail(
                    event,
                    "non-finite-number",
                    f"'{text}' is not a finite number",
                    "use an ordinary number; infinity and NaN are not allowed in rulesets",
                )
            return number
        if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"):
            self.fail(
                event,
                "yaml-tag",
                f"'{text}' cannot be read as {tag.rsplit(':', 1)[-1]}",
                "remove the tag or fix the value",
            )
        return text
