"""The migrations, run for real on fresh databases. Other tests start on a copy of a migrated template
(tests/support/databases.py); these prove what that template stands for: the migrations build the schema the
models declare on both databases, and the app's start-up migrates a fresh one."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from service.config import Settings
from service.db.migrate import alembic_config, upgrade
from service.db.session import make_engine
from service.main import create_app
from service.model_registry import Base
from service.orchestration.fake_engine import FakeExecutor
from tests.support.api import ADMIN
from tests.support.settings import make_settings
from tools.local_servers import PostgresServer, RedisServer


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


def test_migrations_create_the_schema_the_models_declare_on_postgresql(
    postgres_server: PostgresServer,
) -> None:
    engine = make_engine(Settings(database_url=postgres_server.database()))
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == []
        assert conn.execute(text("SELECT last_id, last_hash FROM audit_head")).one() == (0, "0" * 64)
    upgrade(engine)
    engine.dispose()


@pytest.mark.parametrize("store", ["sqlite", "postgresql+redis"])
def test_the_app_migrates_a_fresh_database_at_start_up(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if store == "sqlite":
        fresh = {"database_url": f"sqlite:///{tmp_path / 'fresh.db'}"}
    else:
        postgres: PostgresServer = request.getfixturevalue("postgres_server")
        redis: RedisServer = request.getfixturevalue("redis_server")
        fresh = {"database_url": postgres.database(), "jobs_url": redis.url()}
    settings = make_settings(tmp_path, **fresh)
    engine = make_engine(settings)
    assert "alembic_version" not in inspect(engine).get_table_names()
    head = ScriptDirectory.from_config(alembic_config(settings.sqlalchemy_url)).get_current_head()
    with TestClient(create_app(settings, executor=FakeExecutor())) as client:
        assert client.get("/v1/investigations", headers=ADMIN).status_code == 200
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
    engine.dispose()
