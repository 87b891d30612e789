"""Persistence: declarative base and types (``base``), engine/session factory (``session``), Alembic
migrations applied at start-up (``migrate``). Models live in their domain packages; ``models`` imports them
all so the metadata is complete."""
