"""Responses the API's routes and the console's pages both serve: the custody report, and an operation's
events as they are stored (server-sent events, polled from the database until the operation ends)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Literal

import anyio
from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import ServerSentEvent

from service.custody import report
from service.custody.report_model import CustodyReport
from service.db.session import SessionFactory
from service.investigations import operation_service
from service.operations.states import TERMINAL, OperationState


def report_response(content: CustodyReport, as_format: Literal["html", "pdf"]) -> Response:
    """The report as the API and the console serve it."""
    if as_format == "pdf":
        name = content.investigation.get("id")
        return Response(
            report.render_pdf(content),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="custody-report-{name}.pdf"'},
        )
    # The report quotes evidence (file names, tags): should escaping miss something, nothing may run or load.
    # It may be framed by the console (same origin) and nowhere else.
    return Response(
        report.render_html(content),
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": (
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
            )
        },
    )


def _poll(factory: SessionFactory, operation_id: str, after: int) -> tuple[list[ServerSentEvent], int, bool]:
    with factory() as session:
        state = OperationState(operation_service.get_operation(session, operation_id).state)
        events = operation_service.events_after(session, operation_id, after)
        out = [ServerSentEvent(data=e.payload | {"type": e.type}, event=e.type, id=str(e.id)) for e in events]
        last = events[-1].id if events else after
    return out, last, state in TERMINAL


async def stream_events(
    operation_id: str, request: Request, after: int, still_allowed: Callable[[], bool] | None = None
) -> AsyncIterator[ServerSentEvent]:
    """The operation's events after ``after``, polled until it ends or the client leaves; ``still_allowed``
    (a blocking check, run before every poll) ends the stream as soon as it answers False."""
    factory: SessionFactory = request.app.state.session_factory
    poll_seconds: float = request.app.state.settings.event_stream_poll_seconds
    while True:
        if still_allowed is not None and not await run_in_threadpool(still_allowed):
            return
        events, after, ended = await run_in_threadpool(_poll, factory, operation_id, after)
        for event in events:
            yield event
        if ended and not events:
            return
        if await request.is_disconnected():
            return
        await anyio.sleep(poll_seconds)
