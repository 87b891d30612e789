"""Maps Automation API failures to stable error codes the service can act on."""

from __future__ import annotations

from pulumi.automation import errors as auto_errors

from service.orchestration.engine_events import EventCollector
from service.orchestration.messages import EngineErrorCode

_MAX_MESSAGE = 4000


def classify_command_error(
    exc: auto_errors.CommandError, collector: EventCollector
) -> tuple[EngineErrorCode, str]:
    stderr = str(exc)
    detail = "\n".join(collector.errors) or stderr
    if collector.violations:
        names = ", ".join(sorted({v.policy_name for v in collector.violations}))
        return EngineErrorCode.POLICY_VIOLATION, f"blocked by policy: {names}"
    if isinstance(exc, auto_errors.ConcurrentUpdateError):
        return EngineErrorCode.CONCURRENT_UPDATE, "another operation holds this stack's lock"
    if isinstance(exc, auto_errors.StackNotFoundError):
        return EngineErrorCode.STACK_NOT_FOUND, "the stack does not exist"
    if "protected" in detail and "cannot be deleted" in detail:
        return EngineErrorCode.PROTECTED_RESOURCE, detail[-_MAX_MESSAGE:]
    if isinstance(exc, auto_errors.InlineSourceRuntimeError | auto_errors.RuntimeError):
        return EngineErrorCode.PROGRAM_ERROR, detail[-_MAX_MESSAGE:]
    return EngineErrorCode.ENGINE_ERROR, detail[-_MAX_MESSAGE:]
