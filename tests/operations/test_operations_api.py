from __future__ import annotations

import json
import threading
from pathlib import Path

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from service.api import responses
from service.config import Settings
from service.orchestration.fake_engine import FakeExecutor, block_until
from tests.support.api import ADMIN, issue, open_body, open_ready, wait_operation
from tests.support.settings import make_settings


def _sse(client: TestClient, operation_id: str, headers: dict[str, str]) -> list[dict[str, object]]:
    events = []
    with client.stream("GET", f"/v1/operations/{operation_id}/events", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        current: dict[str, object] = {}
        for line in response.iter_lines():
            if line.startswith("id:"):
                current["id"] = int(line[3:].strip())
            elif line.startswith("event:"):
                current["event"] = line[6:].strip()
            elif line.startswith("data:"):
                current["data"] = json.loads(line[5:].strip())
            elif line == "" and current:
                events.append(current)
                current = {}
    return events


def test_events_stream_live_until_the_operation_ends(client: TestClient, fake: FakeExecutor) -> None:
    release = threading.Event()
    fake.script.append(block_until(release))
    op = client.post("/v1/investigations", json=open_body(), headers=ADMIN).json()["operation"]
    wait_operation(client, op["id"], until=("running",))
    threading.Timer(0.5, release.set).start()
    events = _sse(client, op["id"], issue(client, "investigator"))
    kinds = [e["event"] for e in events]
    assert kinds[0] == "operation_started"
    assert "step_started" in kinds and "step_done" in kinds
    assert kinds[-1] == "operation_finished"
    assert events[-1]["data"]["state"] == "succeeded"
    step = next(e for e in events if e["event"] == "step_done")
    assert step["data"]["progress"] == {"done": 1, "planned": 1}
    # Resume after an id: only later events.
    with client.stream(
        "GET", f"/v1/operations/{op['id']}/events", headers={**ADMIN, "Last-Event-ID": str(step["id"])}
    ) as response:
        rest = [line for line in response.iter_lines() if line.startswith("event:")]
    assert rest == ["event: operation_finished"]


def test_the_stream_reads_the_database_as_often_as_configured(
    app: FastAPI, client: TestClient, fake: FakeExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    real_sleep = anyio.sleep

    async def recorded_sleep(seconds: float) -> None:
        waits.append(seconds)
        await real_sleep(seconds)

    monkeypatch.setattr(responses.anyio, "sleep", recorded_sleep)
    app.state.settings.event_stream_poll_seconds = 0.03
    release = threading.Event()
    fake.script.append(block_until(release))
    op = client.post("/v1/investigations", json=open_body(), headers=ADMIN).json()["operation"]
    wait_operation(client, op["id"], until=("running",))
    threading.Timer(0.3, release.set).start()
    kinds = [e["event"] for e in _sse(client, op["id"], ADMIN)]
    assert kinds[0] == "operation_started" and kinds[-1] == "operation_finished"
    # It polled while the operation ran, each time after the configured pause.
    assert waits.count(0.03) >= 2, waits


def test_the_stream_poll_interval_is_a_setting_with_bounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORENSICS_EVENT_STREAM_POLL_SECONDS", "2")
    assert Settings(data_dir=tmp_path).event_stream_poll_seconds == 2.0
    monkeypatch.delenv("FORENSICS_EVENT_STREAM_POLL_SECONDS")
    assert Settings(data_dir=tmp_path).event_stream_poll_seconds == 0.5
    for refused in (0, -1, 60):
        with pytest.raises(ValidationError, match="event_stream_poll_seconds"):
            make_settings(tmp_path, event_stream_poll_seconds=refused)


def test_cancel_a_queued_operation_restores_the_state(client: TestClient, fake: FakeExecutor) -> None:
    inv = open_ready(client)
    release = threading.Event()
    fake.script.append(block_until(release))
    preview = client.post(f"/v1/investigations/{inv['id']}/preview", headers=ADMIN).json()["operation"]
    wait_operation(client, preview["id"], until=("running",))
    # (A cancelled freeze is the exception: it waits for a person, tests/integrations/test_teardown.py.)
    freeze = client.post(f"/v1/investigations/{inv['id']}/destroy", headers=ADMIN).json()
    assert freeze["investigation"]["status"] == "destroying"
    cancelled = client.post(f"/v1/operations/{freeze['operation']['id']}/cancel", headers=ADMIN)
    assert cancelled.status_code == 202
    assert cancelled.json()["state"] == "cancelled"
    assert client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()["status"] == "ready"
    again = client.post(f"/v1/operations/{freeze['operation']['id']}/cancel", headers=ADMIN)
    assert again.status_code == 409
    release.set()
    assert wait_operation(client, preview["id"])["state"] == "succeeded"
    assert [c.kind for c in fake.calls] == ["up", "preview"]


def test_cancel_a_running_operation_stops_the_engine(client: TestClient, fake: FakeExecutor) -> None:
    fake.script.append(block_until(threading.Event()))
    opened = client.post("/v1/investigations", json=open_body(), headers=ADMIN).json()
    op_id = opened["operation"]["id"]
    wait_operation(client, op_id, until=("running",))
    assert client.post(f"/v1/operations/{op_id}/cancel", headers=issue(client, "analyst")).status_code == 403
    response = client.post(f"/v1/operations/{op_id}/cancel", headers=ADMIN)
    assert response.status_code == 202
    assert response.json()["cancel_requested_at"] is not None
    done = wait_operation(client, op_id)
    assert done["state"] == "cancelled"
    assert done["error"]["code"] == "cancelled"
    assert done["pid"] == 4_000_000
    assert (
        client.get(f"/v1/investigations/{opened['investigation']['id']}", headers=ADMIN).json()["status"]
        == "failed"
    )
