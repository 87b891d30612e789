"""Fixtures for service tests: an app on a temp data folder with the embedded consumer, and a fake executor.

The fake stands in for the engine only in API-level tests; anything that claims to deploy uses the real one
(``create_app(settings)`` with ``engine_settings`` from tests/conftest.py and no executor argument).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.config import PROJECT_ROOT, Settings
from service.main import create_app
from service.orchestration.models import OperationKind, OperationRequest, OperationResult, PolicyViolation

ADMIN_TOKEN = "test-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

Behaviour = Callable[[OperationRequest, threading.Event], OperationResult | None]


@dataclass
class Call:
    kind: OperationKind
    stack: str
    config: dict[str, Any]
    started: float
    ended: float = 0.0


@dataclass
class FakeExecutor:
    """Succeeds by default with outputs; ``script`` lets a test decide per call (return None = default)."""

    script: list[Behaviour] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    delay: float = 0.05
    exports: int = 0
    cleared: list[str] = field(default_factory=list)
    stopped: list[int] = field(default_factory=list)
    bucket: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run_operation(
        self,
        settings: Settings,
        request: OperationRequest,
        on_event: Callable[[dict[str, Any]], None],
        *,
        cancel: threading.Event,
        on_started: Callable[[int], None],
        timeout: float | None,
    ) -> OperationResult:
        call = Call(
            request.kind,
            request.stack_name,
            {k: v.value for k, v in request.config.items()},
            time.monotonic(),
        )
        with self._lock:
            self.calls.append(call)
            behaviour = self.script.pop(0) if self.script else None
        on_started(4_000_000)  # beyond pid_max: never a real process
        urn = f"urn:pulumi:{request.stack_name}::forensics::aws:ec2/vpc:Vpc::vpc"
        on_event(
            {
                "type": "step_started",
                "urn": urn,
                "resource_type": "aws:ec2/vpc:Vpc",
                "op": "create",
                "progress": {"done": 0, "planned": 1},
                "sequence": 1,
            }
        )
        result = behaviour(request, cancel) if behaviour else None
        if result is None:
            time.sleep(self.delay)
            on_event(
                {
                    "type": "step_done",
                    "urn": urn,
                    "resource_type": "aws:ec2/vpc:Vpc",
                    "op": "create",
                    "progress": {"done": 1, "planned": 1},
                    "sequence": 2,
                }
            )
            outputs = {
                "vpcId": "vpc-123",
                "instanceId": "i-123",
                "evidenceBucket": self.bucket or f"evidence-{request.stack_name}",
            }
            result = OperationResult(
                kind=request.kind,
                stack_name=request.stack_name,
                succeeded=True,
                changes={"create": 1},
                outputs=outputs if request.kind == "up" else {},
            )
        call.ended = time.monotonic()
        return result

    def export_stack(self, settings: Settings, stack_name: str) -> dict[str, Any]:
        self.exports += 1
        return {
            "version": 3,
            "deployment": {
                "resources": [
                    {
                        "urn": f"urn:pulumi:{stack_name}::forensics::aws:ec2/vpc:Vpc::vpc",
                        "type": "aws:ec2/vpc:Vpc",
                        "id": "vpc-123",
                        "protect": True,
                    },
                ]
            },
        }

    def clear_stack_lock(self, settings: Settings, stack_name: str) -> None:
        self.cleared.append(stack_name)

    def stop_process_group(self, pid: int) -> None:
        import os
        import signal

        self.stopped.append(pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def fail_with(
    code: str, message: str = "failed", violations: list[PolicyViolation] | None = None
) -> Behaviour:
    def behaviour(request: OperationRequest, cancel: threading.Event) -> OperationResult:
        return OperationResult(
            kind=request.kind,
            stack_name=request.stack_name,
            succeeded=False,
            error_code=code,
            error=message,
            policy_violations=violations or [],
        )

    return behaviour


def block_until(release: threading.Event) -> Behaviour:
    """Runs until the test releases it, or until cancelled (like the real engine, reporting `cancelled`)."""

    def behaviour(request: OperationRequest, cancel: threading.Event) -> OperationResult | None:
        while not release.is_set():
            if cancel.wait(0.05):
                return OperationResult(
                    kind=request.kind,
                    stack_name=request.stack_name,
                    succeeded=False,
                    error_code="cancelled",
                    error="cancelled",
                )
        return None

    return behaviour


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        target="local",
        data_dir=tmp_path / "data",
        bootstrap_admin_token=ADMIN_TOKEN,  # type: ignore[arg-type]
        aws_endpoint_url=None,
        pulumi_cli_dir=PROJECT_ROOT / ".tools" / "bin",
        jobs_poll_max_delay=0.1,
        concurrent_update_retry_seconds=0.2,
        max_body_bytes=64 * 1024,
        shutdown_grace_seconds=2.0,
    )


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


def open_ready(client: TestClient, ticket: str = "SEC-123", **extra: Any) -> dict[str, Any]:
    response = client.post("/v1/investigations", json=open_body(ticket, **extra), headers=ADMIN)
    assert response.status_code == 202, response.text
    op = wait_operation(client, response.json()["operation"]["id"])
    assert op["state"] == "succeeded", op
    return client.get(f"/v1/investigations/{response.json()['investigation']['id']}", headers=ADMIN).json()


@pytest.fixture
def engine_client(engine_settings: Settings) -> Iterator[TestClient]:
    """The real thing for lifecycle tests: real engine (PulumiExecutor), seeded local AWS, embedded consumer.

    Uses ``engine_settings`` from tests/conftest.py (its own data folder and state backend, the shared moto).
    Authenticate with ``ADMIN``; wait with ``wait_operation(client, id, timeout=600)``.
    """
    from pydantic import SecretStr

    from service.local.seed import seed

    settings = engine_settings.model_copy(
        update={
            "bootstrap_admin_token": SecretStr(ADMIN_TOKEN),
            "jobs_poll_max_delay": 0.2,
            "shutdown_grace_seconds": 5.0,
        }
    )
    seed(settings)
    with TestClient(create_app(settings)) as client:
        yield client
