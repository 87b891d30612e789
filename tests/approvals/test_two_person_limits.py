"""What one person may do alone, tried the way an adversary would: many short extensions that add up to a
long one, a long TTL at the opening, an instance type nobody allowed, and one clean room too many."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.support.api import ADMIN, issue, open_body, open_ready


def _extend(client: TestClient, investigation_id: str, hours: int, headers: dict[str, str]) -> Any:
    return client.post(
        f"/v1/investigations/{investigation_id}/extend",
        json={"hours": hours, "reason": "imaging"},
        headers=headers,
    )


def test_short_extensions_add_up_to_the_two_person_limit(client: TestClient, app: FastAPI) -> None:
    limit = app.state.settings.two_person_extension_hours
    assert limit == 72
    inv = open_ready(client, ttl_hours=24)
    responder = issue(client, "responder")
    for n in range(9):  # 9 x 8 = 72 hours: still what one person may grant
        alone = _extend(client, inv["id"], 8, responder)
        assert alone.status_code == 200, (n, alone.text)
    assert client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()["ttl_hours"] == 24 + 72

    # The tenth crosses 72 hours in all: held for a second person, nothing extended.
    crossing = _extend(client, inv["id"], 8, responder)
    assert crossing.status_code == 202, crossing.text
    approval = crossing.json()["approval"]
    assert approval["status"] == "pending_approval" and "80 hours" in approval["rule"]
    assert client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()["ttl_hours"] == 24 + 72

    # Approved by another person, it does not count against what one person may still grant alone.
    approved = client.post(
        f"/v1/approvals/{approval['id']}/approve", headers=issue(client, "data_custodian", "dana@example.com")
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["investigation"]["ttl_hours"] == 24 + 80
    assert _extend(client, inv["id"], 1, responder).status_code == 202  # still over, still held


def test_opening_cannot_grant_more_than_the_limit(client: TestClient, app: FastAPI) -> None:
    limit = app.state.settings.two_person_extension_hours
    responder = issue(client, "responder")
    for ttl in (limit + 1, 2160):
        refused = client.post(
            "/v1/investigations", json=open_body(f"SEC-{ttl}", ttl_hours=ttl), headers=responder
        )
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["details"]["fields"][0]["field"] == "ttl_hours"
        assert "extend" in error["message"] and "second person" in error["message"]
    assert client.get("/v1/investigations", headers=ADMIN).json()["total"] == 0
    within = client.post("/v1/investigations", json=open_body("SEC-1", ttl_hours=limit), headers=responder)
    assert within.status_code == 202, within.text


def test_only_allowed_instance_types_are_opened(client: TestClient, app: FastAPI) -> None:
    allowed = app.state.settings.allowed_instance_types
    assert "p5.48xlarge" not in allowed and "t3.large" in allowed
    responder = issue(client, "responder")
    refused = client.post(
        "/v1/investigations", json=open_body("SEC-9", instance_type="p5.48xlarge"), headers=responder
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"]["fields"][0]["field"] == "instance_type"
    assert "p5.48xlarge is not allowed" in refused.json()["error"]["message"]
    assert client.get("/v1/investigations", headers=ADMIN).json()["total"] == 0
    ok = client.post(
        "/v1/investigations", json=open_body("SEC-10", instance_type="m5.xlarge"), headers=responder
    )
    assert ok.status_code == 202, ok.text


def test_one_requester_has_a_bounded_number_of_open_rooms(client: TestClient, app: FastAPI) -> None:
    cap = app.state.settings.max_open_rooms_per_requester
    rita, ron = issue(client, "responder", "rita@example.com"), issue(client, "responder", "ron@example.com")
    for n in range(cap):
        opened = client.post("/v1/investigations", json=open_body(f"SEC-{n}"), headers=rita)
        assert opened.status_code == 202, opened.text
    one_more = client.post("/v1/investigations", json=open_body("SEC-MORE"), headers=rita)
    assert one_more.status_code == 409, one_more.text
    assert one_more.json()["error"]["details"] == {"open_rooms": cap, "limit": cap}
    assert "FORENSICS_MAX_OPEN_ROOMS_PER_REQUESTER" in one_more.json()["error"]["message"]
    # Someone else is not held to Rita's count.
    assert client.post("/v1/investigations", json=open_body("SEC-RON"), headers=ron).status_code == 202
    assert client.get("/v1/investigations", headers=ADMIN).json()["total"] == cap + 1
