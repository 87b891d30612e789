"""Stack operations, each in its own OS process.

Concurrent inline Automation API programs in one Python process share global state (pulumi/pulumi#6052),
so every preview/up/refresh/destroy runs in a child process (``python -m
service.orchestration.engine_child``). The child reads one ``OperationRequest`` and its ``EngineWorkspace`` as
JSON on stdin and writes JSON lines on stdout: engine events (``{"event": {...}}``) while it runs and one
``{"result": {...}}`` at the end. Its environment is ``engine_environment.engine_process_env``, not the
service's: it holds none of the service's secrets but the Pulumi passphrase. Killing the child's process
group cancels the operation without harming any other.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from service import processes as host_processes
from service.config import PROJECT_ROOT, Settings
from service.orchestration import engine_environment, policy_gate, workspace_folders
from service.orchestration.messages import PULUMI_PROJECT, EngineErrorCode, OperationRequest, OperationResult
from service.orchestration.pulumi_cli import PinnedCommand

EventHandler = Callable[[dict[str, Any]], None]
DEFAULT_PROGRAM = "programs.forensic_env.program:forensic_environment"
# After SIGINT the CLI gets this long to cancel cleanly and write its state before SIGKILL.
CANCEL_GRACE_SECONDS = 30.0


def settings_env(settings: Settings) -> dict[str, str]:
    """The settings as FORENSICS_* variables, secrets included: for starting another *service* process with
    exactly these settings (tests, tools). Never the engine child's environment (``run_operation``)."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump(mode="json").items():
        if value is None:
            continue
        secret = getattr(settings, name)
        if hasattr(secret, "get_secret_value"):
            value = secret.get_secret_value()
        env[f"FORENSICS_{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    return env


def build_request(
    settings: Settings, request: OperationRequest, program: str = DEFAULT_PROGRAM
) -> OperationRequest:
    """Adds what the settings decide: provider config for the target and the mandatory policy packs."""
    provider_config = {**engine_environment.provider_config(settings), **request.provider_config}
    packs = policy_gate.packs_for(settings, request.policy_packs, forensic_program=program == DEFAULT_PROGRAM)
    return OperationRequest(
        kind=request.kind,
        stack_name=request.stack_name,
        config=request.config,
        provider_config=provider_config,
        policy_packs=packs,
        remove_stack_after_destroy=request.remove_stack_after_destroy,
        policy_env=request.policy_env,
    )


def run_operation(
    settings: Settings,
    request: OperationRequest,
    on_event: EventHandler | None = None,
    *,
    cancel: threading.Event | None = None,
    on_started: Callable[[int], None] | None = None,
    program: str = DEFAULT_PROGRAM,
    timeout: float | None = None,
) -> OperationResult:
    """Run one operation in a child process and wait for it; never raises for engine failures.

    ``on_started`` receives the child's pid (it leads its own process group) so callers can record it;
    ``cancel`` asks the engine to stop (SIGINT, then SIGKILL after a grace period). Forked from the engine
    zygote (``engine_environment.engine_child_start``), the recorded pid is its launcher's, which leads the
    group the child joins and ends as the child does.
    """
    full = build_request(settings, request, program)
    engine_environment.prepare_directories(settings)
    workspace = engine_environment.engine_workspace(settings)
    # The engine's log goes to a file, not a pipe: it outlives a crashed service and stays for the record.
    log_path = operation_log_path(settings, full.stack_name)
    start = engine_environment.engine_child_start(settings)
    command = start.command
    if start.through_zygote and settings.engine_niceness > 0:
        # The launcher hands its niceness to the zygote for the child as soon as it runs, before
        # ``lower_priority`` could reach it: it starts lowered already instead (nice adds to this thread's
        # niceness, up to 19, as ``lower_priority`` does).
        command = ["nice", "-n", str(settings.engine_niceness), *command]
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            cwd=PROJECT_ROOT,
            # The stack's region and deploy role reach the policy pack this way: from the service, never
            # from the program.
            env={
                **engine_environment.engine_process_env(settings, full.provider_config),
                **engine_environment.policy_env(full.policy_env),
                **start.launcher_env,
            },
            # Its own process group (cancelling kills the group), not its own session: where Linux groups
            # processes by session for CPU time (autogroup), a new session would get a share equal to the
            # API's, whatever its niceness.
            process_group=0,
        )
    if not start.through_zygote:
        lower_priority(proc.pid, settings.engine_niceness)
    if on_started is not None:
        on_started(proc.pid)
    assert proc.stdin and proc.stdout
    payload = {"request": full.to_json(), "workspace": workspace.to_json(), "program": program}
    proc.stdin.write(json.dumps(payload))
    proc.stdin.close()

    stopper = threading.Thread(
        target=_watch, args=(proc, cancel, timeout), daemon=True, name=f"watch-{proc.pid}"
    )
    stopper.start()

    result: OperationResult | None = None
    for line in proc.stdout:
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "event" in message and on_event is not None:
            on_event(message["event"])
        elif "result" in message:
            result = OperationResult.from_json(message["result"])
    proc.wait()
    reason = getattr(proc, "stop_reason", None)
    stopped = {"cancel": EngineErrorCode.CANCELLED, "timeout": EngineErrorCode.TIMED_OUT}.get(reason or "")
    if result is not None:
        if stopped is not None and not result.succeeded:
            # Stopped on purpose: the child outlives the interrupt and reports the CLI's own "canceled".
            return dataclasses.replace(result, error_code=stopped)
        return result
    code = stopped or EngineErrorCode.ENGINE_ERROR
    tail = log_path.read_text(errors="replace")[-2000:]
    return OperationResult(
        kind=full.kind,
        stack_name=full.stack_name,
        succeeded=False,
        error_code=code,
        error=f"operation process ended with exit code {proc.returncode} ({reason or 'no result'}): {tail}",
    )


def lower_priority(pid: int, niceness: int) -> None:
    """Run the child ``pid`` ``niceness`` steps below this process's priority; everything it starts inherits
    it. Set from here, not with ``preexec_fn`` (unsafe in a threaded service); the child has only just
    started, and a child that is already gone has nothing left to slow down.

    Niceness weighs processes within one scheduling group: with the kernel's autogroup (on by default on
    desktop-style kernels, ``/proc/sys/kernel/sched_autogroup_enabled``) that is one session, so the child
    must stay in this process's session (a process group of its own, not ``start_new_session``)."""
    if niceness <= 0:
        return
    with contextlib.suppress(ProcessLookupError):
        current = os.getpriority(os.PRIO_PROCESS, 0)
        os.setpriority(os.PRIO_PROCESS, pid, min(19, current + niceness))


def operation_log_path(settings: Settings, stack_name: str) -> Path:
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    return logs / f"{stack_name}.log"


def _watch(proc: subprocess.Popen[str], cancel: threading.Event | None, timeout: float | None) -> None:
    deadline = time.monotonic() + timeout if timeout else None
    while proc.poll() is None:
        if cancel is not None and cancel.wait(0.5):
            proc.stop_reason = "cancel"  # type: ignore[attr-defined]
            break
        if cancel is None:
            time.sleep(0.5)
        if deadline is not None and time.monotonic() > deadline:
            proc.stop_reason = "timeout"  # type: ignore[attr-defined]
            break
    else:
        return
    stop_process_group(proc.pid)


def stop_process_group(pid: int) -> None:
    """SIGINT lets the CLI cancel and save state; SIGKILL if it does not finish in time."""
    stop_process_groups([pid])


def stop_process_groups(pids: Iterable[int], grace: float | None = None) -> None:
    """Several engines stopped at once: every group gets its SIGINT first, then all get one shared grace
    (``CANCEL_GRACE_SECONDS``) to cancel cleanly, and only the groups still there after it get SIGKILL,
    with the plugins their CLI started in groups of their own.
    Stopped one after the other, N orphans found by one recovery sweep would cost up to N graces.

    Each group is signalled once, however often it is named: a second SIGINT makes the CLI terminate at once
    rather than cancel (its state may then miss resources being created). A group already gone is skipped.
    """
    waiting = list(dict.fromkeys(pids))
    for pid in list(waiting):
        try:
            os.killpg(pid, signal.SIGINT)
        except ProcessLookupError:
            waiting.remove(pid)
    end = time.monotonic() + (CANCEL_GRACE_SECONDS if grace is None else grace)
    while True:
        waiting = [pid for pid in waiting if host_processes.group_alive(pid)]
        if not waiting or time.monotonic() >= end:
            break
        time.sleep(0.2)
    if not waiting:
        return
    # Found before the kill: once the CLI is gone its plugins belong to init, and nothing links them to it.
    plugins = _groups_started_by(waiting)
    for pid in waiting:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    for pgid in plugins:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)


def _groups_started_by(pgids: list[int]) -> list[int]:
    """The process groups of the descendants of these groups' processes that lead groups of their own: the
    Pulumi CLI starts each plugin (the provider, the policy analyzer) so, out of reach of a signal to the
    engine's group, and stops them itself only if it gets to end. Read from /proc (Linux; none elsewhere)."""
    processes = host_processes.table()
    children: dict[int, list[int]] = {}
    for pid, process in processes.items():
        children.setdefault(process.parent, []).append(pid)
    engines = set(pgids)
    pending = [pid for pid, process in processes.items() if process.group in engines]
    found: set[int] = set()
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return sorted({processes[pid].group for pid in found} - engines)


# Stack housekeeping. These run CLI commands only (no inline program), so they are safe in-process.


@contextlib.contextmanager
def workspace(settings: Settings) -> Iterator[auto.LocalWorkspace]:
    """A workspace for CLI runs on the service's stacks (no program), in a folder of its own removed at the
    end (``workspace_folders``)."""
    engine_environment.prepare_directories(settings)
    env = engine_environment.pulumi_env(settings)
    home = engine_environment.pulumi_home(settings)
    with workspace_folders.workspace_folder(home) as work_dir:
        yield auto.LocalWorkspace(
            work_dir=work_dir,
            pulumi_home=str(home),
            env_vars=env,
            pulumi_command=PinnedCommand(settings.pulumi_cli_dir),
            project_settings=auto.ProjectSettings(
                name=PULUMI_PROJECT, runtime="python", backend=auto.ProjectBackend(url=settings.backend_url)
            ),
            secrets_provider="passphrase",
        )


def stack_names(settings: Settings) -> list[str]:
    with workspace(settings) as ws:
        return [s.name for s in ws.list_stacks()]


def stack_exists(settings: Settings, stack_name: str) -> bool:
    return stack_name in stack_names(settings)


def clear_stack_lock(settings: Settings, stack_name: str) -> None:
    """After a crash: remove the stack's lock so the next operation can run (``pulumi cancel``)."""
    if not stack_exists(settings, stack_name):
        return
    with workspace(settings) as ws:
        ws._run_pulumi_cmd_sync(["cancel", "--yes", "--stack", stack_name])


def export_stack(settings: Settings, stack_name: str) -> dict[str, Any]:
    with workspace(settings) as ws:
        deployment = ws.export_stack(stack_name)
    return {"version": deployment.version, "deployment": deployment.deployment}


def stack_outputs(settings: Settings, stack_name: str) -> dict[str, Any]:
    with workspace(settings) as ws:
        return {k: v.value for k, v in ws.stack_outputs(stack_name).items() if not v.secret}
