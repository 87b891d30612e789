"""Operation states, and the names of the built-in actions (what a request asked for; the action table in
``service/investigations/actions.py`` says what each means)."""

from __future__ import annotations

from enum import StrEnum


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
    EXTEND = "extend"
    ACQUIRE = "acquire"
    GRANT = "grant"
    REGISTER = "register"
    MEMORY = "memory"
    LOGS = "logs"
    CONTAIN = "contain"
    RELEASE_CONTAINMENT = "release-containment"
