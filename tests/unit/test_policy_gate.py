"""The policy gate cannot be configured away, and a service whose packs cannot load does not start."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import FORENSICS_POLICY_PACK, Settings
from service.errors import Misconfigured
from service.main import create_app
from service.orchestration import policy_gate
from service.orchestration.messages import OperationKind, OperationRequest
from service.orchestration.stacks import DEFAULT_PROGRAM, build_request


def test_an_empty_pack_list_still_holds_the_forensics_pack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORENSICS_POLICY_PACKS", "[]")
    assert Settings().policy_packs == [FORENSICS_POLICY_PACK]


def test_configured_packs_are_added_after_the_forensics_pack(tmp_path: Path) -> None:
    settings = Settings(policy_packs=[tmp_path, FORENSICS_POLICY_PACK])
    assert settings.policy_packs == [FORENSICS_POLICY_PACK, tmp_path]


def test_a_request_cannot_drop_the_pack_from_the_forensic_program(tmp_path: Path) -> None:
    request = OperationRequest(kind=OperationKind.UP, stack_name="inv-x", policy_packs=[str(tmp_path)])
    full = build_request(
        Settings(data_dir=tmp_path, aws_endpoint_url="https://127.0.0.1:9"), request, DEFAULT_PROGRAM
    )
    assert full.policy_packs == [str(FORENSICS_POLICY_PACK), str(tmp_path)]


def test_the_service_refuses_to_start_when_a_pack_cannot_be_loaded(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, policy_packs=[tmp_path / "missing-pack"])
    assert policy_gate.load_problems(settings) == [
        f"policy pack {tmp_path / 'missing-pack'} has no PulumiPolicy.yaml: it cannot be loaded"
    ]
    with pytest.raises(Misconfigured, match="refusing to start without the policy gate"):
        create_app(settings)


def test_the_service_refuses_to_start_when_the_forensics_pack_is_broken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(name: str) -> None:
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(policy_gate.importlib, "import_module", broken)
    with pytest.raises(Misconfigured, match=r"the forensics policy pack .* cannot be loaded"):
        create_app(Settings(data_dir=tmp_path))
