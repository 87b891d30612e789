"""The layer contracts of service/ (.importlinter) hold, and they are real: each exception the contract
grants is needed (without it, lint-imports fails and names the import), so a contract that checks nothing,
or an exception kept after its reason went away, is caught. lint-imports reads the import graph only (no
code runs), about a second per run.
"""

from __future__ import annotations

import configparser
import subprocess
from pathlib import Path

import pytest

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


def test_there_are_exceptions_to_prove() -> None:
    assert len(_ignores()) >= 2


@pytest.mark.parametrize(("section", "ignored"), _ignores())
def test_each_exception_is_needed(section: str, ignored: str, tmp_path: Path) -> None:
    config = tmp_path / ".importlinter"
    config.write_text(_without(section, ignored))
    result = _lint(config)
    output = result.stdout + result.stderr
    assert result.returncode != 0, f"[{section}] holds without {ignored!r}: drop the exception\n{output}"
    importer = ignored.split(" -> ")[0].replace("*", "")
    assert "BROKEN" in output and importer.rstrip(".").split(".")[-1] in output, output
