"""The embedded consumer as served (``service.main:app``): a child process of the API process that runs the
jobs, is started again if it dies, and ends with the API process, even a killed one."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from service.config import PROJECT_ROOT, Settings
from service.jobs.consumer_process import MODULE
from service.orchestration.stacks import settings_env
from tests.support.api import ADMIN, open_body
from tests.support.settings import make_settings
from tools.local_aws.aws import free_port

T = TypeVar("T")
TERMINAL = {"succeeded", "failed", "cancelled", "timed_out", "interrupted"}


def _consumers(parent: int) -> list[int]:
    """The live consumer processes the API process ``parent`` started."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[1]) == parent and MODULE.encode() in cmdline:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2 :].split()[0] != "Z"


def _until(check: Callable[[], T], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], httpx.Client]]:
    settings = make_settings(tmp_path)
    port = free_port()
    log = (tmp_path / "api.log").open("wb")
    api = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "service.main:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env={**os.environ, **settings_env(settings)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=ADMIN, timeout=30)

    def healthy() -> bool:
        try:
            return client.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    try:
        _until(healthy, 90, "the API")
        yield api, client
    finally:
        leftovers = _consumers(api.pid)
        api.kill()
        api.wait()
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        client.close()
        log.close()


def test_the_consumer_runs_the_jobs_comes_back_if_it_dies_and_ends_with_a_killed_api(
    served: tuple[subprocess.Popen[bytes], httpx.Client],
) -> None:
    api, client = served
    (consumer,) = _until(lambda: _consumers(api.pid), 60, "the consumer process")

    # A job runs there (with no local AWS to deploy to, the `up` fails: it ran all the same).
    opened = client.post("/v1/investigations", json=open_body())
    assert opened.status_code == 202, opened.text
    operation = opened.json()["operation"]["id"]
    state = _until(
        lambda: (s := client.get(f"/v1/operations/{operation}").json()["state"]) in TERMINAL and s,
        90,
        "the operation to end",
    )
    assert state == "failed"

    # It dies: the API process starts another.
    os.kill(consumer, signal.SIGKILL)
    (second,) = _until(lambda: [p for p in _consumers(api.pid) if p != consumer], 60, "a new consumer")
    assert client.get("/healthz").status_code == 200

    # The API process is killed (no chance to stop its child): the consumer sees its pipe close and dies.
    api.kill()
    api.wait()
    _until(lambda: not _alive(second), 60, "the consumer to end with the API process")


def test_stopping_the_api_stops_its_consumer(served: tuple[subprocess.Popen[bytes], httpx.Client]) -> None:
    api, _client = served
    (consumer,) = _until(lambda: _consumers(api.pid), 60, "the consumer process")

    api.send_signal(signal.SIGTERM)

    # uvicorn shuts down, then ends by the signal it caught (it re-raises it).
    assert api.wait(timeout=90) in (0, -signal.SIGTERM)
    # Stopped by its parent on the way out, not left to find out later.
    assert not _alive(consumer)


def test_the_consumer_runs_below_the_api_priority(
    served: tuple[subprocess.Popen[bytes], httpx.Client],
) -> None:
    """Requests are served first while jobs run: the consumer process is ``consumer_niceness`` steps below the
    API process (and the engines it starts are ``engine_niceness`` below it in turn). In the API's session:
    where the kernel shares CPU time between sessions first (autogroup), a consumer in a session of its own
    would get as much as the API whatever its niceness."""
    api, _client = served
    (consumer,) = _until(lambda: _consumers(api.pid), 60, "the consumer process")
    steps = Settings.model_fields["consumer_niceness"].default
    assert steps > 0
    api_niceness = os.getpriority(os.PRIO_PROCESS, api.pid)
    assert os.getpriority(os.PRIO_PROCESS, consumer) == min(19, api_niceness + steps)
    assert os.getsid(consumer) == os.getsid(api.pid)
    # A process group of its own all the same: a Ctrl-C at the terminal reaches the API process alone.
    assert os.getpgid(consumer) == consumer != os.getpgid(api.pid)
