"""What a request costs in hand-offs, and that its session always goes back: the dependencies that only read
the app's state or check a principal run on the event loop (each thread-pool hand-off costs CPU); what
touches the database still runs on a worker thread, and the session is closed however the request ends."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.support.api import ADMIN, issue, open_body


def _opened(client: TestClient) -> str:
    response = client.post("/v1/investigations", json=open_body(), headers=ADMIN)
    assert response.status_code == 202, response.text
    return str(response.json()["investigation"]["id"])


def test_a_read_hands_only_its_database_work_to_the_thread_pool(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    inv_id = _opened(client)
    handed_off: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def recording(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        called = func
        while isinstance(called, functools.partial):
            called = called.func
        handed_off.append(getattr(called, "__name__", repr(called)))
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", recording)
    response = client.get(f"/v1/investigations/{inv_id}", headers=ADMIN)
    assert response.status_code == 200
    # The token lookup, the route, FastAPI's validation of what the route returned, the session's close; not
    # the settings, the clock, the permission check or the session's creation.
    assert handed_off[0] == "get_principal"
    assert handed_off[-1] == "close"
    assert len(handed_off) == 4, handed_off
    assert not {"get_settings", "get_clock", "get_request_id", "check", "__enter__"} & set(handed_off)


def test_every_request_closes_its_session(client: TestClient, app: FastAPI) -> None:
    """However the request ends, its session has no transaction left (its connection went back to the pool).
    The sessions are told apart from the job consumer's, which shares the engine."""
    inv_id = _opened(client)
    analyst = issue(client, "analyst")
    made: list[Session] = []
    factory = app.state.session_factory

    def recording() -> Session:
        session: Session = factory()
        made.append(session)
        return session

    app.state.session_factory = recording

    def closed_after(response_status: int, expected: int) -> None:
        assert response_status == expected
        assert len(made) == 1
        session = made.pop()
        assert not session.in_transaction()
        assert not session.identity_map  # closing expunges what the request loaded

    closed_after(client.get(f"/v1/investigations/{inv_id}", headers=ADMIN).status_code, 200)
    # Refused by the route's permission check, after the token lookup used the session.
    closed_after(client.get("/v1/audit", headers=analyst).status_code, 403)
    # Refused by the domain, after the route's own query.
    closed_after(client.get("/v1/investigations/inv-missing", headers=ADMIN).status_code, 404)
    # A change through the unit of work (the caller dependency).
    extend = {"hours": 1, "reason": "more time"}
    extended = client.post(f"/v1/investigations/{inv_id}/extend", json=extend, headers=ADMIN)
    closed_after(extended.status_code, 200)
    # An unknown token: refused by the lookup itself.
    unknown = client.get("/v1/investigations", headers={"Authorization": "Bearer nope"})
    closed_after(unknown.status_code, 401)
