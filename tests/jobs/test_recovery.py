from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from service.config import Settings
from service.investigations.models import Investigation
from service.jobs import recovery
from service.jobs.recovery import RecoveryReport
from service.main import create_app
from service.operations.models import Operation
from service.orchestration.fake_engine import FakeExecutor
from tests.support.api import ADMIN, open_body, wait_operation
from tests.support.settings import make_settings
from tools.local_servers import PostgresServer, RedisServer


@pytest.fixture
def idle_app(settings: Settings, fake: FakeExecutor) -> FastAPI:
    """No embedded consumer: operations stay queued until the test moves them."""
    return create_app(settings.model_copy(update={"embedded_consumer": False}), executor=fake)


@pytest.fixture
def idle_client(idle_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(idle_app) as client:
        yield client


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _pretend_running(app: FastAPI, op_id: str, engine_pid: int | None) -> None:
    with app.state.session_factory.begin() as session:
        session.execute(
            update(Operation)
            .where(Operation.id == op_id)
            .values(
                state="running",
                runner_host=socket.gethostname(),
                runner_pid=_dead_pid(),
                pid=engine_pid,
            )
        )
        op = session.get(Operation, op_id)
        session.execute(
            update(Investigation)
            .where(Investigation.id == op.investigation_id)
            .values(active_operation_id=op_id)
        )


def test_interrupted_open_is_stopped_unlocked_and_retried(
    idle_app: FastAPI, idle_client: TestClient, fake: FakeExecutor
) -> None:
    opened = idle_client.post("/v1/investigations", json=open_body(), headers=ADMIN).json()
    op_id = opened["operation"]["id"]
    engine = subprocess.Popen(["sleep", "60"], start_new_session=True)
    _pretend_running(idle_app, op_id, engine.pid)

    report = idle_app.state.jobs.recover()

    assert engine.wait(timeout=5) != 0  # the orphaned engine process group was stopped
    assert fake.stopped == [engine.pid]
    assert fake.cleared == [opened["investigation"]["stack_name"]]
    assert report.interrupted == [op_id]
    old = idle_client.get(f"/v1/operations/{op_id}", headers=ADMIN).json()
    assert (old["state"], old["error"]["code"]) == ("interrupted", "interrupted")
    detail = idle_client.get(f"/v1/investigations/{opened['investigation']['id']}", headers=ADMIN).json()
    retry = detail["timeline"][-1]
    assert (retry["retry_of"], retry["state"], retry["action"], retry["attempt"]) == (
        op_id,
        "queued",
        "open",
        2,
    )
    assert detail["status"] == "opening" and detail["active_operation_id"] is None
    assert report.dispatched == [opened["investigation"]["id"]]


def test_interrupted_freeze_needs_attention(idle_app: FastAPI, idle_client: TestClient) -> None:
    opened = idle_client.post("/v1/investigations", json=open_body(), headers=ADMIN).json()
    inv_id = opened["investigation"]["id"]
    with idle_app.state.session_factory.begin() as session:
        session.execute(update(Operation).values(state="succeeded"))
        session.execute(update(Investigation).values(status="ready"))
    freeze = idle_client.post(f"/v1/investigations/{inv_id}/freeze", headers=ADMIN).json()["operation"]
    _pretend_running(idle_app, freeze["id"], None)

    report = idle_app.state.jobs.recover()

    assert report.needs_attention == [inv_id] and report.retried == []
    detail = idle_client.get(f"/v1/investigations/{inv_id}", headers=ADMIN).json()
    assert detail["status"] == "needs_attention"
    assert "freeze operation" in detail["attention_reason"] and "interrupted" in detail["attention_reason"]
    assert [op["state"] for op in detail["timeline"]] == ["succeeded", "interrupted"]
    audit = idle_client.get("/v1/audit?action=operation.interrupted", headers=ADMIN).json()["items"]
    assert audit[0]["outcome"] == "needs_attention"


def test_recovery_at_start_up_then_the_retry_runs(
    settings: Settings, fake: FakeExecutor, idle_app: FastAPI, idle_client: TestClient
) -> None:
    opened = idle_client.post("/v1/investigations", json=open_body(), headers=ADMIN).json()
    _pretend_running(idle_app, opened["operation"]["id"], None)
    idle_client.__exit__(None, None, None)

    with TestClient(create_app(settings, executor=fake)) as client:
        detail = client.get(f"/v1/investigations/{opened['investigation']['id']}", headers=ADMIN).json()
        retry = detail["timeline"][-1]
        assert retry["retry_of"] == opened["operation"]["id"]
        assert wait_operation(client, retry["id"])["state"] == "succeeded"
        assert (
            client.get(f"/v1/investigations/{opened['investigation']['id']}", headers=ADMIN).json()["status"]
            == "ready"
        )


def test_a_silent_worker_on_another_host_is_recovered_once_though_two_nodes_sweep(
    tmp_path: Path, postgres_server: PostgresServer, redis_server: RedisServer
) -> None:
    """PostgreSQL: two nodes' sweeps find the same orphan at once (a worker on another host whose heartbeat
    stopped); one of them recovers it: one lock cleared, one interruption, one retry."""
    shared = {"database_url": postgres_server.database(), "jobs_url": redis_server.url()}
    settings = make_settings(tmp_path, embedded_consumer=False, operation_stale_seconds=60, **shared)
    slow = SlowUnlock()
    one = create_app(settings, executor=slow)
    two = create_app(settings, executor=slow)
    with TestClient(one) as client, TestClient(two):
        opened = client.post("/v1/investigations", json=open_body(), headers=ADMIN).json()
        op_id = opened["operation"]["id"]
        with one.state.session_factory.begin() as session:
            session.execute(
                update(Operation)
                .where(Operation.id == op_id)
                .values(
                    state="running",
                    runner_host="worker-on-another-host",
                    runner_pid=1,  # alive here, but not ours: only the heartbeat can tell
                    heartbeat_at=datetime.now(UTC) - timedelta(minutes=10),
                )
            )
            session.execute(
                update(Investigation)
                .where(Investigation.id == opened["investigation"]["id"])
                .values(active_operation_id=op_id)
            )

        def sweep(app: FastAPI) -> RecoveryReport:
            jobs = app.state.jobs
            return recovery.recover(jobs.ctx, lambda _: None, at_startup=False)

        with ThreadPoolExecutor(2) as pool:
            reports = list(pool.map(sweep, [one, two]))

        assert sorted(len(r.interrupted) for r in reports) == [0, 1]
        assert slow.cleared == [opened["investigation"]["stack_name"]] and slow.stopped == []
        detail = client.get(f"/v1/investigations/{opened['investigation']['id']}", headers=ADMIN).json()
        assert [(op["state"], op["retry_of"]) for op in detail["timeline"]] == [
            ("interrupted", None),
            ("queued", op_id),
        ]
        audit = client.get("/v1/audit?action=operation.interrupted", headers=ADMIN).json()["items"]
        assert len(audit) == 1


class SlowUnlock(FakeExecutor):
    """Clearing a stack lock takes a while (a `pulumi cancel` against S3 does): long enough for the other
    node's sweep to reach the same orphan."""

    def clear_stack_lock(self, settings: Settings, stack_name: str) -> None:
        time.sleep(1.0)
        super().clear_stack_lock(settings, stack_name)
