"""What the zygote tests (tests/standin/test_zygote.py, tests/foundation/test_analyzer_zygote.py) read of
the processes a zygote forks: its children, and whether one has ended."""

from __future__ import annotations

import time
from pathlib import Path


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
