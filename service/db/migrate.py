"""Applies the Alembic migrations programmatically (at start-up and in tests).

With several nodes on one PostgreSQL database every node may start at once: the first to take the
migration lock (a transaction-scoped advisory lock) upgrades, the others wait for it and find the schema at
head. SQLite is one node's file; its write lock serializes the same way.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from service.config import get_settings
from service.db.session import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The advisory lock key every node's upgrade takes (any constant bigint; "forensic" in ASCII).
MIGRATION_LOCK_KEY = 0x666F72656E736963


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        # env.py uses this connection instead of opening its own (same engine, same pragmas).
        config.attributes["connection"] = connection
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        command.upgrade(config, revision)


def main() -> None:
    """``python -m service.db.migrate``: upgrade the configured database (FORENSICS_DATABASE_URL) to head,
    for deployments that migrate once before rolling the nodes (``run_migrations_on_startup=false``)."""
    engine = make_engine(get_settings())
    try:
        upgrade(engine)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
