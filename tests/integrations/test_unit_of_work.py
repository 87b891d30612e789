"""The unit of work: what an entry point does commits whole or not at all, and notifications come from the
events the domain returns (bulk status moves included), not from watching the ORM."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.auth.roles import Role
from service.auth.service import Principal
from service.config import PROJECT_ROOT
from service.domain_events import DomainEvent, OperationQueued, StatusChanged
from service.integrations import ticket_webhooks
from service.integrations.integration_context import Integrations
from service.integrations.models import OutboxMessage, TicketAction
from service.investigation_states import Status
from service.investigations import service as investigations
from service.investigations.models import Investigation
from service.operations.models import Operation
from service.operations.states import Action
from service.unit_of_work import Caller, UnitOfWork
from tests.support.api import open_ready, wait_operation
from tests.support.clock import TestClock
from tests.support.integrations import jira_event, signed_webhook, wait_status

WEBHOOK = "/v1/integrations/tickets/webhook"


def _count(ctx: Integrations, model: Any, **where: Any) -> int:
    with ctx.session_factory() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(session.execute(query).scalar_one())


def test_webhook_open_and_its_ticket_action_commit_together(
    app: FastAPI, clock: TestClock, ctx: Integrations, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_record = ticket_webhooks.record_action

    def crash_between(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the process died between opening and recording the ticket action")

    monkeypatch.setattr(ticket_webhooks, "record_action", crash_between)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(WEBHOOK, **_signed(jira_event("SEC-901", labels=["forensics"]), clock))
        assert response.status_code == 500
        # Neither the investigation (nor its operation, audit entry, notices) nor the ticket action.
        assert _count(ctx, Investigation, ticket="SEC-901") == 0
        assert _count(ctx, TicketAction, ticket="SEC-901") == 0
        assert _count(ctx, OutboxMessage, stream="ticket:SEC-901") == 0
        assert _count(ctx, Operation) == 0

        # The redelivery, without the crash, opens it once and records the action with it.
        monkeypatch.setattr(ticket_webhooks, "record_action", real_record)
        clock.advance(seconds=5)
        response = client.post(WEBHOOK, **_signed(jira_event("SEC-901", labels=["forensics"]), clock))
        assert response.status_code == 200, response.text
        result = response.json()["results"][0]
        assert result["outcome"] == "accepted"
        assert _count(ctx, Investigation, ticket="SEC-901") == 1
        with ctx.session_factory() as session:
            row = session.execute(select(TicketAction).where(TicketAction.ticket == "SEC-901")).scalar_one()
            assert row.investigation_id == result["investigation_id"] and row.outcome == "accepted"
        wait_status(client, result["investigation_id"], "ready")


def _signed(payload: dict[str, Any], clock: TestClock) -> dict[str, Any]:
    body, headers = signed_webhook(payload, clock)
    return {"content": body, "headers": headers}


class Recorder:
    def __init__(self) -> None:
        self.in_transaction: list[DomainEvent] = []
        self.after_commit: list[DomainEvent] = []

    def write(self, _session: Any, events: Sequence[DomainEvent]) -> None:
        self.in_transaction.extend(events)

    def react(self, events: Sequence[DomainEvent]) -> None:
        self.after_commit.extend(events)


def test_a_bulk_status_move_is_returned_as_an_event_and_notified(
    client: TestClient, app: FastAPI, ctx: Integrations
) -> None:
    inv = open_ready(client, "SEC-902")
    recorder = Recorder()
    app.state.publisher.subscribe_in_transaction(recorder.write)
    app.state.publisher.subscribe_after_commit(recorder.react)

    # Rolled back: no event reaches anyone, nothing is queued or notified.
    with app.state.session_factory() as session:
        caller = Caller(
            UnitOfWork(session, ctx.clock, ctx.settings, app.state.publisher),
            Principal("custodian@example.com", Role.DATA_CUSTODIAN),
        )
        investigations.request_action(caller, inv["id"], Action.FREEZE, {"reason": "counsel"})
        assert any(isinstance(e, StatusChanged) for e in caller.uow.events)
        caller.rollback()
    assert recorder.in_transaction == [] and recorder.after_commit == []
    assert _count(ctx, OutboxMessage, event="freezing") == 0

    # Committed: the status moved by a conditional (bulk) UPDATE is an event, written to the outbox in the
    # same transaction, and the queued operation is dispatched after the commit.
    with app.state.session_factory() as session:
        caller = Caller(
            UnitOfWork(session, ctx.clock, ctx.settings, app.state.publisher),
            Principal("custodian@example.com", Role.DATA_CUSTODIAN),
        )
        _inv, op = investigations.request_action(caller, inv["id"], Action.FREEZE, {"reason": "counsel"})
        events = caller.commit()
    moved = [e for e in events if isinstance(e, StatusChanged)]
    assert moved == [
        StatusChanged(inv["id"], Status.READY, Status.FREEZING, "freeze", "custodian@example.com", "counsel")
    ]
    assert OperationQueued(inv["id"], op.id) in recorder.after_commit
    assert recorder.in_transaction == events
    with ctx.session_factory() as session:
        notice = session.execute(
            select(OutboxMessage).where(OutboxMessage.event == "freezing", OutboxMessage.channel == "ticket")
        ).scalar_one()
        assert "custodian@example.com" in notice.payload["text"] and "counsel" in notice.payload["text"]
    # (The fake engine's freeze then fails at the legal hold step: this test has no local AWS.)
    wait_operation(client, op.id)


def test_no_orm_hooks_decide_notifications() -> None:
    pattern = re.compile(r"before_flush|after_flush|\.history\b|attrs\[[^]]+\]\.history|event\.listen\(")
    offenders = []
    for path in Path(PROJECT_ROOT, "service").rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line) and "sqlite" not in line:
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}")
    assert offenders == []
