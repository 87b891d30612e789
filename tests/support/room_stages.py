"""The order of the tests that read a shared room (tests/support/enforced_room.py, custody_room.py): each room
names the fixture a test reads each of its stages through, and its tests are handed out by stage."""

from __future__ import annotations

from collections.abc import Mapping

import pytest


def stage_of(item: pytest.Item, stage_fixtures: Mapping[str, int]) -> int | None:
    """The latest stage ``item`` reads through ``stage_fixtures``, or None when it reads none."""
    stages = [stage_fixtures[name] for name in getattr(item, "fixturenames", ()) if name in stage_fixtures]
    return max(stages) if stages else None


def in_stage_order(items: list[pytest.Item], stage_fixtures: Mapping[str, int]) -> None:
    """Reorders, in place, the tests that read the room by the stage they read (stable: in collection order
    within a stage), in the places those tests already hold; every other test keeps its place."""
    places = [n for n, item in enumerate(items) if stage_of(item, stage_fixtures) is not None]
    ordered = sorted((items[n] for n in places), key=lambda item: stage_of(item, stage_fixtures) or 0)
    for place, item in zip(places, ordered, strict=True):
        items[place] = item
