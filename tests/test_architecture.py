"""The pipeline reads one way: each module imports only stages before it."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

import invictus_rules

PACKAGE = Path(invictus_rules.__file__).resolve().parent
ORDER = [
    # small facts every stage may use; they import nothing internal but errors
    "errors", "_version", "texts", "numbers", "refs", "suggest", "labels", "static", "signing",
    # ruleset YAML -> raw tree with positions -> validated document: the YAML reader, the schema
    # check (a pure function of the raw tree), then the files: found by path or by country and
    # date (which reads each version's validated metadata, so it comes after validate)
    "model", "_yaml", "expr", "validate", "load",
    # -> CompiledRuleset: the compiled types come before the fast path that reads them, and the
    # builder after both
    "templates", "outcome", "safety", "compiled", "fastpath", "compile",
    # answers -> evaluate -> result -> render
    "answers", "cases", "evaluate", "decisions", "relevance", "record", "result", "render",
    # wiring: views and the public façade, then the tools, services and the CLI on top
    "questionnaire", "batch", "api", "registry", "tools", "schemas", "service", "workbench", "cli", "__init__", "__main__",
]


def _stage(module: str) -> str:
    return module.split(".")[0]


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _resolve_relative(path: Path, level: int, module: str | None) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    package = parts[:-1]  # the package a module (or a package's __init__) sits in
    base = package[: len(package) - (level - 1)] if level > 1 else package
    return ".".join(base + ([module] if module else [])) or "__init__"


def _string_import(node: ast.Call) -> str | None:
    """The module named by ``importlib.import_module("...")`` or ``__import__("...")``, or "?" when
    the call names it with anything but a string literal (which this test cannot follow)."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name not in ("import_module", "__import__"):
        return None
    if not node.args or not isinstance(node.args[0], ast.Constant) or not isinstance(node.args[0].value, str):
        return "?"
    return node.args[0].value


def _internal_imports(path: Path) -> set[str]:
    return _imports_of(path.read_text(encoding="utf-8"), path)


def _imports_of(source: str, path: Path) -> set[str]:
    """Every module of the package the source of ``path`` imports: at the top, inside functions, and
    through ``importlib.import_module`` or ``__import__`` with a literal name ("?" for any other)."""
    tree = ast.parse(source)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            target = _resolve_relative(path, node.level, node.module)
            if node.module is None:  # from . import x, y: each name is a module of that package
                found.update(".".join(p for p in (target if target != "__init__" else "", alias.name) if p) for alias in node.names)
            else:
                found.add(target)
        elif isinstance(node, ast.ImportFrom) and node.module and (node.module == "invictus_rules" or node.module.startswith("invictus_rules.")):
            found.add(node.module.removeprefix("invictus_rules").removeprefix(".") or "__init__")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "invictus_rules" or alias.name.startswith("invictus_rules."):
                    found.add(alias.name.removeprefix("invictus_rules").removeprefix(".") or "__init__")
        elif isinstance(node, ast.Call) and (named := _string_import(node)) is not None:
            if named == "?":
                found.add("?")
            elif named.startswith("."):
                found.add("?")  # relative string imports: not followed, so not allowed
            elif named == "invictus_rules" or named.startswith("invictus_rules."):
                found.add(named.removeprefix("invictus_rules").removeprefix(".") or "__init__")
            elif importlib.util.find_spec(named.split(".")[0]) is None:
                found.add("?")
    return found


def test_every_module_has_a_place_in_the_order():
    """A new module must be placed in the stage order, so the one-way rule covers it."""
    assert sorted({_stage(_module_name(path)) for path in _modules()} - set(ORDER)) == []


def test_imports_point_one_way():
    """No module imports a later pipeline stage (load never knows evaluate, evaluate never the CLI),
    including imports inside functions and imports by name through importlib."""
    backwards = []
    for path in _modules():
        own = _stage(_module_name(path))
        for target in _internal_imports(path):
            if target == "?":
                backwards.append(f"{path.relative_to(PACKAGE)} imports a module by a name this test cannot resolve")
                continue
            stage = _stage(target)
            assert stage in ORDER, f"{path.relative_to(PACKAGE)} imports {target}, which is not in ORDER"
            if ORDER.index(stage) > ORDER.index(own):
                backwards.append(f"{path.relative_to(PACKAGE)} imports {target}")
    assert not backwards


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from .evaluate import evaluate", {"evaluate"}),
        ("def f():\n    from .tools import docs", {"tools"}),
        ("import importlib\nimportlib.import_module('invictus_rules.cli')", {"cli"}),
        ("__import__('invictus_rules.tools.lint')", {"tools.lint"}),
        ("import importlib\nname = 'x'\nimportlib.import_module(name)", {"?"}),
        ("import importlib\nimportlib.import_module('.cli', 'invictus_rules')", {"?"}),
        ("import importlib\nimportlib.import_module('json')", set()),
    ],
)
def test_the_import_finder_sees_lazy_and_string_imports(source, expected):
    """Imports inside functions and through importlib are found; a name it cannot follow is "?"."""
    assert _imports_of(source, PACKAGE / "probe.py") == expected


def test_evaluate_does_no_io():
    """The evaluator imports nothing that reads files, the clock or the environment."""
    source = (PACKAGE / "evaluate.py").read_text(encoding="utf-8")
    for forbidden in ("open(", "os.", "pathlib", "today(", "now(", "time.", "logging"):
        assert forbidden not in source
