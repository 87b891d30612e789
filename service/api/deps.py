"""Typed dependencies: ``CallerDep`` (the request's unit of work and who is asking: what every changing route
passes to the domain), ``SessionDep``, ``PrincipalDep``, ``SettingsDep``, ``ClockDep``, ``RequestIdDep``, and
``require(Permission)`` for route-level permission checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from service.auth import service as auth
from service.auth.roles import Permission
from service.clock import Clock
from service.config import Settings
from service.unit_of_work import Caller, Publisher, UnitOfWork


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    session: Session = request.app.state.session_factory()
    try:
        yield session
    finally:
        session.close()


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def get_request_id(request: Request) -> str | None:
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
    bootstrap = auth.bootstrap_token(settings)
    principal = auth.authenticate(session, clock, credentials.credentials if credentials else None, bootstrap)
    # The error handler audits refused changes with the caller's name.
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[auth.Principal, Depends(get_principal)]


def require(permission: Permission) -> Callable[[auth.Principal], auth.Principal]:
    def check(principal: PrincipalDep) -> auth.Principal:
        principal.require(permission)
        return principal

    return check


ReaderDep = Annotated[auth.Principal, Depends(require(Permission.READ))]


def request_caller(request: Request, session: Session, principal: auth.Principal) -> Caller:
    """The caller of one HTTP request, however its principal signed in (an API token here, a session cookie
    in the console): the app's clock, settings and publisher, the request's id."""
    publisher: Publisher = request.app.state.publisher
    uow = UnitOfWork(session, get_clock(request), get_settings(request), publisher)
    return Caller(uow, principal, get_request_id(request))


def get_caller(request: Request, session: SessionDep, principal: PrincipalDep) -> Caller:
    return request_caller(request, session, principal)


CallerDep = Annotated[Caller, Depends(get_caller)]
