"""Whether a process or a process group of this host is still running: a zombie is not.

A process that has ended stays in the process table (a zombie) until its parent reaps it. One whose parent
died first (a job consumer after its API process was killed, an engine after its consumer) is reaped by pid
1, which in a container may do so late or never: this machine's took about 2 s. ``kill(pid, 0)`` succeeds on
a zombie, so judged by it alone an ended worker still counted as running, and start-up recovery left its
operation running until the heartbeat went stale. Both checks here read the process's state from /proc
(Linux); where there is none, they fall back to what the signal says."""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
# /proc/<pid>/stat states of a process that has ended: zombie, dead.
_ENDED = frozenset("ZX")


def _stat_fields(pid: int) -> list[str] | None:
    """The fields after the command name (which may itself hold ")"): state, ppid, pgrp, ..."""
    try:
        return (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_alive(pid: int) -> bool:
    """The process exists and has not ended (someone else's counts: it is running, we may not signal it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    fields = _stat_fields(pid)
    if fields is None:
        # Ended between the signal and the read, or no /proc to ask (then the signal's answer stands).
        return not PROC.is_dir()
    return fields[0] not in _ENDED


def group_alive(pgid: int) -> bool:
    """A process of the group has not ended. Raises PermissionError for a group that is not ours."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    if not PROC.is_dir():
        return True
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None and fields[2] == str(pgid) and fields[0] not in _ENDED:
            return True
    return False
