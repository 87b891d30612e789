"""The layer contracts of service/ (.importlinter) hold, and they are real: two adjacent layers swapped
break the contract whenever the upper one imports the lower one (an upward import fails `lint-imports`),
each exception a contract grants is needed (without it, lint-imports fails and names the import), and no two
packages of service/ import each other (tools/package_graph.py, which counts every import). lint-imports
reads the import graph only (no code runs), about a second per run.
"""

from __future__ import annotations

import configparser
import subprocess
from pathlib import Path

import grimp
import pytest

from tools.package_graph import cycles, package_graph

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".importlinter"
LINT_IMPORTS = ROOT / ".venv" / "bin" / "lint-imports"


def _ignores() -> list[tuple[str, str]]:
    """(contract section, exception) for every exception every contract grants."""
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    return [
        (section, line.strip())
        for section in parser.sections()
        for line in parser[section].get("ignore_imports", "").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def _without(section: str, ignored: str) -> str:
    """The configuration with one exception removed from one contract."""
    lines, current, removed = [], "", 0
    for line in CONFIG.read_text().splitlines():
        if line.startswith("["):
            current = line.strip("[]")
        if current == section and line.strip() == ignored:
            removed += 1
            continue
        lines.append(line)
    assert removed == 1, f"{ignored!r} is not one line of [{section}]"
    return "\n".join(lines) + "\n"


def configparser_sections() -> list[str]:
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    return [section for section in parser.sections() if section.startswith("importlinter:contract:")]


def _lint(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_layer_contracts_hold() -> None:
    result = _lint(CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    assert result.stdout.count(" KEPT") == len(configparser_sections()), result.stdout


def _layers() -> list[str]:
    """The lines of the layers contract, highest first (comments left out)."""
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    lines = parser["importlinter:contract:layers"]["layers"].splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _members(layer: str) -> list[str]:
    return [name.strip() for name in layer.replace("|", ":").split(":")]


def _swapped(upper: str, lower: str) -> str:
    """The configuration with two adjacent lines of the layers contract swapped."""
    lines = CONFIG.read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip() == upper)
    second = next(i for i, line in enumerate(lines) if line.strip() == lower)
    assert second == first + 1 or all(lines[i].strip().startswith("#") for i in range(first + 1, second))
    lines[first], lines[second] = lines[second], lines[first]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("service", cache_dir=None)


ADJACENT = list(zip(_layers(), _layers()[1:], strict=False))


@pytest.mark.parametrize(("upper", "lower"), ADJACENT, ids=[f"{u} / {w}" for u, w in ADJACENT])
def test_an_upward_import_breaks_the_layers(
    upper: str, lower: str, graph: grimp.ImportGraph, tmp_path: Path
) -> None:
    """Where the upper line imports the lower one (directly or through others), the lower line placed above
    it breaks the contract, naming an import; where it does not, the order of the two is free."""
    imports = any(
        graph.chain_exists(importer=u, imported=w, as_packages=True)
        for u in _members(upper)
        for w in _members(lower)
    )
    config = tmp_path / ".importlinter"
    config.write_text(_swapped(upper, lower))
    result = _lint(config)
    assert ("BROKEN" in result.stdout) == imports, result.stdout + result.stderr
    if imports:
        assert " is not allowed to import " in result.stdout, result.stdout


def test_most_layers_rest_on_the_one_below(graph: grimp.ImportGraph) -> None:
    """The order is the code's, not a wish list: most adjacent lines are an import apart."""
    resting = [
        (upper, lower)
        for upper, lower in ADJACENT
        if any(
            graph.chain_exists(importer=u, imported=w, as_packages=True)
            for u in _members(upper)
            for w in _members(lower)
        )
    ]
    assert len(resting) >= len(ADJACENT) * 3 // 4, resting


def test_no_package_imports_another_that_imports_it() -> None:
    assert cycles(package_graph()) == []


def test_a_folder_without_init_is_a_node_of_its_own(tmp_path: Path) -> None:
    """Alembic's scripts import the model registry (an entry point): that edge is the scripts', not db's."""
    package = tmp_path / "top"
    (package / "db" / "scripts").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "db" / "__init__.py").write_text("")
    (package / "registry.py").write_text("import top.db\n")
    (package / "db" / "scripts" / "env.py").write_text("import top.registry\n")
    graph = package_graph(tmp_path, "top")
    assert graph["top.db.scripts"] == {"top.registry"}
    assert "top.registry" not in graph["top.db"]
    assert cycles(graph) == []
    (package / "db" / "scripts" / "__init__.py").write_text("")
    assert cycles(package_graph(tmp_path, "top")) == [["top.db", "top.registry"]]


def test_each_exception_is_needed(tmp_path: Path) -> None:
    """The contracts hold with no exception today; one added later must break its contract when removed (a
    loop, not a parametrization, so that an empty list passes instead of being skipped)."""
    for section, ignored in _ignores():
        config = tmp_path / ".importlinter"
        config.write_text(_without(section, ignored))
        result = _lint(config)
        output = result.stdout + result.stderr
        assert result.returncode != 0, f"[{section}] holds without {ignored!r}: drop the exception\n{output}"
        importer = ignored.split(" -> ")[0].replace("*", "")
        assert "BROKEN" in output and importer.rstrip(".").split(".")[-1] in output, output
