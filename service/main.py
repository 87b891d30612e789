"""The app factory: ``create_app(settings) -> FastAPI``; ``app`` for uvicorn (``uvicorn service.main:app``).

The lifespan applies migrations, runs start-up recovery and starts the embedded Huey consumer (unless
``embedded_consumer`` is off because a separate consumer runs the jobs): in a child process when serving
(``consumer_process``), on threads of this process otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from service import features  # noqa: F401  (registers every feature's actions: the table is complete here)
from service.api import error_handlers, health
from service.api.middleware import (
    BodySizeLimitMiddleware,
    CatchAllMiddleware,
    HstsMiddleware,
    RequestIdMiddleware,
)
from service.api.routes.access import router as access_router
from service.api.routes.approvals import router as approvals_router
from service.api.routes.audit import router as audit_router
from service.api.routes.auth import router as tokens_router
from service.api.routes.custody import router as custody_router
from service.api.routes.expiry import router as teardown_router
from service.api.routes.integrations import router as integrations_router
from service.api.routes.investigations import router as investigations_router
from service.api.routes.operations import router as operations_router
from service.api.schemas import document_error_schemas
from service.api.shared_routes import add_routes
from service.auth.persons import SERVICE_PRINCIPAL_PREFIX, people
from service.clock import Clock, utcnow
from service.config import Settings, get_settings, production_problems
from service.console import wiring as console
from service.db.migrate import upgrade
from service.db.session import make_engine, make_session_factory
from service.errors import Misconfigured
from service.jobs import integration_tasks as integrations
from service.jobs.consumer_process import ConsumerProcess
from service.jobs.job_context import JobContext
from service.jobs.tasks import Jobs, install_schedule
from service.orchestration import policy_gate
from service.orchestration.engine import OperationExecutor, PulumiExecutor

logger = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    *,
    executor: OperationExecutor | None = None,
    clock: Clock = utcnow,
    consumer_process: bool = False,
) -> FastAPI:
    """``executor`` defaults to the real engine (PulumiExecutor); API-level tests may pass a fake.

    ``consumer_process``: the embedded consumer runs in a child process (``service.jobs.consumer_process``)
    rather than on threads of this one, so request handling never waits on the jobs and their event
    ingestion; what serves the API (``service.main:app``, ``make run``) asks for it. On threads it shares
    this process's executor and clock, which is what tests that inject them need."""
    settings = settings or get_settings()
    problems = production_problems(settings)
    if problems:
        raise Misconfigured("refusing to start against real AWS:\n- " + "\n- ".join(problems))
    unloadable = policy_gate.load_problems(settings)
    if unloadable:
        raise Misconfigured("refusing to start without the policy gate:\n- " + "\n- ".join(unloadable))
    engine = make_engine(settings)
    session_factory = make_session_factory(engine)
    jobs = Jobs(
        JobContext(
            settings=settings,
            session_factory=session_factory,
            executor=executor or PulumiExecutor(),
            clock=clock,
        )
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.run_migrations_on_startup:
            await run_in_threadpool(upgrade, engine)
        child = ConsumerProcess(settings) if settings.embedded_consumer and consumer_process else None
        if settings.embedded_consumer:
            # Recovery before the consumer, and before serving (what a client reads first is recovered):
            # nothing of ours runs yet, so every `running` row is an orphan.
            await run_in_threadpool(jobs.recover)
        if child is not None:
            # It recovers again at each start (``service.jobs.worker``), which is what a restart after its
            # crash needs; the first time it finds nothing left.
            child.start()
        elif settings.embedded_consumer:
            jobs.start_consumer()
        app.state.consumer_process = child
        try:
            yield
        finally:
            if child is not None:
                await run_in_threadpool(child.stop)
            await run_in_threadpool(jobs.stop_consumer)
            engine.dispose()

    app = FastAPI(
        title="Forensic clean room service",
        version="1.0.0",
        description=(
            "Fresh isolated AWS forensic clean rooms per investigation: open, preview, freeze, release,"
            ' destroy. Errors are {"error": {"code", "message", "details"}}.'
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.clock = clock
    app.state.jobs = jobs
    app.state.publisher = jobs.ctx.publisher

    error_handlers.install(app)
    # Outermost last: request id, then the catch-all, then the body limit around the routes.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(CatchAllMiddleware)
    app.add_middleware(HstsMiddleware, settings=settings)
    app.add_middleware(RequestIdMiddleware)

    # Every app of the process shares the routers' routes, built once (service/api/shared_routes.py).
    add_routes(app, health.router)
    add_routes(app, investigations_router)
    add_routes(app, custody_router)
    add_routes(app, operations_router)
    add_routes(app, approvals_router)
    add_routes(app, access_router)
    add_routes(app, audit_router)
    add_routes(app, tokens_router)
    # Ticketing/chat integrations, TTL teardown and drift checks: routers, hooks, Huey tasks.
    app.state.integrations = integrations.build(jobs)
    add_routes(app, integrations_router)
    add_routes(app, teardown_router)
    install_schedule(jobs)
    # The operator console (/console): pages over the same domain functions, after the API's error handlers.
    console.install(app)
    _advertise_settings(app, settings)
    return app


def _advertise_settings(app: FastAPI, settings: Settings) -> None:
    """The OpenAPI schema names what settings allow rather than what the models' patterns would (the regions
    with a forensic account, the allowed instance types, the longest opening TTL one person may grant, the
    principals a token may be minted for), so a client can see what it may ask for and a fuzzer does not call
    other values valid."""
    build = app.openapi
    regions = sorted(settings.accounts)
    principals = sorted(set(settings.person_aliases) | people(settings))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            document_error_schemas(schema)
            models = schema.get("components", {}).get("schemas", {})
            create = models.get("InvestigationCreate")
            if create is not None:
                fields = create["properties"]
                fields["region"] = {
                    "anyOf": [{"type": "string", "enum": regions}, {"type": "null"}],
                    "title": "Region",
                    "description": "A region with a forensic account; default: the service's own region.",
                }
                fields["instance_type"] = {
                    "anyOf": [
                        {"type": "string", "enum": list(settings.allowed_instance_types)},
                        {"type": "null"},
                    ],
                    "title": "Instance Type",
                    "description": "An allowed instance type (FORENSICS_ALLOWED_INSTANCE_TYPES).",
                }
                fields["ttl_hours"] = {
                    "anyOf": [
                        {"type": "integer", "minimum": 1, "maximum": settings.two_person_extension_hours},
                        {"type": "null"},
                    ],
                    "title": "Ttl Hours",
                    "description": "At most what one person may grant; more is an extension a second person "
                    "approves.",
                }
            token = models.get("TokenCreate")
            if token is not None:
                machine = f"^{SERVICE_PRINCIPAL_PREFIX}[A-Za-z0-9_.@+:/ -]+$"
                allowed: list[dict[str, Any]] = [{"type": "string", "pattern": machine, "maxLength": 200}]
                if principals:
                    allowed.insert(0, {"type": "string", "enum": principals})
                token["properties"]["principal"] = {
                    "anyOf": allowed,
                    "title": "Principal",
                    "description": "A configured person, or a service principal (service:<name>).",
                }
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


def __getattr__(name: str) -> FastAPI:
    # `uvicorn service.main:app` builds the app from the environment on first access, not at import
    # (so importing create_app in tests never touches the default data folder).
    if name == "app":
        application = create_app(consumer_process=True)
        globals()["app"] = application
        return application
    raise AttributeError(name)
