from __future__ import annotations

import pytest

from service.errors import StateConflict
from service.investigations.states import Status, check_action
from service.operations.states import Action


@pytest.mark.parametrize(
    ("status", "action", "target"),
    [
        (Status.READY, Action.FREEZE, Status.FREEZING),
        (Status.FROZEN, Action.RELEASE, Status.RELEASING),
        (Status.READY, Action.DESTROY, Status.DESTROYING),
        (Status.FAILED, Action.DESTROY, Status.DESTROYING),
        (Status.NEEDS_ATTENTION, Action.DESTROY, Status.DESTROYING),
        (Status.FROZEN, Action.PREVIEW, None),
        (Status.OPENING, Action.REFRESH, None),
    ],
)
def test_allowed(status: Status, action: Action, target: Status | None) -> None:
    assert check_action(status, action, "inv-1") == target


@pytest.mark.parametrize(
    ("status", "action", "words"),
    [
        (Status.FROZEN, Action.DESTROY, "frozen under legal hold"),
        (Status.FREEZING, Action.DESTROY, "being frozen"),
        (Status.DESTROYED, Action.PREVIEW, "while it is destroyed"),
        (Status.DESTROYING, Action.FREEZE, "while it is destroying"),
        (Status.FAILED, Action.FREEZE, "while it is failed"),
    ],
)
def test_refused_with_reason(status: Status, action: Action, words: str) -> None:
    with pytest.raises(StateConflict, match=words):
        check_action(status, action, "inv-1")
