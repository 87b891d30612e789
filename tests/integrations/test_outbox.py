"""The outbox against a real (local) ticketing server that is down for a while: every status comment arrives
exactly once, in order, after it recovers; backoff is driven with the test clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.integrations.integration_context import Integrations
from service.integrations.models import OutboxMessage
from service.integrations.outbox import backoff
from tests.support.api import ADMIN, open_body
from tests.support.clock import TestClock
from tests.support.http import RecordingServer
from tests.support.integrations import wait_status


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"outbox_dispatch_on_commit": False}  # this test drives the dispatcher itself


def _states(ctx: Integrations) -> list[tuple[str, str, int]]:
    with ctx.session_factory() as session:
        rows = session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
        return [(m.event, m.state, m.attempts) for m in rows]


def test_comments_survive_an_outage_and_arrive_once_in_order(
    client: TestClient, clock: TestClock, ctx: Integrations, ticket_server: RecordingServer
) -> None:
    ticket_server.fail_first = 4
    opened = client.post("/v1/investigations", json=open_body("SEC-201"), headers=ADMIN).json()
    inv_id = opened["investigation"]["id"]
    wait_status(client, inv_id, "ready")
    assert (
        client.post(f"/v1/investigations/{inv_id}/extend", json={"hours": 8}, headers=ADMIN).status_code
        == 200
    )
    other = client.post("/v1/investigations", json=open_body("SEC-202"), headers=ADMIN).json()
    wait_status(client, other["investigation"]["id"], "ready")
    assert [e for e, _, _ in _states(ctx)] == ["opened", "ready", "extended", "opened", "ready"]

    # Down: each pass tries only each ticket's head, once; nothing behind a failed head is sent.
    report = ctx.dispatcher.deliver_due(clock())
    assert len(report.failed) == 2 and report.delivered == []
    assert len(ticket_server.received) == 2
    assert ctx.dispatcher.deliver_due(clock()).failed == []  # not due yet: backoff
    assert len(ticket_server.received) == 2

    clock.advance(seconds=backoff(ctx.settings, 1))
    assert len(ctx.dispatcher.deliver_due(clock()).failed) == 2  # attempts 2: still down (4 failures used)
    assert all(attempts == 2 for e, state, attempts in _states(ctx) if e == "opened")
    assert ticket_server.delivered() == []

    # An hour later it is back: everything arrives, in order per ticket, exactly once.
    clock.advance(hours=1)
    report = ctx.dispatcher.deliver_due(clock())
    assert len(report.delivered) == 5 and report.failed == [] and report.next_due_in is None
    assert ctx.dispatcher.deliver_due(clock()).delivered == []  # nothing twice

    delivered = ticket_server.delivered()
    per_ticket: dict[str, list[str]] = {}
    for r in delivered:
        assert r.path.startswith("/rest/api/2/issue/") and r.path.endswith("/comment")
        assert r.headers["authorization"].startswith("Basic ")
        per_ticket.setdefault(r.path.split("/")[5], []).append(r.body["body"].splitlines()[0])
    assert per_ticket == {
        "SEC-201": [
            f"[forensics] Forensic clean room requested: opening: {inv_id}",
            f"[forensics] Forensic clean room is ready: {inv_id}",
            f"[forensics] Clean room expiry extended: {inv_id}",
        ],
        "SEC-202": [
            f"[forensics] Forensic clean room requested: opening: {other['investigation']['id']}",
            f"[forensics] Forensic clean room is ready: {other['investigation']['id']}",
        ],
    }
    keys = [r.headers["idempotency-key"] for r in delivered]
    assert len(set(keys)) == 5
    ready = next(r for r in delivered if "is ready" in r.body["body"] and "SEC-201" in r.path)
    assert "instanceId: i-123" in ready.body["body"] and "vpcId: vpc-123" in ready.body["body"]
    assert {state for _, state, _ in _states(ctx)} == {"delivered"}

    listed = client.get("/v1/integrations/outbox", params={"state": "delivered"}, headers=ADMIN).json()
    assert listed["total"] == 5


def test_backoff_is_exponential_and_capped(ctx: Integrations) -> None:
    delays = [backoff(ctx.settings, n) for n in range(1, 8)]
    assert delays == [10.0, 20.0, 40.0, 80.0, 120.0, 120.0, 120.0]


def test_a_permanent_failure_is_dead_lettered_and_audited(
    client: TestClient, clock: TestClock, ctx: Integrations
) -> None:
    from service.integrations.ticketing_client import DeliveryError

    class Gone:
        def __init__(self) -> None:
            self.sent: list[str] = []

        def post_comment(self, ticket: str, text: str, *, idempotency_key: str | None = None) -> None:
            if "opening" in text:
                raise DeliveryError("HTTP 404 issue does not exist", permanent=True)
            self.sent.append(text)

    gone = Gone()
    ctx.ticketing = gone
    opened = client.post("/v1/investigations", json=open_body("SEC-203"), headers=ADMIN).json()
    wait_status(client, opened["investigation"]["id"], "ready")
    report = ctx.dispatcher.deliver_due(clock() + timedelta(seconds=1))
    assert len(report.dead) == 1 and len(report.delivered) == 1
    assert [e for e, s, _ in _states(ctx) if s == "dead"] == ["opened"]
    entries = client.get("/v1/audit", params={"action": "integration.delivery"}, headers=ADMIN).json()[
        "items"
    ]
    assert entries[0]["outcome"] == "dead"
