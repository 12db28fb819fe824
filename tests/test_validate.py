"""The schema check turns pydantic's errors into problems at the line and column of the offending key."""

from __future__ import annotations

import pytest

from invictus_rules._yaml import read_yaml
from invictus_rules.errors import RulesetError
from invictus_rules.validate import validate_document

TEXT = """\
format: invictus-rules/v1
metadata:
  id: demo
  titel: {en: Demo}
questions: []
"""


def test_every_schema_problem_is_positioned_with_a_hint():
    """An unknown key is reported where it is written, with a did-you-mean; a missing one at its parent."""
    raw, source = read_yaml(TEXT, "demo.yaml")
    with pytest.raises(RulesetError) as raised:
        validate_document(raw, source)
    problems = {p.code: p for p in raised.value.problems}
    unknown = problems["unknown-key"]
    assert (unknown.location.file, unknown.location.line, unknown.location.column) == ("demo.yaml", 4, 3)
    assert "title" in unknown.hint
    assert problems["missing-key"].location.line == 3
