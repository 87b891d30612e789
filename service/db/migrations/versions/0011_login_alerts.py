"""Log-in alerts taken from the forensic accounts' alert queues, one row per event (alerted once).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 00:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_alerts",
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("event_name", sa.String(length=64), nullable=False),
        sa.Column("investigation_id", sa.String(length=41), nullable=True),
        sa.Column("received_at", service.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_login_alerts")),
    )
    with op.batch_alter_table("login_alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_alerts_investigation_id"), ["investigation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("login_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_alerts_investigation_id"))
    op.drop_table("login_alerts")
