"""A registration in the action table states only what differs from the defaults of ActionSpec."""

from __future__ import annotations

import pytest

from service.auth.roles import Permission
from service.investigation_states import Status
from service.investigations.actions import ActionSpec
from service.investigations.schemas import NoParams


def test_an_action_that_states_nothing_else_is_the_quiet_default() -> None:
    spec = ActionSpec(name="note", summary="A made-up action.", permission=Permission.PREVIEW)
    assert spec.params_model is NoParams
    assert spec.sources == frozenset({Status.READY})
    assert (spec.running, spec.succeeded, spec.failed) == (None, None, None)
    assert not spec.runs_engine and spec.kind is None
    assert not spec.retry_after_interrupt and not spec.custodial and not spec.announce
    assert not spec.may_need_second_person
    assert spec.permissions({}) == frozenset({Permission.PREVIEW})


def test_fields_are_named_at_registration() -> None:
    """Keywords only: a positional list of a dozen fields is how a status lands in the wrong slot."""
    with pytest.raises(TypeError):
        ActionSpec("note", "A made-up action.", Permission.PREVIEW)  # type: ignore[misc]
