from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    time: datetime
    actor: str
    role: str
    action: str
    target: str
    request_id: str | None
    outcome: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class VerificationOut(BaseModel):
    ok: bool
    checked: int
    first_bad_id: int | None
    reason: str | None
    # Present only when signed audit anchors were checked (an anchor bucket is configured).
    anchors_checked: int | None = Field(
        default=None, description="valid signed anchors checked against the chain"
    )
    anchored_through: int | None = Field(default=None, description="the highest entry id an anchor signs")
    anchor_problems: list[str] | None = Field(
        default=None, description="what the anchors contradict: a rewritten chain, removed entries"
    )
