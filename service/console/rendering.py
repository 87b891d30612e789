"""Jinja2 pages for the console: the template environment, its filters, and the headers every page gets."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from service.api.forwarded import is_https
from service.clock import as_utc
from service.console.sessions import COOKIE_PATH, NOTICE_COOKIE, SessionSigner
from service.errors import ServiceError

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"

# Everything the console loads comes from the service itself (the operators' network may be offline), and a
# page may only be framed by nobody; the custody report is framed by the console (same origin).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _when(value: datetime | str | None) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        parsed = value
    return as_utc(parsed).strftime("%Y-%m-%d %H:%M:%S UTC")


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def _percent(done: int, planned: int) -> int:
    return 0 if planned <= 0 else min(100, round(100 * done / planned))


templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["when"] = _when
templates.env.filters["pretty"] = _pretty
templates.env.globals["percent"] = _percent


def signer(request: Request) -> SessionSigner:
    value: SessionSigner = request.app.state.console_signer
    return value


def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """A page with the signed-in caller's context (set by the session dependency) and the notice a redirect
    left for it, which is shown once."""
    notice = signer(request).read_notice(request.cookies.get(NOTICE_COOKIE))
    base = {
        "principal": getattr(request.state, "principal", None),
        "csrf_token": getattr(request.state, "console_csrf", None),
        "notice": notice,
    }
    response = templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    if notice is not None:
        response.delete_cookie(NOTICE_COOKIE, path=COOKIE_PATH)
    return response


def redirect(request: Request, url: str, notice: str | None = None) -> RedirectResponse:
    """303 to a page (post/redirect/get), with a one-time notice for it."""
    response = RedirectResponse(url, status_code=303)
    if notice is not None:
        set_cookie(request, response, NOTICE_COOKIE, signer(request).notice(notice))
    return response


def set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    """Every console cookie: the console's path only, out of scripts' reach, never sent by another site, and
    over TLS only when the client reached us over TLS (directly or through a trusted proxy)."""
    secure = is_https(request, request.app.state.settings)
    response.set_cookie(name, value, path=COOKIE_PATH, httponly=True, samesite="strict", secure=secure)


def error_page(
    request: Request, status_code: int, code: str, message: str, details: Any = None
) -> HTMLResponse:
    """The API's error (status, code, message, details) as a page."""
    context = {"status_code": status_code, "code": code, "message": message, "details": details}
    return page(request, "error.html", context, status_code=status_code)


def service_error_page(request: Request, exc: ServiceError) -> HTMLResponse:
    return error_page(request, exc.status_code, exc.code, exc.message, exc.details)
