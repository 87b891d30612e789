"""The operations guide's commands exist, and the production ones install nothing (a node
in production runs what was built and reviewed, nothing fetched at start).

Read from README.md's "Operations: several nodes" section: every `make <target>` it names is a target of the
Makefile, every `python -m <module>` an importable module with a ``main``, every installed command
(``forensics-api``, ``forensics-worker``) a script of pyproject.toml pointing at a callable. `make serve-api`
and `make serve-worker` are expanded with `make -n` (nothing runs): they start the service and do no set-up
(no virtualenv, pip, apt or CLI build), and fail with a message when the virtualenv is missing.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SET_UP = ("pip install", "-m venv", "apt-get", "tools.build_pulumi_cli", "tools.system_packages")


def _guide() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Operations: several nodes")
    return readme[start : readme.index("\n## ", start + 1)]


def _dry_run(target: str, *variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-n", target, *variables],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_make_target_the_guide_names_exists() -> None:
    targets = set(re.findall(r"`make ([a-z][a-z-]*)", _guide().replace("make\n   ", "make ")))
    assert {"serve-api", "serve-worker", "local-aws", "worker"} <= targets, targets
    for target in sorted(targets):
        result = _dry_run(target)
        assert result.returncode == 0, f"make {target}: {result.stderr}"


def test_every_module_the_guide_runs_exists_and_has_a_main() -> None:
    modules = set(re.findall(r"python -m ([a-z_][a-z_.]*)", _guide()))
    assert {
        "service.jobs.worker",
        "service.api_node",
        "tools.local_aws.serve",
        "service.db.migrate",
    } <= modules
    for name in sorted(modules):
        assert importlib.util.find_spec(name) is not None, name
    # Importing them starts nothing (the worker builds its queue in main or when its queue is read).
    for name in ("service.api_node", "tools.local_aws.serve", "service.jobs.worker"):
        assert callable(importlib.import_module(name).main), name


def test_installed_commands_point_at_callables() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    guide = _guide()
    for command in ("forensics-api", "forensics-worker"):
        assert f"`{command}`" in guide, command
        module, _, attribute = scripts[command].partition(":")
        spec = importlib.util.find_spec(module)
        assert spec is not None and spec.origin is not None, scripts[command]
        assert re.search(rf"^def {attribute}\(", Path(spec.origin).read_text(), re.M), scripts[command]
    assert scripts["forensics-api"] == "service.api_node:main"


@pytest.mark.parametrize(
    ("target", "module"), [("serve-api", "service.api_node"), ("serve-worker", "service.jobs.worker")]
)
def test_production_targets_start_the_node_and_install_nothing(target: str, module: str) -> None:
    result = _dry_run(target)
    assert result.returncode == 0, result.stderr
    assert f"-m {module}" in result.stdout, result.stdout
    # What would run, without the refusal's message (which tells how to install).
    commands = re.sub(r'echo "[^"]*"', "", result.stdout)
    for step in SET_UP:
        assert step not in commands, (step, result.stdout)
    # Its only prerequisite is the check, not `setup`.
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(rf"^{target}: installed$", makefile, re.MULTILINE), target


def test_production_targets_refuse_clearly_without_a_virtualenv(tmp_path: Path) -> None:
    missing = tmp_path / "no-venv"
    result = subprocess.run(
        ["make", "--no-print-directory", "serve-worker", f"VENV={missing}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"no installed service in {missing}" in result.stderr, result.stderr
    assert not missing.exists(), "nothing was created"
