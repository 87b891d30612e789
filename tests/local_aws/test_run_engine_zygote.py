"""`make run` (tools.local_aws.run) serves its operations' engine children from an engine zygote of its own
(``engine_zygote``): started for the local target unless one is named already, its socket in the environment
the service reads its settings from, stopped and its folder removed at the end; none for real AWS."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from service.config import Settings
from tests.support.zygotes import children, wait_gone
from tools.local_aws.run import engine_zygote


def _engine_zygotes() -> set[int]:
    """This process's children that are engine zygotes."""
    found = set()
    for pid in children(os.getpid()):
        try:
            if b"tools.engine_zygote" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.add(pid)
        except OSError:
            continue
    return found


def test_the_local_target_gets_an_engine_zygote_for_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORENSICS_ENGINE_ZYGOTE", raising=False)
    before = _engine_zygotes()
    with engine_zygote(Settings(target="local")):
        socket = Path(os.environ["FORENSICS_ENGINE_ZYGOTE"])
        assert socket.is_socket()
        assert Settings().engine_zygote == socket
        (started,) = _engine_zygotes() - before
    wait_gone(started)
    assert not socket.parent.exists()


@pytest.mark.parametrize("target", ["aws", "local with one named"])
def test_real_aws_or_a_named_zygote_gets_none(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, target: str
) -> None:
    monkeypatch.delenv("FORENSICS_ENGINE_ZYGOTE", raising=False)
    if target == "aws":
        settings = Settings(target="aws")
    else:
        settings = Settings(target="local", engine_zygote=tmp_path / "named.sock")
    before = _engine_zygotes()
    with engine_zygote(settings):
        assert "FORENSICS_ENGINE_ZYGOTE" not in os.environ
        assert _engine_zygotes() == before
