from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from service.clock import as_utc
from service.features import ACTIONS
from service.investigations.approval_models import ApprovalRequest, ApprovalStatus
from service.investigations.schemas import InvestigationOut
from service.operations.schemas import OperationOut
from service.schemas import StrictModel

# Break-glass acts alone and at once: the reason is what the people reviewing it later have to go on.
BREAK_GLASS_REASON_MIN = 20


class ApprovalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    investigation_id: str
    action: str = Field(description='An action of the action table, or "cancel" (params name the operation)')
    params: dict[str, Any] = Field(description="Exactly what was asked for; acted on unchanged once approved")
    rule: str = Field(description="Why a second person must agree")
    reason: str | None = Field(description="The requester's reason (for break-glass: the justification)")
    requested_by: str
    requester_role: str
    requester_person: str
    status: ApprovalStatus
    expires_at: datetime
    decided_by: str | None
    decided_by_person: str | None
    decided_at: datetime | None
    decision_reason: str | None
    operation_id: str | None = Field(description="The operation queued once approved (a cancel: cancelled)")
    created_at: datetime


class ApprovalPending(BaseModel):
    """202 body of a request held by the two-person rule: nothing was done yet."""

    approval: ApprovalOut
    message: str

    @classmethod
    def of(cls, row: ApprovalRequest) -> ApprovalPending:
        what = row.action
        if what == "cancel":
            what = f"cancelling operation {row.params.get('operation_id')} ({row.params.get('action')})"
        message = (
            f"{what} of investigation {row.investigation_id} needs a second person: {row.rule}. Nothing was "
            f"done yet. Approval {row.id} waits until {as_utc(row.expires_at):%Y-%m-%d %H:%M} UTC for a "
            f"different person who may do this to approve it (POST /v1/approvals/{row.id}/approve) or deny "
            f"it (POST /v1/approvals/{row.id}/deny)."
        )
        return cls(approval=ApprovalOut.model_validate(row), message=message)


class ApprovalDecisionOut(BaseModel):
    """What an approval, a denial or a break-glass use did: the operation it queued (or cancelled); none
    for a denial or an extension."""

    approval: ApprovalOut
    investigation: InvestigationOut
    operation: OperationOut | None
    message: str


class ApproveRequest(StrictModel):
    reason: str | None = Field(default=None, max_length=2000)


class DenyRequest(StrictModel):
    reason: str = Field(min_length=3, max_length=2000)


# What break-glass may do: the actions whose entry in the action table can hold a request for approval.
BREAK_GLASS_ACTIONS = sorted(name for name, spec in ACTIONS.items() if spec.may_need_second_person)


class BreakGlassRequest(StrictModel):
    action: str = Field(
        max_length=16,
        json_schema_extra={"enum": [*BREAK_GLASS_ACTIONS]},
        description="An action the two-person rule can hold: " + ", ".join(BREAK_GLASS_ACTIONS),
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description='The body the action takes, e.g. {"reason": "..."} for release'
    )
    reason: str = Field(min_length=BREAK_GLASS_REASON_MIN, max_length=2000)
