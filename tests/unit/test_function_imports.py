"""Imports sit at the top of a module. One inside a function hides a dependency from the reader and from the
layer contracts' graph, so each needs a comment saying why (an optional, heavy or process-specific import), on
its line or above a block of them; this test counts them and fails on an uncommented one, in service/ (the
local AWS, which imports moto's internals where it patches them, is dev tooling in tools/local_aws).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "service"


def _function_imports(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), filename=str(path))
    lines: list[int] = []
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            lines += [
                node.lineno for node in ast.walk(function) if isinstance(node, ast.Import | ast.ImportFrom)
            ]
    return sorted(set(lines))


def _uncommented(path: Path) -> list[int]:
    """Function-level imports with no comment on their line or above their block (consecutive imports)."""
    source = path.read_text().splitlines()
    found = _function_imports(path)
    said: set[int] = set()
    for lineno in found:
        above = source[lineno - 2].strip() if lineno > 1 else ""
        block = lineno - 1 in said or (lineno - 2 in said and not above)
        if "#" in source[lineno - 1] or above.startswith("#") or block:
            said.add(lineno)
    return [n for n in found if n not in said]


def _inventory() -> tuple[int, list[str]]:
    total, uncommented = 0, []
    for path in sorted(FOLDER.rglob("*.py")):
        total += len(_function_imports(path))
        uncommented += [f"{path.relative_to(ROOT)}:{n}" for n in _uncommented(path)]
    return total, uncommented


def test_every_import_inside_a_function_says_why() -> None:
    total, uncommented = _inventory()
    assert not uncommented, (
        f"{len(uncommented)} of {total} imports inside functions say not why: {uncommented}"
    )


def test_the_check_sees_an_uncommented_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    import json\n\n    # only here: heavy\n    import csv\n    import io\n")
    assert _uncommented(module) == [2]
