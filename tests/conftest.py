"""Shared fixtures, the hypothesis profiles and the --run-slow option for long fuzz runs.

Profiles: ``default`` (quick) and ``slow`` (many examples); ``--run-slow`` or ``HYPOTHESIS_PROFILE=slow``
picks ``slow``, and ``--run-slow`` also runs the tests marked ``slow``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

from invictus_rules import Ruleset, load_ruleset
from invictus_rules.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"

settings.register_profile("default", deadline=None)
settings.register_profile("slow", deadline=None, max_examples=1000)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", default=False, help="run the long fuzz and soak tests")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--run-slow"):
        os.environ["HYPOTHESIS_PROFILE"] = "slow"
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="long run: use --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def mini() -> Ruleset:
    return load_ruleset(FIXTURES / "mini.yaml")


@pytest.fixture(scope="session")
def safety() -> Ruleset:
    """A ruleset with a safety section and every referral mode."""
    return load_ruleset(FIXTURES / "safety.yaml")


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code = code
        self.out = out
        self.err = err


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """Run the CLI in-process with captured streams, as ``cli("assess", "nl", "case.json")``."""

    def run(*argv: str, stdin: bytes = b"") -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), stdout=out, stderr=err, stdin=io.BytesIO(stdin))
        return CliResult(code, out.getvalue(), err.getvalue())

    return run
