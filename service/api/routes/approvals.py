"""/v1/approvals (list, read, approve, deny) and /v1/investigations/{id}/break-glass."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, status

from service.api.deps import CallerDep, ReaderDep, SessionDep
from service.api.routes.investigations import InvestigationId
from service.api.schemas import ERROR_RESPONSES, MAX_OFFSET, Page
from service.approvals import service
from service.approvals.schemas import (
    ApprovalDecisionOut,
    ApprovalOut,
    ApproveRequest,
    BreakGlassRequest,
    DenyRequest,
)
from service.investigations.approval_models import ApprovalStatus
from service.investigations.schemas import InvestigationOut
from service.operations.schemas import OperationOut

router = APIRouter(tags=["approvals"], responses=ERROR_RESPONSES)

ApprovalId = Annotated[
    str, Path(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", description="UUID")
]


def _decision(decision: service.Decision, message: str) -> ApprovalDecisionOut:
    return ApprovalDecisionOut(
        approval=ApprovalOut.model_validate(decision.approval),
        investigation=InvestigationOut.model_validate(decision.investigation),
        operation=OperationOut.model_validate(decision.operation) if decision.operation else None,
        message=message,
    )


@router.get("/v1/approvals", response_model=Page[ApprovalOut])
def list_approvals(
    session: SessionDep,
    _: ReaderDep,
    status_filter: Annotated[ApprovalStatus | None, Query(alias="status")] = None,
    investigation_id: Annotated[str | None, Query(max_length=41)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Page[ApprovalOut]:
    """Requests held by the two-person rule (``?status=pending_approval`` for those waiting), and
    break-glass uses; newest first."""
    rows, total = service.list_approvals(
        session, status=status_filter, investigation_id=investigation_id, limit=limit, offset=offset
    )
    return Page(items=[ApprovalOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/v1/approvals/{approval_id}", response_model=ApprovalOut)
def get_approval(approval_id: ApprovalId, session: SessionDep, _: ReaderDep) -> ApprovalOut:
    return ApprovalOut.model_validate(service.get_approval(session, approval_id))


@router.post("/v1/approvals/{approval_id}/approve", response_model=ApprovalDecisionOut)
def approve(
    approval_id: ApprovalId, caller: CallerDep, body: Annotated[ApproveRequest | None, Body()] = None
) -> ApprovalDecisionOut:
    """A different person with every permission the request needs approves it; it is acted on at once, as
    it was asked, in the requester's name. 403: the requester (any token or chat account of the same
    person) or a missing permission; 409: already decided, or expired (nothing is done)."""
    decision = service.approve(caller, approval_id, body.reason if body else None)
    caller.commit()
    row = decision.approval
    done = f"operation {decision.operation.id}" if decision.operation else "done"
    return _decision(decision, f"approved: {row.action} requested by {row.requested_by} ({done})")


@router.post("/v1/approvals/{approval_id}/deny", response_model=ApprovalDecisionOut)
def deny(approval_id: ApprovalId, body: DenyRequest, caller: CallerDep) -> ApprovalDecisionOut:
    """Anyone who could approve it may deny it (the requester may withdraw it); nothing is done."""
    decision = service.deny(caller, approval_id, body.reason)
    caller.commit()
    row = decision.approval
    return _decision(decision, f"denied: {row.action} requested by {row.requested_by}; nothing was done")


@router.post(
    "/v1/investigations/{investigation_id}/break-glass",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ApprovalDecisionOut,
)
def break_glass(
    investigation_id: InvestigationId, body: BreakGlassRequest, caller: CallerDep
) -> ApprovalDecisionOut:
    """Act alone on a request the two-person rule would hold (release, destroy without the evidence bucket,
    a long extension): needs the action's own permissions and a reason; acts at once, and is alerted on the
    ticket and in chat, audited as ``investigation.break_glass`` and listed in the custody report."""
    decision = service.break_glass(caller, investigation_id, body.action, body.params, body.reason)
    caller.commit()
    return _decision(
        decision,
        f"break-glass: {body.action} acted on without a second person; this use is alerted and audited",
    )
