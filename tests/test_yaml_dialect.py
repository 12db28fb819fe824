"""The YAML dialect: YAML 1.2 scalars, rejected constructs, positions."""

from __future__ import annotations

import pytest

from invictus_rules._yaml import MAX_DEPTH, read_yaml
from invictus_rules.errors import RulesetError


def codes(text: str | bytes) -> list[str]:
    with pytest.raises(RulesetError) as info:
        value, source = read_yaml(text, "f.yaml")
        if source.problems:
            raise RulesetError(source.problems)
    return [p.code for p in info.value.problems]


def test_only_true_and_false_are_booleans():
    """no, yes, on, off stay text, so an option or country code is never a boolean."""
    value, _ = read_yaml("a: no\nb: off\nc: yes\nd: true\ne: False\nf: NO\n")
    assert value == {"a": "no", "b": "off", "c": "yes", "d": True, "e": False, "f": "NO"}


def test_no_octal_sexagesimal_or_implicit_dates():
    """1:30 is text, a date stays text for the model to parse; 012 and 0o17 are rejected (see below)."""
    value, _ = read_yaml("b: 1:30\nc: 2026-01-01\ne: 1.5e3\nf: 12\n")
    assert value == {"b": "1:30", "c": "2026-01-01", "e": 1500.0, "f": 12}


def test_positions_are_one_based_for_values_and_keys():
    """Every value and key keeps its line and column."""
    _, source = read_yaml("top:\n  key: value\n")
    assert (source.values[("top", "key")].line, source.values[("top", "key")].column) == (2, 8)
    assert (source.keys[("top", "key")].line, source.keys[("top", "key")].column) == (2, 3)


def test_duplicate_key_is_reported_with_both_lines():
    """A duplicate key names the line of the first one."""
    _, source = read_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")
    [problem] = source.problems
    assert problem.code == "duplicate-key"
    assert (problem.location.line, problem.location.column) == (3, 1)
    assert "first at line 1" in problem.message


@pytest.mark.parametrize(
    "text, code",
    [
        ("a: &x 1\nb: *x\n", "yaml-anchor"),
        ("a: !!python/object:os.system x\n", "yaml-tag"),
        ("a: !custom x\n", "yaml-tag"),
        ("? [1, 2]\n: x\n", "non-text-key"),
        ("1: x\n", "non-text-key"),
        ("a: 1\n---\nb: 2\n", "multiple-documents"),
        ("a: .nan\n", "non-finite-number"),
        ("a: .inf\n", "non-finite-number"),
        ("a: " + "9" * 40 + "\n", "number-too-large"),
        ("a: 012\n", "octal-number"),
        ("a: 0o17\n", "octal-number"),
        ("a:\n\t- 1\n", "yaml-syntax"),
        (b"a: \xff\xfe\n", "encoding"),
        ("a: [" * (MAX_DEPTH + 5), "too-deep"),
    ],
)
def test_rejected_constructs(text, code):
    """Constructs outside the dialect are rejected with their own code."""
    assert codes(text) == [code]


def test_byte_order_mark_is_accepted():
    """A UTF-8 byte-order mark, as some editors write, is not an error."""
    value, _ = read_yaml("\ufeffa: 1\n".encode("utf-8"))
    assert value == {"a": 1}


def test_alias_bomb_is_rejected_before_expansion():
    """The billion-laughs pattern fails at its first anchor, in bounded time."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}]" for i in range(1, 30)]
    assert codes("\n".join(lines)) == ["yaml-anchor"]


def test_tab_hint_mentions_spaces():
    """A tab in indentation gets a hint about spaces."""
    with pytest.raises(RulesetError) as info:
        read_yaml("a:\n\t- 1\n")
    assert "tabs" in info.value.problems[0].hint
