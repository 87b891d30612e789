"""``build(jobs)``: everything integrations add to a process's job queue, in one call from ``create_app`` and
from the worker (the entry points put the returned context on ``app.state.integrations`` and include the
routers, /v1/integrations/* and /v1/teardown/plan, themselves):

* the Integrations context it returns (tests may swap its ``ticketing``/``chat`` clients);
* the notification writer, subscribed to the domain-event publisher: every unit of work that commits a state
  change writes its notices into the outbox in the same transaction (service.integrations.notifications);
* Huey tasks on the app's queue: ``forensics.integrations.deliver`` (after each commit that queued
  notifications, and again when the earliest retry is due), and a periodic task (Huey's own crontab):
  delivery + nonce pruning every minute (the reaper and the drift check are expiry's scheduled work:
  ``service.expiry.scheduled``);
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import httpx
from huey import crontab

from service.auth.roles import Role
from service.config import Settings
from service.db.session import session_scope
from service.domain_events import DomainEvent
from service.errors import Misconfigured
from service.integrations import webhook_hmac
from service.integrations.chat import HttpChatClient
from service.integrations.integration_context import Integrations
from service.integrations.notifications import NotificationWriter, wrote_outbox
from service.integrations.outbox import DeliveryReport, Dispatcher
from service.integrations.ticketing_client import make_ticketing_client
from service.jobs.tasks import Jobs

logger = logging.getLogger(__name__)

DELIVER_TASK = "forensics.integrations.deliver"
DELIVER_PERIODIC = "forensics.integrations.deliver_periodic"


def validate(settings: Settings) -> None:
    """Fail at start-up, not at the first webhook, on a role name that does not exist."""
    for name in ("ticket_role", "ticket_destroy_role", "teardown_role", "drift_check_role"):
        Role(getattr(settings, name))
    for user, role in settings.slack_user_roles.items():
        try:
            Role(role)
        except ValueError:
            raise Misconfigured(f"slack_user_roles[{user!r}]: unknown role {role!r}") from None


def build(jobs: Jobs, *, transport: httpx.BaseTransport | None = None) -> Integrations:
    """Everything but the routes: also what a separate worker process needs (``service.jobs.worker``)."""
    settings = jobs.ctx.settings
    clock = jobs.ctx.clock
    validate(settings)
    dispatcher = Dispatcher(
        jobs.ctx.session_factory,
        settings,
        clock,
        ticketing=make_ticketing_client(settings, transport),
        chat=HttpChatClient(timeout=settings.ticketing_timeout_seconds, transport=transport),
    )
    ctx = Integrations(
        settings=settings,
        session_factory=jobs.ctx.session_factory,
        clock=clock,
        publisher=jobs.ctx.publisher,
        dispatcher=dispatcher,
    )
    huey = jobs.huey

    follow_up = {"until": 0.0}  # one scheduled retry pass per process, however many commits trigger passes

    def deliver() -> None:
        report = _deliver(ctx)
        if report.failed and report.next_due_in is not None and follow_up["until"] <= time.monotonic():
            # Come back when the earliest retry is due (the periodic pass is the safety net).
            delay = max(report.next_due_in, 1.0)
            follow_up["until"] = time.monotonic() + delay
            deliver_task.schedule(delay=delay)

    def deliver_periodic() -> None:
        _deliver(ctx)
        # Summaries of refused requests counted in this process (an embedded consumer shares the API's).
        ctx.refusals.flush(settings, ctx.clock, ctx.session_factory)
        with session_scope(ctx.session_factory) as session:
            keep = 2 * max(settings.ticket_webhook_tolerance_seconds, webhook_hmac.SLACK_WINDOW_SECONDS) + 60
            webhook_hmac.prune(session, ctx.clock(), keep)

    deliver_task = huey.task(name=DELIVER_TASK)(deliver)
    if settings.integrations_periodic_tasks:
        huey.periodic_task(crontab(minute="*"), name=DELIVER_PERIODIC)(deliver_periodic)

    ctx.publisher.subscribe_in_transaction(NotificationWriter(settings, clock))
    if settings.outbox_dispatch_on_commit:

        def deliver_soon(events: Sequence[DomainEvent]) -> None:
            if wrote_outbox(events):
                deliver_task()

        ctx.publisher.subscribe_after_commit(deliver_soon)
    return ctx


def _deliver(ctx: Integrations) -> DeliveryReport:
    report = ctx.dispatcher.deliver_due()
    if report.delivered or report.failed or report.dead:
        logger.info(
            "outbox: %d delivered, %d failed, %d dead",
            len(report.delivered),
            len(report.failed),
            len(report.dead),
        )
    return report
