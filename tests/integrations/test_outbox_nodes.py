"""The outbox with two API nodes on one database (SQLite, and PostgreSQL with Huey on Redis): concurrent
commits from both nodes during an outage of a Jira-like receiver that ignores ``Idempotency-Key`` and loses
answers; every comment arrives once, in commit order. And, on PostgreSQL, commit order is not id order."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.config import Settings
from service.db.migrate import upgrade
from service.db.session import make_engine, make_session_factory
from service.integrations import outbox
from service.integrations.integration_context import Integrations
from service.integrations.models import OutboxMessage
from service.integrations.outbox import Dispatcher
from service.main import create_app
from service.orchestration.fake_engine import ScriptedExecutor
from tests.support.api import ADMIN, open_body
from tests.support.clock import TestClock
from tests.support.http import JiraStandIn
from tests.support.integrations import integration_settings, wait_status

TICKET = "SEC-301"


@pytest.fixture
def jira() -> Iterator[JiraStandIn]:
    server = JiraStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def node_settings(tmp_path: Path, jira: JiraStandIn, stores: dict[str, str | None]) -> Settings:
    # Deliveries are driven by the test (both nodes at once), not after each commit.
    return integration_settings(tmp_path, jira.url, outbox_dispatch_on_commit=False, **stores)


def _extend_until_done(client: TestClient, investigation_id: str, times: int, done: list[int]) -> None:
    """Extends ``times`` times; a 409 (the other node extended meanwhile) is read again and retried."""
    while times:
        response = client.post(
            f"/v1/investigations/{investigation_id}/extend", json={"hours": 1}, headers=ADMIN
        )
        assert response.status_code in (200, 409), response.text
        if response.status_code == 200:
            times -= 1
            done.append(1)


def _messages(ctx: Integrations) -> list[OutboxMessage]:
    with ctx.session_factory() as session:
        return list(
            session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.stream == outbox.ticket_stream(TICKET))
                .order_by(OutboxMessage.position)
            ).scalars()
        )


def _expiry(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("Expires: "))


def test_two_nodes_deliver_each_comment_once_in_commit_order_to_a_receiver_ignoring_keys(
    node_settings: Settings, jira: JiraStandIn
) -> None:
    clock = TestClock()
    one = create_app(node_settings, executor=ScriptedExecutor(delay=0.01), clock=clock)
    two = create_app(node_settings, executor=ScriptedExecutor(delay=0.01), clock=clock)
    with TestClient(one) as first, TestClient(two) as second:
        nodes: list[Integrations] = [one.state.integrations, two.state.integrations]
        jira.down = True
        opened = first.post("/v1/investigations", json=open_body(TICKET), headers=ADMIN).json()
        inv_id = opened["investigation"]["id"]
        wait_status(second, inv_id, "ready")

        # Both nodes commit extensions at once while the receiver is down, and both try to deliver.
        done: list[int] = []
        writers = [
            threading.Thread(target=_extend_until_done, args=(client, inv_id, 4, done))
            for client in (first, second)
        ]
        for thread in writers:
            thread.start()
        for _ in range(3):
            for node in nodes:
                node.dispatcher.deliver_due(clock())
        for thread in writers:
            thread.join()
        assert len(done) == 8
        assert jira.texts(TICKET) == [] and jira.posts >= 1

        # Back, but the first three comments it stores lose their answer: the sender cannot know they arrived.
        jira.down = False
        jira.lose_responses = 3
        for _ in range(30):
            clock.advance(seconds=node_settings.outbox_backoff_max_seconds + 1)
            passes = [threading.Thread(target=node.dispatcher.deliver_due, args=(clock(),)) for node in nodes]
            for thread in passes:
                thread.start()
            for thread in passes:
                thread.join()
            if all(m.state == outbox.DELIVERED for m in _messages(nodes[0])):
                break

        messages = _messages(nodes[0])
        assert [m.event for m in messages] == ["opened", "ready", *["extended"] * 8]
        assert {m.state for m in messages} == {outbox.DELIVERED}
        # Once each, in the order of the stream (commit order): the receiver holds exactly the messages.
        arrived = jira.texts(TICKET)
        assert arrived == [m.payload["text"] for m in messages], (
            [(m.id, m.position, m.event, m.attempts, m.external_id) for m in messages],
            [(c["id"], c["properties"], c["body"][:40]) for c in jira.comments[TICKET]],
        )
        assert [m.external_id for m in messages] == [c["id"] for c in jira.comments[TICKET]]
        # Each extension was committed on top of the one before (compare-and-set on the expiry): commit
        # order shows as strictly later expiries, comment after comment.
        expiries = [_expiry(text) for text in arrived[2:]]
        assert expiries == sorted(expiries) and len(set(expiries)) == 8


def _write(session_factory: Any, now: datetime, text: str) -> Any:
    session = session_factory()
    outbox.enqueue(
        session,
        now,
        channel=outbox.TICKET,
        destination=TICKET,
        stream=outbox.ticket_stream(TICKET),
        event="info",
        payload={"text": text},
        investigation_id=None,
    )
    session.flush()  # the id is taken here, at insert
    return session


def test_on_postgresql_delivery_follows_commit_order_not_id_order(
    tmp_path: Path, postgres_server: Any, jira: JiraStandIn
) -> None:
    settings = integration_settings(tmp_path, jira.url, database_url=postgres_server.database())
    engine = make_engine(settings)
    upgrade(engine)
    factory = make_session_factory(engine)
    clock = TestClock()
    earlier_id = _write(factory, clock(), "inserted first, committed second")
    later_id = _write(factory, clock(), "inserted second, committed first")
    outbox.sequence(later_id)
    later_id.commit()
    outbox.sequence(earlier_id)
    earlier_id.commit()
    for session in (earlier_id, later_id):
        session.close()

    with factory() as session:
        rows = session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
        assert [r.payload["text"] for r in rows] == [
            "inserted first, committed second",
            "inserted second, committed first",
        ]
        assert [r.position for r in rows] == [2, 1]

    from service.integrations.chat import HttpChatClient
    from service.integrations.ticketing_client import make_ticketing_client

    dispatcher = Dispatcher(
        factory, settings, clock, ticketing=make_ticketing_client(settings), chat=HttpChatClient()
    )
    assert len(dispatcher.deliver_due(clock()).delivered) == 2
    assert jira.texts(TICKET) == ["inserted second, committed first", "inserted first, committed second"]
    engine.dispose()
