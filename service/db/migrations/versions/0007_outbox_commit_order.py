"""Outbox delivery in commit order: a per-stream position taken at commit, and the receiver's comment id.

Ids come from a sequence handed out at insert time, so on PostgreSQL two transactions can commit in the
opposite order of their ids; the position is taken under the stream's counter row lock, held until commit.
Existing messages keep their id order (position = id).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 20:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "integration_outbox_streams",
        sa.Column("stream", sa.String(length=128), nullable=False),
        sa.Column("last_position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("stream", name=op.f("pk_integration_outbox_streams")),
    )
    with op.batch_alter_table("integration_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("position", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("external_id", sa.String(length=200), nullable=True))
    op.execute("UPDATE integration_outbox SET position = id")
    op.execute(
        "INSERT INTO integration_outbox_streams (stream, last_position) "
        "SELECT stream, MAX(id) FROM integration_outbox GROUP BY stream"
    )
    with op.batch_alter_table("integration_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_integration_outbox_stream_position", ["stream", "position"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("integration_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_integration_outbox_stream_position")
        batch_op.drop_column("external_id")
        batch_op.drop_column("position")
    op.drop_table("integration_outbox_streams")
