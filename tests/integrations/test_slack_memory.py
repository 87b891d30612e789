"""`/forensics memory <id|ticket> [<account>/]<instance-id>`: a responder's request is queued as the memory
action (the same checks as REST), an analyst's is refused with a clear message and audited, bad input is
refused."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support.api import ADMIN, open_ready
from tests.support.clock import TestClock
from tests.support.http import RecordingServer
from tests.support.integrations import audit_entries, slash

COMMANDS = "/v1/integrations/slack/commands"


def _post(client: TestClient, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(COMMANDS, content=body, headers=headers).json()


def test_a_responder_captures_memory_from_chat_and_an_analyst_is_refused(
    client: TestClient, clock: TestClock, chat_server: RecordingServer, ticket_server: RecordingServer
) -> None:
    inv = open_ready(client, "SEC-2302")
    analyst = _post(client, *slash("memory SEC-2302 i-0123456789abcdef0", clock, user="UANA"))
    assert analyst["text"] == ":no_entry: your role analyst may not memory clean rooms"
    refused = audit_entries(client, action="chat.memory")
    assert [(e["actor"], e["outcome"]) for e in refused] == [("slack:UANA(uana)", "refused:forbidden")]

    clock.advance(seconds=1)
    bad = _post(client, *slash("memory SEC-2302 not-an-instance", clock))
    assert bad["text"].startswith(":no_entry: instance_id:"), bad
    clock.advance(seconds=1)
    usage = _post(client, *slash("memory SEC-2302", clock))
    assert "usage: /forensics memory <id|ticket> [<account>/]<instance-id>" in usage["text"]

    clock.advance(seconds=1)
    response_url = f"{chat_server.url}/commands/T1/2302/mem"
    asked = _post(client, *slash("memory SEC-2302 i-0123456789abcdef0", clock, response_url=response_url))
    assert asked["text"].startswith(":brain: Capturing the memory of `i-0123456789abcdef0`"), asked
    op_id = asked["text"].split("(operation `", 1)[1].split("`", 1)[0]
    memory = client.get(f"/v1/operations/{op_id}", headers=ADMIN).json()
    assert memory["action"] == "memory" and memory["investigation_id"] == inv["id"]
    assert memory["requested_by"].startswith("slack:URESP")
    assert memory["params"]["instance_id"] == "i-0123456789abcdef0"
    assert memory["params"]["region"] == inv["region"]

    # The outcome is said in chat and on the ticket as every announced action's is (ActionSpec.announce):
    # here the capture cannot run (no AWS in this service), so both say it failed, and why.
    why = "there is no AWS to capture memory from"
    said = chat_server.wait_for(lambda got: any(why in str(r.body) for r in got), timeout=30)
    (message,) = [r for r in said if why in str(r.body)]
    assert message.path == "/commands/T1/2302/mem"
    assert message.body["blocks"][0]["text"]["text"] == "FAILED in the affected account"
    assert f"memory (operation {op_id}) asked by slack:URESP" in str(message.body)
    # The facts the work step left (the instance) are said with it.
    assert "instance: i-0123456789abcdef0" in str(message.body)
    ticket_server.wait_for(
        lambda got: any(why in str(r.body) and "SEC-2302" in r.path for r in got), timeout=30
    )
    assert client.get(f"/v1/investigations/{inv['id']}/evidence", headers=ADMIN).json() == []
