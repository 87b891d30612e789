from __future__ import annotations

import json
import threading

from fastapi.testclient import TestClient

from service.orchestration.fake_engine import FakeExecutor, block_until
from tests.support.api import ADMIN, issue, open_body, open_ready, wait_operation


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
