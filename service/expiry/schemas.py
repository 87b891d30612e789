from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


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
