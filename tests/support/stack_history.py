"""A stack's history as Pulumi recorded it in the state, for the tests that check no two engines ever ran on
one stack at once."""

from __future__ import annotations

from pulumi import automation as auto

from service.config import Settings
from service.orchestration import stacks


def updates(settings: Settings, stack_name: str) -> list[auto.UpdateSummary]:
    """The stack's updates, refreshes and destroys, newest first."""
    with stacks.workspace(settings) as workspace:
        return auto.Stack.select(stack_name, workspace).history()
