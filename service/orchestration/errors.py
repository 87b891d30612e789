"""Maps Automation API failures to stable error codes the service can act on."""

from __future__ import annotations

from enum import StrEnum

from pulumi.automation import errors as auto_errors

from service.orchestration.events import EventCollector


class EngineErrorCode(StrEnum):
    """Why an engine operation failed; stored as ``operations.error_code`` and acted on by the job layer."""

    CONCURRENT_UPDATE = "concurrent_update"
    POLICY_VIOLATION = "policy_violation"
    STACK_NOT_FOUND = "stack_not_found"
    PROTECTED_RESOURCE = "protected_resource"
    PROGRAM_ERROR = "program_error"
    ENGINE_ERROR = "engine_error"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    INTERRUPTED = "interrupted"
    # Our own code failed around the engine (after-success work, bookkeeping).
    INTERNAL_ERROR = "internal_error"


# The names other modules import today.
CONCURRENT_UPDATE = EngineErrorCode.CONCURRENT_UPDATE
POLICY_VIOLATION = EngineErrorCode.POLICY_VIOLATION
STACK_NOT_FOUND = EngineErrorCode.STACK_NOT_FOUND
PROTECTED_RESOURCE = EngineErrorCode.PROTECTED_RESOURCE
PROGRAM_ERROR = EngineErrorCode.PROGRAM_ERROR
ENGINE_ERROR = EngineErrorCode.ENGINE_ERROR
CANCELLED = EngineErrorCode.CANCELLED
TIMED_OUT = EngineErrorCode.TIMED_OUT
INTERRUPTED = EngineErrorCode.INTERRUPTED

_MAX_MESSAGE = 4000


def classify_command_error(
    exc: auto_errors.CommandError, collector: EventCollector
) -> tuple[EngineErrorCode, str]:
    stderr = str(exc)
    detail = "\n".join(collector.errors) or stderr
    if collector.violations:
        names = ", ".join(sorted({v.policy_name for v in collector.violations}))
        return POLICY_VIOLATION, f"blocked by policy: {names}"
    if isinstance(exc, auto_errors.ConcurrentUpdateError):
        return CONCURRENT_UPDATE, "another operation holds this stack's lock"
    if isinstance(exc, auto_errors.StackNotFoundError):
        return STACK_NOT_FOUND, "the stack does not exist"
    if "protected" in detail and "cannot be deleted" in detail:
        return PROTECTED_RESOURCE, detail[-_MAX_MESSAGE:]
    if isinstance(exc, auto_errors.InlineSourceRuntimeError | auto_errors.RuntimeError):
        return PROGRAM_ERROR, detail[-_MAX_MESSAGE:]
    return ENGINE_ERROR, detail[-_MAX_MESSAGE:]
