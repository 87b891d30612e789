"""The test processes' PostgreSQL cluster with the migrated template, made once per user, kept between runs.

Each test process that uses PostgreSQL needs a cluster (``initdb``: seconds of waiting, its own and its
bootstrap backends' CPU) holding a database at the head migration (``tests/support/databases.py``: every
migration run once more). Both give the same result until the migrations or the server change, so the first
process makes the cluster, stops it with a checkpoint and keeps its data folder in the user's cache (beside
the Makefile's mypy cache); every process then starts its own server on a copy. The entry is keyed on what
the cluster is made of: ``initdb``'s version and options, the server's user, and every file of
``service/db`` (the migrations and the column types they use). Another key makes another entry; an entry is
moved into place whole, so a process that finds one finds it complete. On a fresh machine the first process
makes it, as before. That migrations run right on a fresh database of each kind is proven in
tests/db/test_migrations.py, on a database that does not come from this cache.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from service.config import PROJECT_ROOT
from tests.support.databases import adopt_postgres_template, postgres_template
from tools.local_servers import INITDB_OPTIONS, PostgresServer
from tools.system_packages import locate
from tools.user_cache import kept_entry, user_cache

# What the migrated template is made from: the migrations and the column types they import.
MIGRATION_SOURCES = PROJECT_ROOT / "service" / "db"
TEMPLATE_NAME_FILE = "template"


def cache_root() -> Path:
    return user_cache("postgres-template")


def cache_key(sources: Path = MIGRATION_SOURCES) -> str:
    """The digest of everything the cached cluster depends on."""
    digest = hashlib.sha256()
    initdb = locate("initdb")
    version = (
        subprocess.run([initdb, "--version"], capture_output=True, text=True, check=True).stdout
        if initdb
        else ""
    )
    for part in (version, repr(INITDB_OPTIONS), PostgresServer.user):
        digest.update(part.encode() + b"\0")
    for path in sorted(sources.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(sources)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def migrated_postgres_server() -> PostgresServer:
    """A started server on a copy of the cached cluster (made first if there is none), whose migrated
    template ``tests.support.databases.migrated_postgres`` copies."""
    entry = cache_root() / cache_key()
    kept_entry(entry, TEMPLATE_NAME_FILE, _make)
    server = PostgresServer(cluster=entry / "data").start()
    adopt_postgres_template(server, (entry / TEMPLATE_NAME_FILE).read_text())
    return server


def _make(staging: Path) -> None:
    server = PostgresServer().start()
    try:
        template = postgres_template(server)
        server.save_cluster(staging / "data")
    finally:
        server.stop()
    (staging / TEMPLATE_NAME_FILE).write_text(template)
