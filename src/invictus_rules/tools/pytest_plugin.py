"""pytest plugin: collects ruleset tests, one item per case, with the runner of ``invictus-rules test``.

Installing invictus-rules must not change a host project's test run, so collection is opt-in:

- a YAML file that declares ``format: invictus-rules/test/v1`` is always collected;
- every ``rulesets/<cc>/tests/*.yaml`` (a ``tests`` folder beside ruleset files) is collected when
  the ini option ``invictus_rules_tests = true`` is set, or with ``--invictus-rules-tests``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from collections.abc import Iterator

import pytest

from .._yaml import SourceMap
from .testing import TEST_FORMAT, LoadedCase, Runner, TestFile, format_result, read_test_file

_INI = "invictus_rules_tests"
_DECLARATION = re.compile(rb"^format:[ \t]*[\"']?" + re.escape(TEST_FORMAT.encode()) + rb"[\"']?[ \t]*(#.*)?$", re.MULTILINE)
_DECLARATION_WINDOW = 64 * 1024
"""How far into a YAML file the ``format`` declaration is looked for: it is a top-level key."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(_INI, "collect rulesets/<cc>/tests/*.yaml as invictus-rules ruleset tests", type="bool", default=False)
    parser.addoption("--invictus-rules-tests", action="store_true", default=False, help="collect rulesets/<cc>/tests/*.yaml as invictus-rules ruleset tests")


def _declares_itself(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(_DECLARATION_WINDOW)
    except OSError:
        return False
    return bool(_DECLARATION.search(head))


def _in_ruleset_tests_folder(path: Path) -> bool:
    return path.parent.name == "tests" and any(path.parent.parent.glob("*.yaml"))


def _is_ruleset_test(path: Path, config: pytest.Config) -> bool:
    if path.suffix not in (".yaml", ".yml"):
        return False
    if _declares_itself(path):
        return True
    enabled = bool(config.getini(_INI)) or bool(config.getoption("--invictus-rules-tests"))
    return enabled and path.suffix == ".yaml" and _in_ruleset_tests_folder(path)


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if _is_ruleset_test(file_path, parent.config):
        return RulesetTestFile.from_parent(parent, path=file_path)
    return None


_RUNNER_KEY = pytest.StashKey[Runner]()


def _runner(config: pytest.Config) -> Runner:
    if _RUNNER_KEY not in config.stash:
        config.stash[_RUNNER_KEY] = Runner()
    return config.stash[_RUNNER_KEY]


class RulesetTestFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        try:
            parsed, cases, source = read_test_file(self.path)
        except Exception as error:  # a broken test file is one failing item, not a collection crash
            yield RulesetTestCase.from_parent(self, name="(test file)", parsed=None, loaded=None, load_error=error, source=None)
            return
        for loaded in cases:
            yield RulesetTestCase.from_parent(self, name=loaded.case.name, parsed=parsed, loaded=loaded, load_error=None, source=source)


class RulesetCaseFailed(Exception):
    pass


class RulesetTestCase(pytest.Item):
    def __init__(self, *, parsed: TestFile | None, loaded: LoadedCase | None, load_error: Exception | None, source: SourceMap | None, **kwargs: Any):
        super().__init__(**kwargs)
        self.source = source
        self.parsed = parsed
        self.loaded = loaded
        self.load_error = load_error

    def runtest(self) -> None:
        if self.load_error is not None:
            raise RulesetCaseFailed(str(self.load_error))
        assert self.parsed is not None and self.loaded is not None
        result = _runner(self.config).run_case(self.path, self.parsed, self.loaded, self.source)
        if not result.passed:
            raise RulesetCaseFailed(format_result(result))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, RulesetCaseFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        line = self.loaded.line - 1 if self.loaded else 0
        return self.path, line, f"ruleset test: {self.name}"
