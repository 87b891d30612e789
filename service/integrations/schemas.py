from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from service.integrations.models import OutboxMessage


class TicketActionOut(BaseModel):
    action: str
    outcome: str
    investigation_id: str | None = None
    message: str | None = None


class TicketWebhookResult(BaseModel):
    ticket: str | None
    results: list[TicketActionOut]


class SlackReply(BaseModel):
    """A Slack message: ``text`` plus optional Block Kit ``blocks``."""

    response_type: str = "ephemeral"
    text: str
    blocks: list[dict[str, Any]] | None = None
    replace_original: bool | None = None


class OutboxMessageOut(BaseModel):
    id: int
    stream: str
    channel: str
    investigation_id: str | None
    event: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, m: OutboxMessage) -> OutboxMessageOut:
        return cls(
            id=m.id,
            stream=m.stream,
            channel=m.channel,
            investigation_id=m.investigation_id,
            event=m.event,
            state=m.state,
            attempts=m.attempts,
            next_attempt_at=m.next_attempt_at,
            last_error=m.last_error,
            created_at=m.created_at,
            delivered_at=m.delivered_at,
        )
