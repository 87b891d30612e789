"""Mounts the console in the app: its router, its static files, and its error pages.

Errors raised under /console are the API's errors (the same ``ServiceError`` from the same domain
functions, the same validation and HTTP errors), rendered as a page with the same status, code and message;
refused changes are audited exactly as the API audits them. Everything else keeps the API's JSON handlers.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from service.api.error_handlers import audit_refusal
from service.api.shared_routes import add_routes
from service.console import sessions
from service.console.deps import StreamSlots
from service.console.rendering import STATIC_DIR, error_page, service_error_page
from service.console.views import router
from service.errors import ServiceError, Unauthorized

Handler = Callable[[Request, Any], Awaitable[Response]]


def _in_console(request: Request) -> bool:
    return request.url.path == sessions.COOKIE_PATH or request.url.path.startswith(sessions.COOKIE_PATH + "/")


def install(app: FastAPI) -> None:
    app.state.console_signer = sessions.SessionSigner(app.state.settings)
    app.state.console_streams = StreamSlots()
    add_routes(app, router)
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")

    api_service_error: Handler = app.exception_handlers[ServiceError]  # type: ignore[assignment]
    api_validation_error: Handler = app.exception_handlers[RequestValidationError]  # type: ignore[assignment]
    api_http_error: Handler = app.exception_handlers[StarletteHTTPException]  # type: ignore[assignment]

    async def service_error(request: Request, exc: ServiceError) -> Response:
        if not _in_console(request):
            return await api_service_error(request, exc)
        if exc.status_code < 500:
            audit_refusal(request, exc)
        response = service_error_page(request, exc)
        if isinstance(exc, Unauthorized):
            # A session that no longer signs anyone in is dropped, so the next page asks to sign in.
            response.delete_cookie(sessions.SESSION_COOKIE, path=sessions.COOKIE_PATH)
        return response

    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if not _in_console(request):
            return await api_validation_error(request, exc)
        # The API's 422, read back from its own handler so the wording cannot drift.
        api = await api_validation_error(request, exc)
        return _as_page(request, api)

    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not _in_console(request):
            return await api_http_error(request, exc)
        return _as_page(request, await api_http_error(request, exc))

    app.add_exception_handler(ServiceError, service_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]


def _as_page(request: Request, api: Response) -> Response:
    error = json.loads(bytes(api.body))["error"]
    return error_page(request, api.status_code, error["code"], error["message"], error.get("details"))
