"""/v1/investigations/{id}/access-requests and /v1/access-requests/{id}: HTTP to the access use cases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, status

from service.access import service
from service.access.models import AccessRequest
from service.access.schemas import AccessDecided, AccessDecision, AccessRequestCreate, AccessRequestOut
from service.api.deps import CallerDep, ReaderDep, SessionDep
from service.api.routes.investigations import InvestigationId
from service.api.schemas import ERROR_RESPONSES
from service.investigations import service as investigations
from service.operations.models import Operation
from service.operations.schemas import OperationOut
from service.unit_of_work import Caller

router = APIRouter(prefix="/v1", tags=["access"], responses=ERROR_RESPONSES)

RequestId = Annotated[str, Path(min_length=36, max_length=36, pattern=r"^[0-9a-f-]{36}$")]
Decision = Annotated[AccessDecision | None, Body()]


def _decided(caller: Caller, row: AccessRequest, op: Operation | None) -> AccessDecided:
    inv = investigations.get_investigation(caller.session, row.investigation_id)
    return AccessDecided(
        access_request=service.out(inv, row), operation=OperationOut.model_validate(op) if op else None
    )


@router.post(
    "/investigations/{investigation_id}/access-requests",
    status_code=status.HTTP_201_CREATED,
    response_model=AccessRequestOut,
)
def request_access(
    investigation_id: InvestigationId, body: AccessRequestCreate, caller: CallerDep
) -> AccessRequestOut:
    """Ask for one of the clean room's roles for ``hours`` (at most the setting max_grant_hours), for
    yourself: your AWS principal is the one the operator configured for your name. Another person with the
    approve_access permission decides."""
    row = service.request_access(caller, investigation_id, body)
    caller.commit()
    return service.out(investigations.get_investigation(caller.session, investigation_id), row)


@router.get("/investigations/{investigation_id}/access-requests", response_model=list[AccessRequestOut])
def list_access_requests(
    investigation_id: InvestigationId, session: SessionDep, _: ReaderDep
) -> list[AccessRequestOut]:
    inv = investigations.get_investigation(session, investigation_id)
    return [service.out(inv, row) for row in service.list_requests(session, investigation_id)]


@router.get("/access-requests/{request_id}", response_model=AccessRequestOut)
def get_access_request(request_id: RequestId, session: SessionDep, _: ReaderDep) -> AccessRequestOut:
    row = service.get_request(session, request_id)
    return service.out(investigations.get_investigation(session, row.investigation_id), row)


@router.post(
    "/access-requests/{request_id}/approve",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AccessDecided,
)
def approve(request_id: RequestId, caller: CallerDep, body: Decision = None) -> AccessDecided:
    """Approve another person's request: the grant is declared (expiring ``hours`` from now) and an `up`
    puts it into the role's trust policy, where AWS itself refuses it from the expiry on."""
    row, op = service.decide(caller, request_id, approve=True, reason=body.reason if body else None)
    caller.commit()
    return _decided(caller, row, op)


@router.post("/access-requests/{request_id}/deny", response_model=AccessDecided)
def deny(request_id: RequestId, caller: CallerDep, body: Decision = None) -> AccessDecided:
    row, op = service.decide(caller, request_id, approve=False, reason=body.reason if body else None)
    caller.commit()
    return _decided(caller, row, op)


@router.post("/access-requests/{request_id}/revoke", response_model=AccessDecided)
def revoke(request_id: RequestId, caller: CallerDep, body: Decision = None) -> AccessDecided:
    """Withdraw your own request or give up your grant; an approver may take anyone's back. The `up` that
    removes it from the trust policy is queued."""
    row, op = service.revoke(caller, request_id, body.reason if body else None)
    caller.commit()
    return _decided(caller, row, op)
