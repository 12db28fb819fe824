"""pytest plugin: collects ruleset tests (``rulesets/<cc>/tests/*.yaml``), one item per case.

Active whenever invictus-rules is installed; ``python -m pytest rulesets/`` runs policy staff's tests
with the same runner as ``invictus-rules test``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from .testing import LoadedCase, Runner, TestFile, format_result, read_test_file


def _is_ruleset_test(path: Path) -> bool:
    if path.suffix != ".yaml" or path.parent.name != "tests":
        return False
    return any(path.parent.parent.glob("*.yaml"))


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if _is_ruleset_test(file_path):
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
            parsed, cases, _ = read_test_file(self.path)
        except Exception as error:  # a broken test file is one failing item, not a collection crash
            yield RulesetTestCase.from_parent(self, name="(test file)", parsed=None, loaded=None, load_error=error)
            return
        for loaded in cases:
            yield RulesetTestCase.from_parent(self, name=loaded.case.name, parsed=parsed, loaded=loaded, load_error=None)


class RulesetCaseFailed(Exception):
    pass


class RulesetTestCase(pytest.Item):
    def __init__(self, *, parsed: TestFile | None, loaded: LoadedCase | None, load_error: Exception | None, **kwargs: Any):
        super().__init__(**kwargs)
        self.parsed = parsed
        self.loaded = loaded
        self.load_error = load_error

    def runtest(self) -> None:
        if self.load_error is not None:
            raise RulesetCaseFailed(str(self.load_error))
        assert self.parsed is not None and self.loaded is not None
        result = _runner(self.config).run_case(self.path, self.parsed, self.loaded)
        if not result.passed:
            raise RulesetCaseFailed(format_result(result))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, RulesetCaseFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        line = self.loaded.line - 1 if self.loaded else 0
        return self.path, line, f"ruleset test: {self.name}"
