"""The schedule: the periodic work of the features, in one table beside the action table. Each feature adds
its items from its own ``scheduled.py`` (``service.features`` loads them all); the job queue
(``service.jobs.tasks.install_schedule``) runs every item as a Huey periodic task of its own, so one item's
failure never holds up another's. The table never imports a feature.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from service.auth.service import Principal
from service.config import Settings
from service.investigations.actions import StepContext
from service.unit_of_work import Caller


class ScheduleContext(StepContext, Protocol):
    """What scheduled work needs from the process that runs it (the job context provides it): a step's
    context, and callers acting as the configured principal of the work (the reaper's, the drift check's)."""

    def caller(self, session: Session, principal: Principal, request_id: str | None) -> Caller: ...


def _always(_settings: Settings) -> bool:
    return True


@dataclass(frozen=True)
class ScheduledWork:
    # The Huey periodic task's name: unique, and the same in every process.
    name: str
    # When it runs: a crontab minute field, from the settings ("*", "*/5", "17").
    minute: Callable[[Settings], str]
    run: Callable[[ScheduleContext], None]
    # Whether this deployment runs it at all (CloudTrail's scan only on real AWS, say).
    wanted: Callable[[Settings], bool] = _always


SCHEDULE: dict[str, ScheduledWork] = {}


def register(work: ScheduledWork) -> ScheduledWork:
    if work.name in SCHEDULE:
        raise ValueError(f"scheduled work {work.name} is registered already")
    SCHEDULE[work.name] = work
    return work


def every_minute(_settings: Settings) -> str:
    return "*"
