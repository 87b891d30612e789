"""The console's Memory button: a responder is offered it and its form (the API's request model) queues the
memory action; an analyst is offered nothing and posting the form gets the API's 403, audited."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.config import LOCAL_SOURCE_ACCOUNT
from tests.support.api import ADMIN, issue, open_ready
from tests.support.console import bearer_token, sign_in

INSTANCE = "i-0123456789abcdef0"


def test_a_responder_captures_memory_from_the_console_and_an_analyst_is_refused(
    app: FastAPI, client: TestClient
) -> None:
    inv = open_ready(client, "SEC-2303")
    form = {"source_account_id": LOCAL_SOURCE_ACCOUNT, "region": inv["region"], "instance_id": INSTANCE}

    analyst_headers = issue(client, "analyst", "ann@example.com")
    analyst = TestClient(app)
    analyst_csrf = sign_in(analyst, bearer_token(analyst_headers))
    assert (
        f"/console/investigations/{inv['id']}/memory"
        not in analyst.get(f"/console/investigations/{inv['id']}").text
    )
    refused = analyst.post(
        f"/console/investigations/{inv['id']}/memory", data={"csrf_token": analyst_csrf, **form}
    )
    api = client.post(f"/v1/investigations/{inv['id']}/memory", json=form, headers=analyst_headers)
    assert refused.status_code == api.status_code == 403
    audit = client.get("/v1/audit", params={"limit": 200, "actor": "ann@example.com"}, headers=ADMIN).json()
    assert {e["action"] for e in audit["items"] if e["outcome"] == "refused:forbidden"} == {
        f"POST /console/investigations/{inv['id']}/memory",
        f"POST /v1/investigations/{inv['id']}/memory",
    }

    responder = TestClient(app)
    csrf = sign_in(responder, bearer_token(issue(client, "responder", "rita@example.com")))
    room = responder.get(f"/console/investigations/{inv['id']}")
    assert f'href="/console/investigations/{inv["id"]}/memory"' in room.text
    confirm = responder.get(f"/console/investigations/{inv['id']}/memory")
    assert confirm.status_code == 200
    for field in ("source_account_id", "region", "instance_id"):
        assert f'name="{field}"' in confirm.text
    queued = responder.post(
        f"/console/investigations/{inv['id']}/memory",
        data={"csrf_token": csrf, **form},
        follow_redirects=False,
    )
    assert queued.status_code in (302, 303), queued.text
    detail = client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()
    (memory,) = [op for op in detail["timeline"] if op["action"] == "memory"]
    assert memory["requested_by"] == "rita@example.com" and memory["params"]["instance_id"] == INSTANCE
