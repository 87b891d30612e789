"""Investigation states, the allowed transitions, and the 409 messages that explain a refusal.

opening -> ready | failed
ready -> freezing -> frozen
frozen -> releasing -> ready
ready | failed -> destroying -> destroyed
freezing | releasing | destroying -> needs_attention   (interrupted or failed; a human decides)
needs_attention -> freezing | releasing | destroying
"""

from __future__ import annotations

from enum import StrEnum

from service.errors import StateConflict
from service.operations.states import Action


class Status(StrEnum):
    OPENING = "opening"
    READY = "ready"
    FAILED = "failed"
    FREEZING = "freezing"
    FROZEN = "frozen"
    RELEASING = "releasing"
    DESTROYING = "destroying"
    DESTROYED = "destroyed"
    NEEDS_ATTENTION = "needs_attention"


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.OPENING: frozenset({Status.READY, Status.FAILED, Status.NEEDS_ATTENTION}),
    Status.READY: frozenset({Status.FREEZING, Status.DESTROYING}),
    Status.FAILED: frozenset({Status.DESTROYING}),
    Status.FREEZING: frozenset({Status.FROZEN, Status.READY, Status.NEEDS_ATTENTION}),
    Status.FROZEN: frozenset({Status.RELEASING}),
    Status.RELEASING: frozenset({Status.READY, Status.FROZEN, Status.NEEDS_ATTENTION}),
    Status.DESTROYING: frozenset({Status.DESTROYED, Status.FAILED, Status.READY, Status.NEEDS_ATTENTION}),
    Status.DESTROYED: frozenset(),
    Status.NEEDS_ATTENTION: frozenset({Status.FREEZING, Status.RELEASING, Status.DESTROYING}),
}

# The state an accepted request moves the investigation to (None: the action does not change it).
ACTION_TARGET: dict[Action, Status | None] = {
    Action.OPEN: Status.OPENING,
    Action.PREVIEW: None,
    Action.REFRESH: None,
    Action.FREEZE: Status.FREEZING,
    Action.RELEASE: Status.RELEASING,
    Action.DESTROY: Status.DESTROYING,
}

# Actions that change nothing may run in any state where the stack may exist.
READ_ONLY_ALLOWED = frozenset(set(Status) - {Status.DESTROYING, Status.DESTROYED})

OPEN_STATES = frozenset(set(Status) - {Status.DESTROYED})

_MESSAGES: dict[tuple[Status, Action], str] = {
    (Status.FROZEN, Action.DESTROY): (
        "investigation {id} is frozen under legal hold and cannot be destroyed; "
        "a data custodian must release it first (POST /v1/investigations/{id}/release)"
    ),
    (
        Status.FREEZING,
        Action.DESTROY,
    ): "investigation {id} is being frozen for legal hold and cannot be destroyed",
    (Status.FROZEN, Action.FREEZE): "investigation {id} is already frozen",
    (Status.READY, Action.RELEASE): "investigation {id} is not frozen; there is nothing to release",
    (Status.OPENING, Action.FREEZE): "investigation {id} is still opening; freeze it once it is ready",
    (
        Status.OPENING,
        Action.DESTROY,
    ): "investigation {id} is still opening; destroy it once it is ready or failed",
    (Status.DESTROYED, Action.DESTROY): "investigation {id} is already destroyed",
}


def conflict_message(status: Status, action: Action, investigation_id: str) -> str:
    template = _MESSAGES.get((status, action))
    if template is None:
        template = f"cannot {action.value} investigation {{id}} while it is {status.value}"
    return template.format(id=investigation_id)


def check_action(status: Status, action: Action, investigation_id: str) -> Status | None:
    """The status the action moves to, or StateConflict (409) with a message that says why not."""
    target = ACTION_TARGET[action]
    allowed = status in READ_ONLY_ALLOWED if target is None else target in TRANSITIONS[status]
    if not allowed:
        raise StateConflict(
            conflict_message(status, action, investigation_id),
            details={"status": status.value, "action": action.value},
        )
    return target


def check_transition(current: Status, target: Status) -> None:
    if current != target and target not in TRANSITIONS[current]:
        raise StateConflict(f"no transition from {current.value} to {target.value}")
