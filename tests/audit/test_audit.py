from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.support.api import ADMIN, issue, open_ready


def test_changes_and_operations_are_audited_and_the_chain_verifies(client: TestClient) -> None:
    inv = open_ready(client)
    entries = client.get("/v1/audit?limit=100", headers=ADMIN).json()["items"]
    actions = [e["action"] for e in reversed(entries)]
    assert actions == ["investigation.open", "operation.start", "operation.end"]
    opened = entries[-1]
    assert (opened["actor"], opened["role"], opened["target"]) == (
        "bootstrap-admin",
        "admin",
        f"investigation/{inv['id']}",
    )
    assert opened["request_id"]
    assert entries[0]["outcome"] == "succeeded"
    verify = client.get("/v1/audit/verify", headers=ADMIN).json()
    assert verify == {"ok": True, "checked": 3, "first_bad_id": None, "reason": None}
    custodian = issue(client, "data_custodian")
    assert client.get("/v1/audit/verify", headers=custodian).status_code == 200


def test_refused_changes_are_audited(client: TestClient) -> None:
    inv = open_ready(client)
    analyst = issue(client, "analyst", "eve")
    assert client.post(f"/v1/investigations/{inv['id']}/preview", headers=analyst).status_code == 403
    refused = client.get("/v1/audit?actor=eve", headers=ADMIN).json()["items"]
    assert refused[0]["outcome"] == "refused:forbidden"
    assert refused[0]["action"] == f"POST /v1/investigations/{inv['id']}/preview"


def test_filters(client: TestClient) -> None:
    open_ready(client)
    assert client.get("/v1/audit?action=operation.end", headers=ADMIN).json()["total"] == 1
    assert client.get("/v1/audit?outcome=running", headers=ADMIN).json()["total"] == 1
    assert client.get("/v1/audit?since=2999-01-01T00:00:00Z", headers=ADMIN).json()["total"] == 0


def test_edited_entry_is_detected(client: TestClient, app: FastAPI) -> None:
    open_ready(client)
    with app.state.engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET actor = 'someone-else' WHERE id = 2"))
    verify = client.get("/v1/audit/verify", headers=ADMIN).json()
    assert verify["ok"] is False
    assert verify["first_bad_id"] == 2


def test_deleted_entry_is_detected(client: TestClient, app: FastAPI) -> None:
    open_ready(client)
    with app.state.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE id = 2"))
    verify = client.get("/v1/audit/verify", headers=ADMIN).json()
    assert (verify["ok"], verify["first_bad_id"]) == (False, 2)


def test_deleted_last_entry_is_detected(client: TestClient, app: FastAPI) -> None:
    open_ready(client)
    with app.state.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE id = (SELECT MAX(id) FROM audit_entries)"))
    verify = client.get("/v1/audit/verify", headers=ADMIN).json()
    assert (verify["ok"], verify["first_bad_id"]) == (False, 3)
