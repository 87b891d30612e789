"""The import graph between the packages of `service/`, and its cycles.

`python -m tools.package_graph` prints every strongly connected group of two or more packages (a package
cycle) and exits non-zero when there is one; `--edges` prints the graph as well. Every import counts, also
those inside functions and under `if TYPE_CHECKING:`: a dependency is a dependency wherever the statement
sits. A package is a folder of `service/` or a top-level module (`service.config`, `service.main`). A folder
without `__init__.py` (Alembic's migration scripts, which Alembic loads by path) is no part of the package
around it: it is a node of its own (`service.db.migrations`), so its imports show, under its own name.
Standard library only, so it runs before the virtualenv exists. The layer contracts that keep the graph
acyclic are in pyproject.toml (`[tool.importlinter]`, checked by `lint-imports`).
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOP = "service"


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(tree: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """Every module name an import statement in `tree` names (relative ones resolved)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            yield prefix
            yield from (f"{prefix}.{alias.name}" for alias in node.names)


def package_of(module: str, top: str = TOP) -> str | None:
    """`service.custody.ledger` -> `service.custody`; None outside `service`."""
    parts = module.split(".")
    if parts[0] != top or len(parts) < 2:
        return None
    return ".".join(parts[:2])


def _in_package(path: Path, top: Path) -> bool:
    """Whether every folder from `top` down to the file is a package (has `__init__.py`)."""
    folder = path.parent
    while folder != top.parent:
        if not (folder / "__init__.py").exists():
            return False
        folder = folder.parent
    return True


def _script_folder(path: Path, root: Path) -> str:
    """The outermost folder without `__init__.py` holding the file, dotted (`service.db.migrations`)."""
    folder = path.parent
    while not (folder.parent / "__init__.py").exists():
        folder = folder.parent
    return ".".join(folder.relative_to(root).parts)


def package_graph(root: Path = ROOT, top: str = TOP) -> dict[str, set[str]]:
    """Package -> the other packages of `top` it imports."""
    graph: dict[str, set[str]] = {}
    for path in sorted((root / top).rglob("*.py")):
        module = _module_name(path, root)
        source = package_of(module, top) if _in_package(path, root / top) else _script_folder(path, root)
        if source is None:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        targets = graph.setdefault(source, set())
        for name in _imported(tree, module, path.name == "__init__.py"):
            target = package_of(name, top)
            if target is None or target == source:
                continue
            folder = root / Path(*target.split("."))
            if folder.is_dir() or folder.with_suffix(".py").exists():
                targets.add(target)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components of one node are kept too (callers filter)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    return sorted(c for c in strongly_connected(graph) if len(c) > 1)


def _print_edges(graph: dict[str, set[str]]) -> Iterable[str]:
    for source in sorted(graph):
        yield f"{source} -> {', '.join(sorted(graph[source])) or '(nothing)'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", action="store_true", help="print the package graph too")
    args = parser.parse_args(argv)
    graph = package_graph()
    if args.edges:
        print("\n".join(_print_edges(graph)))
    found = cycles(graph)
    for component in found:
        print(f"package cycle ({len(component)}): {' '.join(component)}")
    if not found:
        print(f"no package cycle among {len(graph)} packages of {TOP}/")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
