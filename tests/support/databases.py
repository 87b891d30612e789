"""Databases already at the head migration, for tests that start the service.

Running every migration for each test's fresh database was the largest part of starting a test's app. Each
test process migrates one template per kind of database, with the service's own ``upgrade``, and each test
gets a copy: SQLite's file copied, PostgreSQL's ``CREATE DATABASE ... TEMPLATE``. The service still runs
``upgrade`` at start-up and finds the copy at head, as a restarted node does. The migrations themselves, on a
fresh database of each kind and through the app's start-up, are proven in tests/db/test_migrations.py.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import text

from service.config import SQLITE_FILE, Settings
from service.db.migrate import upgrade
from service.db.session import make_engine
from tools.local_servers import PostgresServer

_sqlite_template: Path | None = None
_postgres_templates: dict[int, str] = {}


def _migrated_sqlite_template() -> Path:
    global _sqlite_template
    if _sqlite_template is None:
        folder = Path(tempfile.mkdtemp(prefix="forensics-sqlite-template-"))
        atexit.register(shutil.rmtree, folder, True)
        engine = make_engine(Settings(data_dir=folder))
        try:
            upgrade(engine)
            with engine.connect() as connection:
                # Everything into the main file: a copy of that file alone is the whole database.
                connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        finally:
            engine.dispose()
        _sqlite_template = folder / SQLITE_FILE
    return _sqlite_template


def migrated_sqlite(path: Path) -> str:
    """A SQLite database at head at ``path``, unless the test already has one there (settings built again
    for a node it restarts keep that node's data); returns its SQLAlchemy URL."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_migrated_sqlite_template(), path)
    return f"sqlite:///{path}"


def migrated_postgres(server: PostgresServer) -> str:
    """A new PostgreSQL database at head on ``server``; returns its SQLAlchemy URL."""
    return server.database(template=postgres_template(server))


def adopt_postgres_template(server: PostgresServer, name: str) -> None:
    """Records that the database ``name`` on ``server`` is already at head (its cluster was copied with it:
    tests/support/postgres_clusters.py), for ``migrated_postgres`` to copy."""
    _postgres_templates[server.port] = name


def postgres_template(server: PostgresServer) -> str:
    """The name of the database at head on ``server`` that ``migrated_postgres`` copies, made at first."""
    template = _postgres_templates.get(server.port)
    if template is None:
        url = server.database()
        engine = make_engine(Settings(database_url=url))
        try:
            upgrade(engine)
        finally:
            # A template must have no connections while it is copied.
            engine.dispose()
        template = _postgres_templates[server.port] = url.rsplit("/", 1)[1]
    return template
