"""/v1/operations: state, live events (SSE tailing the events table), cancel."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Header, Path, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, ServerSentEvent

from service.api.deps import CallerDep, ReaderDep, SessionDep
from service.api.schemas import ERROR_RESPONSES, ErrorResponse
from service.approvals.schemas import ApprovalPending
from service.db.session import SessionFactory
from service.investigations import operation_service as service
from service.investigations.approval_models import ApprovalRequest
from service.operations.schemas import OperationOut
from service.operations.states import TERMINAL, OperationState

router = APIRouter(prefix="/v1/operations", tags=["operations"], responses=ERROR_RESPONSES)

OperationId = Annotated[
    str, Path(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", description="UUID")
]
POLL_SECONDS = 0.5


@router.get("/{operation_id}", response_model=OperationOut)
def get_operation(operation_id: OperationId, session: SessionDep, _: ReaderDep) -> OperationOut:
    return OperationOut.model_validate(service.get_operation(session, operation_id))


@router.post(
    "/{operation_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=OperationOut | ApprovalPending,
    responses={
        202: {
            "description": "The operation (cancelled, or asked to stop). Cancelling a data custodian's "
            "release or destroy that someone else asked for is held by the two-person rule instead: "
            "`{approval, message}`, and nothing is cancelled until a different person approves it."
        }
    },
)
def cancel_operation(operation_id: OperationId, caller: CallerDep) -> OperationOut | ApprovalPending:
    """Needs the cancel permission and every permission of the action it cancels (for a custodian's
    decision asked for by someone else: the approver needs them)."""
    result = service.cancel_operation(caller, operation_id)
    caller.commit()
    if isinstance(result, ApprovalRequest):
        return ApprovalPending.of(result)
    return OperationOut.model_validate(result)


def _poll(factory: SessionFactory, operation_id: str, after: int) -> tuple[list[ServerSentEvent], int, bool]:
    with factory() as session:
        state = OperationState(service.get_operation(session, operation_id).state)
        events = service.events_after(session, operation_id, after)
        out = [ServerSentEvent(data=e.payload | {"type": e.type}, event=e.type, id=str(e.id)) for e in events]
        last = events[-1].id if events else after
    return out, last, state in TERMINAL


def existing_operation(operation_id: OperationId, session: SessionDep, _: ReaderDep) -> str:
    """As a dependency it runs before the stream starts, so an unknown id is still a plain 404."""
    return service.get_operation(session, operation_id).id


_JSON_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {
        "description": "error",
        "content": {"application/json": {"schema": ErrorResponse.model_json_schema()}},
    }
    for code in (401, 403, 404, 422)
}


@router.get("/{operation_id}/events", response_class=EventSourceResponse, responses=_JSON_ERRORS)
async def operation_events(
    operation_id: Annotated[str, Depends(existing_operation)],
    request: Request,
    last_event_id: Annotated[int | None, Header(alias="Last-Event-ID", ge=0)] = None,
) -> AsyncIterator[ServerSentEvent]:
    """Server-sent events from the operation's stored events, live until it ends; reconnect with
    Last-Event-ID to resume. Events are read from the database, so any API process can serve them."""
    async for event in stream_events(operation_id, request, last_event_id or 0):
        yield event


async def stream_events(
    operation_id: str, request: Request, after: int, still_allowed: Callable[[], bool] | None = None
) -> AsyncIterator[ServerSentEvent]:
    """The operation's events after ``after``, polled until it ends or the client leaves; ``still_allowed``
    (a blocking check, run before every poll) ends the stream as soon as it answers False."""
    factory: SessionFactory = request.app.state.session_factory
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
        await anyio.sleep(POLL_SECONDS)
