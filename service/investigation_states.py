"""Investigation states. Which action may move an investigation from which state to which is decided in one
place, the action table (``service/investigations/actions.py``); this module only names the states.

opening -> ready | failed
ready -> freezing -> frozen
frozen -> releasing -> ready
ready | failed -> destroying -> destroyed
freezing | releasing -> needs_attention   (failed or interrupted; a human decides)
"""

from __future__ import annotations

from enum import StrEnum


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


OPEN_STATES = frozenset(set(Status) - {Status.DESTROYED})
