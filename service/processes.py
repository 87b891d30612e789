"""Whether a process or a process group of this host is still running: a zombie is not.

A process that has ended stays in the process table (a zombie) until its parent reaps it. One whose parent
died first (a job consumer after its API process was killed, an engine after its consumer) is reaped by pid
1, which in a container may do so late or never: this machine's took about 2 s. ``kill(pid, 0)`` succeeds on
a zombie, so judged by it alone an ended worker still counted as running, and start-up recovery left its
operation running until the heartbeat went stale. Both checks here read the process's state from /proc
(Linux); where there is none, they fall back to what the signal says."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
# /proc/<pid>/stat states of a process that has ended: zombie, dead.
_ENDED = frozenset("ZX")


@dataclass(frozen=True)
class ProcessStat:
    """What /proc/<pid>/stat says of a process: its state letter, parent and process group."""

    state: str
    parent: int
    group: int

    @property
    def ended(self) -> bool:
        return self.state in _ENDED


def stat(pid: int) -> ProcessStat | None:
    """The process's stat, or None when it is gone (or there is no /proc)."""
    try:
        # After the command name (in parentheses, which it may itself contain): state, ppid, pgrp, ...
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        return ProcessStat(fields[0], int(fields[1]), int(fields[2]))
    except (OSError, IndexError, ValueError):
        return None


def table() -> dict[int, ProcessStat]:
    """Every process of this host, by pid (empty without /proc)."""
    if not PROC.is_dir():
        return {}
    found: dict[int, ProcessStat] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (entry_stat := stat(int(entry.name))) is not None:
            found[int(entry.name)] = entry_stat
    return found


def process_alive(pid: int) -> bool:
    """The process exists and has not ended (someone else's counts: it is running, we may not signal it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    found = stat(pid)
    if found is None:
        # Ended between the signal and the read, or no /proc to ask (then the signal's answer stands).
        return not PROC.is_dir()
    return not found.ended


def group_alive(pgid: int) -> bool:
    """A process of the group has not ended. Raises PermissionError for a group that is not ours."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    if not PROC.is_dir():
        return True
    return any(p.group == pgid and not p.ended for p in table().values())
