"""Where a test's service keeps its data and its job queue, as Settings overrides: nothing for the embedded
default (SQLite files in the data folder, SqliteHuey), or a fresh PostgreSQL database already at head
(tests/support/databases.py) and a Redis database, both on the session's servers."""

from __future__ import annotations

import pytest

from tests.support.databases import migrated_postgres
from tools.local_servers import PostgresServer, RedisServer


def store_overrides(request: pytest.FixtureRequest) -> dict[str, str | None]:
    """The overrides for the store ``request.param`` names ("sqlite" or "postgresql+redis")."""
    if request.param == "sqlite":
        return {}
    postgres: PostgresServer = request.getfixturevalue("postgres_server")
    redis: RedisServer = request.getfixturevalue("redis_server")
    return {"database_url": migrated_postgres(postgres), "jobs_url": redis.url()}
