"""Ticket webhooks: signature checks (401, nothing changed, audited), Jira/generic mappings, idempotency."""

from __future__ import annotations

import threading
from typing import Any

from fastapi.testclient import TestClient

from service.integrations.integration_context import Integrations
from service.orchestration.fake_engine import ScriptedExecutor
from service.orchestration.messages import OperationKind
from tests.support.api import ADMIN
from tests.support.clock import TestClock
from tests.support.integrations import (
    audit_entries,
    held_then_failed,
    jira_event,
    signed_webhook,
    wait_status,
)

WEBHOOK = "/v1/integrations/tickets/webhook"


def _investigations(client: TestClient, ticket: str | None = None) -> list[dict[str, Any]]:
    params = {"ticket": ticket} if ticket else {}
    return list(client.get("/v1/investigations", params=params, headers=ADMIN).json()["items"])


def _post(client: TestClient, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(WEBHOOK, content=body, headers=headers)


def _outbox(ctx: Integrations) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from service.integrations.models import OutboxMessage

    with ctx.session_factory() as session:
        rows = session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
        return [{"event": m.event, "stream": m.stream, "text": m.payload.get("text")} for m in rows]


def test_jira_created_delivered_twice_opens_one_investigation(
    client: TestClient, clock: TestClock, ctx: Integrations
) -> None:
    payload = jira_event("SEC-101", labels=["forensics", "p1"])
    first = _post(client, *signed_webhook(payload, clock))
    assert first.status_code == 200, first.text
    assert first.json()["results"][0]["outcome"] == "accepted"
    investigation_id = first.json()["results"][0]["investigation_id"]

    clock.advance(seconds=30)  # Jira redelivers: same event, freshly signed
    second = _post(client, *signed_webhook(payload, clock))
    assert second.status_code == 200, second.text
    assert second.json()["results"][0] == {
        "action": "open",
        "outcome": "duplicate",
        "investigation_id": investigation_id,
        "message": None,
    }
    invs = _investigations(client, "SEC-101")
    assert [i["id"] for i in invs] == [investigation_id]
    assert invs[0]["created_by"] == "ticketing"
    assert invs[0]["title"] == "Suspicious login on build host"
    ready = wait_status(client, investigation_id, "ready")
    assert ready["outputs"]["instanceId"] == "i-123"
    events = [m["event"] for m in _outbox(ctx) if m["stream"] == "ticket:SEC-101"]
    assert events == ["opened", "ready"]


def test_unsigned_forged_stale_and_replayed_webhooks_are_refused_and_audited(
    client: TestClient, clock: TestClock
) -> None:
    payload = jira_event("SEC-102", labels=["forensics"])
    body, headers = signed_webhook(payload, clock)

    unsigned = client.post(WEBHOOK, content=body, headers={"Content-Type": "application/json"})
    forged = _post(client, *signed_webhook(payload, clock, secret="not-the-secret"))
    stale = _post(client, *signed_webhook(payload, clock, at=clock.advance(seconds=0) - _minutes(10)))
    tampered = _post(client, body.replace(b"SEC-102", b"SEC-666"), headers)
    for response in (unsigned, forged, stale, tampered):
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "unauthorized"
    assert _investigations(client) == []

    accepted = _post(client, body, headers)
    assert accepted.status_code == 200
    replayed = _post(client, body, headers)
    assert replayed.status_code == 401
    assert "replay" in replayed.json()["error"]["message"]
    assert len(_investigations(client)) == 1

    refused = audit_entries(client, action="integration.ticket_webhook")
    assert len(refused) == 5
    assert {e["outcome"] for e in refused} == {"refused:unauthorized"}
    reasons = " | ".join(e["details"]["reason"] for e in refused)
    for word in ("not signed", "does not match", "window", "replay"):
        assert word in reasons
    # Verify once the job thread has stopped appending (verify is not a snapshot read on SQLite).
    wait_status(client, accepted.json()["results"][0]["investigation_id"], "ready")
    assert client.get("/v1/audit/verify", headers=ADMIN).json()["ok"] is True


def test_no_secret_configured_refuses_every_webhook(
    client: TestClient, clock: TestClock, ctx: Integrations
) -> None:
    ctx.settings.ticket_webhook_secret = None
    try:
        response = _post(client, *signed_webhook(jira_event("SEC-103", labels=["forensics"]), clock))
    finally:
        from pydantic import SecretStr

        ctx.settings.ticket_webhook_secret = SecretStr("ticket-webhook-secret")
    assert response.status_code == 401
    assert _investigations(client) == []


def test_legal_hold_freezes_and_done_is_refused_while_frozen(
    client: TestClient, clock: TestClock, ctx: Integrations, executor: ScriptedExecutor
) -> None:
    opened = _post(client, *signed_webhook(jira_event("SEC-104", labels=["forensics"]), clock)).json()
    investigation_id = opened["results"][0]["investigation_id"]
    inv = wait_status(client, investigation_id, "ready")
    # The freeze itself (engine + S3 legal hold) is core's, tested in tests/investigations/test_freeze.py;
    # here it is held in progress, which protects the clean room from destroy exactly like `frozen`.
    release = threading.Event()
    executor.when(inv["stack_name"], OperationKind.UP, held_then_failed(release))

    hold = jira_event(
        "SEC-104",
        event="jira:issue_updated",
        labels=["forensics"],
        status="Legal Hold",
        changelog=[{"field": "status", "fromString": "In Progress", "toString": "Legal Hold"}],
    )
    response = _post(client, *signed_webhook(hold, clock))
    assert response.status_code == 200, response.text
    assert response.json()["results"][-1]["action"] == "freeze"
    assert response.json()["results"][-1]["outcome"] == "accepted"
    clock.advance(seconds=2)
    assert _post(client, *signed_webhook(hold, clock)).json()["results"][-1]["outcome"] == "duplicate"
    detail = client.get(f"/v1/investigations/{investigation_id}", headers=ADMIN).json()
    assert detail["status"] == "freezing"
    freezes = [op for op in detail["timeline"] if op["action"] == "freeze"]
    assert len(freezes) == 1 and freezes[0]["requested_by"] == "ticketing"

    done = jira_event(
        "SEC-104",
        event="jira:issue_updated",
        labels=["forensics"],
        status="Done",
        changelog=[{"field": "status", "fromString": "Legal Hold", "toString": "Done"}],
    )
    refused = _post(client, *signed_webhook(done, clock)).json()["results"][-1]
    assert refused["action"] == "destroy" and refused["outcome"] == "refused"
    assert "legal hold" in refused["message"]
    clock.advance(seconds=5)
    again = _post(client, *signed_webhook(done, clock)).json()["results"][-1]
    assert again["outcome"] == "duplicate"
    assert client.get(f"/v1/investigations/{investigation_id}", headers=ADMIN).json()["status"] == "freezing"

    entries = audit_entries(client, action="ticket.destroy")
    assert [e["outcome"] for e in entries] == ["refused:state_conflict"]
    assert entries[0]["actor"] == "ticketing" and entries[0]["role"] == "data_custodian"
    assert audit_entries(client, action="investigation.destroy") == []
    events = [m["event"] for m in _outbox(ctx) if m["stream"] == "ticket:SEC-104"]
    assert events == ["opened", "ready", "freezing", "refused"]  # the refusal is commented once
    release.set()


def test_generic_payload_opens_then_done_destroys(
    client: TestClient, clock: TestClock, ctx: Integrations
) -> None:
    created = {
        "event": "created",
        "ticket": "INC-7",
        "labels": ["Forensics"],
        "status": "open",
        "title": "Ransomware note on file server",
        "region": "eu-west-1",
    }
    result = _post(client, *signed_webhook(created, clock)).json()["results"][0]
    assert result["outcome"] == "accepted"
    inv = wait_status(client, result["investigation_id"], "ready")
    assert inv["region"] == "eu-west-1" and inv["title"] == "Ransomware note on file server"

    closed = {"event": "updated", "ticket": "INC-7", "labels": ["forensics"], "status": "Closed"}
    destroy = _post(client, *signed_webhook(closed, clock)).json()["results"]
    assert [(r["action"], r["outcome"]) for r in destroy] == [("destroy", "accepted")]
    wait_status(client, inv["id"], "destroyed")
    clock.advance(seconds=1)
    assert _post(client, *signed_webhook(closed, clock)).json()["results"][0]["outcome"] == "ignored"
    clock.advance(seconds=1)
    # The created event again (redelivered after the destroy): the ticket already opened one; nothing happens.
    assert _post(client, *signed_webhook(created, clock)).json()["results"][0]["outcome"] == "duplicate"
    assert len(_investigations(client, "INC-7")) == 1
    events = [m["event"] for m in _outbox(ctx) if m["stream"] == "ticket:INC-7"]
    assert events == ["opened", "ready", "destroying", "destroyed"]
    destroyed = audit_entries(client, action="investigation.destroy")
    assert destroyed[0]["actor"] == "ticketing" and destroyed[0]["role"] == "data_custodian"


def test_unlabelled_and_foreign_events_are_ignored(client: TestClient, clock: TestClock) -> None:
    plain = _post(client, *signed_webhook(jira_event("SEC-105", labels=["network"]), clock)).json()
    assert plain["results"][0]["outcome"] == "ignored"
    clock.advance(seconds=1)
    other = _post(client, *signed_webhook({"webhookEvent": "comment_created", "comment": {}}, clock)).json()
    assert other["results"][0]["outcome"] == "ignored"
    clock.advance(seconds=1)
    bad = _post(client, *signed_webhook({"event": "created", "ticket": "no spaces allowed"}, clock))
    assert bad.status_code == 422
    assert _investigations(client) == []


def _minutes(n: int) -> Any:
    from datetime import timedelta

    return timedelta(minutes=n)
