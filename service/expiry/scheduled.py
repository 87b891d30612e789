"""The reaper and the drift check, registered into the schedule (``service.investigations.schedule``) on
their crontab minutes (``FORENSICS_TEARDOWN_CRON_MINUTE``, ``FORENSICS_DRIFT_CHECK_CRON_MINUTE``); each acts
on the process's clock as its configured principal."""

from __future__ import annotations

import logging

from service.expiry import service as expiry
from service.investigations.schedule import ScheduleContext, ScheduledWork, register

logger = logging.getLogger(__name__)

TEARDOWN_TASK = "forensics.teardown"
DRIFT_TASK = "forensics.drift_check"


def run_teardown(ctx: ScheduleContext) -> None:
    report = expiry.run_teardown(ctx, ctx.clock())
    if report.warned or report.destroying or report.errors:
        logger.info("teardown: %s", report)


def run_drift_check(ctx: ScheduleContext) -> None:
    report = expiry.run_drift_check(ctx, ctx.clock())
    if report.checked or report.errors:
        logger.info("drift check: %s", report)


register(ScheduledWork(TEARDOWN_TASK, lambda s: s.teardown_cron_minute, run_teardown))
register(ScheduledWork(DRIFT_TASK, lambda s: s.drift_check_cron_minute, run_drift_check))
