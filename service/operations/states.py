"""Operation states and actions (what a request asked for, as opposed to the engine kind that runs it)."""

from __future__ import annotations

from enum import StrEnum

from service.orchestration.models import OperationKind


class OperationState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    INTERRUPTED = "interrupted"


TERMINAL = frozenset(
    {
        OperationState.SUCCEEDED,
        OperationState.FAILED,
        OperationState.CANCELLED,
        OperationState.TIMED_OUT,
        OperationState.INTERRUPTED,
    }
)


class Action(StrEnum):
    OPEN = "open"
    PREVIEW = "preview"
    REFRESH = "refresh"
    FREEZE = "freeze"
    RELEASE = "release"
    DESTROY = "destroy"


# The engine operation each action is reported as (freeze and release are `up`s with other config).
ACTION_KIND: dict[Action, OperationKind] = {
    Action.OPEN: OperationKind.UP,
    Action.PREVIEW: OperationKind.PREVIEW,
    Action.REFRESH: OperationKind.REFRESH,
    Action.FREEZE: OperationKind.UP,
    Action.RELEASE: OperationKind.UP,
    Action.DESTROY: OperationKind.DESTROY,
}

# Safe to run again after a crash: they converge (up of the same config) or change nothing.
RETRY_AFTER_INTERRUPT = frozenset({Action.OPEN, Action.PREVIEW, Action.REFRESH})
