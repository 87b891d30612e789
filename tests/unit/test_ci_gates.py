"""CI gates: `make test` runs ruff check, ruff format --check, mypy and lint-imports, then pytest.

The commands are read from the Makefile as make expands them (``make -n`` prints recipes without running
them), so this test, .pre-commit-config.yaml and CI cannot drift apart. Each lint and type gate is run on a
tiny temporary tree twice: clean (exit 0) and with one planted fault (non-zero, naming the fault), so a gate
that always passes, or fails for another reason, is caught. The layer contracts get the same proof on the real
tree in tests/unit/test_import_contracts.py (a contract without one of its exceptions fails).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GATES = ("ruff check", "ruff format --check", "mypy", "lint-imports")
# Gates proven on a planted fault here; lint-imports needs the real tree: tests/unit/test_import_contracts.py
TREE_GATES = GATES[:3]

CLEAN_MODULE = '"""A module every gate accepts."""\n\n\ndef double(n: int) -> int:\n    return n * 2\n'
# gate -> (module that gate alone rejects, text its output must show)
FAULTS = {
    "ruff check": ('"""Unused import."""\n\nimport os\n', "F401"),
    "ruff format --check": ('"""Not formatted."""\n\nVALUE = {  "a":1 }\n', "broken.py"),
    "mypy": ('"""Wrong return type."""\n\n\ndef half(n: int) -> int:\n    return n / 2\n', "[return-value]"),
}


def _dry_run(*targets: str) -> list[list[str]]:
    """The commands `make <targets>` would run, expanded, one argv each; nothing is executed."""
    out = subprocess.run(
        # PYTEST_ARGS emptied: a caller's own (`make check PYTEST_ARGS=...` running this) would show here.
        ["make", "--no-print-directory", "-n", *targets, "PYTEST_ARGS="],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [shlex.split(line) for line in out.splitlines() if line.strip()]


def _gate_name(argv: list[str]) -> str | None:
    tool = Path(argv[0]).name
    if tool in ("mypy", "lint-imports"):
        return tool
    if tool == "ruff" and len(argv) > 1:
        return f"ruff {argv[1]}" + (" --check" if argv[1] == "format" and "--check" in argv else "")
    return None


def _gates(commands: list[list[str]]) -> dict[str, list[str]]:
    return {name: argv for argv in commands if (name := _gate_name(argv))}


@pytest.fixture(scope="module")
def gates() -> dict[str, list[str]]:
    found = _gates(_dry_run("lint", "typecheck", "imports"))
    assert list(found) == list(GATES), f"make lint typecheck imports should run {GATES}, runs {list(found)}"
    return found


def test_make_test_runs_the_gates_in_order_before_pytest(gates: dict[str, list[str]]) -> None:
    commands = _dry_run("test")
    names = [_gate_name(argv) or ("pytest" if argv[1:3] == ["-m", "pytest"] else None) for argv in commands]
    ordered = [name for name in names if name]
    assert ordered == [*GATES, "pytest"], ordered
    # The same commands as the separate targets, not look-alikes.
    assert _gates(commands) == gates


def test_make_check_runs_the_same_gates_then_every_test_but_the_engines(gates: dict[str, list[str]]) -> None:
    commands = _dry_run("check")
    names = [_gate_name(argv) or ("pytest" if argv[1:3] == ["-m", "pytest"] else None) for argv in commands]
    assert [name for name in names if name] == [*GATES, "pytest"], names
    assert _gates(commands) == gates
    (pytest_argv,) = [argv for argv in commands if argv[1:3] == ["-m", "pytest"]]
    marker = pytest_argv[pytest_argv.index("-m", 3) + 1]
    assert marker == "not engine", pytest_argv


def test_make_test_and_check_run_pytest_alike_on_their_own_worker_counts() -> None:
    """Both on pytest-xdist workers with the same distribution (``loadgroup`` keeps a shared room's tests on
    one worker); each has its own worker count (TEST_WORKERS, CHECK_WORKERS), the rest of the arguments are
    the same."""

    def pytest_args(target: str) -> list[str]:
        (argv,) = [argv for argv in _dry_run(target) if argv[1:3] == ["-m", "pytest"]]
        return argv[3:]

    def without_workers(args: list[str]) -> list[str]:
        at = args.index("-n")
        assert int(args[at + 1]) >= 1, args
        return args[:at] + args[at + 2 :]

    full, inner = pytest_args("test"), pytest_args("check")
    assert "--dist" in full and full[full.index("--dist") + 1] == "loadgroup", full
    assert without_workers(inner)[: len(full) - 2] == without_workers(full), (full, inner)


def test_mypy_is_strict_over_every_shipped_folder_and_the_standin(gates: dict[str, list[str]]) -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert config["strict"] is True
    assert {"service", "programs", "policy_packs", "tools"} <= set(gates["mypy"][1:])
    assert not any(pattern.startswith("tools") for pattern in config.get("exclude", []))


@pytest.mark.parametrize("gate", TREE_GATES)
def test_gate_passes_a_clean_tree_and_fails_a_planted_fault(
    gate: str, gates: dict[str, list[str]], tmp_path: Path
) -> None:
    argv = gates[gate]
    folders = [arg for arg in argv[1:] if not arg.startswith("-") and arg not in ("check", "format")]
    # The project's own configuration (line length, rule selection, mypy strictness) applies in the copy.
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    for folder in folders:
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "__init__.py").write_text("")
        (tmp_path / folder / "ok.py").write_text(CLEAN_MODULE)
    command = [str(ROOT / argv[0]), *argv[1:]]

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)

    clean = run()
    assert clean.returncode == 0, f"{gate} rejects a clean tree:\n{clean.stdout}{clean.stderr}"

    source, expected = FAULTS[gate]
    (tmp_path / "tools" / "broken.py").write_text(source)
    broken = run()
    output = broken.stdout + broken.stderr
    assert broken.returncode != 0, f"{gate} accepted a planted fault:\n{output}"
    assert expected in output, output


def test_pre_commit_runs_the_makefile_gates(gates: dict[str, list[str]]) -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"], "no hook repositories to download"
    hooks = config["repos"][0]["hooks"]
    assert all(hook["language"] == "system" and hook["pass_filenames"] is False for hook in hooks)
    assert [shlex.split(hook["entry"]) for hook in hooks] == list(gates.values())


def _readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text()
    for block in re.findall(r"```bash\n(.*?)```", readme, flags=re.DOTALL):
        for line in block.splitlines():
            command = line.split("#", 1)[0].strip()
            if command.startswith("make test"):
                return command
    raise AssertionError("README.md has no ```bash block with `make test`")


def test_ci_runs_the_readme_test_command() -> None:
    script = ROOT / ".ci" / "run"
    commands = [
        line.strip()
        for line in script.read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    # The last command: its exit status is the script's, so a failing gate fails CI.
    assert commands[-1] == _readme_test_command()
