"""The wheel built from pyproject.toml is the product alone: neither the local AWS (tools/local_aws) nor the
stand-in provider (tools/aws_standin) is in it, it depends on moto only through the ``local`` extra (which
``dev`` includes), and its console scripts start the service. The product's own modules import neither moto
nor the local AWS (the "local_aws" contract in .importlinter says the same of the import graph; this reads the
source, so it also sees an import a graph tool would resolve elsewhere), and name no file of the dev tooling
to read at run time (absent from an installed wheel).

The wheel is built once per module (about 3 s), offline and without build isolation (setuptools and wheel come
with the dev extra), from a copy of the checkout's files, so a stale build/ or egg-info folder cannot add
files and nothing is written into the checkout.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

# One worker runs the module, so the wheel (a module fixture) is built once, not once per worker.
pytestmark = pytest.mark.xdist_group(name="wheel")
ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("service", "programs", "policy_packs")
DEV_TOOLING = ("tools/local_aws/", "tools/aws_standin/")
# Python module prefixes the product must never import.
FORBIDDEN_IMPORTS = ("moto", "tools.local_aws", "tools.aws_standin")


def _checkout_files() -> list[str]:
    """The files of the working tree git knows or would add: tracked ones, and new ones not ignored."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    return [name for name in listing.split("\0") if name and (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    source = tmp_path_factory.mktemp("source")
    for name in _checkout_files():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [
            sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
            "--no-index", "-w", str(out), str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout + build.stderr
    (built,) = out.glob("forensic_cleanroom-*.whl")
    return zipfile.ZipFile(built)


def _metadata(wheel: zipfile.ZipFile) -> str:
    (name,) = [name for name in wheel.namelist() if name.endswith(".dist-info/METADATA")]
    return wheel.read(name).decode()


def test_the_wheel_holds_the_product_and_not_the_local_aws_nor_the_standin(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    assert any(name.startswith("service/") for name in names)
    assert "service/main.py" in names and "programs/forensic_env/__main__.py" in names
    assert [name for name in names if name.startswith(DEV_TOOLING)] == []


def test_the_wheel_depends_on_moto_only_through_the_local_extra(wheel: zipfile.ZipFile) -> None:
    requires = Parser().parsestr(_metadata(wheel)).get_all("Requires-Dist") or []
    moto = [line for line in requires if line.lower().startswith("moto")]
    assert moto, f"no moto requirement at all (the local extra must name it): {requires}"
    assert all(line.endswith('; extra == "local"') for line in moto), moto
    # The dev extra brings the local AWS through the local extra; nothing else pulls the project's extras.
    own = [line for line in requires if line.lower().startswith("forensic-cleanroom")]
    assert own == ['forensic-cleanroom[local]; extra == "dev"'], own
    unconditional = [line for line in requires if "extra ==" not in line]
    assert [line for line in unconditional if "moto" in line.lower()] == []


def test_the_console_scripts_start_the_service_not_the_tooling(wheel: zipfile.ZipFile) -> None:
    (name,) = [name for name in wheel.namelist() if name.endswith(".dist-info/entry_points.txt")]
    targets = [
        line.split("=", 1)[1].strip()
        for line in wheel.read(name).decode().splitlines()
        if "=" in line and not line.startswith("[")
    ]
    assert targets and all(target.startswith("service.") for target in targets), targets


def _imported_modules(path: Path) -> list[str]:
    modules: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.append(node.module)
            # `from tools import local_aws`: the imported names may be modules themselves.
            modules += [f"{node.module}.{alias.name}" for alias in node.names]
    return modules


def _forbidden(module: str) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in FORBIDDEN_IMPORTS)


def test_the_product_imports_neither_moto_nor_the_local_aws() -> None:
    files = [path for package in PRODUCT for path in sorted((ROOT / package).rglob("*.py"))]
    assert len(files) > 100
    found = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in files
        for module in _imported_modules(path)
        if _forbidden(module)
    ]
    assert found == []


def _names_dev_tooling(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and any(part in node.value for part in ("local_aws", "aws_standin", "avml_standin"))
    )


def test_the_product_reads_no_file_of_the_dev_tooling() -> None:
    found = []
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            docstrings = {
                id(node.body[0].value)
                for node in ast.walk(tree)
                if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                and node.body
                and isinstance(node.body[0], ast.Expr)
            }
            found += [
                f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}"  # type: ignore[attr-defined]
                for node in ast.walk(tree)
                if _names_dev_tooling(node) and id(node) not in docstrings
            ]
    assert found == []
