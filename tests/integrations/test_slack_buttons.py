"""Approve / Deny buttons in chat: a waiting request's message carries them; a signed press by a mapped
approver decides it exactly as the API would; forged, replayed, unmapped and self-approving presses are
refused, audited and change nothing. Access requests asked for from chat go the same way, and every step of
an access request (asked, approved, denied, granted, expired, lapsed, revoked) reaches the ticket and chat."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select

from service.access import service as access
from service.config import PersonPrincipal
from service.integrations.integration_context import Integrations
from service.integrations.models import OutboxMessage
from tests.support.api import ADMIN, issue, open_ready, wait_operation
from tests.support.clock import TestClock
from tests.support.http import RecordingServer
from tests.support.integrations import SLACK_SECRET, audit_entries, slash, wait_status

ACTIONS = "/v1/integrations/slack/actions"
COMMANDS = "/v1/integrations/slack/commands"
ALICE = "alice@example.com"
ERIN_ARN = "arn:aws:iam::123456789012:role/erin-sso"


@pytest.fixture
def settings_overrides(chat_server: RecordingServer) -> dict[str, Any]:
    return {
        "outbox_dispatch_on_commit": False,
        "slack_notify_url": f"{chat_server.url}/alerts",
        "slack_user_roles": {
            "UCUST": "data_custodian",
            "UALICE": "data_custodian",  # Alice's chat account: she is also ALICE with a token
            "UINV": "investigator",
            "UANA": "analyst",
        },
        "person_aliases": {"UALICE": ALICE, "UINV": "erin", "UCUST": "carol"},
        "person_principals": {"erin": ERIN_ARN},
    }


def press(
    action_id: str,
    value: str,
    clock: TestClock,
    *,
    user: str,
    response_url: str | None = None,
    secret: str = SLACK_SECRET,
    at: datetime | None = None,
) -> tuple[bytes, dict[str, str]]:
    """A block_actions payload as Slack sends it (form-encoded JSON), signed with the v0 scheme."""
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T1"},
        "api_app_id": "A1",
        "team": {"id": "T1", "domain": "acme"},
        "channel": {"id": "CINC", "name": "incident"},
        "container": {"type": "message", "message_ts": "1.2", "channel_id": "CINC"},
        "trigger_id": "1.2.3",
        "response_url": response_url or "",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "decide",
                "value": value,
                "text": {"type": "plain_text", "text": "Approve"},
                "action_ts": "1700000000.1",
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    ts = str(int((at or clock()).timestamp()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }


def send(client: TestClient, signed: tuple[bytes, dict[str, str]], path: str = ACTIONS) -> Any:
    body, headers = signed
    return client.post(path, content=body, headers=headers)


def _messages(ctx: Integrations, event: str) -> list[OutboxMessage]:
    with ctx.session_factory() as session:
        rows = session.execute(
            select(OutboxMessage).where(OutboxMessage.event == event).order_by(OutboxMessage.id)
        ).scalars()
        return list(rows)


def _buttons(message: OutboxMessage) -> list[tuple[str, str]]:
    blocks = message.payload.get("blocks") or []
    return [(e["action_id"], e["value"]) for b in blocks if b["type"] == "actions" for e in b["elements"]]


def _approval(client: TestClient, approval_id: str) -> dict[str, Any]:
    return dict(client.get(f"/v1/approvals/{approval_id}", headers=ADMIN).json())


def test_a_mapped_approver_pressing_approve_decides_and_nothing_else_does(
    client: TestClient, ctx: Integrations, clock: TestClock, chat_server: RecordingServer
) -> None:
    inv = open_ready(client, "SEC-701")
    alice = issue(client, "data_custodian", ALICE)
    held = client.post(
        f"/v1/investigations/{inv['id']}/destroy",
        json={"retain_evidence_bucket": False, "reason": "case closed"},
        headers=alice,
    )
    assert held.status_code == 202, held.text
    approval_id = held.json()["approval"]["id"]

    # The announcement on the chat channel carries the two buttons, for this request.
    (chat,) = [m for m in _messages(ctx, "approval_requested") if m.channel == "chat"]
    assert _buttons(chat) == [("approval.approve", approval_id), ("approval.deny", approval_id)]
    assert not _buttons(next(m for m in _messages(ctx, "approval_requested") if m.channel == "ticket"))

    reply_url = f"{chat_server.url}/actions/T1/1/abc"
    forged = send(client, press("approval.approve", approval_id, clock, user="UCUST", secret="guessed"))
    assert forged.status_code == 401
    unmapped = send(client, press("approval.approve", approval_id, clock, user="UNOBODY"))
    assert unmapped.status_code == 200 and unmapped.json()["ok"] is False
    assert "not mapped" in unmapped.json()["text"]
    yourself = send(
        client, press("approval.approve", approval_id, clock, user="UALICE", response_url=reply_url)
    )
    assert yourself.status_code == 200 and yourself.json()["ok"] is False
    assert "same person" in yourself.json()["text"]
    assert send(client, press("approval.approve", approval_id, clock, user="UANA")).json()["ok"] is False
    assert _approval(client, approval_id)["status"] == "pending_approval"
    assert client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()["status"] == "ready"

    signed = press("approval.approve", approval_id, clock, user="UCUST", response_url=reply_url)
    approved = send(client, signed)
    assert approved.status_code == 200 and approved.json()["ok"] is True, approved.text
    decided = _approval(client, approval_id)
    assert decided["status"] == "approved"
    assert decided["decided_by"] == "slack:UCUST(ucust)" and decided["decided_by_person"] == "carol"
    wait_status(client, inv["id"], "destroyed")
    assert wait_operation(client, decided["operation_id"])["state"] == "succeeded"

    replay = send(client, signed)
    assert replay.status_code == 401 and "replay" in replay.json()["error"]["message"]

    refused = audit_entries(client, action="integration.slack_action")
    outcomes = sorted(e["outcome"] for e in refused)
    assert outcomes == ["refused:forbidden"] * 3 + ["refused:unauthorized"] * 2
    by_user = {e["details"].get("user") for e in refused if e["outcome"] == "refused:forbidden"}
    assert by_user == {"UNOBODY", "UALICE", "UANA"}
    approvals_audit = audit_entries(client, action="approval.approve")
    assert [e["actor"] for e in approvals_audit] == ["slack:UCUST(ucust)"]

    # The presser is told on the press's response_url (through the outbox), refusals included.
    replies = [m.payload["text"] for m in _messages(ctx, "button_press")]
    assert len(replies) == 2 and "same person" in replies[0] and "You approved" in replies[1]


def test_access_asked_for_in_chat_and_approved_with_a_button_every_step_announced(
    client: TestClient, app: FastAPI, ctx: Integrations, clock: TestClock
) -> None:
    inv = open_ready(client, "SEC-702")
    asked = send(
        client, slash(f"access {inv['id']} investigator 1 triage the host", clock, user="UINV"), COMMANDS
    )
    assert asked.status_code == 200 and "You asked for the investigator role" in asked.json()["text"]
    (request,) = client.get(f"/v1/investigations/{inv['id']}/access-requests", headers=ADMIN).json()
    assert (request["person"], request["principal_arn"], request["status"]) == ("erin", ERIN_ARN, "requested")

    (chat,) = [m for m in _messages(ctx, "access_requested") if m.channel == "chat"]
    assert _buttons(chat) == [("access.approve", request["id"]), ("access.deny", request["id"])]

    # Erin cannot approve her own access from chat either.
    assert send(client, press("access.approve", request["id"], clock, user="UINV")).json()["ok"] is False
    decided = send(client, press("access.approve", request["id"], clock, user="UCUST"))
    assert decided.json()["ok"] is True, decided.text
    row = client.get(f"/v1/access-requests/{request['id']}", headers=ADMIN).json()
    assert row["status"] in ("approved", "active") and row["decided_by"] == "slack:UCUST(ucust)"
    assert wait_operation(client, row["operation_id"])["state"] == "succeeded"

    clock.advance(minutes=61)
    assert access.expire_grants(app.state.jobs.ctx, clock()).expired == [request["id"]]

    # A request nobody decides lapses with the approval wait, and a press afterwards changes nothing.
    again = send(
        client, slash(f"access {inv['ticket']} analyst 2 read the notes", clock, user="UINV"), COMMANDS
    )
    assert "You asked" in again.json()["text"]
    waiting = client.get(f"/v1/investigations/{inv['id']}/access-requests", headers=ADMIN).json()[-1]
    clock.advance(hours=ctx.settings.approval_ttl_hours + 1)
    answer = send(client, press("access.approve", waiting["id"], clock, user="UCUST")).json()
    assert answer["ok"] is False and "lapsed" in answer["text"]
    assert access.expire_grants(app.state.jobs.ctx, clock()).lapsed == [waiting["id"]]
    assert client.get(f"/v1/access-requests/{waiting['id']}", headers=ADMIN).json()["status"] == "lapsed"

    alerts = f"{ctx.settings.slack_notify_url}"
    for event in ("access_requested", "access_approved", "access_granted", "access_expired", "access_lapsed"):
        destinations = [(m.channel, m.destination) for m in _messages(ctx, event)]
        # Once on the ticket, once on the alert channel, and once to the chat that asked (its response_url
        # subscription lasts 30 minutes: only the first request's early steps reach it).
        assert ("ticket", "SEC-702") in destinations and ("chat", alerts) in destinations, event
        assert destinations.count(("ticket", "SEC-702")) == (2 if event == "access_requested" else 1), event
    expired = next(m for m in _messages(ctx, "access_expired") if m.channel == "ticket")
    assert "erin's investigator access expired" in expired.payload["text"]
    assert [e["outcome"] for e in audit_entries(client, action="access.lapse")] == ["lapsed"]


def test_a_token_and_a_chat_account_of_one_person_are_one_person_for_access(
    client: TestClient, ctx: Integrations, clock: TestClock
) -> None:
    """Alice asks with her token; her chat account may not approve it (person_aliases)."""
    ctx.settings.person_principals[ALICE] = PersonPrincipal(
        principal_arn="arn:aws:iam::123456789012:role/alice-sso"
    )
    inv = open_ready(client, "SEC-703")
    alice = issue(client, "data_custodian", ALICE)
    asked = client.post(
        f"/v1/investigations/{inv['id']}/access-requests",
        json={"role": "custodian", "hours": 1, "reason": "hold review"},
        headers=alice,
    )
    assert asked.status_code == 201, asked.text
    answer = send(client, press("access.approve", asked.json()["id"], clock, user="UALICE")).json()
    assert answer["ok"] is False and "that person" in answer["text"]
    assert (
        client.get(f"/v1/access-requests/{asked.json()['id']}", headers=ADMIN).json()["status"] == "requested"
    )
