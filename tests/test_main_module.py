"""`python -m invictus_rules` run in this process: the CLI's exit code becomes the process's."""

from __future__ import annotations

import importlib
import sys

import pytest


def _run_module(monkeypatch) -> None:
    """Import invictus_rules.__main__ afresh, as ``python -m`` runs it (runpy trips over pytest's import hook)."""
    monkeypatch.delitem(sys.modules, "invictus_rules.__main__", raising=False)
    importlib.import_module("invictus_rules.__main__")


def test_module_run_exits_with_the_cli_code(monkeypatch, capsys):
    """Running the package as a module runs the CLI with sys.argv and exits with its code."""
    monkeypatch.setattr(sys, "argv", ["invictus-rules", "--version"])
    with pytest.raises(SystemExit) as info:
        _run_module(monkeypatch)
    assert info.value.code == 0
    assert capsys.readouterr().out.strip()


def test_module_run_of_an_unknown_command_fails(monkeypatch, capsys):
    """An unknown command exits non-zero with the usage on stderr."""
    monkeypatch.setattr(sys, "argv", ["invictus-rules", "no-such-command"])
    with pytest.raises(SystemExit) as info:
        _run_module(monkeypatch)
    assert info.value.code != 0
    assert "usage:" in capsys.readouterr().err
