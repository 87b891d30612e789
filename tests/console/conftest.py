"""Console fixtures: the service tests' app (fake engine for refusals, real engine for the browser) and a test
clock. Signing in through the console's own form: tests/support/console.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from service.orchestration.fake_engine import FakeExecutor
from tests.support.clock import TestClock


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def app(settings: Settings, fake: FakeExecutor, clock: TestClock) -> FastAPI:
    return create_app(settings, executor=fake, clock=clock)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client
