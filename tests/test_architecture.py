"""The pipeline reads one way: each module imports only stages before it."""

from __future__ import annotations

import ast
from pathlib import Path

import invictus_rules

PACKAGE = Path(invictus_rules.__file__).resolve().parent
ORDER = [
    "errors", "_version", "signing", "model", "_yaml", "expr", "templates", "outcome", "safety", "fastpath", "compile", "load", "answers",
    "evaluate", "relevance", "record", "result", "render", "cases", "batch", "api", "tools", "cli", "__init__", "__main__",
]


def _stage(module: str) -> str:
    return module.split(".")[0]


def _internal_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    relative_to = path.relative_to(PACKAGE).with_suffix("").parts
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(relative_to[: len(relative_to) - node.level])
            target = ".".join(base + ([node.module] if node.module else []))
            found.add(target or "__init__")
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("invictus_rules."):
            found.add(node.module.removeprefix("invictus_rules."))
    return found


def test_imports_point_one_way():
    """No module imports a later pipeline stage (load never knows evaluate, evaluate never the CLI)."""
    backwards = []
    for path in sorted(PACKAGE.rglob("*.py")):
        own = _stage(".".join(path.relative_to(PACKAGE).with_suffix("").parts))
        for target in _internal_imports(path):
            stage = _stage(target)
            if stage in ORDER and own in ORDER and ORDER.index(stage) > ORDER.index(own):
                backwards.append(f"{path.relative_to(PACKAGE)} imports {target}")
    assert not backwards


def test_evaluate_does_no_io():
    """The evaluator imports nothing that reads files, the clock or the environment."""
    source = (PACKAGE / "evaluate.py").read_text(encoding="utf-8")
    for forbidden in ("open(", "os.", "pathlib", "today(", "now(", "time.", "logging"):
        assert forbidden not in source
