"""Huey tasks and the embedded consumer.

One task, ``process_investigation(id)``: it runs the investigation's queued operations in order under the
per-investigation lock (``runner``). Tasks carry ids only. Different investigations run in parallel, up to the
number of consumer workers (``max_parallel_operations``); each Pulumi operation runs in its own child process,
so worker threads only wait. A periodic sweep re-dispatches queued work and recovers stale operations, so a
lost task or a dead worker on another host never leaves an operation stuck. Another periodic task signs an
audit anchor when one is due (``service.audit.anchors``), when an anchor bucket is configured. The features'
scheduled work (``service.investigations.schedule``: expiry of approvals and access grants, the reaper, the
drift check, CloudTrail's scan, log-in alerts) is installed by ``install_schedule``, each item a periodic task
of its own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from huey import Huey, crontab

from service import features  # noqa: F401  (fills the schedule with the features' scheduled work)
from service.approvals import scheduled as approvals_scheduled
from service.audit import anchors
from service.domain_events import DomainEvent, OperationQueued
from service.integrations import scheduled as integrations_scheduled  # noqa: F401  (its scheduled work)
from service.investigations.schedule import SCHEDULE, ScheduledWork
from service.jobs import operation_runner, recovery
from service.jobs.drain import DrainingConsumer
from service.jobs.job_context import JobContext
from service.jobs.queue import make_huey

logger = logging.getLogger(__name__)

PROCESS_TASK = "forensics.process_investigation"
SWEEP_TASK = "forensics.sweep"
ANCHOR_TASK = "forensics.audit_anchor"


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
        """The scheduled expiry of approvals, run now (tests drive it with their clock)."""
        return approvals_scheduled.expire_approvals(self.ctx)

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


def install_schedule(jobs: Jobs) -> list[Any]:
    """Every item of the schedule (``service.investigations.schedule``) this deployment wants, as a Huey
    periodic task of its own: the consumer's scheduler enqueues each due item as a separate job, and an item
    that raises is logged and ends there, so one item's failure never holds up another's. All stay off the
    queue with ``integrations_periodic_tasks=false`` (tests run the work with their own clock)."""
    settings = jobs.ctx.settings
    if not settings.integrations_periodic_tasks:
        return []
    return [
        jobs.huey.periodic_task(crontab(minute=work.minute(settings)), name=work.name)(_isolated(work, jobs))
        for work in SCHEDULE.values()
        if work.wanted(settings)
    ]


def _isolated(work: ScheduledWork, jobs: Jobs) -> Callable[[], None]:
    def run() -> None:
        try:
            work.run(jobs.ctx)
        except Exception:  # logged here: the next run of this item, and every other item, still happen
            logger.exception("scheduled work %s failed", work.name)

    run.__name__ = work.name.replace(".", "_")
    return run
