"""``stacks.stop_process_groups``, on real process groups: each group gets one SIGINT, all before the shared
grace; a group that ends on it is left alone, the ones still running after the grace get SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from service.orchestration import stacks

# Notes each SIGINT in its file; ends on it ("ends") or keeps running ("stays").
_GROUP = """
import pathlib, signal, sys, time
mark = pathlib.Path(sys.argv[1])
def interrupted(*_):
    with mark.open("a") as f:
        f.write("SIGINT\\n")
    if sys.argv[2] == "ends":
        sys.exit(0)
signal.signal(signal.SIGINT, interrupted)
pathlib.Path(sys.argv[1] + ".ready").touch()
time.sleep(120)
"""


def _group(folder: Path, name: str, how: str) -> tuple[subprocess.Popen[bytes], Path]:
    mark = folder / name
    proc = subprocess.Popen([sys.executable, "-c", _GROUP, str(mark), how], process_group=0)
    threading.Thread(target=proc.wait, daemon=True).start()  # reaped at once, as init reaps an orphan
    deadline = time.monotonic() + 30
    while not (folder / f"{name}.ready").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the process did not start"
        time.sleep(0.05)
    return proc, mark


def test_every_group_is_interrupted_once_before_the_wait_and_only_survivors_are_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signals: list[tuple[int, int]] = []
    killpg = os.killpg

    def recorded_killpg(pgid: int, sig: int) -> None:
        if sig != 0:
            signals.append((pgid, sig))
        killpg(pgid, sig)

    monkeypatch.setattr(os, "killpg", recorded_killpg)
    stays, stays_mark = _group(tmp_path, "stays", "stays")
    ends, ends_mark = _group(tmp_path, "ends", "ends")
    gone = subprocess.Popen(["true"], process_group=0)
    gone.wait()

    # Named twice (two orphans can never share a group, but a second SIGINT would make the CLI terminate at
    # once rather than cancel): signalled once. A group already gone is no error.
    stacks.stop_process_groups([stays.pid, ends.pid, gone.pid, stays.pid], grace=1.0)

    assert signals[:3] == [
        (stays.pid, signal.SIGINT),
        (ends.pid, signal.SIGINT),
        (gone.pid, signal.SIGINT),
    ], signals
    assert signals[3:] == [(stays.pid, signal.SIGKILL)], signals
    assert stays.wait(timeout=10) == -signal.SIGKILL
    assert ends.wait(timeout=10) == 0
    assert stays_mark.read_text() == "SIGINT\n" and ends_mark.read_text() == "SIGINT\n"


# A CLI that does not stop in time, with a plugin it started in a process group of its own (as the Pulumi CLI
# starts its provider and analyzer): both ignore SIGINT.
_CLI_WITH_PLUGIN = """
import pathlib, signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
plugin = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], process_group=0)
pathlib.Path(sys.argv[1]).write_text(str(plugin.pid))
time.sleep(120)
"""


def test_a_killed_engines_plugins_in_groups_of_their_own_are_killed_with_it(tmp_path: Path) -> None:
    plugin_file = tmp_path / "plugin.pid"
    cli = subprocess.Popen([sys.executable, "-c", _CLI_WITH_PLUGIN, str(plugin_file)], process_group=0)
    threading.Thread(target=cli.wait, daemon=True).start()
    deadline = time.monotonic() + 30
    while not plugin_file.exists() or not plugin_file.read_text():
        assert cli.poll() is None and time.monotonic() < deadline, "the process did not start"
        time.sleep(0.05)
    plugin = int(plugin_file.read_text())
    assert os.getpgid(plugin) == plugin != cli.pid

    stacks.stop_process_groups([cli.pid], grace=0.5)

    assert cli.wait(timeout=10) == -signal.SIGKILL
    deadline = time.monotonic() + 10
    while _running(plugin):  # reaped by init once its parent is gone, or a zombie until then
        assert time.monotonic() < deadline, "the engine's plugin outlived it"
        time.sleep(0.05)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
