"""Console fixtures: the service tests' app (fake engine for refusals, real engine for the browser), a test
clock, and helpers that sign in through the console's own form."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from service.orchestration.fake_engine import FakeExecutor
from tests.support.clock import TestClock

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


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


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, token: str) -> str:
    """Signs in through the login form; returns the session's CSRF token (from the next page)."""
    form = client.get("/console/login")
    assert form.status_code == 200, form.text
    answer = client.post(
        "/console/login", data={"token": token, "csrf_token": csrf_of(form.text)}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    page = client.get("/console")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def bearer_token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")
