"""GET /v1/teardown/plan."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import ClockDep, ReaderDep, SessionDep, SettingsDep
from service.api.schemas import ERROR_RESPONSES
from service.expiry import service
from service.expiry.schemas import PlanItemOut, TeardownPlan

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
