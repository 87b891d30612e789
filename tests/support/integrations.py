"""Helpers for the integration tests: the test app's settings (ticketing and chat wired to local stand-ins),
signed ticketing webhooks and Slack commands, Jira events, and waits on the API."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.testclient import TestClient
from slack_sdk.signature import SignatureVerifier

from service.config import Settings
from service.integrations.webhook_hmac import sign
from service.orchestration.fake_engine import Behaviour
from service.orchestration.messages import OperationRequest, OperationResult
from tests.support.api import ADMIN
from tests.support.clock import TestClock
from tests.support.people import TEST_PEOPLE
from tests.support.settings import make_settings

TICKET_SECRET = "ticket-webhook-secret"
SLACK_SECRET = "slack-signing-secret"


def integration_settings(tmp_path: Path, ticket_url: str | None, **overrides: Any) -> Settings:
    """``make_settings`` with the ticketing system, chat and outbox the integration tests talk to."""
    values: dict[str, Any] = {
        "operation_stale_seconds": 10**7,
        "ticket_webhook_secret": TICKET_SECRET,
        "ticketing_kind": "jira" if ticket_url else "none",
        "ticketing_base_url": ticket_url,
        "ticketing_username": "bot@example.com",
        "ticketing_token": "jira-token",
        "slack_signing_secret": SLACK_SECRET,
        "slack_user_roles": {"URESP": "responder", "UCUST": "data_custodian", "UANA": "analyst"},
        "slack_allowed_channels": [],
        # The chat stand-in (tests/support/http.py) listens on 127.0.0.1 over http.
        "slack_response_url_hosts": ["hooks.slack.com", "127.0.0.1"],
        "outbox_backoff_seconds": 10.0,
        "outbox_backoff_max_seconds": 120.0,
        "integrations_periodic_tasks": False,
        "ttl_warning_hours": 1.0,
        "default_ttl_hours": 4,
        # Chat users may open in either region (the engine is fake here: one account is enough).
        "forensic_accounts": {
            "us-east-1": {"account_id": "123456789012"},
            "eu-west-1": {"account_id": "123456789012"},
        },
    }
    values.update(overrides)
    values["person_aliases"] = {**TEST_PEOPLE, **overrides.get("person_aliases", {})}
    return make_settings(tmp_path, **values)


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
