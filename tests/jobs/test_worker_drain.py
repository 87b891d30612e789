"""Shutdown drains the job consumer (``service.jobs.drain``), on SQLite and on PostgreSQL with Redis: no new
job is taken, a running operation finishes within ``shutdown_grace_seconds`` or is handed over (its engine
stopped, its stack's lock cleared, a retry queued for another worker), never both.

Each branch is taken on purpose here with the fake engine; the real one is stopped mid-`up` with SIGTERM in
tests/jobs/test_worker_drain_engine.py.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.config import Settings
from service.jobs.tasks import Jobs
from service.main import create_app
from service.orchestration.fake_engine import FakeExecutor
from service.orchestration.messages import EngineErrorCode, OperationRequest, OperationResult
from tests.support.api import ADMIN, open_body, wait_operation


def _open(client: TestClient, ticket: str) -> tuple[str, str]:
    response = client.post("/v1/investigations", json=open_body(ticket), headers=ADMIN)
    assert response.status_code == 202, response.text
    return response.json()["investigation"]["id"], response.json()["operation"]["id"]


def _engine_that_runs_for(seconds: float, cancelled: list[float]) -> Any:
    """An `up` that takes ``seconds`` unless stopped; stopped, it reports what the CLI reports: cancelled."""

    def run(request: OperationRequest, cancel: threading.Event) -> OperationResult | None:
        if cancel.wait(seconds):
            cancelled.append(time.monotonic())
            return OperationResult(
                kind=request.kind,
                stack_name=request.stack_name,
                succeeded=False,
                error_code=EngineErrorCode.CANCELLED,
                error="update canceled",
            )
        return None  # the fake's default: succeeded, with outputs

    return run


def _stop_in_background(jobs: Jobs) -> tuple[threading.Thread, list[float]]:
    took: list[float] = []

    def stop() -> None:
        started = time.monotonic()
        jobs.stop_consumer()
        took.append(time.monotonic() - started)

    thread = threading.Thread(target=stop)
    thread.start()
    assert jobs.ctx.drain.stopping.wait(5), "shutdown began"
    return thread, took


def test_an_operation_that_ends_within_the_grace_finishes_and_nothing_new_starts(
    app: FastAPI, client: TestClient, fake: FakeExecutor, settings: Settings
) -> None:
    cancelled: list[float] = []
    fake.script.append(_engine_that_runs_for(0.8, cancelled))
    inv_id, op_id = _open(client, "SEC-301")
    wait_operation(client, op_id, until=("running",))
    jobs: Jobs = app.state.jobs

    stopping, took = _stop_in_background(jobs)
    # Queued while the consumer drains: nobody takes it (it waits for the next worker).
    _, late_id = _open(client, "SEC-302")
    stopping.join(30)

    assert not stopping.is_alive() and took[0] < settings.shutdown_grace_seconds, took
    finished = wait_operation(client, op_id, timeout=1)
    assert finished["state"] == "succeeded" and cancelled == [], finished
    assert fake.stopped == [] and fake.cleared == []
    time.sleep(0.5)
    assert client.get(f"/v1/operations/{late_id}", headers=ADMIN).json()["state"] == "queued"
    stack = client.get(f"/v1/investigations/{inv_id}", headers=ADMIN).json()["stack_name"]
    assert [call.stack for call in fake.calls] == [stack]


def test_an_operation_still_running_after_the_grace_is_handed_over_and_retried_elsewhere(
    app: FastAPI, client: TestClient, fake: FakeExecutor, settings: Settings
) -> None:
    cancelled: list[float] = []
    fake.script.append(_engine_that_runs_for(60.0, cancelled))
    inv_id, op_id = _open(client, "SEC-303")
    wait_operation(client, op_id, until=("running",))
    jobs: Jobs = app.state.jobs

    stopping, took = _stop_in_background(jobs)
    began = time.monotonic()
    stopping.join(60)

    assert not stopping.is_alive()
    # The engine got the whole grace, then was stopped (cancel: SIGINT to its process group for the real one).
    assert cancelled and cancelled[0] - began >= settings.shutdown_grace_seconds - 0.1, (cancelled, began)
    handed = wait_operation(client, op_id, timeout=1)
    assert handed["state"] == "interrupted", handed
    assert handed["error"]["message"].startswith("handed over"), handed
    inv = client.get(f"/v1/investigations/{inv_id}", headers=ADMIN).json()
    stack = inv["stack_name"]
    assert fake.cleared == [stack], "the stack's lock was cleared before anyone else may run it"
    retries = [op for op in inv["timeline"] if op.get("retry_of") == op_id]
    assert [op["state"] for op in retries] == ["queued"], inv["timeline"]
    assert inv["active_operation_id"] is None, "the investigation is free for the retry"
    print(f"shutdown took {took[0]:.1f} s (grace {settings.shutdown_grace_seconds} s)")

    # The next worker (here: a new process's embedded consumer) runs the retry, and only the retry.
    successor = create_app(settings, executor=fake)
    with TestClient(successor) as second:
        done = wait_operation(second, retries[0]["id"], timeout=15)
        assert done["state"] == "succeeded", done
        assert second.get(f"/v1/investigations/{inv_id}", headers=ADMIN).json()["status"] == "ready"
        assert wait_operation(second, op_id, timeout=1)["state"] == "interrupted"
    assert [call.stack for call in fake.calls] == [stack, stack]
