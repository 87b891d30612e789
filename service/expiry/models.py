from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, UtcDateTime


class TtlWarning(Base):
    """The expiry an investigation was last warned about: one warning per expiry (extending re-arms it)."""

    __tablename__ = "teardown_ttl_warnings"

    investigation_id: Mapped[str] = mapped_column(String(41), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    warned_at: Mapped[datetime] = mapped_column(UtcDateTime())
