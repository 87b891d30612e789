"""Fixtures for integration tests: a test clock, real local HTTP servers standing in for the ticketing system
and Slack's response_url, and an app (fake executor, as in the service tests) wired to them (its settings and
the signing helpers: tests/support/integrations.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.config import Settings
from service.integrations.integration_context import Integrations
from service.main import create_app
from service.orchestration.fake_engine import ScriptedExecutor
from tests.support.clock import TestClock
from tests.support.http import RecordingServer
from tests.support.integrations import integration_settings


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def ticket_server() -> Iterator[RecordingServer]:
    server = RecordingServer().start()
    yield server
    server.stop()


@pytest.fixture
def chat_server() -> Iterator[RecordingServer]:
    server = RecordingServer().start()
    yield server
    server.stop()


@pytest.fixture
def executor() -> ScriptedExecutor:
    return ScriptedExecutor(delay=0.01)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
def settings(tmp_path: Path, ticket_server: RecordingServer, settings_overrides: dict[str, Any]) -> Settings:
    return integration_settings(tmp_path, ticket_server.url, **settings_overrides)


@pytest.fixture
def app(settings: Settings, executor: ScriptedExecutor, clock: TestClock) -> FastAPI:
    return create_app(settings, executor=executor, clock=clock)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def ctx(app: FastAPI, client: TestClient) -> Integrations:
    integrations: Integrations = app.state.integrations
    return integrations
