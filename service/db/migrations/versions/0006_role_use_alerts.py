"""CloudTrail findings: clean-room roles assumed (or tried) without a live grant, one row per event.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 20:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "role_use_alerts",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("investigation_id", sa.String(length=41), nullable=False),
        sa.Column("role_arn", sa.String(length=2048), nullable=False),
        sa.Column("caller", sa.String(length=2048), nullable=False),
        sa.Column("source_identity", sa.String(length=64), nullable=True),
        sa.Column("event_time", service.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finding", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=2000), nullable=False),
        sa.Column("found_at", service.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["investigation_id"],
            ["investigations.id"],
            name=op.f("fk_role_use_alerts_investigation_id_investigations"),
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_role_use_alerts")),
    )
    with op.batch_alter_table("role_use_alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_role_use_alerts_investigation_id"), ["investigation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("role_use_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_role_use_alerts_investigation_id"))
    op.drop_table("role_use_alerts")
