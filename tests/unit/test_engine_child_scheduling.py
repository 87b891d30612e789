"""The engine child runs as batch work (SCHED_BATCH), and so does everything it starts: the CLI and the
plugins inherit it. Checked from /proc in a fresh process, as the engine child starts (the test process
keeps its own policy); the engine test (tests/foundation/test_engine_child_processes.py) reads it off a
real run's tree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.config import PROJECT_ROOT

pytestmark = pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="Linux scheduling policies")

# Field 41 of /proc/<pid>/stat (the 39th after the command name): the scheduling policy.
_POLICY_FIELD = 38


def _policy(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[_POLICY_FIELD])


def test_the_engine_child_and_what_it_starts_run_as_batch_work() -> None:
    # The child schedules itself as the engine child's main() does, then starts a process, as the CLI is.
    script = (
        "import os, subprocess, sys\n"
        "from service.orchestration.engine_child import run_as_batch_work\n"
        "run_as_batch_work()\n"
        "grandchild = subprocess.Popen([sys.executable, '-c', 'import sys; sys.stdin.read()'],"
        " stdin=subprocess.PIPE)\n"
        "print(os.getpid(), grandchild.pid, flush=True)\n"
        "sys.stdin.read()\n"
        "grandchild.communicate()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        child, grandchild = (int(pid) for pid in proc.stdout.readline().split())
        assert _policy(child) == os.SCHED_BATCH
        assert _policy(grandchild) == os.SCHED_BATCH
        # The niceness the service set stays what it was: only the policy changes.
        assert os.getpriority(os.PRIO_PROCESS, child) == os.getpriority(os.PRIO_PROCESS, 0)
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    # This process never changed its own.
    assert _policy(os.getpid()) == os.SCHED_OTHER
