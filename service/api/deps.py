"""Typed dependencies: ``CallerDep`` (the request's unit of work and who is asking: what every changing route
passes to the domain), ``SessionDep``, ``PrincipalDep``, ``SettingsDep``, ``ClockDep``, ``RequestIdDep``, and
``require(Permission)`` for route-level permission checks.

FastAPI runs a plain ``def`` dependency on the thread pool (a hand-off to a worker thread and back, ~0.1 ms
of CPU each) and an ``async def`` one on the event loop. So what only reads the app's state or checks a
principal is ``async def``; what touches the database (the session's close, the token lookup) stays plain,
off the event loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated

import anyio.to_thread
from anyio import CancelScope, CapacityLimiter
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from service.auth import service as auth
from service.auth.roles import Permission
from service.clock import Clock
from service.config import Settings
from service.unit_of_work import Caller, Publisher, UnitOfWork


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    # A new session does no I/O (it connects on first use). Closing it returns its connection to the pool,
    # which rolls back: I/O, so on a worker thread, as FastAPI closes a plain generator's: shielded (a
    # client that disconnects still gets its connection returned) and outside the thread pool's capacity
    # (requests holding every worker while they wait for a pooled connection must not block its return).
    session: Session = request.app.state.session_factory()
    try:
        yield session
    finally:
        with CancelScope(shield=True):
            await anyio.to_thread.run_sync(session.close, limiter=CapacityLimiter(1))


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_request_id(request: Request) -> str | None:
    value: str | None = getattr(request.state, "request_id", None)
    return value


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
ClockDep = Annotated[Clock, Depends(get_clock)]
RequestIdDep = Annotated[str | None, Depends(get_request_id)]

_bearer = HTTPBearer(auto_error=False, description="API token (POST /v1/tokens issues them)")


def get_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> auth.Principal:
    principal = auth.authenticate(session, clock, settings, credentials.credentials if credentials else None)
    # The error handler audits refused changes with the caller's name.
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[auth.Principal, Depends(get_principal)]


def require(permission: Permission) -> Callable[[auth.Principal], Coroutine[None, None, auth.Principal]]:
    async def check(principal: PrincipalDep) -> auth.Principal:
        principal.require(permission)
        return principal

    return check


ReaderDep = Annotated[auth.Principal, Depends(require(Permission.READ))]


def request_caller(request: Request, session: Session, principal: auth.Principal) -> Caller:
    """The caller of one HTTP request, however its principal signed in (an API token here, a session cookie
    in the console): the app's clock, settings and publisher, the request's id. Reads only the app's and the
    request's state, so it runs wherever its dependency does."""
    publisher: Publisher = request.app.state.publisher
    settings: Settings = request.app.state.settings
    clock: Clock = request.app.state.clock
    request_id: str | None = getattr(request.state, "request_id", None)
    return Caller(UnitOfWork(session, clock, settings, publisher), principal, request_id)


async def get_caller(request: Request, session: SessionDep, principal: PrincipalDep) -> Caller:
    return request_caller(request, session, principal)


CallerDep = Annotated[Caller, Depends(get_caller)]
