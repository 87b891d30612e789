"""The console's containment buttons: a responder is offered Contain (the request model's fields on the
confirm page) and it is queued as the API queues it; an analyst is offered neither, and a forged form gets
the API's 403, audited on both paths."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.config import LOCAL_SOURCE_ACCOUNT
from tests.support.api import ADMIN, issue, open_ready
from tests.support.console import bearer_token, sign_in

INSTANCE = "i-0123456789abcdef0"


def _audit(client: TestClient, **query: str) -> list[dict[str, Any]]:
    return list(client.get("/v1/audit", params={"limit": 200, **query}, headers=ADMIN).json()["items"])


def test_a_responder_contains_from_the_console_and_an_analyst_cannot(
    app: FastAPI, client: TestClient
) -> None:
    inv = open_ready(client, "SEC-2303")
    form = {
        "source_account_id": LOCAL_SOURCE_ACCOUNT,
        "region": inv["region"],
        "instance_id": INSTANCE,
        "isolate_subnet_with_nacl": "on",
    }

    responder = TestClient(app)
    csrf = sign_in(responder, bearer_token(issue(client, "responder", "rita@example.com")))
    room = responder.get(f"/console/investigations/{inv['id']}").text
    assert f"/console/investigations/{inv['id']}/contain" in room
    assert f"/console/investigations/{inv['id']}/release-containment" in room
    confirm = responder.get(f"/console/investigations/{inv['id']}/contain").text
    for field in ("source_account_id", "region", "instance_id", "isolate_subnet_with_nacl"):
        assert f'name="{field}"' in confirm, field
    queued = responder.post(
        f"/console/investigations/{inv['id']}/contain",
        data={"csrf_token": csrf, **form},
        follow_redirects=True,
    )
    assert queued.status_code == 200 and "Contain queued: operation" in queued.text
    op_id = re.search(r"Contain queued: operation ([0-9a-f-]{36})", queued.text)
    assert op_id is not None
    op = client.get(f"/v1/operations/{op_id.group(1)}", headers=ADMIN).json()
    assert op["action"] == "contain" and op["params"]["isolate_subnet_with_nacl"] is True

    analyst_headers = issue(client, "analyst", "ann@example.com")
    analyst = TestClient(app)
    analyst_csrf = sign_in(analyst, bearer_token(analyst_headers))
    assert "/contain" not in analyst.get(f"/console/investigations/{inv['id']}").text
    console = analyst.post(
        f"/console/investigations/{inv['id']}/contain", data={"csrf_token": analyst_csrf, **form}
    )
    api = client.post(
        f"/v1/investigations/{inv['id']}/containment",
        json={**form, "isolate_subnet_with_nacl": True},
        headers=analyst_headers,
    )
    assert console.status_code == api.status_code == 403
    refusals = [e for e in _audit(client, actor="ann@example.com") if e["outcome"] == "refused:forbidden"]
    assert {e["action"] for e in refusals} == {
        f"POST /console/investigations/{inv['id']}/contain",
        f"POST /v1/investigations/{inv['id']}/containment",
    }


def test_a_release_of_a_containment_waits_for_a_second_person(app: FastAPI, client: TestClient) -> None:
    """Held as an approval (on both stores: PostgreSQL keeps the action's full name)."""
    inv = open_ready(client, "SEC-2304")
    body = {"source_account_id": LOCAL_SOURCE_ACCOUNT, "region": inv["region"], "instance_id": INSTANCE}
    headers = issue(client, "responder", "rita@example.com")
    held = client.post(f"/v1/investigations/{inv['id']}/release-containment", json=body, headers=headers)
    assert held.status_code == 202, held.text
    approval = held.json()["approval"]
    assert approval["action"] == "release-containment" and "back on its network" in approval["rule"]
    assert client.post(f"/v1/approvals/{approval['id']}/approve", headers=headers).status_code == 403
