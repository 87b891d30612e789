from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from service.audit.models import AuditEntry


class AuditEntryOut(BaseModel):
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

    @classmethod
    def of(cls, e: AuditEntry) -> AuditEntryOut:
        return cls(
            id=e.id,
            time=e.time,
            actor=e.actor,
            role=e.role,
            action=e.action,
            target=e.target,
            request_id=e.request_id,
            outcome=e.outcome,
            details=e.details or {},
            prev_hash=e.prev_hash,
            hash=e.hash,
        )


class VerificationOut(BaseModel):
    ok: bool
    checked: int
    first_bad_id: int | None
    reason: str | None
