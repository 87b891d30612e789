"""The engine child, started afresh (production) or forked from the engine zygote (tools.engine_zygote, the
local target's setting ``engine_zygote``), is the same process to the service: read from inside the child
(a probe loaded as its program, tests/orchestration/child_probe.py) through ``run_operation`` itself.

- the pid ``on_started`` records leads the child's process group (the child's own pid afresh; forked, its
  launcher's, whose group the child joins), in the service's session, at ``engine_niceness`` below it;
- its environment is exactly ``engine_process_env`` + ``policy_env``: nothing of the zygote's, not even the
  variable that names the zygote;
- it handles SIGINT itself (a Python handler, not SIG_IGN, which the CLI would inherit), and stopping the
  recorded group (``stop_process_groups``) interrupts the child and what it started, the latter once (a
  second SIGINT makes the CLI terminate rather than cancel), then kills them all;
- its protocol (the result line on stdout) and its log (stderr to the operation's log file) are unchanged;
- a zygote gone, or one asked from another session (it can serve only its own: a process joins a group of
  its own session only), leaves the launcher to start the child afresh, in its place;
- the zygote itself holds no thread, no service settings and no secret, and has not run the program.

The engine tests (cancel, recovery, drain, tests/foundation/test_engine_child_processes.py) run the forked
child through real deployments: the worker's engine zygote serves every operation.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from service import processes
from service.config import PROJECT_ROOT, Settings
from service.orchestration import engine_environment, stacks
from service.orchestration.messages import EngineErrorCode, OperationKind, OperationRequest, OperationResult
from tests.orchestration.child_probe import MARK
from tests.support.process_groups import record_signals
from tests.support.zygotes import (
    UNTOUCHED_PULUMI_STATE,
    children,
    preloaded_state,
    wait_gone,
    wait_reaped,
)
from tools.engine_zygote import EngineZygote
from tools.zygote.server import PROCESS_BASICS

PROBE = "tests.orchestration.child_probe:not_there"
WAITING_PROBE = "tests.orchestration.child_probe_waits:not_there"
MODES = ("afresh", "forked")


@pytest.fixture
def zygote(own_engine_zygote: EngineZygote) -> EngineZygote:
    return own_engine_zygote


def _settings(tmp_path: Path, engine_zygote: Path | None) -> Settings:
    return Settings(
        target="local",
        data_dir=tmp_path / "data",
        aws_endpoint_url="https://127.0.0.1:1",
        pulumi_cli_dir=PROJECT_ROOT / ".tools" / "bin",
        engine_zygote=engine_zygote,
    )


def _request(stack: str) -> OperationRequest:
    return OperationRequest(
        kind=OperationKind.PREVIEW, stack_name=stack, policy_env={"FORENSICS_POLICY_PROBE": "probe-value"}
    )


def _probe_lines(log: Path) -> list[str]:
    if not log.exists():
        return []
    return [line[len(MARK) :] for line in log.read_text().splitlines() if line.startswith(MARK)]


def _facts(log: Path) -> dict[str, Any]:
    (line,) = [line for line in _probe_lines(log) if line.startswith("{")]
    facts: dict[str, Any] = json.loads(line)
    return facts


def _expected_env(settings: Settings, request: OperationRequest, program: str) -> dict[str, str]:
    full = stacks.build_request(settings, request, program)
    return {
        **engine_environment.engine_process_env(settings, full.provider_config),
        **engine_environment.policy_env(full.policy_env),
    }


def _run_probe(settings: Settings, stack: str) -> tuple[OperationResult, int, dict[str, Any]]:
    recorded: list[int] = []
    result = stacks.run_operation(settings, _request(stack), on_started=recorded.append, program=PROBE)
    (pid,) = recorded
    return result, pid, _facts(stacks.operation_log_path(settings, stack))


def _assert_the_engine_child(
    facts: dict[str, Any], recorded: int, settings: Settings, stack: str, result: OperationResult
) -> None:
    # Its group is led by the recorded pid, in this (the service's) session, at the engine's niceness.
    assert facts["group"] == recorded
    assert facts["session"] == os.getsid(0)
    assert facts["niceness"] == min(19, os.getpriority(os.PRIO_PROCESS, 0) + settings.engine_niceness)
    assert facts["cwd"] == str(PROJECT_ROOT)
    # Exactly the environment the service built for it.
    assert facts["env"] == _expected_env(settings, _request(stack), PROBE)
    assert "FORENSICS_ENGINE_ZYGOTE" not in facts["env"]
    # SIGINT is the child's to handle (it leaves the stop to the CLI), caught rather than ignored.
    assert facts["sigint"] == {"kernel": "caught", "python": "handled"}
    # The protocol: the result on stdout, read by the service; the program's print went to the log.
    assert result.error_code == EngineErrorCode.PROGRAM_ERROR, result
    assert result.error is not None and "not_there" in result.error


def _assert_started_afresh(facts: dict[str, Any], recorded: int) -> None:
    assert facts["pid"] == recorded
    assert facts["command"] == [sys.executable, "-u", "-m", "service.orchestration.engine_child"]


@pytest.mark.parametrize("mode", MODES)
def test_the_child_is_the_same_process_to_the_service_afresh_or_forked(
    tmp_path: Path, zygote: EngineZygote, mode: str
) -> None:
    settings = _settings(tmp_path, zygote.path if mode == "forked" else None)
    before = children(zygote.pid)
    result, recorded, facts = _run_probe(settings, f"probe-{mode}")

    _assert_the_engine_child(facts, recorded, settings, f"probe-{mode}", result)
    if mode == "afresh":
        _assert_started_afresh(facts, recorded)
        assert children(zygote.pid) == before
    else:
        # A child of the zygote, not its launcher (the recorded pid, which leads the group it joined).
        assert facts["parent"] == zygote.pid
        assert facts["pid"] != recorded
        assert "tools.engine_zygote" in facts["command"]
        wait_reaped(zygote.pid, facts["pid"])


def test_with_the_zygote_gone_the_launcher_starts_the_child_afresh(tmp_path: Path) -> None:
    settings = _settings(tmp_path, tmp_path / "gone.sock")
    result, recorded, facts = _run_probe(settings, "probe-gone")

    _assert_the_engine_child(facts, recorded, settings, "probe-gone", result)
    _assert_started_afresh(facts, recorded)


def test_a_launcher_of_another_session_is_refused_and_starts_the_child_afresh(
    tmp_path: Path, zygote: EngineZygote
) -> None:
    """A service of another session (a node started from another terminal) cannot have the child join its
    launcher's group: the zygote refuses before it forks, and the launcher becomes the child."""
    settings = _settings(tmp_path, zygote.path)
    start = engine_environment.engine_child_start(settings)
    assert start.through_zygote
    request = stacks.build_request(settings, _request("probe-other-session"), PROBE)
    engine_environment.prepare_directories(settings)
    payload = {
        "request": request.to_json(),
        "workspace": engine_environment.engine_workspace(settings).to_json(),
        "program": PROBE,
    }
    env = {**engine_environment.engine_process_env(settings, request.provider_config), **start.launcher_env}
    log = tmp_path / "engine.log"
    before = children(zygote.pid)
    with log.open("wb") as stderr:
        done = subprocess.run(
            start.command,
            input=json.dumps(payload),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            cwd=PROJECT_ROOT,
            env=env,
            start_new_session=True,
            timeout=120,
        )

    assert done.returncode == 0
    assert "the zygote refused" in log.read_text()
    facts = _facts(log)
    assert facts["session"] == facts["pid"] != os.getsid(0)
    assert facts["command"] == [sys.executable, "-u", "-m", "service.orchestration.engine_child"]
    assert "FORENSICS_ENGINE_ZYGOTE" not in facts["env"]
    assert children(zygote.pid) == before
    (line,) = done.stdout.splitlines()
    assert json.loads(line)["result"]["error_code"] == EngineErrorCode.PROGRAM_ERROR


@pytest.mark.parametrize("mode", MODES)
def test_stopping_the_recorded_group_interrupts_the_child_and_its_cli_once_then_kills_them(
    tmp_path: Path, zygote: EngineZygote, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    settings = _settings(tmp_path, zygote.path if mode == "forked" else None)
    stack = f"probe-stop-{mode}"
    log = stacks.operation_log_path(settings, stack)
    recorded: list[int] = []
    results: list[OperationResult] = []

    def operate() -> None:
        results.append(
            stacks.run_operation(settings, _request(stack), on_started=recorded.append, program=WAITING_PROBE)
        )

    operation = threading.Thread(target=operate, daemon=True)
    operation.start()
    deadline = time.monotonic() + 60
    while "cli ready" not in _probe_lines(log):
        assert operation.is_alive() and time.monotonic() < deadline, _probe_lines(log)
        time.sleep(0.05)
    (group,) = recorded
    facts = _facts(log)
    (cli,) = [int(found[1]) for line in _probe_lines(log) if (found := re.fullmatch(r"cli (\d+)", line))]
    assert facts["group"] == os.getpgid(cli) == group
    signals = record_signals(monkeypatch)

    # The child and its CLI stay on SIGINT (the CLI would be cancelling): the grace runs out, then SIGKILL.
    stacks.stop_process_groups([group], grace=1.0)

    assert signals == [(group, signal.SIGINT), (group, signal.SIGKILL)], signals
    operation.join(timeout=30)
    assert not operation.is_alive()
    lines = _probe_lines(log)
    assert lines.count("cli interrupted") == 1, lines
    assert "child interrupted" in lines, lines
    for pid in (facts["pid"], cli, group):
        wait_gone(pid)
    assert not processes.group_alive(group)
    (result,) = results
    assert not result.succeeded
    assert result.error_code == EngineErrorCode.ENGINE_ERROR
    if mode == "forked":
        wait_reaped(zygote.pid, facts["pid"])


_PRELOAD = """
import sys
from tools.engine_zygote import preload
preload()
from service.config import get_settings
"""
_FINDINGS = """{
    "settings_read": get_settings.cache_info().currsize,
    "program_loaded": "programs.forensic_env.program" in sys.modules,
}"""


def test_the_zygote_holds_no_thread_no_settings_and_no_secret(own_engine_zygote: EngineZygote) -> None:
    """What every forked child inherits: one thread (no gRPC object, no pool), the SDK's empty runtime
    settings and config, no service settings read, the program imported but never run; and the zygote's
    environment is the process basics alone, so no secret either."""
    assert preloaded_state(_PRELOAD, _FINDINGS) == {
        **UNTOUCHED_PULUMI_STATE,
        "settings_read": 0,
        "program_loaded": True,
    }
    environ = Path(f"/proc/{own_engine_zygote.pid}/environ").read_bytes().split(b"\0")
    names = {entry.split(b"=", 1)[0].decode() for entry in environ if entry}
    assert names <= {*PROCESS_BASICS, "PYTHONPATH"}, names
    assert len(os.listdir(f"/proc/{own_engine_zygote.pid}/task")) == 1
