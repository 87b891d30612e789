from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from service.api.schemas import StrictModel


class ExtendRequest(StrictModel):
    hours: int = Field(ge=1, le=24 * 90, description="Added to the later of the current expiry and now")
    reason: str | None = Field(default=None, max_length=2000)


class PlanItemOut(BaseModel):
    investigation_id: str
    ticket: str
    status: str
    expires_at: datetime
    action: Literal["warn", "destroy", "skip"]
    reason: str


class TeardownPlan(BaseModel):
    at: datetime
    warn_before_hours: float
    items: list[PlanItemOut]
