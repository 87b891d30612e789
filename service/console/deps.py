"""The console's dependencies: who is signed in (from the session cookie), the caller the domain functions
take (the same ``Caller`` as the API's), and a submitted form whose CSRF token has been checked."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from service.api.deps import ClockDep, SessionDep, SettingsDep, request_caller
from service.auth import service as auth
from service.clock import Clock
from service.config import Settings
from service.console import sessions
from service.console.models import ConsoleSession
from service.console.rendering import signer
from service.db.session import SessionFactory
from service.errors import RateLimited, Unauthorized
from service.unit_of_work import Caller


def console_principal(
    request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> auth.Principal:
    """401 without an open, unexpired session whose token is still valid."""
    console_session = signer(request).read(session, request.cookies.get(sessions.SESSION_COOKIE), clock)
    principal = auth.authenticate_digest(session, clock, settings, console_session.token_digest)
    # As in the API: the error handler audits refused changes with the caller's name; pages show who it is.
    request.state.principal = principal
    request.state.console_csrf = console_session.csrf_token
    request.state.console_session = console_session.id_hash
    return principal


ConsolePrincipal = Annotated[auth.Principal, Depends(console_principal)]


def session_check(request: Request) -> Callable[[], bool]:
    """A blocking check that the request's session is still open and its token still valid, for long-lived
    responses (event streams) that must end when the session does."""
    id_hash: str = request.state.console_session
    settings: Settings = request.app.state.settings
    factory: SessionFactory = request.app.state.session_factory
    clock: Clock = request.app.state.clock
    console_signer = signer(request)

    def still_open() -> bool:
        with factory() as db:
            row = db.get(ConsoleSession, id_hash)
            if row is None or not console_signer.still_open(db, id_hash, clock):
                return False
            try:
                auth.authenticate_digest(db, clock, settings, row.token_digest)
            except Unauthorized:
                return False
            return True

    return still_open


async def stream_slot(request: Request, _principal: ConsolePrincipal) -> AsyncIterator[None]:
    """One of the session's ``console_max_streams`` event streams, held until the stream ends (429 when the
    session already has that many open in this process)."""
    slots: StreamSlots = request.app.state.console_streams
    id_hash: str = request.state.console_session
    slots.acquire(id_hash, request.app.state.settings.console_max_streams)
    try:
        yield
    finally:
        slots.release(id_hash)


StreamSlot = Annotated[None, Depends(stream_slot)]


class StreamSlots:
    """Open event streams per console session, in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, int] = {}

    def acquire(self, id_hash: str, limit: int) -> None:
        with self._lock:
            held = self._open.get(id_hash, 0)
            if held >= limit:
                raise RateLimited(
                    f"this console session already follows {held} operations; close a page first",
                    retry_after=5,
                )
            self._open[id_hash] = held + 1

    def release(self, id_hash: str) -> None:
        with self._lock:
            held = self._open.get(id_hash, 0) - 1
            if held > 0:
                self._open[id_hash] = held
            else:
                self._open.pop(id_hash, None)


def console_caller(request: Request, session: SessionDep, principal: ConsolePrincipal) -> Caller:
    return request_caller(request, session, principal)


ConsoleCaller = Annotated[Caller, Depends(console_caller)]


async def checked_form(request: Request, _principal: ConsolePrincipal) -> dict[str, Any]:
    """The submitted form, after its CSRF token matched the session's (403 otherwise)."""
    form = await request.form()
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    sessions.check_csrf(getattr(request.state, "console_csrf", None), values.get(sessions.CSRF_FIELD))
    return values


CheckedForm = Annotated[dict[str, Any], Depends(checked_form)]
