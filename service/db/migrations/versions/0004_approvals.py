"""Approvals: requests held by the two-person rule, and break-glass uses.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 09:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "approval_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("investigation_id", sa.String(length=41), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("rule", sa.String(length=500), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requester_role", sa.String(length=32), nullable=False),
        sa.Column("requester_person", sa.String(length=200), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("expires_at", service.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_by_person", sa.String(length=200), nullable=True),
        sa.Column("decided_at", service.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.String(length=2000), nullable=True),
        sa.Column("operation_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", service.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["investigation_id"],
            ["investigations.id"],
            name=op.f("fk_approval_requests_investigation_id_investigations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_requests")),
    )
    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_approval_requests_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_approval_requests_investigation_id"), ["investigation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_approval_requests_requester_person"), ["requester_person"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_approval_requests_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approval_requests_status"))
        batch_op.drop_index(batch_op.f("ix_approval_requests_requester_person"))
        batch_op.drop_index(batch_op.f("ix_approval_requests_investigation_id"))
        batch_op.drop_index(batch_op.f("ix_approval_requests_expires_at"))

    op.drop_table("approval_requests")
