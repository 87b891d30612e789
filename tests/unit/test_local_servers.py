"""The suite's Redis server (tools/local_servers.py) keeps its folder only while it runs: one made and never
started (the ``redis_server`` fixture's fallback when the early one is running) leaves nothing behind."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tools.local_servers import RedisServer


@pytest.fixture
def host_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_a_redis_server_never_started_makes_no_folder(host_temp: Path) -> None:
    RedisServer()  # made and let go, as a fallback that is not needed

    assert list(host_temp.iterdir()) == []


def test_a_redis_server_removes_its_folder_when_stopped(host_temp: Path) -> None:
    server = RedisServer().start()
    assert server.folder is not None and server.folder.parent == host_temp

    server.stop()

    assert list(host_temp.iterdir()) == []
