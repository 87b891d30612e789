"""Custody: evidence artifacts, their hash-chained custody events, signed statements; the declared evidence of
an investigation.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 16:40:48.077753
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signed_statements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("investigation_id", sa.String(length=41), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("location", sa.String(length=1024), nullable=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", service.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signed_statements")),
    )
    with op.batch_alter_table("signed_statements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signed_statements_investigation_id"), ["investigation_id"], unique=False
        )

    op.create_table(
        "custody_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("investigation_id", sa.String(length=41), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("artifact_id", sa.String(length=40), nullable=True),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("time", service.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("location", sa.JSON(), nullable=False),
        sa.Column("hashes", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("operation_id", sa.String(length=36), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("mirrored_key", sa.String(length=512), nullable=True),
        sa.ForeignKeyConstraint(
            ["investigation_id"],
            ["investigations.id"],
            name=op.f("fk_custody_events_investigation_id_investigations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_events")),
        sa.UniqueConstraint("investigation_id", "seq", name="uq_custody_events_investigation_seq"),
    )
    with op.batch_alter_table("custody_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custody_events_artifact_id"), ["artifact_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_custody_events_investigation_id"), ["investigation_id"], unique=False
        )

    op.create_table(
        "evidence_artifacts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("investigation_id", sa.String(length=41), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("copy_snapshot_id", sa.String(length=64), nullable=True),
        sa.Column("volume_id", sa.String(length=64), nullable=True),
        sa.Column("device", sa.String(length=32), nullable=True),
        sa.Column("sha256_source", sa.String(length=64), nullable=True),
        sa.Column("sha256_copy", sa.String(length=64), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("flag_reason", sa.String(length=2000), nullable=True),
        sa.Column("operation_id", sa.String(length=36), nullable=True),
        sa.Column("acquired_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", service.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["investigation_id"],
            ["investigations.id"],
            name=op.f("fk_evidence_artifacts_investigation_id_investigations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_artifacts")),
    )
    with op.batch_alter_table("evidence_artifacts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evidence_artifacts_investigation_id"), ["investigation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_evidence_artifacts_status"), ["status"], unique=False)

    with op.batch_alter_table("investigations", schema=None) as batch_op:
        # Existing investigations have declared no evidence.
        batch_op.add_column(sa.Column("evidence", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("investigations", schema=None) as batch_op:
        batch_op.drop_column("evidence")

    with op.batch_alter_table("evidence_artifacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_artifacts_status"))
        batch_op.drop_index(batch_op.f("ix_evidence_artifacts_investigation_id"))

    op.drop_table("evidence_artifacts")
    with op.batch_alter_table("custody_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custody_events_investigation_id"))
        batch_op.drop_index(batch_op.f("ix_custody_events_artifact_id"))

    op.drop_table("custody_events")
    with op.batch_alter_table("signed_statements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signed_statements_investigation_id"))

    op.drop_table("signed_statements")
