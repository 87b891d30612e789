"""/v1/investigations: HTTP to domain calls, nothing else. One route per action in the action table, made
from its entry (path, body model, summary), so a new action gets its route without a new function here.

A request the two-person rule holds back answers 202 with ``{"approval", "message"}`` instead of the queued
operation (or, for extend, the investigation); nothing is done until a second person approves it."""

# No `from __future__ import annotations`: the action routes are built at import with real annotation objects.

import inspect
from typing import Annotated

from fastapi import APIRouter, Body, Header, Path, Query, Response, status
from pydantic import BaseModel

from programs.forensic_env.config import INVESTIGATION_ID_PATTERN
from service.api.deps import CallerDep, ReaderDep, SessionDep
from service.api.schemas import ERROR_RESPONSES, MAX_OFFSET, Page
from service.approvals.schemas import ApprovalPending
from service.features import ACTIONS
from service.investigation_states import Status
from service.investigations import service
from service.investigations.actions import ActionSpec
from service.investigations.approval_models import ApprovalRequest
from service.investigations.models import Investigation
from service.investigations.schemas import (
    Accepted,
    ExtendRequest,
    InvestigationCreate,
    InvestigationDetail,
    InvestigationOut,
)
from service.operations.models import Operation
from service.operations.schemas import OperationOut
from service.operations.states import Action
from service.unit_of_work import Caller

router = APIRouter(prefix="/v1/investigations", tags=["investigations"], responses=ERROR_RESPONSES)

InvestigationId = Annotated[str, Path(pattern=INVESTIGATION_ID_PATTERN, description="e.g. sec-123-4f9a2c1b")]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")
]


def _accepted(inv: Investigation, op: Operation) -> Accepted:
    return Accepted(
        investigation=InvestigationOut.model_validate(inv), operation=OperationOut.model_validate(op)
    )


HELD = (
    "Held by the two-person rule: `{approval, message}`; nothing is done until a different person approves "
    "it (POST /v1/approvals/{id}/approve)."
)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses={200: {"model": Accepted, "description": "Replay: the investigation that already exists"}},
)
def open_investigation(
    body: InvestigationCreate, response: Response, caller: CallerDep, idempotency_key: IdempotencyKey = None
) -> Accepted:
    """Open an investigation: queues its first operation (an `up`). Replays return the existing one (200)."""
    inv, op, created = service.open_investigation(caller, body, idempotency_key=idempotency_key)
    caller.commit()
    response.headers["Location"] = f"/v1/investigations/{inv.id}"
    if not created:
        response.status_code = status.HTTP_200_OK
    return _accepted(inv, op)


@router.get("", response_model=Page[InvestigationOut])
def list_investigations(
    session: SessionDep,
    _: ReaderDep,
    status_filter: Annotated[Status | None, Query(alias="status")] = None,
    ticket: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Page[InvestigationOut]:
    rows, total = service.list_investigations(
        session, status=status_filter, ticket=ticket, limit=limit, offset=offset
    )
    items = [InvestigationOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/{investigation_id}", response_model=InvestigationDetail)
def get_investigation(
    investigation_id: InvestigationId, session: SessionDep, _: ReaderDep
) -> InvestigationDetail:
    inv = service.get_investigation(session, investigation_id)
    return InvestigationDetail.with_timeline(inv, service.timeline(session, inv.id))


@router.post(
    "/{investigation_id}/extend",
    response_model=InvestigationOut | ApprovalPending,
    responses={
        200: {"model": InvestigationOut, "description": "Extended"},
        202: {"model": ApprovalPending, "description": HELD},
    },
)
def extend(
    investigation_id: InvestigationId, body: ExtendRequest, response: Response, caller: CallerDep
) -> InvestigationOut | ApprovalPending:
    """Push the expiry back by ``hours`` (responders and data custodians); re-arms the expiry warning. An
    extension longer than ``two_person_extension_hours`` waits for a second person (202)."""
    result = service.extend(caller, investigation_id, body.hours, body.reason)
    caller.commit()
    if isinstance(result, ApprovalRequest):
        response.status_code = status.HTTP_202_ACCEPTED
        return ApprovalPending.of(result)
    return InvestigationOut.model_validate(result)


def _action_route(spec: ActionSpec) -> None:
    """POST /{id}/{action}: the body is the action's params model (optional if every field has a default)."""
    model = spec.params_model
    body_required = any(field.is_required() for field in model.model_fields.values())

    def request_action(
        investigation_id: str, caller: Caller, body: BaseModel | None = None
    ) -> Accepted | ApprovalPending:
        result = service.request_action(caller, investigation_id, spec.name, body)
        caller.commit()
        if isinstance(result, ApprovalRequest):
            return ApprovalPending.of(result)
        return _accepted(*result)

    body_type = Annotated[model | None, Body()] if not body_required else Annotated[model, Body()]
    body_param = inspect.Parameter(
        "body",
        inspect.Parameter.KEYWORD_ONLY,
        annotation=body_type,
        **({} if body_required else {"default": None}),
    )
    request_action.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("investigation_id", inspect.Parameter.KEYWORD_ONLY, annotation=InvestigationId),
            inspect.Parameter("caller", inspect.Parameter.KEYWORD_ONLY, annotation=CallerDep),
            body_param,
        ],
        return_annotation=Accepted | ApprovalPending,
    )
    request_action.__name__ = f"{spec.name}_investigation"
    router.add_api_route(
        f"/{{investigation_id}}/{spec.route or spec.name}",
        request_action,
        methods=["POST"],
        status_code=status.HTTP_202_ACCEPTED,
        response_model=Accepted | ApprovalPending,
        responses={
            202: {
                "description": "Queued: `{investigation, operation}`. Or, when these params need a second "
                "person (the action table's two-person rule): " + HELD
            }
        },
        summary=spec.name.capitalize(),
        description=spec.summary,
        name=f"{spec.name}_investigation",
    )


for _spec in ACTIONS.values():
    if _spec.runs_engine and _spec.name != Action.OPEN:
        _action_route(_spec)
