"""Child-process entry point: run one stack operation through the Automation API.

Reads an ``OperationRequest`` and its ``EngineWorkspace`` (JSON) on stdin; writes JSON lines to the original
stdout: ``{"event": ...}`` per engine event and a final ``{"result": ...}``. Anything the program or SDK
prints goes to stderr so the protocol stream stays clean. Started only by ``service.orchestration.stacks``,
with the environment ``environment.engine_process_env`` builds and nothing else.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pulumi.log
from pulumi import automation as auto

from service.orchestration.engine_errors import classify_command_error
from service.orchestration.engine_events import EventCollector, counts
from service.orchestration.messages import (
    PULUMI_PROJECT,
    ConfigValue,
    EngineErrorCode,
    EngineWorkspace,
    OperationKind,
    OperationRequest,
    OperationResult,
)

ProgramFn = Callable[[], None]


def _load_program(name: str) -> ProgramFn:
    """``module:function`` of the inline program; the forensic environment unless a test names another."""
    module_name, _, attr = name.partition(":")
    module = __import__(module_name, fromlist=[attr])
    program: ProgramFn = getattr(module, attr)
    return program


def _config_items(values: dict[str, ConfigValue], namespace: str | None) -> dict[str, auto.ConfigValue]:
    items: dict[str, auto.ConfigValue] = {}
    for key, cv in values.items():
        full_key = f"{namespace}:{key}" if namespace and ":" not in key else key
        raw = cv.value if isinstance(cv.value, str) else json.dumps(cv.value)
        items[full_key] = auto.ConfigValue(value=raw, secret=cv.secret)
    return items


class _Workspace(auto.LocalWorkspace):
    """The SDK's workspace, reading the stack's outputs in one CLI run instead of two.

    After every `up` the SDK reads the outputs twice (masked, to learn which are secret, then in plain text),
    and the plain-text run decrypts with the passphrase (a key derivation, the costliest part of a short CLI
    run). The service keeps no secret output (``run`` drops them), so the masked read is all it needs: a
    secret output keeps the mask as its value and is marked secret.
    """

    def stack_outputs(self, stack_name: str) -> auto.OutputMap:
        masked = self._run_pulumi_cmd_sync(["stack", "output", "--json", "--stack", stack_name])
        values: dict[str, Any] = json.loads(masked.stdout or "{}")
        return {key: auto.OutputValue(value=v, secret=v == SECRET_MASK) for key, v in values.items()}


# What `pulumi stack output --json` prints in place of a secret's value.
SECRET_MASK = "[secret]"


def select_stack(request: OperationRequest, program: ProgramFn, workspace: EngineWorkspace) -> auto.Stack:
    # No settings here: the service built this process's whole environment (the CLI and every plugin it
    # starts inherit it) and sent the workspace with the request.
    ws = _Workspace(
        pulumi_home=workspace.pulumi_home,
        program=program,
        pulumi_command=auto.PulumiCommand(root=str(Path(workspace.pulumi_cli_dir).parent)),
        project_settings=auto.ProjectSettings(
            name=PULUMI_PROJECT,
            runtime="python",
            backend=auto.ProjectBackend(url=workspace.backend_url),
            main=os.getcwd(),
        ),
        secrets_provider="passphrase",
        # Pinned as the service set them, before the program runs: the inline program shares this process,
        # and a CLI run takes its environment from os.environ as it is at that moment.
        env_vars={k: v for k, v in os.environ.items() if k.startswith("FORENSICS_")},
    )
    stack = auto.Stack.create_or_select(request.stack_name, ws)
    config = _config_items(request.config, PULUMI_PROJECT)
    config.update(_config_items(request.provider_config, None))
    if config:
        stack.set_all_config(config)
    return stack


def run(
    request: OperationRequest,
    program: ProgramFn,
    workspace: EngineWorkspace,
    emit: Callable[[dict[str, Any]], None],
) -> OperationResult:
    collector = EventCollector(emit)
    policy_packs = request.policy_packs or None
    result = OperationResult(kind=request.kind, stack_name=request.stack_name, succeeded=False)
    gate: EventCollector | None = None
    try:
        stack = select_stack(request, program, workspace)
        if request.kind is OperationKind.PREVIEW:
            preview = stack.preview(on_event=collector, policy_packs=policy_packs)
            result.changes = counts(preview.change_summary)
        elif request.kind is OperationKind.UP:
            # Stack-level policies run on the final state, i.e. after an `up` has already created resources;
            # a policy-checked preview first is what keeps a violating stack from ever reaching AWS.
            gate = EventCollector(lambda event: emit(event) if event["type"] == "policy_violation" else None)
            planned = stack.preview(on_event=gate, policy_packs=policy_packs)
            collector.expect(sum(n for op, n in counts(planned.change_summary).items() if op != "same"))
            # show_secrets=False: the summary needs no decrypted config (that would cost a key derivation).
            up = stack.up(on_event=collector, policy_packs=policy_packs, show_secrets=False)
            result.changes = counts(up.summary.resource_changes)
            result.outputs = {k: v.value for k, v in up.outputs.items() if not v.secret}
        elif request.kind is OperationKind.REFRESH:
            refresh = stack.preview_refresh(on_event=collector)
            result.changes = counts(refresh.change_summary)
            result.drift = collector.drift
        elif request.kind is OperationKind.DESTROY:
            destroy = stack.destroy(
                on_event=collector, remove=request.remove_stack_after_destroy, show_secrets=False
            )
            result.changes = counts(destroy.summary.resource_changes)
        result.succeeded = True
    except auto.errors.CommandError as exc:
        if gate is not None and gate.violations:
            collector = gate
        result.error_code, result.error = classify_command_error(exc, collector)
    except Exception as exc:
        result.error_code, result.error = EngineErrorCode.PROGRAM_ERROR, f"{type(exc).__name__}: {exc}"
    result.policy_violations = collector.violations
    if (
        not result.succeeded
        and result.policy_violations
        and result.error_code != EngineErrorCode.POLICY_VIOLATION
    ):
        result.error_code = EngineErrorCode.POLICY_VIOLATION
    return result


def _drop_sdk_debug_log() -> None:
    """The Python SDK sends every debug line (several per resource registration, ~280 per run of the forensic
    program) to the engine as a blocking gRPC call; the engine turns each into an event on the event log, the
    Automation API parses it and ``EventCollector`` drops it (it keeps error, warning and info). About a sixth
    of a preview's CPU went there. Warnings, errors and info still reach the engine and the service."""

    def debug(msg: str, resource: Any = None, stream_id: Any = None, ephemeral: Any = None) -> None:
        del msg, resource, stream_id, ephemeral

    pulumi.log.debug = debug


def _leave_interrupts_to_the_cli() -> None:
    """A stop (cancel, or recovery stopping an orphaned engine) is SIGINT to this process group. The CLI
    answers it by cancelling cleanly: resource operations in flight finish and are written to the state.
    This process hosts the inline program the CLI is still talking to, so it must not die of the same
    signal first (Python's KeyboardInterrupt): it keeps serving until the CLI ends, then reports. A no-op
    handler (not SIG_IGN, which the CLI would inherit) is reset to the default by exec."""
    signal.signal(signal.SIGINT, lambda _signum, _frame: None)


def main(stdin: IO[str] = sys.stdin) -> int:
    # Keep the protocol on the real stdout; route prints from the program and SDK to stderr.
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    parent_gone = False

    def emit(obj: dict[str, Any]) -> None:
        # If the service died, keep going: finishing the operation leaves the stack state whole, and the
        # service's recovery finds this process (or its finished state) when it starts again.
        nonlocal parent_gone
        if parent_gone:
            return
        try:
            protocol.write(json.dumps(obj, default=str) + "\n")
            protocol.flush()
        except OSError:
            parent_gone = True

    _drop_sdk_debug_log()
    _leave_interrupts_to_the_cli()
    payload = json.load(stdin)
    request = OperationRequest.from_json(payload["request"])
    workspace = EngineWorkspace.from_json(payload["workspace"])
    try:
        program = _load_program(payload.get("program", "programs.forensic_env.program:forensic_environment"))
    except (ImportError, AttributeError) as exc:
        result = OperationResult(
            kind=request.kind,
            stack_name=request.stack_name,
            succeeded=False,
            error_code=EngineErrorCode.PROGRAM_ERROR,
            error=f"cannot load the program: {exc}",
        )
    else:
        result = run(request, program, workspace, lambda event: emit({"event": event}))
    emit({"result": result.to_json()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
