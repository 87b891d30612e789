"""Initial schema: tokens, hash-chained audit log, investigations, operations and their events.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 08:05:39.388839
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db.base

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("principal", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", service.db.base.UtcDateTime(), nullable=False),
        sa.Column("expires_at", service.db.base.UtcDateTime(), nullable=True),
        sa.Column("revoked_at", service.db.base.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_principal"), ["principal"], unique=False)

    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("time", service.db.base.UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entries_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_target"), ["target"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_time"), ["time"], unique=False)

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    # The chain's head row exists from the start, so the first two appends cannot race to create it.
    op.bulk_insert(
        sa.table(
            "audit_head",
            sa.column("id", sa.Integer),
            sa.column("last_id", sa.Integer),
            sa.column("last_hash", sa.String),
        ),
        [{"id": 1, "last_id": 0, "last_hash": "0" * 64}],
    )
    op.create_table(
        "investigations",
        sa.Column("id", sa.String(length=41), nullable=False),
        sa.Column("ticket", sa.String(length=64), nullable=False),
        sa.Column("open_ticket", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=True),
        sa.Column("assume_role_arn", sa.String(length=2048), nullable=True),
        sa.Column("instance_type", sa.String(length=32), nullable=True),
        sa.Column("golden_ami", sa.JSON(), nullable=False),
        sa.Column("evidence_snapshot_ids", sa.JSON(), nullable=False),
        sa.Column("ttl_hours", sa.Integer(), nullable=False),
        sa.Column("expires_at", service.db.base.UtcDateTime(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("stack_name", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("attention_reason", sa.String(length=2000), nullable=True),
        sa.Column("frozen", sa.Boolean(), nullable=False),
        sa.Column("retain_evidence_bucket", sa.Boolean(), nullable=False),
        sa.Column("legal_hold", sa.Boolean(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("policy_results", sa.JSON(), nullable=False),
        sa.Column("drift", sa.JSON(), nullable=False),
        sa.Column("active_operation_id", sa.String(length=36), nullable=True),
        sa.Column("next_sequence", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", service.db.base.UtcDateTime(), nullable=False),
        sa.Column("updated_at", service.db.base.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_investigations")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_investigations_idempotency_key")),
        sa.UniqueConstraint("open_ticket", name=op.f("uq_investigations_open_ticket")),
        sa.UniqueConstraint("stack_name", name=op.f("uq_investigations_stack_name")),
    )
    with op.batch_alter_table("investigations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_investigations_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_investigations_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_investigations_ticket"), ["ticket"], unique=False)

    op.create_table(
        "operations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("investigation_id", sa.String(length=41), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("retry_of", sa.String(length=36), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("not_before", service.db.base.UtcDateTime(), nullable=True),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("runner_host", sa.String(length=255), nullable=True),
        sa.Column("runner_pid", sa.Integer(), nullable=True),
        sa.Column("heartbeat_at", service.db.base.UtcDateTime(), nullable=True),
        sa.Column("cancel_requested_at", service.db.base.UtcDateTime(), nullable=True),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_planned", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error", sa.String(length=8000), nullable=True),
        sa.Column("created_at", service.db.base.UtcDateTime(), nullable=False),
        sa.Column("started_at", service.db.base.UtcDateTime(), nullable=True),
        sa.Column("finished_at", service.db.base.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["investigation_id"],
            ["investigations.id"],
            name=op.f("fk_operations_investigation_id_investigations"),
        ),
        sa.ForeignKeyConstraint(
            ["retry_of"], ["operations.id"], name=op.f("fk_operations_retry_of_operations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operations")),
        sa.UniqueConstraint("investigation_id", "sequence", name="uq_operations_investigation_sequence"),
    )
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_operations_investigation_id"), ["investigation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_operations_state"), ["state"], unique=False)

    op.create_table(
        "operation_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("operation_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", service.db.base.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operation_id"], ["operations.id"], name=op.f("fk_operation_events_operation_id_operations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operation_events")),
    )
    with op.batch_alter_table("operation_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_operation_events_operation_id"), ["operation_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("operation_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operation_events_operation_id"))

    op.drop_table("operation_events")
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operations_state"))
        batch_op.drop_index(batch_op.f("ix_operations_investigation_id"))

    op.drop_table("operations")
    with op.batch_alter_table("investigations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_investigations_ticket"))
        batch_op.drop_index(batch_op.f("ix_investigations_status"))
        batch_op.drop_index(batch_op.f("ix_investigations_created_at"))

    op.drop_table("investigations")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entries_time"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_target"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_actor"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_action"))

    op.drop_table("audit_entries")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_principal"))

    op.drop_table("api_tokens")
