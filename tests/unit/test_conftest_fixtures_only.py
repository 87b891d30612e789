"""conftest files hold fixtures and pytest hooks only (README, "Tests"): a helper function or class there is
reachable only by importing the conftest as a module, which pytest does not mean it for, so helpers live in
tests/support/ and every test imports them from there. This test reads every conftest's top-level definitions
and every test module's imports, and proves on planted files that it sees a helper and a conftest import.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def _is_fixture(decorator: ast.expr) -> bool:
    """``@pytest.fixture``, ``@pytest.fixture(...)``, ``@fixture`` or ``@fixture(...)``."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Attribute):
        return target.attr == "fixture"
    return isinstance(target, ast.Name) and target.id == "fixture"


def _helpers(conftest: Path) -> list[str]:
    """Top-level functions and classes of ``conftest`` that are neither fixtures nor pytest hooks."""
    tree = ast.parse(conftest.read_text(), filename=str(conftest))
    found = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef) or (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and not node.name.startswith("pytest_")
            and not any(map(_is_fixture, node.decorator_list))
        ):
            found.append(f"{node.name} (line {node.lineno})")
    return found


def _conftest_imports(module: Path) -> list[int]:
    """Lines of ``module`` that import a conftest (``from .conftest import``, ``import tests.x.conftest``)."""
    tree = ast.parse(module.read_text(), filename=str(module))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or "", *(alias.name for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        if any(name.rsplit(".", 1)[-1] == "conftest" for name in names):
            lines.append(node.lineno)
    return lines


def test_conftest_files_define_only_fixtures_and_hooks() -> None:
    helpers = {
        str(path.relative_to(TESTS)): found
        for path in sorted(TESTS.rglob("conftest.py"))
        if (found := _helpers(path))
    }
    assert not helpers, f"helpers in conftest files (move them to tests/support/): {helpers}"


def test_no_test_module_imports_a_conftest() -> None:
    importing = {
        f"{path.relative_to(TESTS)}:{line}"
        for path in sorted(TESTS.rglob("*.py"))
        for line in _conftest_imports(path)
    }
    assert not importing, f"modules importing a conftest (import from tests/support/): {sorted(importing)}"


def test_the_checks_see_a_helper_and_a_conftest_import(tmp_path: Path) -> None:
    conftest = tmp_path / "conftest.py"
    conftest.write_text(
        "import pytest\nfrom pytest import fixture\n\n"
        "@pytest.fixture(scope='module')\ndef a(): ...\n\n"
        "@fixture\ndef b(): ...\n\n"
        "def pytest_configure(config): ...\n\n"
        "def helper(): ...\n\n"
        "class Driver: ...\n"
    )
    assert _helpers(conftest) == ["helper (line 12)", "Driver (line 14)"]
    module = tmp_path / "test_m.py"
    module.write_text(
        "from .conftest import Driver\nfrom . import conftest\nimport tests.a.conftest\nimport os\n"
    )
    assert _conftest_imports(module) == [1, 2, 3]
