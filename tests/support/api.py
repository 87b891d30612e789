"""Helpers for tests that drive the service's HTTP API: the bootstrap administrator's token, tokens for other
roles, opening an investigation and waiting for an operation to end."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

# The bootstrap administrator token every test app is configured with (tests/support/service_fixtures.py).
ADMIN_TOKEN = "test-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def issue(client: TestClient, role: str, principal: str | None = None) -> dict[str, str]:
    response = client.post(
        "/v1/tokens", json={"principal": principal or f"{role}@example.com", "role": role}, headers=ADMIN
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def open_body(ticket: str = "SEC-123", **extra: Any) -> dict[str, Any]:
    return {"ticket": ticket, "title": "Compromised build host", "region": "us-east-1", **extra}


def wait_operation(
    client: TestClient,
    operation_id: str,
    *,
    until: tuple[str, ...] = ("succeeded", "failed", "cancelled", "timed_out", "interrupted"),
    timeout: float = 15.0,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/v1/operations/{operation_id}", headers=ADMIN).json()
        if body["state"] in until:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"operation {operation_id} still {body['state']}")
        time.sleep(0.05)


def open_ready(
    client: TestClient, ticket: str = "SEC-123", *, timeout: float = 15.0, **extra: Any
) -> dict[str, Any]:
    """Opens and waits for ready (pass ``timeout`` for the real engine: an `up` takes many seconds)."""
    response = client.post("/v1/investigations", json=open_body(ticket, **extra), headers=ADMIN)
    assert response.status_code == 202, response.text
    op = wait_operation(client, response.json()["operation"]["id"], timeout=timeout)
    assert op["state"] == "succeeded", op
    return client.get(f"/v1/investigations/{response.json()['investigation']['id']}", headers=ADMIN).json()
