"""`/forensics logs <id|ticket> [<account>/]<instance-id> [since] [until]`: a responder queues the log
collection (acknowledged at once, audited with its window); an analyst is refused in chat and audited; a bad
window is refused with the request schema's reason, nothing queued."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from service.config import LOCAL_SOURCE_ACCOUNT
from tests.support.api import open_ready
from tests.support.clock import TestClock
from tests.support.http import RecordingServer
from tests.support.integrations import audit_entries, slash

COMMANDS = "/v1/integrations/slack/commands"
INSTANCE = "i-0123456789abcdef0"


def _say(client: TestClient, text: str, clock: TestClock, **kwargs: Any) -> dict[str, Any]:
    clock.advance(seconds=1)
    response = client.post(COMMANDS, content=(signed := slash(text, clock, **kwargs))[0], headers=signed[1])
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_responder_collects_logs_from_chat_and_an_analyst_may_not(
    client: TestClient, clock: TestClock, chat_server: RecordingServer, ticket_server: RecordingServer
) -> None:
    inv = open_ready(client, "SEC-2302")

    analyst = _say(client, f"logs SEC-2302 {INSTANCE}", clock, user="UANA")
    assert analyst["text"] == ":no_entry: your role analyst may not logs clean rooms"
    refused = audit_entries(client, action="chat.logs")
    assert [(e["actor"], e["outcome"]) for e in refused] == [("slack:UANA(uana)", "refused:forbidden")]
    assert audit_entries(client, action="investigation.logs") == []

    backwards = _say(client, f"logs SEC-2302 {INSTANCE} 2026-12-01T12:00:00Z 2026-12-01T10:00:00Z", clock)
    assert backwards["text"].startswith(":no_entry:") and "since must be before until" in backwards["text"]
    naive = _say(client, f"logs SEC-2302 {INSTANCE} 2026-12-01T10:00:00", clock)
    assert naive["text"].startswith(":no_entry:") and "since" in naive["text"]
    assert audit_entries(client, action="investigation.logs") == []

    asked = _say(
        client,
        f"logs SEC-2302 {LOCAL_SOURCE_ACCOUNT}/{INSTANCE} 2026-12-01T10:00:00Z 2026-12-01T12:00:00Z",
        clock,
        response_url=f"{chat_server.url}/commands/T1/2302/logs",
    )
    assert asked["text"].startswith(":scroll: Collecting the logs of " + INSTANCE), asked
    (accepted,) = audit_entries(client, action="investigation.logs")
    assert accepted["actor"] == "slack:URESP(uresp)" and accepted["outcome"] == "accepted"
    details = accepted["details"]
    assert (details["instance_id"], details["source_account_id"], details["region"]) == (
        INSTANCE,
        LOCAL_SOURCE_ACCOUNT,
        inv["region"],
    )
    assert (details["since"], details["until"]) == ("2026-12-01T10:00:00Z", "2026-12-01T12:00:00Z")

    # How it ended reaches the chat and the ticket (here: no AWS to read from, a clear failure).
    ended = chat_server.wait_for(
        lambda got: any("asked by slack:URESP(uresp): failed" in str(r.body) for r in got), timeout=30
    )
    assert any("no AWS to read the logs from" in str(r.body) for r in ended)
    ticket_server.wait_for(lambda got: any("logs (operation" in str(r.body) for r in got), timeout=30)
