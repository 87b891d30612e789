"""Stand-in engines as real process groups, for the tests of how engines are stopped (recovery, cancel):
each notes every SIGINT in its file and either keeps running or ends shortly after the first, as the Pulumi
CLI does once its clean cancel is done."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

_ENGINE = """
import pathlib, signal, sys, time
mark = pathlib.Path(sys.argv[1])
ends_at = None
def interrupted(*_):
    global ends_at
    with mark.open("a") as f:
        f.write("SIGINT\\n")
    if sys.argv[2] == "ends" and ends_at is None:
        ends_at = time.monotonic() + 0.3
signal.signal(signal.SIGINT, interrupted)
pathlib.Path(sys.argv[1] + ".ready").touch()
gives_up_at = time.monotonic() + 120
while time.monotonic() < (gives_up_at if ends_at is None else min(ends_at, gives_up_at)):
    time.sleep(0.02)
"""


def start_engine_group(
    folder: Path, name: str, *, ends_on_interrupt: bool
) -> tuple[subprocess.Popen[bytes], Path]:
    """A stand-in engine leading a process group of its own, started and ready; its file of SIGINTs."""
    mark = folder / name
    proc = subprocess.Popen(
        [sys.executable, "-c", _ENGINE, str(mark), "ends" if ends_on_interrupt else "stays"], process_group=0
    )
    # Reaped as soon as it ends, as an orphan's engine is by init: a zombie would still count as running.
    threading.Thread(target=proc.wait, daemon=True).start()
    deadline = time.monotonic() + 30
    while not (folder / f"{name}.ready").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the stand-in engine did not start"
        time.sleep(0.05)
    return proc, mark


def record_signals(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Every signal sent to a process group from now on, in order, as (group, signal); still sent. The
    liveness probes (signal 0) are left out."""
    signals: list[tuple[int, int]] = []
    killpg = os.killpg

    def recorded_killpg(pgid: int, sig: int) -> None:
        if sig != 0:
            signals.append((pgid, sig))
        killpg(pgid, sig)

    monkeypatch.setattr(os, "killpg", recorded_killpg)
    return signals
