"""/healthz (the process answers), /readyz (database and Pulumi CLI usable), /metrics (Prometheus, for
the holder of the scrape token)."""

from __future__ import annotations

import hmac
import time
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import text

from service.api.deps import SettingsDep
from service.api.error_handlers import error_response
from service.api.schemas import ErrorResponse
from service.config import Settings
from service.db.session import SessionFactory
from service.errors import NotFound, Unauthorized
from service.observability import metrics
from service.orchestration.engine_readiness import pulumi_cli_problem

router = APIRouter(tags=["health"])
_CLI_CACHE_SECONDS = 60.0


def check_database(factory: SessionFactory) -> str | None:
    try:
        with factory() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:
        return f"database unreachable: {type(exc).__name__}"
    return None


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "not ready"}})
async def readyz(request: Request, settings: SettingsDep) -> Any:
    checks: dict[str, str | None] = {
        "database": await run_in_threadpool(check_database, request.app.state.session_factory)
    }
    # `pulumi version` takes ~100 ms; probes come every few seconds, so its answer is cached briefly.
    cached: tuple[float, str | None] | None = getattr(request.app.state, "cli_check", None)
    if cached is None or time.monotonic() - cached[0] > _CLI_CACHE_SECONDS or cached[1] is not None:
        cached = (time.monotonic(), await run_in_threadpool(pulumi_cli_problem, settings))
        request.app.state.cli_check = cached
    checks["pulumi_cli"] = cached[1]
    failed = {name: problem for name, problem in checks.items() if problem}
    if failed:
        return error_response(503, "not_ready", "; ".join(failed.values()), {"checks": failed})
    return {"status": "ready", "checks": {name: "ok" for name in checks}}


def check_metrics_token(settings: Settings, authorization: str | None) -> None:
    """/metrics is for the configured scraper only: without a token setting it is not served at all."""
    if settings.metrics_token is None:
        raise NotFound("/metrics is not served: set FORENSICS_METRICS_TOKEN and scrape with it as a bearer")
    scheme, _, given = (authorization or "").partition(" ")
    expected = settings.metrics_token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
        raise Unauthorized(
            "/metrics needs the scrape token (Authorization: Bearer <FORENSICS_METRICS_TOKEN>)"
        )


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        401: {"model": ErrorResponse, "description": "no or the wrong scrape token"},
        404: {"model": ErrorResponse, "description": "not served: FORENSICS_METRICS_TOKEN is not set"},
    },
)
def prometheus_metrics(
    request: Request, settings: SettingsDep, authorization: Annotated[str | None, Header()] = None
) -> Response:
    """Prometheus text format, for the scraper holding FORENSICS_METRICS_TOKEN."""
    check_metrics_token(settings, authorization)
    factory: SessionFactory = request.app.state.session_factory
    with factory() as session:
        body = metrics.render(session, request.app.state.jobs.pending())
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
