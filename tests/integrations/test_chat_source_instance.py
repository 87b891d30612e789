"""Every chat command acting on an affected instance (contain, memory, logs) names it the same way,
``[<account>/]<instance-id>``: with two source accounts configured, ``<account>/<instance-id>`` picks the
account, a bare instance id is refused naming both (guessing would act in the wrong account), and an account
that is not configured is refused by the action's own check."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.api import ADMIN, open_ready
from tests.support.clock import TestClock
from tests.support.integrations import slash

COMMANDS = "/v1/integrations/slack/commands"
INSTANCE = "i-0123456789abcdef0"
FIRST, SECOND = "111111111111", "222222222222"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "source_accounts": {
            account: {"snapshot_role_arn": f"arn:aws:iam::{account}:role/forensics-evidence"}
            for account in (FIRST, SECOND)
        }
    }


def _say(client: TestClient, text: str, clock: TestClock) -> Any:
    clock.advance(seconds=1)
    body, headers = slash(text, clock)
    return client.post(COMMANDS, content=body, headers=headers).json()


@pytest.mark.parametrize("command", ["contain", "memory", "logs"])
def test_the_account_is_named_before_the_instance_when_several_are_configured(
    client: TestClient, clock: TestClock, command: str
) -> None:
    inv = open_ready(client, "SEC-2320")

    bare = _say(client, f"{command} SEC-2320 {INSTANCE}", clock)
    assert bare["text"].startswith(":no_entry: name the source account"), bare
    assert f"({FIRST}, {SECOND})" in bare["text"]
    assert f"usage: /forensics {command} <id|ticket> [<account>/]<instance-id>" in bare["text"]

    unknown = _say(client, f"{command} SEC-2320 333333333333/{INSTANCE}", clock)
    assert unknown["text"].startswith(":no_entry:") and "333333333333" in unknown["text"], unknown

    asked = _say(client, f"{command} SEC-2320 {SECOND}/{INSTANCE}", clock)
    assert "(operation `" in asked["text"], asked
    op_id = asked["text"].split("(operation `", 1)[1].split("`", 1)[0]
    op = client.get(f"/v1/operations/{op_id}", headers=ADMIN).json()
    assert (op["action"], op["investigation_id"]) == (command, inv["id"])
    assert (op["params"]["source_account_id"], op["params"]["instance_id"]) == (SECOND, INSTANCE)
