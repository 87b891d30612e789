"""Loaded by the engine child as its program in tests/orchestration/test_engine_child_start.py: writes one
line on the child's log (its stderr) with what the child is: its process, parent, group, session,
niceness, working folder, command, environment, and how it takes SIGINT (handled by Python, ignored, or by
default). The function the test names is not here: the child then reports a program error and ends, with no
engine run."""

import json
import os
import signal
import sys
from pathlib import Path

MARK = "CHILD PROBE "


def _sigint() -> dict[str, str]:
    handler = signal.getsignal(signal.SIGINT)
    status = dict(line.split(":\t", 1) for line in Path("/proc/self/status").read_text().splitlines())
    bit = 1 << (signal.SIGINT - 1)
    kernel = (
        "caught"
        if int(status["SigCgt"], 16) & bit
        else "ignored"
        if int(status["SigIgn"], 16) & bit
        else "default"
    )
    if handler is signal.default_int_handler:
        python = "keyboard interrupt"
    elif handler in (signal.SIG_IGN, signal.SIG_DFL, None):
        python = str(handler)
    else:
        python = "handled"
    return {"kernel": kernel, "python": python}


def facts() -> dict[str, object]:
    return {
        "pid": os.getpid(),
        "parent": os.getppid(),
        "group": os.getpgid(0),
        "session": os.getsid(0),
        "niceness": os.getpriority(os.PRIO_PROCESS, 0),
        "cwd": os.getcwd(),
        "command": Path("/proc/self/cmdline").read_bytes().decode().split("\0")[:-1],
        "env": dict(os.environ),
        "sigint": _sigint(),
    }


print(MARK + json.dumps(facts()), file=sys.stderr, flush=True)
