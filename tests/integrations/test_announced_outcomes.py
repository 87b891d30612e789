"""How an announced operation ended (``ActionSpec.announce``: containment, log collection, memory capture)
becomes one notice kind: "Done in the affected account", or an alert "FAILED in the affected account" with
the reason; the facts its work steps left (a memory image's hash on the instance and the service's re-hash)
are said with it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.domain_events import OperationEnded
from service.integrations.integration_context import Integrations
from service.integrations.messages import ALERTS, slack_message, ticket_text
from service.integrations.notifications import notice_for
from service.investigations.actions import spec_of
from service.operations.states import Action
from tests.support.api import open_ready

ON_INSTANCE = "a" * 64
REHASHED = "b" * 64


def test_every_status_less_action_with_an_end_people_wait_for_announces_it() -> None:
    assert {a for a in Action if spec_of(a).announce} == {
        Action.CONTAIN,
        Action.RELEASE_CONTAINMENT,
        Action.LOGS,
        Action.MEMORY,
    }


def test_an_announced_end_says_how_it_went_with_the_facts_of_its_steps(
    client: TestClient, ctx: Integrations
) -> None:
    inv = open_ready(client, "SEC-2310")
    facts = {"SHA-256 on the instance": ON_INSTANCE, "SHA-256 re-hashed by the service": REHASHED}
    why = "no AWS to read the logs from"
    with ctx.session_factory() as session:
        ended = OperationEnded(inv["id"], "op-1", "memory", "succeeded", "rita", facts=facts)
        done = notice_for(session, ended)
        failed = notice_for(session, OperationEnded(inv["id"], "op-2", "logs", "failed", "rita", why))
    assert done is not None and failed is not None
    assert (done.event, done.headline) == ("action_done", "Done in the affected account")
    assert done.detail == "memory (operation op-1) asked by rita: succeeded."
    assert done.facts == {"action": "memory", **facts}
    assert f"SHA-256 re-hashed by the service: {REHASHED}" in ticket_text(done)
    assert ON_INSTANCE in str(slack_message(done))
    assert done.event not in ALERTS

    assert (failed.event, failed.headline) == ("action_failed", "FAILED in the affected account")
    assert failed.detail == f"logs (operation op-2) asked by rita: failed: {why}"
    assert failed.event in ALERTS
