"""Just-in-time access's scheduled work, registered into the schedule (``service.investigations.schedule``):

- expired grants leave the declared state, and an `up` takes them out of the trust policies; requests nobody
  decided lapse. AWS has refused an expired grant since its expiry already (the trust condition), so a late
  or failed run leaves a dead statement behind, never access.
- on real AWS, CloudTrail's AssumeRole events are read and any use of a clean-room role that no live grant
  covered is an alert (``service.access.cloudtrail``).
"""

from __future__ import annotations

import logging

from service.access import cloudtrail
from service.access import service as access
from service.config import Settings
from service.investigations.schedule import ScheduleContext, ScheduledWork, register

logger = logging.getLogger(__name__)

ACCESS_EXPIRY_TASK = "forensics.access_expiry"
ROLE_USE_SCAN_TASK = "forensics.role_use_scan"


def expire_access_grants(ctx: ScheduleContext) -> None:
    report = access.expire_grants(ctx, ctx.clock())
    if report.expired or report.lapsed or report.errors:
        logger.info("access grants: %s", report)


def scan_role_use(ctx: ScheduleContext) -> None:
    report = cloudtrail.scan(ctx, ctx.clock())
    if report.alerts or report.errors:
        logger.warning("role use without a grant: %s", report)


def _on_aws(settings: Settings) -> bool:
    # The local AWS keeps no CloudTrail: there is nothing to read.
    return settings.target == "aws"


register(ScheduledWork(ACCESS_EXPIRY_TASK, lambda s: s.access_expiry_cron_minute, expire_access_grants))
register(
    ScheduledWork(
        ROLE_USE_SCAN_TASK, lambda s: f"*/{s.cloudtrail_scan_minutes}", scan_role_use, wanted=_on_aws
    )
)
