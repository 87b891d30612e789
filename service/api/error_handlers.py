"""Every error leaves as ``{"error": {"code", "message", "details"}}``; refused changes are audited."""

from __future__ import annotations

import logging
import math
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.audit import service as audit
from service.db.session import session_scope
from service.errors import RateLimited, ServiceError

logger = logging.getLogger(__name__)

_MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    503: "not_ready",
}


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(body, status_code=status, headers=headers)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def audit_refusal(request: Request, exc: ServiceError) -> None:
    """A refused change is evidence too (who tried to destroy a frozen clean room)."""
    principal = getattr(request.state, "principal", None)
    if request.method not in _MUTATING or principal is None:
        return
    try:
        with session_scope(request.app.state.session_factory) as session:
            audit.record(
                session,
                request.app.state.clock,
                actor=principal.actor,
                action=f"{request.method} {request.url.path}",
                target=request.url.path,
                outcome=f"refused:{exc.code}",
                request_id=getattr(request.state, "request_id", None),
                details={"message": exc.message},
            )
    except Exception:
        logger.exception("could not audit a refused request")


def install(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> JSONResponse:
        if exc.status_code >= 500:
            logger.error("service error on %s %s: %s", request.method, request.url.path, exc.message)
        else:
            audit_refusal(request, exc)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
        return error_response(exc.status_code, exc.code, exc.message, exc.details, headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {"field": _field(err.get("loc", ())), "message": err.get("msg", ""), "type": err.get("type", "")}
            for err in exc.errors()
        ]
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
        return error_response(422, "invalid_input", f"invalid request: {summary}", {"fields": fields})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        headers = dict(exc.headers or {})
        if status == 400:
            # FastAPI's "error parsing the body" (bad encoding): invalid input, like malformed JSON.
            status = 422
        if status == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request.app, request.url.path)) or headers.get(
                "Allow", ""
            )
        code = _HTTP_CODES.get(status, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(status, code, message, None, headers or None)


def _allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Starlette's Allow lists only the first route matching the path; list every method served there."""
    patterns: list[tuple[re.Pattern[str], list[str]]] | None = getattr(app.state, "allow_patterns", None)
    if patterns is None:
        patterns = []
        for template, operations in app.openapi().get("paths", {}).items():
            regex = "^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)) + "$"
            patterns.append((re.compile(regex), sorted(m.upper() for m in operations if m != "parameters")))
        app.state.allow_patterns = patterns
    return next((methods for regex, methods in patterns if regex.match(path)), [])
