"""Integrations: notification outbox, ticket-action idempotency, chat subscriptions, webhook nonces, TTL
warnings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 10:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "integration_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("stream", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("destination", sa.String(length=2048), nullable=False),
        sa.Column("investigation_id", sa.String(length=41), nullable=True),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", service.db.base.UtcDateTime(), nullable=False),
        sa.Column("locked_until", service.db.base.UtcDateTime(), nullable=True),
        sa.Column("expires_at", service.db.base.UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.Column("created_at", service.db.base.UtcDateTime(), nullable=False),
        sa.Column("delivered_at", service.db.base.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_outbox")),
    )
    with op.batch_alter_table("integration_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_integration_outbox_investigation_id"), ["investigation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_integration_outbox_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_integration_outbox_stream"), ["stream"], unique=False)

    op.create_table(
        "integration_ticket_actions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=41), nullable=False),
        sa.Column("investigation_id", sa.String(length=41), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("created_at", service.db.base.UtcDateTime(), nullable=False),
        sa.Column("updated_at", service.db.base.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_ticket_actions")),
        sa.UniqueConstraint("ticket", "action", "scope", name="uq_integration_ticket_actions_ticket_action"),
    )
    with op.batch_alter_table("integration_ticket_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_integration_ticket_actions_ticket"), ["ticket"], unique=False)

    op.create_table(
        "integration_chat_subscriptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("user", sa.String(length=200), nullable=False),
        sa.Column("created_at", service.db.base.UtcDateTime(), nullable=False),
        sa.Column("expires_at", service.db.base.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_chat_subscriptions")),
    )
    with op.batch_alter_table("integration_chat_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_integration_chat_subscriptions_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_integration_chat_subscriptions_ticket"), ["ticket"], unique=False
        )

    op.create_table(
        "integration_webhook_nonces",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("seen_at", service.db.base.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_integration_webhook_nonces")),
    )
    with op.batch_alter_table("integration_webhook_nonces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_integration_webhook_nonces_seen_at"), ["seen_at"], unique=False)

    op.create_table(
        "teardown_ttl_warnings",
        sa.Column("investigation_id", sa.String(length=41), nullable=False),
        sa.Column("expires_at", service.db.base.UtcDateTime(), nullable=False),
        sa.Column("warned_at", service.db.base.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("investigation_id", name=op.f("pk_teardown_ttl_warnings")),
    )


def downgrade() -> None:
    op.drop_table("teardown_ttl_warnings")
    with op.batch_alter_table("integration_webhook_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integration_webhook_nonces_seen_at"))
    op.drop_table("integration_webhook_nonces")
    with op.batch_alter_table("integration_chat_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integration_chat_subscriptions_ticket"))
        batch_op.drop_index(batch_op.f("ix_integration_chat_subscriptions_expires_at"))
    op.drop_table("integration_chat_subscriptions")
    with op.batch_alter_table("integration_ticket_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integration_ticket_actions_ticket"))
    op.drop_table("integration_ticket_actions")
    with op.batch_alter_table("integration_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integration_outbox_stream"))
        batch_op.drop_index(batch_op.f("ix_integration_outbox_state"))
        batch_op.drop_index(batch_op.f("ix_integration_outbox_investigation_id"))
    op.drop_table("integration_outbox")
