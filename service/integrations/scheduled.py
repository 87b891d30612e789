"""Log-in alerts, registered into the schedule (``service.investigations.schedule``): each forensic account's
alert queue is read every minute and each sign-in announced (``service.integrations.login_alerts``), where the
bootstrap wrote a queue for it."""

from __future__ import annotations

import logging

from service.config import Settings
from service.integrations import login_alerts
from service.investigations.schedule import ScheduleContext, ScheduledWork, every_minute, register

logger = logging.getLogger(__name__)

LOGIN_ALERTS_TASK = "forensics.login_alerts"


def poll_login_alerts(ctx: ScheduleContext) -> None:
    report = login_alerts.poll(ctx)
    if report.alerts or report.errors:
        logger.warning("log-in alerts: %s", report)


def _has_alert_queues(settings: Settings) -> bool:
    return any(account.alert_queue_url for account in settings.accounts.values())


register(ScheduledWork(LOGIN_ALERTS_TASK, every_minute, poll_login_alerts, wanted=_has_alert_queues))
