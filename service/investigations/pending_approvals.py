"""Recording a request the two-person rule holds back. The use cases that meet such a request
(``investigations.service.request_action`` and ``extend``, ``operations.service.cancel_operation``) call
``hold`` instead of acting; ``service.approvals.service`` decides what happens to it afterwards."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from service.auth.persons import require_person
from service.domain_events import ApprovalRequested
from service.investigations.approval_models import ApprovalRequest, ApprovalStatus
from service.unit_of_work import Caller


def hold(
    caller: Caller,
    *,
    investigation_id: str,
    action: str,
    params: dict[str, Any],
    rule: str,
    audit_action: str,
    target: str,
    operation_id: str | None = None,
) -> ApprovalRequest:
    """Records the request as pending_approval (audited, announced on the ticket and in chat) and returns
    it. The same person asking for the same thing again while it waits gets the waiting request back."""
    session, now = caller.session, caller.clock()
    person = require_person(caller.settings, caller.principal, "ask for what needs a second person")
    row = _waiting(caller, investigation_id, action, params, person)
    if row is None:
        row = ApprovalRequest(
            id=str(uuid.uuid4()),
            investigation_id=investigation_id,
            action=action,
            params=params,
            rule=rule[:500],
            reason=_text(params.get("reason")),
            requested_by=caller.principal.name,
            requester_role=caller.principal.role.value,
            requester_person=person,
            request_id=caller.request_id,
            status=ApprovalStatus.PENDING,
            expires_at=now + timedelta(hours=caller.settings.approval_ttl_hours),
            operation_id=operation_id,
            created_at=now,
        )
        session.add(row)
        session.flush()
        caller.emit(
            ApprovalRequested(row.id, investigation_id, action, row.requested_by, row.rule, row.expires_at)
        )
    caller.audit(
        audit_action,
        target=target,
        outcome=ApprovalStatus.PENDING.value,
        details={
            "approval_id": row.id,
            "investigation_id": investigation_id,
            "rule": row.rule,
            "expires_at": row.expires_at.isoformat(),
            "person": person,
            **params,
        },
    )
    return row


def _waiting(
    caller: Caller, investigation_id: str, action: str, params: dict[str, Any], person: str
) -> ApprovalRequest | None:
    rows = caller.session.execute(
        select(ApprovalRequest).where(
            ApprovalRequest.investigation_id == investigation_id,
            ApprovalRequest.action == action,
            ApprovalRequest.requester_person == person,
            ApprovalRequest.status == ApprovalStatus.PENDING,
            ApprovalRequest.expires_at > caller.clock(),
        )
    ).scalars()
    return next((row for row in rows if row.params == params), None)


def _text(value: object) -> str | None:
    return str(value)[:2000] if value else None
