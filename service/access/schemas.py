from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.access.models import AccessStatus
from service.operations.schemas import OperationOut
from service.schemas import StrictModel

AccessRole = Literal["investigator", "analyst", "custodian", "responder"]


class AccessRequestCreate(StrictModel):
    role: AccessRole
    # Bounded by the setting max_grant_hours (422 beyond it).
    hours: int = Field(ge=1, examples=[1])
    reason: str = Field(min_length=3, max_length=2000, examples=["triage of the memory image"])


class AccessDecision(StrictModel):
    reason: str | None = Field(default=None, max_length=2000)


class AccessRequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    investigation_id: str
    role: str
    principal_arn: str
    session_name: str | None
    person: str
    hours: int
    reason: str
    status: AccessStatus
    expires_at: datetime | None
    requested_by: str
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    operation_id: str | None
    created_at: datetime
    updated_at: datetime
    # Declared, but left out of the trust policy while the clean room is frozen (every role's but the
    # custodian's); declared again by the release.
    suspended_by_freeze: bool = False


class AccessDecided(BaseModel):
    access_request: AccessRequestOut
    # The `up` that brings the trust policy in line (None: nothing to apply, or applied by the next `up`).
    operation: OperationOut | None = None
