from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, EnumText, UtcDateTime


class ApprovalStatus(StrEnum):
    PENDING = "pending_approval"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    # Acted on at once by one person, on their own say-so (alerted loudly, listed in the custody report).
    BREAK_GLASS = "break_glass"


class ApprovalRequest(Base):
    """A request the two-person rule holds back (or a break-glass use, which is never held back): what was
    asked, exactly as it was asked, by whom, and who decided."""

    __tablename__ = "approval_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    investigation_id: Mapped[str] = mapped_column(ForeignKey("investigations.id"), index=True)
    # An action in the action table, or "cancel" (params name the operation).
    action: Mapped[str] = mapped_column(String(32))
    # The validated params: queued unchanged once approved.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Why a second person must agree (from the action table).
    rule: Mapped[str] = mapped_column(String(500))
    # The requester's own words (the action's reason, or the break-glass justification).
    reason: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    requester_role: Mapped[str] = mapped_column(String(32))
    requester_person: Mapped[str] = mapped_column(String(200), index=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[ApprovalStatus] = mapped_column(EnumText(ApprovalStatus, 32), index=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_by_person: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    # The operation the approved request queued (for a cancel: the operation it cancelled).
    operation_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
