"""The durable outbox: notifications are rows written in the same transaction as the change they report,
and delivered later by ``Dispatcher.deliver_due`` (a Huey task after each commit that wrote some, and
every minute).

Per stream (one ticket, one chat destination) delivery is strictly in commit order: each message takes the
next position of its stream just before its transaction commits (``sequence``), under the stream counter's
row lock, so a second writer of the same stream waits for the first to commit (ids would not do: on
PostgreSQL they are handed out at insert and can commit in the other order). The head is claimed with a
lease (a conditional UPDATE, so two workers or hosts never send the same message at once), sent, and marked
delivered with the receiver's id for it; a transient failure reschedules the head with exponential backoff
(capped) and blocks the stream behind it, so a ticketing system that is down for an hour receives every
update afterwards, once each, in order. A permanent failure (e.g. 404 unknown ticket) or an expired chat
destination dead-letters the head (audited) and the stream moves on.

Exactly once, also for receivers that ignore ``Idempotency-Key`` (Jira does): a head that may already have
been sent (an earlier attempt failed without an answer, or its lease ran out under a worker that died) is
first looked up on the receiver by its key (``TicketingClient.find_comment``) and, if found, marked delivered
without posting again.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.clock import Clock
from service.config import Settings
from service.db.session import SessionFactory, session_scope
from service.errors import DeliveryError
from service.integrations.chat import ChatClient
from service.integrations.messages import ALERTS, CHAT_ONLY, Notice, slack_message, ticket_text
from service.integrations.models import ChatSubscription, OutboxMessage, OutboxStream
from service.integrations.ticketing_client import TicketingClient

logger = logging.getLogger(__name__)

PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"
TICKET = "ticket"
CHAT = "chat"


def ticket_stream(ticket: str) -> str:
    return f"ticket:{ticket}"


def chat_stream(url: str) -> str:
    return "chat:" + hashlib.sha256(url.encode()).hexdigest()[:40]


def enqueue(
    session: Session,
    now: datetime,
    *,
    channel: str,
    destination: str,
    stream: str,
    event: str,
    payload: dict[str, Any],
    investigation_id: str | None,
    expires_at: datetime | None = None,
) -> OutboxMessage:
    """Adds the message to the caller's transaction (committed, or rolled back, with the change)."""
    message = OutboxMessage(
        stream=stream,
        channel=channel,
        destination=destination,
        investigation_id=investigation_id,
        event=event,
        payload=payload,
        state=PENDING,
        attempts=0,
        next_attempt_at=now,
        expires_at=expires_at,
        created_at=now,
    )
    session.add(message)
    written: list[OutboxMessage] = session.info.setdefault(_WRITTEN, [])
    written.append(message)
    return message


_WRITTEN = "outbox_written"


def sequence(session: Session) -> None:
    """Give the messages this transaction wrote their stream positions; call last before the commit.

    Each stream's counter row is updated (and so locked until commit) in stream name order, so two
    transactions writing the same streams wait for each other instead of deadlocking."""
    written: list[OutboxMessage] = session.info.pop(_WRITTEN, [])
    by_stream: dict[str, list[OutboxMessage]] = {}
    for message in written:
        if message.position is None:
            by_stream.setdefault(message.stream, []).append(message)
    if not by_stream:
        return
    session.flush()
    dialect = session.get_bind().dialect.name
    for stream in sorted(by_stream):
        messages = by_stream[stream]
        _ensure_counter(session, dialect, stream)
        last = session.execute(
            update(OutboxStream)
            .where(OutboxStream.stream == stream)
            .values(last_position=OutboxStream.last_position + len(messages))
            .returning(OutboxStream.last_position)
        ).scalar_one()
        for offset, message in enumerate(messages):
            message.position = last - len(messages) + 1 + offset
    session.flush()


def _ensure_counter(session: Session, dialect: str, stream: str) -> None:
    values = {"stream": stream, "last_position": 0}
    if dialect == "postgresql":
        session.execute(postgresql.insert(OutboxStream).values(values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite.insert(OutboxStream).values(values).on_conflict_do_nothing())
    elif session.get(OutboxStream, stream) is None:
        session.execute(insert(OutboxStream).values(values))


def notify(session: Session, now: datetime, settings: Settings, notice: Notice) -> list[OutboxMessage]:
    """Queue ``notice`` for its ticket (if a ticketing system is configured; not progress chatter), every
    chat destination following the ticket, and (alerts only) the configured notification channel."""
    inv = notice.investigation
    ticket = inv.get("ticket")
    investigation_id = inv.get("id")
    written: list[OutboxMessage] = []
    if ticket and settings.ticketing_kind != "none" and notice.event not in CHAT_ONLY:
        written.append(
            enqueue(
                session,
                now,
                channel=TICKET,
                destination=ticket,
                stream=ticket_stream(ticket),
                event=notice.event,
                payload={"text": ticket_text(notice), "notice": notice.to_json()},
                investigation_id=investigation_id,
            )
        )
    if ticket:
        subscriptions = session.execute(
            select(ChatSubscription)
            .where(ChatSubscription.ticket == ticket, ChatSubscription.expires_at > now)
            .order_by(ChatSubscription.id)
        ).scalars()
        seen: set[str] = set()
        for sub in subscriptions:
            if sub.url in seen:
                continue
            seen.add(sub.url)
            written.append(
                enqueue(
                    session,
                    now,
                    channel=CHAT,
                    destination=sub.url,
                    stream=chat_stream(sub.url),
                    event=notice.event,
                    payload=slack_message(notice),
                    investigation_id=investigation_id,
                    expires_at=sub.expires_at,
                )
            )
    if settings.slack_notify_url and notice.event in ALERTS:
        url = settings.slack_notify_url
        written.append(
            enqueue(
                session,
                now,
                channel=CHAT,
                destination=url,
                stream=chat_stream(url),
                event=notice.event,
                payload=slack_message(notice, response_type="in_channel"),
                investigation_id=investigation_id,
            )
        )
    return written


def backoff(settings: Settings, attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: base * 2^(attempts-1), capped."""
    exponent = min(max(attempts - 1, 0), 30)
    return float(min(settings.outbox_backoff_max_seconds, settings.outbox_backoff_seconds * (2**exponent)))


@dataclass
class DeliveryReport:
    delivered: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    dead: list[int] = field(default_factory=list)
    # Seconds until the earliest pending message is due (None: nothing pending).
    next_due_in: float | None = None


class Dispatcher:
    def __init__(
        self,
        session_factory: SessionFactory,
        settings: Settings,
        clock: Clock,
        *,
        ticketing: TicketingClient | None,
        chat: ChatClient,
    ) -> None:
        self.session_factory = session_factory
        self.settings = settings
        self.clock = clock
        self.ticketing = ticketing
        self.chat = chat
        self._lock = threading.Lock()

    def deliver_due(self, now: datetime | None = None) -> DeliveryReport:
        """Deliver every message that is due, stream by stream, in order; never raises for a delivery."""
        with self._lock:  # one pass at a time in this process; the lease guards against other processes
            now = now or self.clock()
            report = DeliveryReport()
            with session_scope(self.session_factory) as session:
                streams = list(
                    session.execute(
                        select(OutboxMessage.stream)
                        .where(OutboxMessage.state == PENDING)
                        .group_by(OutboxMessage.stream)
                        .order_by(OutboxMessage.stream)
                    ).scalars()
                )
            for stream in streams:
                try:
                    self._deliver_stream(stream, now, report)
                except Exception:  # one broken stream must not stop the others
                    logger.exception("outbox stream %s", stream)
            report.next_due_in = self._next_due_in(now)
            return report

    def _deliver_stream(self, stream: str, now: datetime, report: DeliveryReport) -> None:
        while True:
            claimed = self._claim_head(stream, now)
            if claimed is None:
                return
            message_id, channel, destination, payload, expires_at, attempts, maybe_sent = claimed
            if expires_at is not None and expires_at <= now:
                self._dead(message_id, now, "the destination expired before delivery", report)
                continue
            try:
                external_id = self._send(message_id, channel, destination, payload, maybe_sent)
            except DeliveryError as exc:
                if exc.permanent:
                    self._dead(message_id, now, exc.message, report)
                    continue
                self._retry(message_id, attempts + 1, now, exc.message, report)
                return  # the head failed: everything behind it in this stream waits
            except Exception as exc:  # a bug or bad payload: retry later, keep order
                logger.exception("outbox message %s", message_id)
                self._retry(message_id, attempts + 1, now, f"{type(exc).__name__}: {exc}", report)
                return
            self._delivered(message_id, attempts + 1, now, external_id, report)

    def _claim_head(
        self, stream: str, now: datetime
    ) -> tuple[int, str, str, dict[str, Any], datetime | None, int, bool] | None:
        with session_scope(self.session_factory) as session:
            head = session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.stream == stream, OutboxMessage.state == PENDING)
                .order_by(OutboxMessage.position, OutboxMessage.id)
                .limit(1)
            ).scalar_one_or_none()
            if head is None or head.next_attempt_at > now:
                return None
            # Tried before, or leased by a worker that never reported back: it may have arrived.
            maybe_sent = head.attempts > 0 or head.locked_until is not None
            lease = now + timedelta(seconds=self.settings.outbox_lease_seconds)
            claimed = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == head.id,
                    OutboxMessage.state == PENDING,
                    or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now),
                    # Unchanged since read: another worker may have claimed, sent and released it meanwhile
                    # (then ``maybe_sent`` above would be stale, and it would be posted twice).
                    OutboxMessage.attempts == head.attempts,
                    OutboxMessage.next_attempt_at <= now,
                )
                .values(locked_until=lease)
            ).rowcount  # type: ignore[attr-defined]
            if not claimed:
                return None  # another worker is delivering this stream's head
            return (
                head.id,
                head.channel,
                head.destination,
                dict(head.payload or {}),
                head.expires_at,
                head.attempts,
                maybe_sent,
            )

    def _send(
        self, message_id: int, channel: str, destination: str, payload: dict[str, Any], maybe_sent: bool
    ) -> str | None:
        """Delivers the message; returns the receiver's id for it when it gives one."""
        key = f"forensics-outbox-{message_id}"
        if channel == TICKET:
            if self.ticketing is None:
                raise DeliveryError("no ticketing system is configured", permanent=True)
            if maybe_sent:
                found = self.ticketing.find_comment(destination, key)
                if found is not None:
                    logger.info("outbox message %s had arrived already (comment %s)", message_id, found)
                    return found
            return self.ticketing.post_comment(destination, str(payload.get("text", "")), idempotency_key=key)
        self.chat.post_message(destination, payload, idempotency_key=key)
        return None

    def _delivered(
        self, message_id: int, attempts: int, now: datetime, external_id: str | None, report: DeliveryReport
    ) -> None:
        with session_scope(self.session_factory) as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(
                    state=DELIVERED,
                    attempts=attempts,
                    delivered_at=self.clock(),
                    locked_until=None,
                    last_error=None,
                    external_id=external_id,
                )
            )
        report.delivered.append(message_id)

    def _retry(
        self, message_id: int, attempts: int, now: datetime, error: str, report: DeliveryReport
    ) -> None:
        delay = backoff(self.settings, attempts)
        logger.warning(
            "outbox message %s failed (attempt %s), retry in %ss: %s", message_id, attempts, delay, error
        )
        with session_scope(self.session_factory) as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(
                    attempts=attempts,
                    next_attempt_at=now + timedelta(seconds=delay),
                    locked_until=None,
                    last_error=error[:2000],
                )
            )
        report.failed.append(message_id)

    def _dead(self, message_id: int, now: datetime, error: str, report: DeliveryReport) -> None:
        logger.error("outbox message %s dead-lettered: %s", message_id, error)
        with session_scope(self.session_factory) as session:
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            message.state = DEAD
            message.locked_until = None
            message.last_error = error[:2000]
            audit.record(
                session,
                self.clock,
                actor=audit.SYSTEM,
                action="integration.delivery",
                target=f"outbox/{message_id}",
                outcome="dead",
                details={
                    "channel": message.channel,
                    "stream": message.stream,
                    "event": message.event,
                    "investigation_id": message.investigation_id,
                    "error": error[:500],
                },
            )
        report.dead.append(message_id)

    def _next_due_in(self, now: datetime) -> float | None:
        with session_scope(self.session_factory) as session:
            earliest = session.execute(
                select(OutboxMessage.next_attempt_at)
                .where(OutboxMessage.state == PENDING)
                .order_by(OutboxMessage.next_attempt_at)
                .limit(1)
            ).scalar_one_or_none()
        if earliest is None:
            return None
        return max((earliest - now).total_seconds(), 0.0)
