"""A worker's zygote as the session fixtures serve it (tests/conftest.py), and what the zygote tests
(tests/standin/test_zygote.py, tests/foundation/test_analyzer_zygote.py) read of the processes a zygote forks:
its children, and whether one has ended."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

from service.config import PROJECT_ROOT
from tools.zygote.server import ZygoteProcess

Z = TypeVar("Z", bound=ZygoteProcess)


@contextmanager
def serving(zygote: Callable[[Path], Z], socket_name: str, variable: str) -> Iterator[Z]:
    """``zygote`` started on a socket in a folder of its own, the socket's path in the environment as
    ``variable``, so every Settings a test builds and every process it starts (nodes, engine children) reads
    it; stopped and its folder removed on exit."""
    folder = Path(tempfile.mkdtemp(prefix="forensics-zygote-"))
    try:
        with (
            zygote(folder / socket_name) as started,
            mock.patch.dict(os.environ, {variable: str(started.path)}),
        ):
            yield started
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(child) for child in (task / "children").read_text().split()}
    return found


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"


def wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 10
    while not gone(pid):
        assert time.monotonic() < deadline, f"process {pid} is still running"
        time.sleep(0.05)


def wait_reaped(zygote: int, pid: int) -> None:
    """Until the zygote has reaped its ended child ``pid`` (a zombie until then)."""
    deadline = time.monotonic() + 10
    while pid in children(zygote):
        assert time.monotonic() < deadline, f"the zygote never reaped its ended child {pid}"
        time.sleep(0.05)


# The probe ``preloaded_state`` runs: the entry's preload (``setup``), then what the Pulumi SDK holds that a
# forked pass's child would inherit, then the entry's own findings (``extra``, a dict expression).
_PROBE = """
import json, os
{setup}
from pulumi.runtime import config, settings
found = {{
    "threads": len(os.listdir("/proc/self/task")),
    "project": settings.get_project(),
    "stack": settings.get_stack(),
    "monitor": settings.SETTINGS.monitor is not None,
    "config": config.CONFIG.get(),
}}
found.update({extra})
print(json.dumps(found))
"""

# What a preload leaves of the SDK's state: one thread (no gRPC server, channel or pool runs), the SDK's
# empty runtime settings and config (each pass's child configures its own from its environment).
UNTOUCHED_PULUMI_STATE: dict[str, Any] = {
    "threads": 1,
    "project": "project",
    "stack": "stack",
    "monitor": False,
    "config": {},
}


def preloaded_state(setup: str, extra: str = "{}") -> dict[str, Any]:
    """What a fresh interpreter holds after ``setup`` (which preloads an entry module and imports what
    ``extra`` reads), its environment carrying a pass's Pulumi variables, which a preload must not read: the
    SDK's state (``UNTOUCHED_PULUMI_STATE`` when untouched) and ``extra``'s findings."""
    ran = subprocess.run(
        [sys.executable, "-c", _PROBE.format(setup=setup, extra=extra)],
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "PULUMI_CONFIG": '{"forensics:x": "y"}',
            "PULUMI_PROJECT": "p",
            "PULUMI_STACK": "s",
        },
        capture_output=True,
        check=True,
        text=True,
    )
    found: dict[str, Any] = json.loads(ran.stdout)
    return found
