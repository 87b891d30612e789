"""Huey tasks and the embedded consumer.

One task, ``process_investigation(id)``: it runs the investigation's queued operations in order under the
per-investigation lock (``runner``). Tasks carry ids only. Different investigations run in parallel, up to the
number of consumer workers (``max_parallel_operations``); each Pulumi operation runs in its own child process,
so worker threads only wait. A periodic sweep re-dispatches queued work and recovers stale operations, so a
lost task or a dead worker on another host never leaves an operation stuck. Another periodic task signs an
audit anchor when one is due (``service.audit.anchors``), when an anchor bucket is configured; another marks
requests that waited too long for a second person as expired (``service.approvals``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from huey import Huey, crontab

from service.access import cloudtrail
from service.access import service as access
from service.approvals import service as approvals
from service.audit import anchors
from service.domain_events import DomainEvent, OperationQueued
from service.integrations import login_alerts
from service.jobs import operation_runner, recovery
from service.jobs.drain import DrainingConsumer
from service.jobs.job_context import JobContext
from service.jobs.queue import make_huey

logger = logging.getLogger(__name__)

PROCESS_TASK = "forensics.process_investigation"
SWEEP_TASK = "forensics.sweep"
ANCHOR_TASK = "forensics.audit_anchor"
EXPIRE_APPROVALS_TASK = "forensics.expire_approvals"


class _EmbeddedConsumer(DrainingConsumer):
    """Inside the API process the server owns the signals (uvicorn stops on SIGTERM, then the lifespan calls
    ``stop_consumer``); the consumer must not replace its handlers."""

    def _set_signal_handlers(self) -> None:
        return None


class Jobs:
    def __init__(self, ctx: JobContext, huey: Huey | None = None) -> None:
        self.ctx = ctx
        self.huey = huey or make_huey(ctx.settings)
        self._consumer: _EmbeddedConsumer | None = None
        self._lock = threading.Lock()

        def process_investigation(investigation_id: str) -> None:
            operation_runner.process_next(self.ctx, investigation_id, self.dispatch_later)

        def sweep() -> None:
            recovery.recover(self.ctx, self.dispatch, at_startup=False)

        self.process_task = self.huey.task(name=PROCESS_TASK, retries=3, retry_delay=10)(
            process_investigation
        )
        self.sweep_task = self.huey.periodic_task(crontab(minute="*"), name=SWEEP_TASK)(sweep)

        def expire_approvals() -> None:
            self.expire_approvals()

        # Off with the other schedules (integrations_periodic_tasks=false): tests expire with their own clock.
        if ctx.settings.integrations_periodic_tasks:
            self.huey.periodic_task(crontab(minute="*"), name=EXPIRE_APPROVALS_TASK)(expire_approvals)
        self.anchor_schedule: anchors.AnchorSchedule | None = None
        if anchors.anchors_enabled(ctx.settings):
            # Checked every minute; the schedule itself writes only when the interval has passed.
            schedule = anchors.AnchorSchedule(ctx.settings, ctx.session_factory, ctx.clock)
            self.anchor_schedule = schedule

            def audit_anchor() -> None:
                try:
                    schedule.run()
                except Exception:  # an unreachable bucket or key must not take the other tasks with it
                    logger.exception("writing the periodic audit anchor failed")

            self.anchor_task = self.huey.periodic_task(crontab(minute="*"), name=ANCHOR_TASK)(audit_anchor)
        # Whoever commits a unit of work that queued operations hands their investigations to us.
        ctx.publisher.subscribe_after_commit(self.dispatch_queued)

    def dispatch_queued(self, events: Sequence[DomainEvent]) -> None:
        queued = {e.investigation_id: None for e in events if isinstance(e, OperationQueued)}
        for investigation_id in queued:
            self.dispatch(investigation_id)

    def dispatch(self, investigation_id: str) -> None:
        """Run the investigation's next queued operation (soon; in order; one at a time)."""
        self.process_task(investigation_id)

    def dispatch_later(self, investigation_id: str, delay: float) -> None:
        if delay <= 0:
            self.dispatch(investigation_id)
        else:
            self.process_task.schedule(args=(investigation_id,), delay=delay)

    def expire_approvals(self) -> list[str]:
        """Expired approvals are audited and announced in the same transaction (the job's unit of work)."""
        with self.ctx.unit_of_work() as uow:
            return approvals.expire_due(uow)

    def recover(self) -> recovery.RecoveryReport:
        return recovery.recover(self.ctx, self.dispatch, at_startup=True)

    def pending(self) -> int | None:
        try:
            return int(self.huey.pending_count())
        except Exception:
            return None

    # Embedded consumer

    def start_consumer(self, workers: int | None = None, **options: Any) -> None:
        with self._lock:
            if self._consumer is not None:
                return
            consumer = _EmbeddedConsumer(
                self.huey,
                self.ctx.drain,
                workers=workers or self.ctx.settings.max_parallel_operations,
                worker_type="thread",
                periodic=True,
                initial_delay=0.05,
                max_delay=self.ctx.settings.jobs_poll_max_delay,
                check_worker_health=False,
                shutdown_timeout=self.ctx.settings.shutdown_grace_seconds,
                **options,
            )
            consumer.start()
            self._consumer = consumer

    def create_consumer(self) -> DrainingConsumer:
        """The consumer of a worker process (``service.jobs.worker``): it owns the process's signals, and
        SIGTERM drains it (``service.jobs.drain``)."""
        return DrainingConsumer(
            self.huey,
            self.ctx.drain,
            workers=self.ctx.settings.max_parallel_operations,
            worker_type="thread",
            max_delay=self.ctx.settings.jobs_poll_max_delay,
            shutdown_timeout=self.ctx.settings.shutdown_grace_seconds,
        )

    def stop_consumer(self) -> None:
        """Takes no more jobs, waits up to shutdown_grace_seconds for running ones, then hands over what still
        runs (its engine stopped, the operation retried by another worker: ``service.jobs.drain``)."""
        with self._lock:
            consumer, self._consumer = self._consumer, None
        if consumer is not None:
            consumer.stop(graceful=True)


ACCESS_EXPIRY_TASK = "forensics.access_expiry"
ROLE_USE_SCAN_TASK = "forensics.role_use_scan"
LOGIN_ALERTS_TASK = "forensics.login_alerts"


def install_access_tasks(jobs: Jobs) -> list[Any]:
    """The schedules of just-in-time access (``service.access``):

    - expired grants leave the declared state, and an `up` takes them out of the trust policies; requests
      nobody decided lapse. AWS has refused an expired grant since its expiry already (the trust condition),
      so a late or failed run leaves a dead statement behind, never access.
    - on real AWS, CloudTrail's AssumeRole events are read and any use of a clean-room role that no live
      grant covered is an alert (``service.access.cloudtrail``).

    - log-in alerts: each forensic account's alert queue is read every minute and each sign-in announced
      (``service.integrations.login_alerts``), where the bootstrap wrote a queue for it.

    Like the other schedules, they stay off the queue with ``integrations_periodic_tasks=false`` (tests
    call ``expire_grants`` and ``cloudtrail.scan`` with their clock)."""
    settings = jobs.ctx.settings

    def expire_access_grants() -> None:
        report = access.expire_grants(jobs.ctx, jobs.ctx.clock())
        if report.expired or report.lapsed or report.errors:
            logger.info("access grants: %s", report)

    def scan_role_use() -> None:
        report = cloudtrail.scan(jobs.ctx, jobs.ctx.clock())
        if report.alerts or report.errors:
            logger.warning("role use without a grant: %s", report)

    def poll_login_alerts() -> None:
        try:
            report = login_alerts.poll(jobs.ctx)
        except Exception:  # an unreachable queue must not take the other schedules with it
            logger.exception("reading the log-in alert queues failed")
            return
        if report.alerts or report.errors:
            logger.warning("log-in alerts: %s", report)

    if not settings.integrations_periodic_tasks:
        return []
    installed = [
        jobs.huey.periodic_task(crontab(minute=settings.access_expiry_cron_minute), name=ACCESS_EXPIRY_TASK)(
            expire_access_grants
        )
    ]
    if any(account.alert_queue_url for account in settings.accounts.values()):
        installed.append(
            jobs.huey.periodic_task(crontab(minute="*"), name=LOGIN_ALERTS_TASK)(poll_login_alerts)
        )
    if settings.target == "aws":
        every = crontab(minute=f"*/{settings.cloudtrail_scan_minutes}")
        installed.append(jobs.huey.periodic_task(every, name=ROLE_USE_SCAN_TASK)(scan_role_use))
    return installed
