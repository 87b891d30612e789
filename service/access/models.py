"""Access requests: who asked for which role of which clean room, for how long, why, and who decided."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from programs.forensic_env.trust import FROZEN_KEEPS_GRANTS_OF
from service.db.base import Base, EnumText, UtcDateTime

if TYPE_CHECKING:
    from service.investigations.models import Investigation


class AccessStatus(StrEnum):
    REQUESTED = "requested"
    DENIED = "denied"
    # Declared in the investigation's grants; the `up` that puts it in the trust policy is queued.
    APPROVED = "approved"
    # The trust policy holds it (an `up` with it succeeded).
    ACTIVE = "active"
    # Past its expiry (AWS refused it from then on); dropped from the declared grants.
    EXPIRED = "expired"
    # Taken back before its expiry.
    REVOKED = "revoked"
    # Nobody decided within FORENSICS_APPROVAL_TTL_HOURS; nothing was granted.
    LAPSED = "lapsed"


# The grant is declared (and, once applied, in the trust policy) in these.
DECLARED = (AccessStatus.APPROVED, AccessStatus.ACTIVE)


class AccessRequest(Base):
    __tablename__ = "access_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    investigation_id: Mapped[str] = mapped_column(ForeignKey("investigations.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    # The person's AWS principal (settings), as it was when they asked.
    principal_arn: Mapped[str] = mapped_column(String(2048))
    # For a role several people use (an SSO permission set): the person's own role session name, which the
    # grant requires of the caller (aws:userid); None for a principal that is the person's alone.
    session_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The person: the source identity their sessions must carry.
    person: Mapped[str] = mapped_column(String(64))
    hours: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(2000))
    status: Mapped[AccessStatus] = mapped_column(EnumText(AccessStatus, 16), index=True)
    # Set at approval: the decision's time plus ``hours``.
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    # The last operation queued to bring the trust policy in line with this grant.
    operation_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


def suspended_by_freeze(inv: Investigation, row: AccessRequest) -> bool:
    """A declared grant the program leaves out of the trust policies while the clean room is frozen."""
    return inv.frozen and row.status in DECLARED and row.role not in FROZEN_KEEPS_GRANTS_OF


class RoleUseAlert(Base):
    """A CloudTrail AssumeRole event on a clean-room role that no live grant covered (service/access/
    cloudtrail.py): kept once per event, so each is alerted once however often the trail is read again."""

    __tablename__ = "role_use_alerts"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    investigation_id: Mapped[str] = mapped_column(ForeignKey("investigations.id"), index=True)
    role_arn: Mapped[str] = mapped_column(String(2048))
    caller: Mapped[str] = mapped_column(String(2048))
    source_identity: Mapped[str | None] = mapped_column(String(64), nullable=True)
    event_time: Mapped[datetime] = mapped_column(UtcDateTime())
    # refused (STS said no), no_grant (nobody granted it), or standing (a principal from settings).
    finding: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(2000))
    found_at: Mapped[datetime] = mapped_column(UtcDateTime())
