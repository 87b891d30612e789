"""Child-process entry point: run one stack operation through the Automation API.

Reads an ``OperationRequest`` and its ``EngineWorkspace`` (JSON) on stdin; writes JSON lines to the original
stdout: ``{"event": ...}`` per engine event and a final ``{"result": ...}``. Anything the program or SDK
prints goes to stderr so the protocol stream stays clean. Started only by ``service.orchestration.stacks``,
with the environment ``environment.engine_process_env`` builds and nothing else (``serve``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, Any, NoReturn, TypeVar

import pulumi.log
import yaml
from pulumi import automation as auto
from pulumi.automation._stack import StackInitMode

from service.orchestration import workspace_folders
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
from service.orchestration.pulumi_cli import PinnedCommand

ProgramFn = Callable[[], None]
T = TypeVar("T")


class _QuotedStrings(yaml.SafeDumper):
    """Writes every string double-quoted. The CLI reads the settings file as YAML 1.2, PyYAML writes 1.1: a
    string that is no 1.1 number stays unquoted even where 1.2 reads one (``014123500286``, an AWS account
    id with a leading zero, came back as ``14123500286``; ``1e3`` as ``1000``; ``0o17`` as ``15``)."""


_QuotedStrings.add_representer(
    str, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"')
)


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
    """The SDK's workspace, with the stack's bookkeeping done in as few CLI runs as the Automation API allows.

    Each CLI run is a whole CLI start (0.2-0.4 CPU-seconds): the settings file is written here, not through
    ``config set-all``, and outputs are read in one run when they must be read at all (``Stack`` below).
    """

    def stack_outputs(self, stack_name: str) -> auto.OutputMap:
        """After every `up` the SDK reads the outputs twice (masked, to learn which are secret, then in plain
        text), and the plain-text run decrypts with the passphrase (a key derivation, the costliest part of a
        short CLI run). The service keeps no secret output (``run`` drops them), so the masked read is all it
        needs: a secret output keeps the mask as its value and is marked secret."""
        masked = self._run_pulumi_cmd_sync(["stack", "output", "--json", "--stack", stack_name])
        values: dict[str, Any] = json.loads(masked.stdout or "{}")
        return {key: auto.OutputValue(value=v, secret=v == SECRET_MASK) for key, v in values.items()}

    def write_config(self, stack_name: str, config: dict[str, auto.ConfigValue]) -> None:
        """Plain values go straight into the stack's settings file (``Pulumi.<stack>.yaml``, merged with what
        ``stack init`` wrote there: the encryption salt); only secrets go through the CLI, which encrypts them
        with the stack's passphrase key exactly as ``config set-all`` always did."""
        try:
            settings = self.stack_settings(stack_name)
        except FileNotFoundError:
            settings = auto.StackSettings()
        plain = {key: cv.value for key, cv in config.items() if not cv.secret}
        settings.config = {**(settings.config or {}), **plain}
        self.save_stack_settings(stack_name, settings)
        secrets = {key: cv for key, cv in config.items() if cv.secret}
        if secrets:
            self.set_all_config(stack_name, secrets)

    def save_stack_settings(self, stack_name: str, settings: auto.StackSettings) -> None:
        """The SDK's, with every string quoted (``_QuotedStrings``). ``stack init`` wrote the file as
        ``Pulumi.<stack>.yaml``, so that is the one written (the SDK also looks for .yml and .json)."""
        path = Path(self.work_dir) / f"Pulumi.{stack_name.rsplit('/', 1)[-1]}.yaml"
        serialized = settings._serialize()  # type: ignore[no-untyped-call]  # the SDK's own, untyped
        path.write_text(yaml.dump(serialized, Dumper=_QuotedStrings), encoding="utf-8")


# What `pulumi stack output --json` shows in place of a secret's value.
SECRET_MASK = "[secret]"


class Stack(auto.Stack):
    """A stack the CLI is not asked to select: every command names it (``--stack``), so ``stack select`` (a
    CLI run per operation) decides nothing.

    ``up`` and ``destroy`` in the SDK end with two more CLI runs, ``stack output`` and ``stack history``; the
    run's own events already hold both (the root resource's outputs, the summary's step counts: see
    ``EventCollector``), so here they cost nothing. ``run`` reads them from its collector, and asks the CLI
    for the outputs only if the events did not carry them."""

    workspace: _Workspace

    def __init__(self, name: str, workspace: _Workspace) -> None:  # no CLI run, unlike auto.Stack's
        self.name = name
        self.workspace = workspace
        self._mode = StackInitMode.SELECT
        self._preview_in_up = False

    def up_previewing_first(self, **kwargs: Any) -> auto.UpResult:
        """``up`` as one engine invocation that previews then updates (the CLI's own ``up --yes`` without
        ``--skip-preview``, which the SDK always adds): the update starts only if the preview passed its
        policy packs, stack-level ones included."""
        self._preview_in_up = True
        try:
            return self.up(**kwargs)
        finally:
            self._preview_in_up = False

    def _run_pulumi_cmd_sync(
        self,
        args: list[str],
        on_output: auto.OnOutput | None = None,
        on_error: auto.OnOutput | None = None,
    ) -> auto.CommandResult:
        if self._preview_in_up and args[:1] == ["up"]:
            args = [arg for arg in args if arg != "--skip-preview"]
        return super()._run_pulumi_cmd_sync(args, on_output, on_error)

    def outputs(self) -> auto.OutputMap:
        return {}

    def info(self, show_secrets: bool = True) -> auto.UpdateSummary | None:
        del show_secrets
        return _FROM_EVENTS

    def read_outputs(self) -> dict[str, Any]:
        """The outputs from the state (one CLI run), without secrets."""
        outputs = self.workspace.stack_outputs(self.name)
        return {key: out.value for key, out in outputs.items() if not out.secret}


# What ``Stack.info`` answers in place of the last history entry: nothing in it is read (``run`` takes the
# counts from the events).
_FROM_EVENTS = auto.UpdateSummary(
    kind="", start_time=datetime.min, message="", environment={}, config={}, result="succeeded"
)


def workspace_for(program: ProgramFn, workspace: EngineWorkspace, work_dir: str) -> _Workspace:
    # No settings here: the service built this process's whole environment (the CLI and every plugin it
    # starts inherit it) and sent the workspace with the request. ``work_dir``: where the project and stack
    # settings files are written (``workspace_folders``).
    return _Workspace(
        work_dir=work_dir,
        pulumi_home=workspace.pulumi_home,
        program=program,
        pulumi_command=PinnedCommand(workspace.pulumi_cli_dir),
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


def operation_config(request: OperationRequest) -> dict[str, auto.ConfigValue]:
    config = _config_items(request.config, PULUMI_PROJECT)
    config.update(_config_items(request.provider_config, None))
    return config


def prepared(
    request: OperationRequest, program: ProgramFn, workspace: EngineWorkspace, work_dir: str
) -> Stack:
    """The stack, created first for an `up` (one CLI run, ``stack init``); ``with_stack`` then writes the
    config (one more CLI run if it holds secrets, none otherwise) and runs the operation.

    An `up` is most often a stack's first operation: it creates the stack outright (an existing one answers
    "already exists", which costs what a select would). Other operations find their stack in place, except
    on a stack that never got created (e.g. a destroy after a failed create): that is created then, as the
    SDK's ``create_or_select`` would, and the attempt repeated (see ``with_stack``)."""
    ws = workspace_for(program, workspace, work_dir)
    stack = Stack(request.stack_name, ws)
    if request.kind is OperationKind.UP:
        with contextlib.suppress(auto.StackAlreadyExistsError):
            ws.create_stack(request.stack_name)
    return stack


def with_stack(stack: Stack, config: dict[str, auto.ConfigValue], operation: Callable[[], T]) -> T:
    """Writes the config and runs ``operation``; on a stack that does not exist yet, creates it and does
    both again (nothing ran: the CLI looks the stack up before anything else)."""
    try:
        stack.workspace.write_config(stack.name, config)
        return operation()
    except auto.StackNotFoundError:
        stack.workspace.create_stack(stack.name)
        stack.workspace.write_config(stack.name, config)
        return operation()


def run(
    request: OperationRequest,
    program: ProgramFn,
    workspace: EngineWorkspace,
    emit: Callable[[dict[str, Any]], None],
) -> OperationResult:
    # An `up` previews first in the same engine run (``Stack.up_previewing_first``): stack-level policies
    # judge the final state, which an `up` alone would judge only after creating it; the preview is what keeps
    # a violating stack from ever reaching AWS.
    collector = EventCollector(emit, plan_first=request.kind is OperationKind.UP)
    policy_packs = request.policy_packs or None
    result = OperationResult(kind=request.kind, stack_name=request.stack_name, succeeded=False)

    def operate(stack: Stack) -> None:
        if request.kind is OperationKind.PREVIEW:
            preview = stack.preview(on_event=collector, policy_packs=policy_packs)
            result.changes = counts(preview.change_summary)
        elif request.kind is OperationKind.UP:
            # show_secrets=False: the summary needs no decrypted config (that would cost a key derivation).
            stack.up_previewing_first(on_event=collector, policy_packs=policy_packs, show_secrets=False)
            result.changes = collector.changes
            outputs = collector.stack_outputs
            result.outputs = outputs if outputs is not None else stack.read_outputs()
        elif request.kind is OperationKind.REFRESH:
            refresh = stack.preview_refresh(on_event=collector)
            result.changes = counts(refresh.change_summary)
            result.drift = collector.drift
        elif request.kind is OperationKind.DESTROY:
            stack.destroy(on_event=collector, remove=request.remove_stack_after_destroy, show_secrets=False)
            result.changes = collector.changes

    try:
        with workspace_folders.workspace_folder(workspace.pulumi_home) as work_dir:
            stack = prepared(request, program, workspace, work_dir)
            with_stack(stack, operation_config(request), lambda: operate(stack))
        result.succeeded = True
    except auto.errors.CommandError as exc:
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


def _end_now(code: int) -> NoReturn:
    """Ends this process once its result is out, without finalizing the interpreter. Finalizing collects the
    whole heap (the SDK, the program, the gRPC servers and, after a cancel, the program's unfinished work):
    1.3 to 8.8 s measured for orphaned `up`s stopped together on the shared 2-core machine (4 to 9 s with
    three at once), the child at its lowered priority, while recovery waited for the process group to end.
    Nothing is left to do by then: the protocol stream is flushed line by line, the CLI has exited (its
    state is written), and what is still buffered for the log is flushed here."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def serve(stdin: IO[str]) -> NoReturn:
    """The whole life of an engine child: one operation read from ``stdin``, then the end (``_end_now``).
    Started afresh (``python -u -m service.orchestration.engine_child``) or forked from its zygote in local
    mode (``tools.engine_zygote``), the child runs this."""
    _end_now(main(stdin))


if __name__ == "__main__":
    serve(sys.stdin)
