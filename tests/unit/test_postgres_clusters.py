"""The cached PostgreSQL cluster (tests/support/postgres_clusters.py): keyed on what it is made of, made on a
machine that has none, and a server started on a copy whose template is at head."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from service.db.migrate import alembic_config
from tests.support import postgres_clusters
from tests.support.databases import migrated_postgres
from tools.system_packages import locate


def test_the_key_follows_the_migrations_and_ignores_bytecode(tmp_path: Path) -> None:
    sources = tmp_path / "db"
    shutil.copytree(
        postgres_clusters.MIGRATION_SOURCES, sources, ignore=shutil.ignore_patterns("__pycache__")
    )
    key = postgres_clusters.cache_key(sources)
    assert postgres_clusters.cache_key(sources) == key

    (sources / "migrations" / "__pycache__").mkdir(exist_ok=True)
    (sources / "migrations" / "__pycache__" / "env.cpython-311.pyc").write_bytes(b"compiled")
    assert postgres_clusters.cache_key(sources) == key

    (sources / "migrations" / "versions" / "9999_next.py").write_text("revision = '9999'\n")
    changed = postgres_clusters.cache_key(sources)
    assert changed != key

    (sources / "base.py").write_text((sources / "base.py").read_text() + "\n# a changed column type\n")
    assert postgres_clusters.cache_key(sources) not in (key, changed)


def test_a_fresh_cache_is_made_then_the_server_starts_on_a_copy_at_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if locate("initdb") is None:
        pytest.skip("PostgreSQL is not installed")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    entry = postgres_clusters.cache_root() / postgres_clusters.cache_key()
    assert not entry.exists()
    head = ScriptDirectory.from_config(alembic_config("postgresql://")).get_current_head()

    server = postgres_clusters.migrated_postgres_server()
    try:
        assert entry.is_dir() and server.data.is_relative_to(server.folder)
        engine = create_engine(migrated_postgres(server))
        try:
            with engine.connect() as connection:
                assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
        finally:
            engine.dispose()
    finally:
        server.stop()
    # Kept stopped with a checkpoint: a copy starts without recovery.
    assert not (entry / "data" / "postmaster.pid").exists()
