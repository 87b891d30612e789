"""Two-person rule notices through the outbox: a request, its approval, denial or expiry, and a break-glass
use each reach the ticket and the chat notification channel once (local ticketing and chat servers; the
test drives delivery and time)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.integrations.integration_context import Integrations
from service.integrations.models import OutboxMessage
from tests.support.api import issue, open_ready
from tests.support.clock import TestClock
from tests.support.http import RecordingServer
from tests.support.integrations import audit_entries

ALICE = "alice@example.com"
BOB = "bob@example.com"
OFFICER = "oncall-officer@example.com"


@pytest.fixture
def settings_overrides(chat_server: RecordingServer) -> dict[str, Any]:
    # Delivery is driven by the test; alerts go to the chat notification channel (an incoming webhook).
    return {"outbox_dispatch_on_commit": False, "slack_notify_url": f"{chat_server.url}/alerts"}


def _rows(ctx: Integrations, event: str) -> list[tuple[str, str]]:
    with ctx.session_factory() as session:
        rows = session.execute(
            select(OutboxMessage).where(OutboxMessage.event == event).order_by(OutboxMessage.id)
        ).scalars()
        return [(m.channel, m.destination) for m in rows]


def _once_each(ctx: Integrations, event: str, ticket: str, chat_url: str) -> None:
    assert _rows(ctx, event) == [("ticket", ticket), ("chat", f"{chat_url}/alerts")]


def _hold_destroy(client: TestClient, investigation_id: str, headers: dict[str, str]) -> dict[str, Any]:
    response = client.post(
        f"/v1/investigations/{investigation_id}/destroy",
        json={"retain_evidence_bucket": False, "reason": "case closed"},
        headers=headers,
    )
    assert response.status_code == 202 and "approval" in response.json(), response.text
    return dict(response.json()["approval"])


def test_requests_and_decisions_reach_the_ticket_and_chat(
    client: TestClient,
    app: FastAPI,
    ctx: Integrations,
    clock: TestClock,
    ticket_server: RecordingServer,
    chat_server: RecordingServer,
) -> None:
    inv = open_ready(client, "SEC-501")
    alice, bob = issue(client, "data_custodian", ALICE), issue(client, "data_custodian", BOB)

    denied = _hold_destroy(client, inv["id"], alice)
    _once_each(ctx, "approval_requested", "SEC-501", chat_server.url)
    assert (
        client.post(f"/v1/approvals/{denied['id']}/deny", json={"reason": "keep it"}, headers=bob).status_code
        == 200
    )
    _once_each(ctx, "approval_denied", "SEC-501", chat_server.url)

    hours = ctx.settings.two_person_extension_hours + 1
    extend = client.post(f"/v1/investigations/{inv['id']}/extend", json={"hours": hours}, headers=alice)
    assert extend.status_code == 202, extend.text
    granted = extend.json()["approval"]
    assert client.post(f"/v1/approvals/{granted['id']}/approve", headers=bob).status_code == 200
    _once_each(ctx, "approval_granted", "SEC-501", chat_server.url)

    expiring = _hold_destroy(client, inv["id"], alice)
    clock.advance(hours=ctx.settings.approval_ttl_hours + 1)
    assert app.state.jobs.expire_approvals() == [expiring["id"]]
    _once_each(ctx, "approval_expired", "SEC-501", chat_server.url)
    assert [e["outcome"] for e in audit_entries(client, action="approval.expire")] == ["expired"]

    report = ctx.dispatcher.deliver_due(clock())
    assert report.failed == [] and report.dead == []
    comments = [
        r.body["body"] for r in ticket_server.delivered() if r.path == "/rest/api/2/issue/SEC-501/comment"
    ]
    requested, expired = (
        "Second person needed: a request waits for approval",
        "Request expired without a second person",
    )
    expected = [
        "Forensic clean room requested: opening",
        "Forensic clean room is ready",
        requested,
        "Request denied",
        requested,
        "Request approved by a second person",
        "Clean room expiry extended",
        requested,
        expired,
    ]
    assert [text.splitlines()[0] for text in comments] == [f"[forensics] {h}: {inv['id']}" for h in expected]
    assert f"POST /v1/approvals/{denied['id']}/approve" in comments[2] and "deletes evidence" in comments[2]
    assert f"denied the destroy {ALICE} asked for: keep it" in comments[3]
    assert f"{BOB} approved the extend {ALICE} asked for" in comments[5]
    assert "nothing was done" in comments[8]
    alerts = [r.body["text"] for r in chat_server.delivered() if r.path == "/alerts"]
    assert [text.rsplit(": ", 1)[0] for text in alerts] == [
        h for h in expected if h.startswith(("Second", "Request"))
    ]


def test_break_glass_is_one_loud_notice_on_the_ticket_and_in_chat(
    client: TestClient,
    ctx: Integrations,
    clock: TestClock,
    ticket_server: RecordingServer,
    chat_server: RecordingServer,
) -> None:
    inv = open_ready(client, "SEC-502")
    officer = issue(client, "break_glass_officer", OFFICER)
    reason = "incident runs over the weekend, no custodian reachable to approve"
    response = client.post(
        f"/v1/investigations/{inv['id']}/break-glass",
        json={"action": "extend", "params": {"hours": 100}, "reason": reason},
        headers=officer,
    )
    assert response.status_code == 202, response.text
    _once_each(ctx, "break_glass", "SEC-502", chat_server.url)
    entry = audit_entries(client, action="investigation.break_glass")[0]
    assert (entry["actor"], entry["details"]["reason"]) == (OFFICER, reason)

    ctx.dispatcher.deliver_due(clock())
    assert ctx.dispatcher.deliver_due(clock()).delivered == []  # nothing twice
    loud = [r for r in ticket_server.delivered() if "BREAK-GLASS" in r.body["body"]]
    assert len(loud) == 1 and reason in loud[0].body["body"] and OFFICER in loud[0].body["body"]
    chat = [r for r in chat_server.delivered() if "BREAK-GLASS" in r.body["text"]]
    assert len(chat) == 1 and chat[0].path == "/alerts"
    assert chat[0].body["blocks"][0]["text"]["text"].startswith("BREAK-GLASS")
