from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from service.config import Settings
from service.db.migrate import upgrade
from service.db.session import make_engine
from service.model_registry import Base


def test_migrations_create_the_schema_the_models_declare(tmp_path: Path) -> None:
    engine = make_engine(Settings(data_dir=tmp_path))
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == []
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("SELECT last_id, last_hash FROM audit_head")).one() == (0, "0" * 64)
    assert set(inspect(engine).get_table_names()) >= {
        "api_tokens",
        "audit_entries",
        "audit_head",
        "investigations",
        "operations",
        "operation_events",
        "alembic_version",
    }
    upgrade(engine)  # idempotent at every start-up
    engine.dispose()
