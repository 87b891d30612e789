from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, EnumText, UtcDateTime
from service.investigation_states import Status


class Investigation(Base):
    __tablename__ = "investigations"

    id: Mapped[str] = mapped_column(String(41), primary_key=True)
    ticket: Mapped[str] = mapped_column(String(64), index=True)
    # Equals ``ticket`` while the investigation is open, NULL once destroyed: the unique constraint makes
    # "one open investigation per ticket" hold even for concurrent requests.
    open_ticket: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[str | None] = mapped_column(String(12), nullable=True)
    assume_role_arn: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    instance_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    golden_ami: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    evidence_snapshot_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # Declared evidence (the program's ``evidence`` config): [{id, snapshotId, attach}] for every acquired
    # artifact; each is copied into the clean room and attached once its copy's hash is verified.
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # Declared just-in-time access grants (the program's ``grants`` plus the access request each came from):
    # [{requestId, role, principalArn, person, expiresAt}]; the scheduler drops them once expired.
    grants: Mapped[list[Any]] = mapped_column(JSON, default=list)
    ttl_hours: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    tags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    stack_name: Mapped[str] = mapped_column(String(64), unique=True)

    status: Mapped[Status] = mapped_column(EnumText(Status), index=True)
    attention_reason: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    # Declared program state, applied by the next `up`.
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)
    retain_evidence_bucket: Mapped[bool] = mapped_column(Boolean, default=True)
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)

    outputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    policy_results: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    drift: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    # The per-investigation lock: the operation currently running, claimed with a conditional UPDATE.
    active_operation_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    next_sequence: Mapped[int] = mapped_column(Integer, default=1)

    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
