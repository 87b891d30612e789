"""/v1/operations: state, live events (SSE tailing the events table), cancel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, status
from fastapi.sse import EventSourceResponse, ServerSentEvent

from service.api.deps import CallerDep, ReaderDep, SessionDep
from service.api.responses import stream_events
from service.api.schemas import ERROR_RESPONSES, ErrorResponse
from service.approvals.schemas import ApprovalPending
from service.investigations import operation_service as service
from service.investigations.approval_models import ApprovalRequest
from service.operations.schemas import OperationOut

router = APIRouter(prefix="/v1/operations", tags=["operations"], responses=ERROR_RESPONSES)

OperationId = Annotated[
    str, Path(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", description="UUID")
]


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
