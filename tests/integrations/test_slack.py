"""Slash commands: signature checks (401, nothing changed, audited), roles and channels, immediate ack, and
progress + the final Block Kit message on the response_url (a real local HTTP server)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.integrations.integration_context import Integrations
from tests.support.api import ADMIN, open_ready
from tests.support.clock import TestClock
from tests.support.http import RecordingServer
from tests.support.integrations import audit_entries, slash, wait_status

COMMANDS = "/v1/integrations/slack/commands"


def _post(client: TestClient, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(COMMANDS, content=body, headers=headers)


def _count(client: TestClient) -> int:
    return int(client.get("/v1/investigations", headers=ADMIN).json()["total"])


def test_open_acks_at_once_then_progress_and_result_reach_the_response_url(
    client: TestClient, clock: TestClock, chat_server: RecordingServer
) -> None:
    response_url = f"{chat_server.url}/commands/T1/1234/abcd"
    response = _post(client, *slash("open SEC-301 eu-west-1", clock, response_url=response_url))
    assert response.status_code == 200, response.text
    ack = response.json()
    assert ack["response_type"] == "ephemeral"
    assert "Opening a clean room for *SEC-301*" in ack["text"]

    received = chat_server.wait_for(
        lambda got: any(r.body.get("text", "").startswith("Forensic clean room is ready") for r in got)
    )
    assert [r.path for r in received] == ["/commands/T1/1234/abcd"] * len(received)
    headlines = [r.body["blocks"][0]["text"]["text"] for r in received]
    assert headlines == ["Forensic clean room requested: opening", "Forensic clean room is ready"]
    final = received[-1].body
    assert final["response_type"] == "ephemeral" and final["replace_original"] is False
    fields = " ".join(f["text"] for block in final["blocks"] for f in block.get("fields", []))
    assert "SEC-301" in fields and "ready" in fields and "eu-west-1" in fields
    assert "*instanceId*" in fields and "i-123" in fields
    assert all(r.headers["idempotency-key"].startswith("forensics-outbox-") for r in received)
    inv = client.get("/v1/investigations", params={"ticket": "SEC-301"}, headers=ADMIN).json()["items"][0]
    assert inv["created_by"].startswith("slack:URESP")


def test_unsigned_forged_stale_and_replayed_commands_are_refused_and_audited(
    client: TestClient, clock: TestClock
) -> None:
    body, headers = slash("open SEC-302", clock)
    unsigned = client.post(
        COMMANDS, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    forged = _post(client, *slash("open SEC-302", clock, secret="wrong"))
    stale = _post(client, *slash("open SEC-302", clock, at=clock() - timedelta(minutes=6)))
    for response in (unsigned, forged, stale):
        assert response.status_code == 401, response.text
    assert _count(client) == 0

    assert _post(client, body, headers).status_code == 200
    replay = _post(client, body, headers)
    assert replay.status_code == 401 and "replay" in replay.json()["error"]["message"]
    assert _count(client) == 1
    refused = audit_entries(client, action="integration.slack_command")
    assert len(refused) == 4 and {e["outcome"] for e in refused} == {"refused:unauthorized"}


def test_no_signing_secret_fails_closed(client: TestClient, clock: TestClock, ctx: Integrations) -> None:
    secret, ctx.settings.slack_signing_secret = ctx.settings.slack_signing_secret, None
    try:
        assert _post(client, *slash("list", clock)).status_code == 401
    finally:
        ctx.settings.slack_signing_secret = secret


def test_roles_and_unknown_users_are_refused_with_a_clear_message(
    client: TestClient, clock: TestClock
) -> None:
    inv = open_ready(client, "SEC-303")
    analyst = _post(client, *slash(f"destroy {inv['id']}", clock, user="UANA")).json()
    assert analyst["response_type"] == "ephemeral"
    assert analyst["text"] == ":no_entry: your role analyst may not destroy clean rooms"
    clock.advance(seconds=1)
    responder = _post(client, *slash(f"destroy {inv['id']}", clock)).json()
    assert "your role responder may not destroy" in responder["text"]
    clock.advance(seconds=1)
    stranger = _post(client, *slash("list", clock, user="UNOBODY")).json()
    assert "not mapped to a forensics role" in stranger["text"]
    assert client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()["status"] == "ready"
    refused = audit_entries(client, action="chat.destroy")
    assert {(e["actor"], e["outcome"]) for e in refused} == {
        ("slack:UANA(uana)", "refused:forbidden"),
        ("slack:URESP(uresp)", "refused:forbidden"),
    }

    clock.advance(seconds=1)
    listed = _post(client, *slash("list", clock, user="UANA")).json()
    assert inv["id"] in listed["text"]
    clock.advance(seconds=1)
    status = _post(client, *slash("status SEC-303", clock, user="UANA")).json()
    assert status["blocks"][0]["text"]["text"] == "Clean room"
    clock.advance(seconds=1)
    destroyed = _post(client, *slash(f"destroy {inv['id']}", clock, user="UCUST")).json()
    assert destroyed["text"].startswith(":wastebasket: Destroying")
    wait_status(client, inv["id"], "destroyed")


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"slack_allowed_channels": ["CINC"]}


def test_channels_help_extend_and_errors(client: TestClient, clock: TestClock) -> None:
    wrong = _post(client, *slash("list", clock, channel="CRANDOM")).json()
    assert "not allowed in this channel" in wrong["text"]
    clock.advance(seconds=1)
    assert "/forensics open <ticket> [region]" in _post(client, *slash("help", clock)).json()["text"]
    clock.advance(seconds=1)
    inv = open_ready(client, "SEC-304")
    before = inv["expires_at"]
    extended = _post(client, *slash(f"extend {inv['id']} 6", clock)).json()
    assert extended["text"].startswith(":alarm_clock:")
    after = client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()["expires_at"]
    assert after > before
    clock.advance(seconds=1)
    missing = _post(client, *slash("freeze nope-123", clock)).json()
    assert "not found" in missing["text"]
    clock.advance(seconds=1)
    usage = _post(client, *slash("extend only-one-arg", clock)).json()
    assert "usage: /forensics extend <id> <hours>" in usage["text"]
    clock.advance(seconds=1)
    bad_region = _post(client, *slash("open SEC-305 mars-1", clock)).json()
    assert "region" in bad_region["text"]
