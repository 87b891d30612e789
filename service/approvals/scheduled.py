"""Held requests that waited too long for a second person expire: registered into the schedule
(``service.investigations.schedule``), checked every minute. Expired approvals are audited and announced in
the same transaction (the job's unit of work)."""

from __future__ import annotations

from service.approvals import service as approvals
from service.investigations.schedule import ScheduleContext, ScheduledWork, every_minute, register

EXPIRE_APPROVALS_TASK = "forensics.expire_approvals"


def expire_approvals(ctx: ScheduleContext) -> list[str]:
    with ctx.unit_of_work() as uow:
        return approvals.expire_due(uow)


def _expire(ctx: ScheduleContext) -> None:
    expire_approvals(ctx)


register(ScheduledWork(EXPIRE_APPROVALS_TASK, every_minute, _expire))
