from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, EnumText, UtcDateTime
from service.operations.states import OperationState


class Operation(Base):
    __tablename__ = "operations"
    __table_args__ = (
        UniqueConstraint("investigation_id", "sequence", name="uq_operations_investigation_sequence"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    investigation_id: Mapped[str] = mapped_column(ForeignKey("investigations.id"), index=True)
    # Per-investigation order: operations of one investigation run one at a time, lowest sequence first.
    sequence: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))  # a name in the action table (investigations/actions.py)
    kind: Mapped[str] = mapped_column(String(16))  # the main engine operation (OperationKind)
    state: Mapped[OperationState] = mapped_column(EnumText(OperationState, 16), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    retry_of: Mapped[str | None] = mapped_column(ForeignKey("operations.id"), nullable=True)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    not_before: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    requested_by: Mapped[str] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)

    # Where it runs: the engine child's pid (its own process group) and the worker that waits for it.
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    runner_host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    runner_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_planned: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str | None] = mapped_column(String(8000), nullable=True)

    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class OperationEvent(Base):
    """Engine events as they arrive; the SSE endpoint tails this table (works across processes)."""

    __tablename__ = "operation_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    operation_id: Mapped[str] = mapped_column(ForeignKey("operations.id"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
