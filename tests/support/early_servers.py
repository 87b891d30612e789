"""The test process's session servers (its local AWS, PostgreSQL, Redis), started in the background once the
tests are collected, while the first tests run.

Each takes seconds of waiting to start (a process's imports, ``initdb``, the local AWS's administrator): a
session fixture that starts it when a test first asks for it makes the test process wait that long, once per
server. Started on threads as soon as the collected tests show that one of them needs the server, they come
up while tests that need none run, and the fixture takes the running server (or waits for the rest of its
start). A server no test of the process took is stopped at the session's end; one that failed to start fails
the first test that asks for it, with the error it raised. Under pytest-xdist each worker starts its own, as
the fixtures did: a worker cannot know which tests it will be handed, so it starts those some collected test
needs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

import pytest

from service.config import LOCAL_SOURCE_ACCOUNT
from tests.support.postgres_clusters import migrated_postgres_server
from tests.support.targets import TARGET
from tools.local_aws.aws import LocalAws
from tools.local_servers import RedisServer


class Server(Protocol):
    def stop(self) -> None: ...


S = TypeVar("S", bound=Server)


class EarlyServers:
    """The servers started ahead of the fixtures that hand them out, by name."""

    def __init__(self) -> None:
        self._starts: dict[str, Future[Any]] = {}

    def begin(self, name: str, start: Callable[[], Server]) -> None:
        """Starts a server on a thread of its own; ``serve`` with the same name takes it."""
        if name in self._starts:
            return
        future: Future[Any] = Future()

        def run() -> None:
            try:
                future.set_result(start())
            except BaseException as exc:  # handed to the test that asks for the server
                future.set_exception(exc)

        self._starts[name] = future
        threading.Thread(target=run, name=f"start {name}", daemon=True).start()

    @contextmanager
    def serve(self, name: str, start: Callable[[], S]) -> Iterator[S]:
        """The server started early under ``name`` (waiting for its start to end), or one started now;
        stopped when the context ends."""
        future = self._starts.pop(name, None)
        server: S = start() if future is None else future.result()
        try:
            yield server
        finally:
            server.stop()

    def stop_untaken(self) -> None:
        """Stops the servers started early that no fixture took."""
        for future in self._starts.values():
            try:
                server = future.result()
            except BaseException:
                continue
            server.stop()
        self._starts.clear()


# The process's servers: the session fixtures of tests/conftest.py take them from here.
SERVERS = EarlyServers()


def start_needed(items: list[pytest.Item], postgres_stores: object) -> None:
    """Starts, in the background, each session server some collected test uses: the shared local AWS
    (``enforcing_local_aws``; against the local AWS only), PostgreSQL (on a copy of the user's cached cluster,
    with the migrated template the ``stores`` tests copy: tests/support/postgres_clusters.py) and Redis (their
    fixtures, or ``stores`` or ``module_stores`` set to ``postgres_stores``)."""
    if TARGET == "local" and needed(items, "enforcing_local_aws"):
        SERVERS.begin("local-aws", suite_local_aws)
    on_postgres = any(needs_param(items, name, postgres_stores) for name in ("stores", "module_stores"))
    if on_postgres or needed(items, "postgres_server"):
        SERVERS.begin("postgres", migrated_postgres_server)
    if on_postgres or needed(items, "redis_server"):
        SERVERS.begin("redis", RedisServer().start)


def suite_local_aws() -> LocalAws:
    """The worker's shared local AWS (``enforcing_local_aws``), started."""
    return LocalAws(enforce_iam=True, member_accounts=(LOCAL_SOURCE_ACCOUNT,)).start()


def needed(items: list[pytest.Item], fixture: str) -> bool:
    """Whether a collected test uses ``fixture``, itself or through the fixtures it asks for."""
    return any(fixture in getattr(item, "fixturenames", ()) for item in items)


def needs_param(items: list[pytest.Item], fixture: str, value: object) -> bool:
    """Whether a collected test runs with the parametrised ``fixture`` set to ``value``."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get(fixture) == value:
            return True
    return False
