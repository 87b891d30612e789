"""/v1/investigations: HTTP to domain calls, nothing else."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Header, Path, Query, Response, status

from service.api.deps import ClockDep, JobsDep, PrincipalDep, ReaderDep, RequestIdDep, SessionDep, SettingsDep
from service.api.schemas import ERROR_RESPONSES, MAX_OFFSET, Page
from service.investigations import service
from service.investigations.schemas import (
    INVESTIGATION_ID_PATTERN,
    Accepted,
    DestroyRequest,
    FreezeRequest,
    InvestigationCreate,
    InvestigationDetail,
    InvestigationOut,
    PreviewRequest,
    RefreshRequest,
    ReleaseRequest,
)
from service.investigations.states import Status
from service.operations.schemas import OperationOut

router = APIRouter(prefix="/v1/investigations", tags=["investigations"], responses=ERROR_RESPONSES)

InvestigationId = Annotated[str, Path(pattern=INVESTIGATION_ID_PATTERN, description="e.g. sec-123-4f9a2c1b")]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")
]


def _accepted(inv: object, op: object) -> Accepted:
    return Accepted(investigation=InvestigationOut.of(inv), operation=OperationOut.of(op))  # type: ignore[arg-type]


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses={200: {"model": Accepted, "description": "Replay: the investigation that already exists"}},
)
def open_investigation(
    body: InvestigationCreate,
    response: Response,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    jobs: JobsDep,
    principal: PrincipalDep,
    request_id: RequestIdDep,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    """Open an investigation: queues its first operation (an `up`). Replays return the existing one (200)."""
    inv, op, created = service.open_investigation(
        session,
        clock,
        settings,
        jobs.dispatch,
        principal=principal,
        body=body,
        idempotency_key=idempotency_key,
        request_id=request_id,
    )
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
    return Page(items=[InvestigationOut.of(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/{investigation_id}", response_model=InvestigationDetail)
def get_investigation(
    investigation_id: InvestigationId, session: SessionDep, _: ReaderDep
) -> InvestigationDetail:
    inv = service.get_investigation(session, investigation_id)
    return InvestigationDetail.with_timeline(inv, service.timeline(session, inv.id))


@router.post("/{investigation_id}/preview", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
def preview(
    investigation_id: InvestigationId,
    session: SessionDep,
    clock: ClockDep,
    jobs: JobsDep,
    principal: PrincipalDep,
    request_id: RequestIdDep,
    body: Annotated[PreviewRequest | None, Body()] = None,
) -> Accepted:
    """What would change and whether the policies pass; creates nothing."""
    inv, op = service.preview(
        session,
        clock,
        jobs.dispatch,
        principal=principal,
        investigation_id=investigation_id,
        request_id=request_id,
    )
    return _accepted(inv, op)


@router.post("/{investigation_id}/refresh", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
def refresh(
    investigation_id: InvestigationId,
    session: SessionDep,
    clock: ClockDep,
    jobs: JobsDep,
    principal: PrincipalDep,
    request_id: RequestIdDep,
    body: Annotated[RefreshRequest | None, Body()] = None,
) -> Accepted:
    """Drift check: differences are reported in the operation result and on the investigation, never fixed."""
    inv, op = service.refresh(
        session,
        clock,
        jobs.dispatch,
        principal=principal,
        investigation_id=investigation_id,
        request_id=request_id,
    )
    return _accepted(inv, op)


@router.post("/{investigation_id}/freeze", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
def freeze(
    investigation_id: InvestigationId,
    session: SessionDep,
    clock: ClockDep,
    jobs: JobsDep,
    principal: PrincipalDep,
    request_id: RequestIdDep,
    body: Annotated[FreezeRequest | None, Body()] = None,
) -> Accepted:
    """Preserve in a locked state (declared in the program), then legal hold on every evidence object."""
    inv, op = service.freeze(
        session,
        clock,
        jobs.dispatch,
        principal=principal,
        investigation_id=investigation_id,
        reason=body.reason if body else None,
        request_id=request_id,
    )
    return _accepted(inv, op)


@router.post("/{investigation_id}/release", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
def release(
    investigation_id: InvestigationId,
    body: ReleaseRequest,
    session: SessionDep,
    clock: ClockDep,
    jobs: JobsDep,
    principal: PrincipalDep,
    request_id: RequestIdDep,
) -> Accepted:
    """A data custodian lifts the freeze; legal holds stay unless ``remove_legal_holds``."""
    inv, op = service.release(
        session,
        clock,
        jobs.dispatch,
        principal=principal,
        investigation_id=investigation_id,
        reason=body.reason,
        remove_legal_holds=body.remove_legal_holds,
        request_id=request_id,
    )
    return _accepted(inv, op)


@router.post("/{investigation_id}/destroy", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
def destroy(
    investigation_id: InvestigationId,
    session: SessionDep,
    clock: ClockDep,
    jobs: JobsDep,
    principal: PrincipalDep,
    request_id: RequestIdDep,
    body: Annotated[DestroyRequest | None, Body()] = None,
) -> Accepted:
    """Tear down and remove the stack; the evidence bucket is retained unless a custodian says otherwise."""
    body = body or DestroyRequest()
    inv, op = service.destroy(
        session,
        clock,
        jobs.dispatch,
        principal=principal,
        investigation_id=investigation_id,
        reason=body.reason,
        retain_evidence_bucket=body.retain_evidence_bucket,
        request_id=request_id,
    )
    return _accepted(inv, op)
