"""The console's dependencies: who is signed in (from the session cookie), the caller the domain functions
take (the same ``Caller`` as the API's), and a submitted form whose CSRF token has been checked."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from service.api.deps import ClockDep, RequestIdDep, SessionDep, SettingsDep
from service.auth import service as auth
from service.console import sessions
from service.console.rendering import signer
from service.unit_of_work import Caller, Publisher, UnitOfWork


def console_principal(
    request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> auth.Principal:
    """401 without a valid, unexpired session whose token is still valid."""
    console_session = signer(request).read(request.cookies.get(sessions.SESSION_COOKIE), clock)
    bootstrap = settings.bootstrap_admin_token.get_secret_value() if settings.bootstrap_admin_token else None
    principal = auth.authenticate_digest(session, clock, console_session.token_digest, bootstrap)
    # As in the API: the error handler audits refused changes with the caller's name; pages show who it is.
    request.state.principal = principal
    request.state.console_csrf = console_session.csrf_token
    return principal


ConsolePrincipal = Annotated[auth.Principal, Depends(console_principal)]


def console_caller(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    principal: ConsolePrincipal,
    request_id: RequestIdDep,
) -> Caller:
    publisher: Publisher = request.app.state.publisher
    return Caller(UnitOfWork(session, clock, settings, publisher), principal, request_id)


ConsoleCaller = Annotated[Caller, Depends(console_caller)]


async def checked_form(request: Request, _principal: ConsolePrincipal) -> dict[str, Any]:
    """The submitted form, after its CSRF token matched the session's (403 otherwise)."""
    form = await request.form()
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    sessions.check_csrf(getattr(request.state, "console_csrf", None), values.get(sessions.CSRF_FIELD))
    return values


CheckedForm = Annotated[dict[str, Any], Depends(checked_form)]
