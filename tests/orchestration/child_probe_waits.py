"""Loaded by the engine child as its program in tests/orchestration/test_engine_child_start.py: reports as
``child_probe`` does, then starts a process in the child's group as the child starts the Pulumi CLI (one
that notes every SIGINT on the log and keeps running), and waits for ever, noting every SIGINT the child gets
before handing it to the child's own handler."""

import signal
import subprocess
import sys
import time
from types import FrameType

from tests.orchestration.child_probe import MARK

_CLI = f"""
import signal, sys, time
def interrupted(*_):
    print({MARK!r} + "cli interrupted", file=sys.stderr, flush=True)
signal.signal(signal.SIGINT, interrupted)
print({MARK!r} + "cli ready", file=sys.stderr, flush=True)
gives_up_at = time.monotonic() + 120
while time.monotonic() < gives_up_at:
    time.sleep(0.02)
"""

_own = signal.getsignal(signal.SIGINT)


def _interrupted(signum: int, frame: FrameType | None) -> None:
    print(MARK + "child interrupted", file=sys.stderr, flush=True)
    if callable(_own):
        _own(signum, frame)


signal.signal(signal.SIGINT, _interrupted)
_cli = subprocess.Popen([sys.executable, "-c", _CLI])
print(f"{MARK}cli {_cli.pid}", file=sys.stderr, flush=True)
while True:
    time.sleep(0.05)
