from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class TicketActionOut(BaseModel):
    action: str
    outcome: str
    investigation_id: str | None = None
    message: str | None = None


class TicketWebhookResult(BaseModel):
    ticket: str | None
    results: list[TicketActionOut]


class SlackActionReply(BaseModel):
    """The answer to a button press (Slack ignores it; the presser is told through the response_url)."""

    ok: bool
    response_type: str = "ephemeral"
    text: str


class SlackReply(BaseModel):
    """A Slack message: ``text`` plus optional Block Kit ``blocks``."""

    response_type: str = "ephemeral"
    text: str
    blocks: list[dict[str, Any]] | None = None
    replace_original: bool | None = None


class OutboxMessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

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
