"""Fixtures for service tests: an app on a temp data folder with the embedded consumer, and a fake executor.

The fake stands in for the engine only in API-level tests; anything that claims to deploy uses the real one
(``create_app(settings)`` with ``engine_settings`` from tests/conftest.py and no executor argument).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from service.orchestration.fake_engine import FakeExecutor
from tests.support.settings import make_settings


@pytest.fixture
def settings(tmp_path: Path, stores: dict[str, str | None]) -> Settings:
    """Parametrised by ``stores`` (tests/conftest.py): every API test runs on SQLite and on PostgreSQL with
    Huey on Redis."""
    return make_settings(tmp_path, **stores, concurrent_update_retry_seconds=0.2, max_body_bytes=64 * 1024)


@pytest.fixture
def fake() -> FakeExecutor:
    return FakeExecutor()


@pytest.fixture
def app(settings: Settings, fake: FakeExecutor) -> FastAPI:
    return create_app(settings, executor=fake)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def _engine_client(engine_settings: Settings) -> Iterator[TestClient]:
    from tools.local_aws.seed import seed

    seed(engine_settings)
    with TestClient(create_app(engine_settings)) as client:
        yield client


@pytest.fixture
def engine_client(engine_settings: Settings) -> Iterator[TestClient]:
    """The real thing for lifecycle tests: real engine (PulumiExecutor), seeded local AWS, embedded consumer.

    Uses ``engine_settings`` from tests/conftest.py (its own data folder and state backend, the shared moto).
    Authenticate with ``tests.support.api.ADMIN``; wait with ``wait_operation(client, id, timeout=600)``.
    """
    yield from _engine_client(engine_settings)


@pytest.fixture(scope="module")
def module_engine_client(module_engine_settings: Settings) -> Iterator[TestClient]:
    """``engine_client`` for a module whose tests share one deployed room (``module_engine_settings``)."""
    yield from _engine_client(module_engine_settings)
