"""`/forensics contain`: a responder contains an instance from chat (queued as the action table's contain,
in the room's region, for the one configured source account); an analyst is refused, and the refusal is
audited."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from service.config import LOCAL_SOURCE_ACCOUNT
from tests.support.api import ADMIN, open_ready
from tests.support.clock import TestClock
from tests.support.http import RecordingServer
from tests.support.integrations import audit_entries, slash

COMMANDS = "/v1/integrations/slack/commands"
INSTANCE = "i-0123456789abcdef0"


def _post(client: TestClient, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(COMMANDS, content=body, headers=headers)


def test_a_responder_contains_from_chat_and_an_analyst_is_refused(
    client: TestClient, clock: TestClock, chat_server: RecordingServer, ticket_server: RecordingServer
) -> None:
    inv = open_ready(client, "SEC-2302")

    analyst = _post(client, *slash(f"contain SEC-2302 {INSTANCE}", clock, user="UANA")).json()
    assert analyst["text"] == ":no_entry: your role analyst may not contain clean rooms"
    (refused,) = audit_entries(client, action="chat.contain")
    assert (refused["actor"], refused["outcome"]) == ("slack:UANA(uana)", "refused:forbidden")

    clock.advance(seconds=1)
    bad = _post(client, *slash("contain SEC-2302 not-an-instance", clock)).json()
    assert bad["text"].startswith(":no_entry: instance_id")

    clock.advance(seconds=1)
    response_url = f"{chat_server.url}/commands/T1/2302/abcd"
    accepted = _post(client, *slash(f"contain SEC-2302 {INSTANCE}", clock, response_url=response_url)).json()
    assert f"Containing instance `{INSTANCE}` of account {LOCAL_SOURCE_ACCOUNT}" in accepted["text"]
    op_id = accepted["text"].split("(operation `", 1)[1].split("`", 1)[0]
    contain = client.get(f"/v1/operations/{op_id}", headers=ADMIN).json()
    assert (contain["action"], contain["investigation_id"]) == ("contain", inv["id"])
    assert contain["params"]["instance_id"] == INSTANCE
    assert contain["params"]["region"] == inv["region"]
    assert contain["params"]["source_account_id"] == LOCAL_SOURCE_ACCOUNT
    assert contain["requested_by"].startswith("slack:URESP")

    # Its outcome is told in chat and on the ticket although the clean room's status does not move (here it
    # fails: this service has no AWS to contain anything in).
    def told(got: list[Any]) -> bool:
        return any(f"contain (operation {op_id}) asked by slack:URESP" in json.dumps(r.body) for r in got)

    said = [r.body for r in chat_server.wait_for(told)]
    assert any(
        b["blocks"][0]["text"]["text"] == "FAILED in the affected account" for b in said if "blocks" in b
    )
    commented = [r.body["body"] for r in ticket_server.wait_for(told) if "SEC-2302" in r.path]
    assert any(f"contain (operation {op_id})" in body and ": failed: " in body for body in commented)
