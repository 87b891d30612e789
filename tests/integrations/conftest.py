"""Fixtures for integration tests: a test clock, real local HTTP servers standing in for the ticketing system
and Slack's response_url, signing helpers, and an app (fake executor, as in tests/service) wired to them."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from slack_sdk.signature import SignatureVerifier

from service.config import PROJECT_ROOT, Settings
from service.integrations.context import Integrations
from service.integrations.signing import sign
from service.main import create_app
from service.orchestration.models import OperationKind, OperationRequest, OperationResult
from tests.service.conftest import ADMIN, ADMIN_TOKEN, Behaviour, FakeExecutor

TICKET_SECRET = "ticket-webhook-secret"
SLACK_SECRET = "slack-signing-secret"


class TestClock:
    """Fixed time that tests move forward; everything in the app reads it."""

    __test__ = False

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(microsecond=0)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self.now = self.now + timedelta(**delta)
            return self.now


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    status: int


@dataclass
class RecordingServer:
    """A real HTTP server on 127.0.0.1 (free port) that records every POST and fails the first N with 503."""

    fail_first: int = 0
    received: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> RecordingServer:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    body = {"raw": raw.decode("latin-1")}
                with recorder._lock:
                    failing = recorder.fail_first > 0
                    if failing:
                        recorder.fail_first -= 1
                    status = 503 if failing else 201
                    recorder.received.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, status)
                    )
                payload = b'{"error":"down"}' if failing else b'{"ok":true}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def delivered(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.status < 300]

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while True:
            got = self.delivered()
            if predicate(got):
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"not received in time; got {[r.body for r in got]}")
            time.sleep(0.05)


class ScriptedExecutor(FakeExecutor):
    """FakeExecutor whose behaviour can also be chosen per (stack, kind): per-investigation failures."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.by_stack: dict[tuple[str, str], list[Behaviour]] = {}

    def when(self, stack: str, kind: OperationKind, *behaviours: Behaviour) -> None:
        with self._lock:
            self.by_stack.setdefault((stack, kind.value), []).extend(behaviours)

    def run_operation(
        self, settings: Settings, request: OperationRequest, on_event: Any, **kwargs: Any
    ) -> OperationResult:
        with self._lock:
            queue = self.by_stack.get((request.stack_name, request.kind.value)) or []
            behaviour = queue.pop(0) if queue else None
        if behaviour is not None:
            kwargs["on_started"](4_000_000)
            result = behaviour(request, kwargs["cancel"])
            if result is not None:
                return result
        return super().run_operation(settings, request, on_event, **kwargs)


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


def make_settings(tmp_path: Path, ticket_url: str | None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "target": "local",
        "data_dir": tmp_path / "data",
        "bootstrap_admin_token": ADMIN_TOKEN,
        "aws_endpoint_url": None,
        "pulumi_cli_dir": PROJECT_ROOT / ".tools" / "bin",
        "jobs_poll_max_delay": 0.1,
        "shutdown_grace_seconds": 2.0,
        "operation_stale_seconds": 10**7,
        "ticket_webhook_secret": TICKET_SECRET,
        "ticketing_kind": "jira" if ticket_url else "none",
        "ticketing_base_url": ticket_url,
        "ticketing_username": "bot@example.com",
        "ticketing_token": "jira-token",
        "slack_signing_secret": SLACK_SECRET,
        "slack_user_roles": {"URESP": "responder", "UCUST": "data_custodian", "UANA": "analyst"},
        "slack_allowed_channels": [],
        "outbox_backoff_seconds": 10.0,
        "outbox_backoff_max_seconds": 120.0,
        "integrations_periodic_tasks": False,
        "ttl_warning_hours": 1.0,
        "default_ttl_hours": 4,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def executor() -> ScriptedExecutor:
    return ScriptedExecutor(delay=0.01)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
def settings(tmp_path: Path, ticket_server: RecordingServer, settings_overrides: dict[str, Any]) -> Settings:
    return make_settings(tmp_path, ticket_server.url, **settings_overrides)


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


# Signing helpers


def signed_webhook(
    payload: dict[str, Any], clock: TestClock, *, secret: str = TICKET_SECRET, at: datetime | None = None
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    ts = str(int((at or clock()).timestamp()))
    return body, {
        "Content-Type": "application/json",
        "X-Forensics-Timestamp": ts,
        "X-Forensics-Signature": sign(secret, ts, body),
    }


def slash(
    text: str,
    clock: TestClock,
    *,
    user: str = "URESP",
    channel: str = "CINC",
    response_url: str | None = None,
    secret: str = SLACK_SECRET,
    at: datetime | None = None,
) -> tuple[bytes, dict[str, str]]:
    form = {
        "command": "/forensics",
        "text": text,
        "user_id": user,
        "user_name": user.lower(),
        "channel_id": channel,
        "team_id": "T1",
    }
    if response_url:
        form["response_url"] = response_url
    body = urlencode(form).encode()
    ts = str(int((at or clock()).timestamp()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }


def jira_event(
    key: str,
    *,
    event: str = "jira:issue_created",
    labels: list[str] | None = None,
    status: str = "Open",
    changelog: list[dict[str, Any]] | None = None,
    summary: str = "Suspicious login on build host",
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "timestamp": 1,
        "webhookEvent": event,
        "issue": {
            "id": "10001",
            "key": key,
            "fields": {"summary": summary, "labels": labels or [], "status": {"name": status}},
        },
    }
    if changelog is not None:
        payload["changelog"] = {"id": "1", "items": changelog}
    return payload


def audit_entries(client: TestClient, **query: str) -> list[dict[str, Any]]:
    response = client.get("/v1/audit", params={"limit": 200, **query}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def wait_status(
    client: TestClient, investigation_id: str, status: str, timeout: float = 15.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        inv = client.get(f"/v1/investigations/{investigation_id}", headers=ADMIN).json()
        if inv["status"] == status and inv["active_operation_id"] is None:
            return dict(inv)
        if time.monotonic() > deadline:
            raise AssertionError(f"investigation {investigation_id} is {inv['status']}, wanted {status}")
        time.sleep(0.05)


def held_then_failed(release: threading.Event, code: str = "deploy_failed") -> Behaviour:
    """Runs until the test releases it, then fails (no engine, no AWS calls after it)."""

    def behaviour(request: OperationRequest, cancel: threading.Event) -> OperationResult:
        while not release.is_set() and not cancel.wait(0.05):
            pass
        return OperationResult(
            kind=request.kind,
            stack_name=request.stack_name,
            succeeded=False,
            error_code=code,
            error="held, then failed",
        )

    return behaviour
