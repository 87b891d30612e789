"""GET /v1/teardown/plan and POST /v1/investigations/{id}/extend."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import ClockDep, PrincipalDep, ReaderDep, RequestIdDep, SessionDep, SettingsDep
from service.api.schemas import ERROR_RESPONSES
from service.investigations.schemas import InvestigationOut
from service.investigations.views import InvestigationId
from service.teardown import service
from service.teardown.schemas import ExtendRequest, PlanItemOut, TeardownPlan

router = APIRouter(tags=["teardown"], responses=ERROR_RESPONSES)


@router.get("/v1/teardown/plan", response_model=TeardownPlan)
def teardown_plan(session: SessionDep, settings: SettingsDep, clock: ClockDep, _: ReaderDep) -> TeardownPlan:
    """What the next scheduled run would do now: warn, destroy, or skip (with the reason)."""
    now = clock()
    items = service.plan(session, settings, now)
    return TeardownPlan(
        at=now,
        warn_before_hours=settings.ttl_warning_hours,
        items=[PlanItemOut(**item.__dict__) for item in items],
    )


@router.post("/v1/investigations/{investigation_id}/extend", response_model=InvestigationOut)
def extend(
    investigation_id: InvestigationId,
    body: ExtendRequest,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    principal: PrincipalDep,
    request_id: RequestIdDep,
) -> InvestigationOut:
    """Push the expiry back by ``hours`` (responders and data custodians); re-arms the expiry warning."""
    inv = service.extend(
        session,
        clock,
        settings,
        principal=principal,
        investigation_id=investigation_id,
        hours=body.hours,
        request_id=request_id,
        reason=body.reason,
    )
    return InvestigationOut.of(inv)
