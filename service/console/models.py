"""Console sessions, kept server-side so signing out (or an administrator) ends them for good."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, UtcDateTime


class ConsoleSession(Base):
    __tablename__ = "console_sessions"

    # sha256 hex of the random session id the cookie carries: the table alone does not sign anyone in.
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The API token the session was opened with, by its sha256 (checked again on every request).
    token_digest: Mapped[str] = mapped_column(String(64), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    principal: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
