"""The memory capture tool is configuration the service is given, never a file of the dev tooling it finds
itself: with nothing configured a local service has none (and refuses memory capture), and the local tooling
(`make run`, `make local-aws`'s env file, the suite) configures the local AWS's stand-in for AVML, pinned to
its own SHA-256, unless an operator configured a tool."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from service.config import Settings
from tools.local_aws import memory_tool

ROOT = Path(__file__).resolve().parents[2]


def test_a_local_service_has_no_memory_tool_unless_one_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(memory_tool.PATH_VARIABLE, raising=False)
    monkeypatch.delenv(memory_tool.SHA256_VARIABLE, raising=False)
    assert Settings(target="local", data_dir=tmp_path).memory_tool is None
    half = Settings(target="local", data_dir=tmp_path, memory_tool_path=memory_tool.STANDIN)
    assert half.memory_tool is None


def test_the_local_tooling_configures_the_standin_pinned_to_its_own_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(memory_tool.PATH_VARIABLE, raising=False)
    monkeypatch.delenv(memory_tool.SHA256_VARIABLE, raising=False)
    added = memory_tool.configure({})
    standin = ROOT / "tools" / "local_aws" / "avml_standin.sh"
    assert added == {
        "FORENSICS_MEMORY_TOOL_PATH": str(standin),
        "FORENSICS_MEMORY_TOOL_SHA256": hashlib.sha256(standin.read_bytes()).hexdigest(),
    }
    for name, value in added.items():
        monkeypatch.setenv(name, value)
    assert Settings(target="local", data_dir=tmp_path).memory_tool == (
        standin,
        added["FORENSICS_MEMORY_TOOL_SHA256"],
    )


@pytest.mark.parametrize("configured", [memory_tool.PATH_VARIABLE, memory_tool.SHA256_VARIABLE])
def test_an_operators_tool_is_left_alone(configured: str) -> None:
    assert memory_tool.configure({configured: "theirs"}) == {}
