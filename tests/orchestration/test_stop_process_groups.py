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
from tests.support.process_groups import record_signals, start_engine_group


def test_every_group_is_interrupted_once_before_the_wait_and_only_survivors_are_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signals = record_signals(monkeypatch)
    stays, stays_mark = start_engine_group(tmp_path, "stays", ends_on_interrupt=False)
    ends, ends_mark = start_engine_group(tmp_path, "ends", ends_on_interrupt=True)
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
