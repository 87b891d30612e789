from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, UtcDateTime


class OutboxMessage(Base):
    """One notification to deliver. Messages of one ``stream`` (a ticket, a chat destination) are delivered
    strictly in ``position`` order, which is commit order: a failing head blocks the ones behind it until it
    is delivered or dead."""

    __tablename__ = "integration_outbox"
    __table_args__ = (Index("ix_integration_outbox_stream_position", "stream", "position", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stream: Mapped[str] = mapped_column(String(128), index=True)  # "ticket:SEC-1", "chat:<sha256 of url>"
    # The message's place in its stream, taken just before its transaction commits (``outbox.sequence``);
    # None only inside that transaction.
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    channel: Mapped[str] = mapped_column(String(16))  # ticket | chat
    destination: Mapped[str] = mapped_column(String(2048))  # ticket key, or the URL a chat message goes to
    investigation_id: Mapped[str | None] = mapped_column(String(41), nullable=True, index=True)
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), index=True)  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # A delivery in progress holds the message until then (another worker may take it over afterwards).
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Give up after this (chat response_urls expire); None: retry until delivered.
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # What the receiver calls the delivered message (a Jira comment id), when it says.
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)


class OutboxStream(Base):
    """Each stream's last position handed out. Taking the next one updates this row, and the row lock held
    until commit makes a second writer of the same stream wait: positions follow commit order."""

    __tablename__ = "integration_outbox_streams"

    stream: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_position: Mapped[int] = mapped_column(Integer)


class TicketAction(Base):
    """What a ticket webhook already did: the ticket is the idempotency key, so a redelivered event finds its
    row and does nothing. ``scope`` is "" for open (once per ticket) and the investigation id otherwise."""

    __tablename__ = "integration_ticket_actions"
    __table_args__ = (
        UniqueConstraint("ticket", "action", "scope", name="uq_integration_ticket_actions_ticket_action"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(16))  # open | freeze | destroy
    scope: Mapped[str] = mapped_column(String(41))
    investigation_id: Mapped[str | None] = mapped_column(String(41), nullable=True)
    outcome: Mapped[str] = mapped_column(String(32))  # accepted | refused | conflict
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ChatSubscription(Base):
    """A chat destination (a slash command's response_url) following a ticket's investigation for a while."""

    __tablename__ = "integration_chat_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    user: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class WebhookNonce(Base):
    """Signatures already accepted (replay protection); pruned once outside the timestamp window."""

    __tablename__ = "integration_webhook_nonces"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256(source + signature)
    source: Mapped[str] = mapped_column(String(16))
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class LoginAlert(Base):
    """A log-in alert taken from a forensic account's alert queue (service/integrations/login_alerts.py):
    kept once per event, so a message SQS delivers again is deleted without alerting twice."""

    __tablename__ = "login_alerts"

    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(12))
    event_name: Mapped[str] = mapped_column(String(64))
    investigation_id: Mapped[str | None] = mapped_column(String(41), nullable=True, index=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
