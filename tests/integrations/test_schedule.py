"""The periodic work is registered on Huey's own scheduler (not a home-made loop): delivery every minute,
the reaper on FORENSICS_TEARDOWN_CRON_MINUTE, the drift check on FORENSICS_DRIFT_CHECK_CRON_MINUTE; run by
Huey, the reaper acts on the app's injectable clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.access import service as access
from service.approvals import service as approvals
from service.expiry import service as expiry
from service.expiry.scheduled import DRIFT_TASK, TEARDOWN_TASK
from service.integrations.outbox import Dispatcher
from service.jobs import recovery
from service.jobs.integration_tasks import DELIVER_PERIODIC
from service.main import create_app
from service.orchestration.fake_engine import ScriptedExecutor
from tests.support.api import ADMIN, open_ready
from tests.support.clock import TestClock
from tests.support.http import RecordingServer
from tests.support.integrations import integration_settings


@pytest.fixture
def scheduled_app(
    tmp_path: Path, ticket_server: RecordingServer, executor: ScriptedExecutor, clock: TestClock
) -> Iterator[tuple[FastAPI, TestClient]]:
    settings = integration_settings(
        tmp_path,
        ticket_server.url,
        integrations_periodic_tasks=True,
        teardown_cron_minute="*/5",
        drift_check_cron_minute="17",
    )
    app = create_app(settings, executor=executor, clock=clock)
    with TestClient(app) as client:
        yield app, client


def _periodic(app: FastAPI) -> dict[str, Any]:
    huey = app.state.jobs.huey
    return {task.name: task for task in huey._registry.periodic_tasks}


def test_periodic_tasks_run_on_their_crontab(scheduled_app: tuple[FastAPI, TestClient]) -> None:
    app, _ = scheduled_app
    tasks = _periodic(app)
    assert {DELIVER_PERIODIC, TEARDOWN_TASK, DRIFT_TASK} <= set(tasks)

    def due(name: str, minute: int) -> bool:
        return bool(tasks[name].validate_datetime(datetime(2026, 11, 23, 9, minute)))

    assert [m for m in range(60) if due(TEARDOWN_TASK, m)] == list(range(0, 60, 5))
    assert [m for m in range(60) if due(DRIFT_TASK, m)] == [17]
    assert all(due(DELIVER_PERIODIC, m) for m in range(60))


def test_the_scheduled_reaper_destroys_an_expired_clean_room(
    scheduled_app: tuple[FastAPI, TestClient], clock: TestClock, executor: ScriptedExecutor
) -> None:
    app, client = scheduled_app
    inv = open_ready(client, "SEC-450", ttl_hours=1)
    clock.advance(hours=2)
    huey = app.state.jobs.huey
    huey.execute(_periodic(app)[TEARDOWN_TASK])  # what the consumer's scheduler does at the minute
    detail = client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()
    assert detail["status"] in ("destroying", "destroyed")
    assert [op["action"] for op in detail["timeline"]] == ["open", "destroy"]
    assert detail["timeline"][-1]["requested_by"] == app.state.settings.teardown_principal


def test_one_failing_scheduled_item_does_not_stop_the_others(
    tmp_path: Path,
    ticket_server: RecordingServer,
    executor: ScriptedExecutor,
    clock: TestClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The consumer's scheduler enqueues each due item as a job of its own and a worker runs each: every item
    of the schedule is run although each of the others raises (here all but the outbox delivery fail)."""
    ran: list[str] = []

    def failing(name: str) -> Any:
        def run(*_args: Any, **_kwargs: Any) -> Any:
            ran.append(name)
            raise RuntimeError(f"{name} is down")

        return run

    monkeypatch.setattr(recovery, "recover", failing("sweep"))
    monkeypatch.setattr(approvals, "expire_due", failing("expire_approvals"))
    monkeypatch.setattr(expiry, "run_teardown", failing("teardown"))
    monkeypatch.setattr(expiry, "run_drift_check", failing("drift_check"))
    monkeypatch.setattr(access, "expire_grants", failing("access_expiry"))
    delivered = Dispatcher.deliver_due

    def deliver_due(self: Dispatcher) -> Any:
        ran.append("deliver")
        return delivered(self)

    monkeypatch.setattr(Dispatcher, "deliver_due", deliver_due)
    settings = integration_settings(
        tmp_path,
        ticket_server.url,
        integrations_periodic_tasks=True,
        teardown_cron_minute="*",
        drift_check_cron_minute="*",
        access_expiry_cron_minute="*",
    )
    app = create_app(settings, executor=executor, clock=clock)
    huey = app.state.jobs.huey
    due = huey.read_periodic(datetime(2026, 11, 23, 9, 0))
    assert {task.name for task in due} >= {DELIVER_PERIODIC, TEARDOWN_TASK, DRIFT_TASK}
    for task in due:
        huey.execute(task)  # what a worker does with each job the scheduler enqueued
    assert sorted(ran) == sorted(
        ["sweep", "expire_approvals", "teardown", "drift_check", "access_expiry", "deliver"]
    )
