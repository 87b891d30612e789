"""Throwaway PostgreSQL and Redis servers on free 127.0.0.1 ports, for the tests and the benchmark.

Both come from the distribution's packages (``tools/system_packages.py`` installs them on ``make setup``),
run in a temporary folder, and are stopped and deleted on exit. They are tuned for speed, not durability
(no fsync, no Redis persistence): nothing in them outlives the run.

PostgreSQL refuses to run as root (``initdb``: "cannot be run as root"). As root the cluster is owned by
and run as the unprivileged ``postgres`` account the Debian package creates (``runuser -u postgres``), in a
folder under the system temp folder it can reach; as any other user it runs as that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Self

from tools.system_packages import install_hint, locate

# The unprivileged account PostgreSQL runs as when we are root (created by Debian's postgresql-common).
POSTGRES_ACCOUNT = "postgres"
_START_TIMEOUT = 60.0
# How ``initdb`` makes a cluster: a kept copy of one (tests/support/postgres_clusters.py) is keyed on these.
INITDB_OPTIONS = ("--auth=trust", "-E", "UTF8", "--no-sync")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _require(name: str) -> str:
    path = locate(name)
    if path is None:
        raise RuntimeError(f"{name} is needed: {install_hint([name])}")
    return path


def _wait_for_port(port: int, process: subprocess.Popen[bytes] | None, what: str) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before listening on {port}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {_START_TIMEOUT}s")


class PostgresServer:
    """``initdb`` + ``pg_ctl start`` in a temporary folder; ``database()`` hands out fresh databases. Given a
    ``cluster`` (the data folder of a cluster ``save_cluster`` kept), it starts on a copy of that instead of a
    new one."""

    user = "forensics"

    def __init__(self, cluster: Path | None = None) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="forensics-pg-"))
        self.data = self.folder / "data"
        self.cluster = cluster
        self._as: list[str] = []

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([*self._as, *args], capture_output=True, text=True, check=False, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {result.stdout[-2000:]}{result.stderr[-2000:]}")
        return result

    def start(self) -> PostgresServer:
        initdb, pg_ctl = _require("initdb"), _require("pg_ctl")
        owner: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            owner = pwd.getpwnam(POSTGRES_ACCOUNT)
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", POSTGRES_ACCOUNT, "--"]
        if self.cluster is None:
            self._run(initdb, "-D", str(self.data), "-U", self.user, *INITDB_OPTIONS)
        else:
            shutil.copytree(self.cluster, self.data, symlinks=True)
            if owner is not None:
                _chown_tree(self.data, owner)
            self.data.chmod(0o700)  # the server refuses a data folder others can read
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories='' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        log = self.folder / "server.log"
        self._run(pg_ctl, "-D", str(self.data), "-l", str(log), "-o", options, "-w", "-t", "60", "start")
        _wait_for_port(self.port, None, "postgres")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def database(self, template: str | None = None) -> str:
        """A new database, empty or a copy of the database named ``template`` (which nobody may be
        connected to); returns its SQLAlchemy URL."""
        import psycopg
        from psycopg import sql

        name = f"t_{uuid.uuid4().hex[:16]}"
        create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            create = sql.SQL("{} TEMPLATE {}").format(create, sql.Identifier(template))
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={self.user} dbname=postgres") as conn:
            conn.autocommit = True
            conn.execute(create)
        return self.url(name)

    def save_cluster(self, target: Path) -> None:
        """Stops the server with a checkpoint (a copy then starts without recovery) and moves its data folder
        to ``target``, for servers started with ``cluster=target``."""
        self._run(_require("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.move(self.data, target)

    def stop(self) -> None:
        pg_ctl = locate("pg_ctl")
        if pg_ctl is not None and self.data.exists():
            subprocess.run(
                [*self._as, pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                check=False,
                timeout=60,
            )
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _chown_tree(root: Path, owner: pwd.struct_passwd) -> None:
    os.chown(root, owner.pw_uid, owner.pw_gid)
    for folder, folders, files in os.walk(root):
        for name in (*folders, *files):
            os.chown(os.path.join(folder, name), owner.pw_uid, owner.pw_gid, follow_symlinks=False)


class RedisServer:
    """``redis-server`` on a free port, nothing saved to disk."""

    def __init__(self) -> None:
        self.port = free_port()
        # Made by ``start``, so that a server made only to be passed along unstarted leaves no folder (the
        # suite's ``redis_server`` fixture makes one as its fallback when an early one is running).
        self.folder: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._databases = 0

    def start(self) -> RedisServer:
        self.folder = folder = Path(tempfile.mkdtemp(prefix="forensics-redis-"))
        self._process = subprocess.Popen(
            [
                _require("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(folder),
                "--databases",
                "1000",
            ],
            stdout=(folder / "server.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        _wait_for_port(self.port, self._process, "redis-server")
        return self

    def url(self) -> str:
        """A URL on a database number of its own, emptied (so each user starts on an empty queue)."""
        import redis

        self._databases += 1
        url = f"redis://127.0.0.1:{self.port}/{self._databases % 1000}"
        with redis.Redis.from_url(url) as client:
            client.flushdb()
        return url

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
