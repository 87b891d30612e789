"""Approvals under the two-person rule, and break-glass.

A request the action table says needs a second person waits in ``pending_approval`` (``pending.hold``). A
different person who holds every permission the request needs approves it: the request is then acted on
exactly as it was asked, in the requester's name, with the approver recorded (the audit entry and the
operation's params). Approving, denying and expiring each take the row out of ``pending_approval`` with one
conditional UPDATE, so a request is decided once, whoever races. The approver is compared as a person
(``persons.person_of``): a second token or chat account of the requester is still the requester.

Break-glass is the one way a person acts alone on such a request (the break-glass officer's permission, nobody
else's; never to delete evidence or lift legal holds): it acts at once, is kept as a row with
status ``break_glass``, audited as ``investigation.break_glass`` and announced as an alert of its own;
``break_glass_uses`` lists them for the custody report.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service import features  # noqa: F401  (registers every feature's actions: the table is complete here)
from service.audit import service as audit
from service.audit.service import Actor
from service.auth.persons import person_of, require_person
from service.auth.roles import Permission
from service.domain_events import ApprovalDecided, ApprovalExpired, BreakGlassUsed
from service.errors import Forbidden, InvalidInput, NotFound, StateConflict
from service.investigations import operation_service as operations
from service.investigations import service as investigations
from service.investigations.actions import ActionSpec, spec_of
from service.investigations.approval_models import ApprovalRequest, ApprovalStatus
from service.investigations.models import Investigation
from service.operations.models import Operation
from service.operations.states import Action
from service.unit_of_work import Caller, UnitOfWork


@dataclass
class Decision:
    """What a decision (or a break-glass use) did: the row, its investigation, and the operation it queued
    or cancelled (None for an extension or a denial)."""

    approval: ApprovalRequest
    investigation: Investigation
    operation: Operation | None = None


# Reads


def get_approval(session: Session, approval_id: str) -> ApprovalRequest:
    row = session.get(ApprovalRequest, approval_id)
    if row is None:
        raise NotFound(f"approval {approval_id} not found")
    return row


def list_approvals(
    session: Session,
    *,
    status: ApprovalStatus | None,
    investigation_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[ApprovalRequest], int]:
    query = select(ApprovalRequest)
    if status is not None:
        query = query.where(ApprovalRequest.status == status)
    if investigation_id:
        query = query.where(ApprovalRequest.investigation_id == investigation_id)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(
        query.order_by(ApprovalRequest.created_at.desc(), ApprovalRequest.id).limit(limit).offset(offset)
    ).scalars()
    return list(rows), int(total)


def break_glass_uses(session: Session, investigation_id: str) -> list[ApprovalRequest]:
    """Every break-glass use on the investigation, oldest first (for the custody report)."""
    return list(
        session.execute(
            select(ApprovalRequest)
            .where(
                ApprovalRequest.investigation_id == investigation_id,
                ApprovalRequest.status == ApprovalStatus.BREAK_GLASS,
            )
            .order_by(ApprovalRequest.created_at, ApprovalRequest.id)
        ).scalars()
    )


# Decisions


def approve(caller: Caller, approval_id: str, reason: str | None = None) -> Decision:
    """A second, different person approves: the request is acted on now, as it was asked."""
    row = get_approval(caller.session, approval_id)
    _require_permissions(caller, row)
    person = _require_second_person(caller, row)
    _decide(caller, row, ApprovalStatus.APPROVED, person, reason)
    # Announced before what it sets off (the status change, the extension), in the same transaction.
    caller.emit(
        ApprovalDecided(
            row.id, row.investigation_id, row.action, True, caller.principal.name, row.requested_by, reason
        )
    )
    approval = {
        "approval_id": row.id,
        "approved_by": caller.principal.name,
        "approved_by_person": person,
    }
    decision = _act(caller, row, Actor(row.requested_by, row.requester_role), approval)
    if decision.operation is not None:
        row.operation_id = decision.operation.id
    caller.session.flush()
    caller.audit(
        "approval.approve",
        target=f"approval/{row.id}",
        outcome=ApprovalStatus.APPROVED.value,
        details={
            "investigation_id": row.investigation_id,
            "action": row.action,
            "requested_by": row.requested_by,
            "requester_person": row.requester_person,
            "approver_person": person,
            "operation_id": row.operation_id,
            "reason": reason,
        },
    )
    return decision


def deny(caller: Caller, approval_id: str, reason: str) -> Decision:
    """Anyone who could approve it may deny it (the requester too: withdrawing is always safe)."""
    row = get_approval(caller.session, approval_id)
    _require_permissions(caller, row)
    person = require_person(caller.settings, caller.principal, "decide what needs a second person")
    _decide(caller, row, ApprovalStatus.DENIED, person, reason)
    caller.audit(
        "approval.deny",
        target=f"approval/{row.id}",
        outcome=ApprovalStatus.DENIED.value,
        details={
            "investigation_id": row.investigation_id,
            "action": row.action,
            "requested_by": row.requested_by,
            "person": person,
            "reason": reason,
        },
    )
    caller.emit(
        ApprovalDecided(
            row.id, row.investigation_id, row.action, False, caller.principal.name, row.requested_by, reason
        )
    )
    return Decision(row, investigations.get_investigation(caller.session, row.investigation_id))


def expire_due(uow: UnitOfWork) -> list[str]:
    """Marks every pending request past its expiry as expired (nothing of it is done); returns their ids.
    Run periodically (service/jobs/tasks.py); an expired request can no longer be approved either way."""
    now = uow.clock()
    due = list(
        uow.session.execute(
            select(ApprovalRequest)
            .where(ApprovalRequest.status == ApprovalStatus.PENDING, ApprovalRequest.expires_at <= now)
            .order_by(ApprovalRequest.expires_at, ApprovalRequest.id)
        ).scalars()
    )
    expired: list[str] = []
    for row in due:
        moved = uow.session.execute(
            update(ApprovalRequest)
            .where(ApprovalRequest.id == row.id, ApprovalRequest.status == ApprovalStatus.PENDING)
            .values(status=ApprovalStatus.EXPIRED, decided_at=now)
        ).rowcount  # type: ignore[attr-defined]
        if not moved:
            continue  # decided meanwhile
        audit.record(
            uow.session,
            uow.clock,
            actor=audit.SYSTEM,
            action="approval.expire",
            target=f"approval/{row.id}",
            outcome=ApprovalStatus.EXPIRED.value,
            details={
                "investigation_id": row.investigation_id,
                "action": row.action,
                "requested_by": row.requested_by,
                "expires_at": row.expires_at.isoformat(),
            },
        )
        uow.emit(ApprovalExpired(row.id, row.investigation_id, row.action, row.requested_by))
        expired.append(row.id)
    return expired


# Break-glass


def break_glass(
    caller: Caller, investigation_id: str, action: str, params: dict[str, Any], reason: str
) -> Decision:
    """One person acts alone on a request that needs a second person: at once, loudly. Only the holder of
    the break-glass permission (the break-glass officer, a role of its own) may; and never to delete
    evidence or lift legal holds, which always wait for a second person."""
    caller.principal.require(Permission.BREAK_GLASS)
    spec = _break_glass_spec(action)
    inv = investigations.get_investigation(caller.session, investigation_id)
    try:
        values = investigations.validated_params(spec, params)
    except ValidationError as exc:
        fields = [
            {"field": ".".join(["body.params", *map(str, e["loc"])]), "message": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
        raise InvalidInput(f"invalid request: {summary}", details={"fields": fields}) from None
    _refuse_evidence_loss(spec, values)
    investigations.authorize(caller, spec, values)
    _check(caller, inv, spec, values)
    rule = (
        investigations.extension_rule(caller, inv, values)
        if spec.name == Action.EXTEND
        else spec.second_person(values, caller.settings)
    )
    if rule is None:
        raise InvalidInput(
            f"{spec.name} with these params needs no second person; ask for it directly "
            f"(break-glass is only for what the two-person rule holds back)",
            details={"action": spec.name},
        )
    now = caller.clock()
    person = require_person(caller.settings, caller.principal, "break glass")
    row = ApprovalRequest(
        id=str(uuid.uuid4()),
        investigation_id=inv.id,
        action=spec.name,
        params=values,
        rule=rule[:500],
        reason=reason[:2000],
        requested_by=caller.principal.name,
        requester_role=caller.principal.role.value,
        requester_person=person,
        request_id=caller.request_id,
        status=ApprovalStatus.BREAK_GLASS,
        expires_at=now,
        decided_by=caller.principal.name,
        decided_by_person=person,
        decided_at=now,
        decision_reason=reason[:2000],
        created_at=now,
    )
    caller.session.add(row)
    caller.session.flush()
    caller.emit(BreakGlassUsed(row.id, inv.id, spec.name, caller.principal.name, reason))
    decision = _act(caller, row, caller.actor, {"approval_id": row.id, "break_glass": True})
    if decision.operation is not None:
        row.operation_id = decision.operation.id
    caller.session.flush()
    caller.audit(
        "investigation.break_glass",
        target=f"investigation/{inv.id}",
        outcome=ApprovalStatus.BREAK_GLASS.value,
        details={
            "approval_id": row.id,
            "action": spec.name,
            "params": values,
            "rule": rule,
            "reason": reason,
            "person": person,
            "operation_id": row.operation_id,
        },
    )
    return decision


def _break_glass_spec(action: str) -> ActionSpec:
    spec = spec_of(action)
    if not spec.may_need_second_person or spec.name == Action.OPEN:
        raise InvalidInput(
            f"{action} is never held for a second person, so there is nothing to break glass for; ask for it "
            "directly",
            details={"action": action},
        )
    if not (spec.runs_engine or spec.name == Action.EXTEND):
        raise InvalidInput(f"{action} cannot be asked for through break-glass", details={"action": action})
    return spec


def _refuse_evidence_loss(spec: ActionSpec, values: dict[str, Any]) -> None:
    """What needs the retention permission (deleting the evidence bucket, lifting legal holds) is exactly
    what cannot be undone: it always waits for a second person, break-glass or not."""
    if Permission.RETENTION in spec.permissions(values):
        raise Forbidden(
            f"break-glass may not {spec.name} with these params: deleting evidence or lifting legal holds "
            f"always needs a second person; ask for it through the API, where it waits for approval",
            details={"action": spec.name, "rule": "two_person", "permission": Permission.RETENTION.value},
        )


# The steps


def _require_permissions(caller: Caller, row: ApprovalRequest) -> None:
    """The decider must hold every permission the request needs (for a cancel: what the cancelled
    operation's request needed, plus cancel)."""
    if row.action == operations.CANCEL:
        operations.authorize_cancel(caller, _cancelled(caller, row))
    else:
        investigations.authorize(caller, spec_of(row.action), row.params or {})


def _require_second_person(caller: Caller, row: ApprovalRequest) -> str:
    """The approver's person id; refused when it is the requester's (as recorded, or as the aliases map the
    requester's principal now)."""
    settings = caller.settings
    person = require_person(settings, caller.principal, "approve what needs a second person")
    if person in (row.requester_person, person_of(settings, row.requested_by)):
        raise Forbidden(
            f"approval {row.id} was requested by {row.requested_by}, and you ({caller.principal.name}) are "
            f"the same person ({person}); the two-person rule needs a different person to approve it",
            details={"approval_id": row.id, "person": person, "rule": "two_person"},
        )
    return person


def _decide(
    caller: Caller, row: ApprovalRequest, status: ApprovalStatus, person: str, reason: str | None
) -> None:
    """Takes the row out of pending_approval, once: a request already decided, or past its expiry (even if
    the periodic task has not marked it yet), is a conflict and nothing happens."""
    now = caller.clock()
    moved = caller.session.execute(
        update(ApprovalRequest)
        .where(
            ApprovalRequest.id == row.id,
            ApprovalRequest.status == ApprovalStatus.PENDING,
            ApprovalRequest.expires_at > now,
        )
        .values(
            status=status,
            decided_by=caller.principal.name,
            decided_by_person=person,
            decided_at=now,
            decision_reason=reason[:2000] if reason else None,
        )
    ).rowcount  # type: ignore[attr-defined]
    caller.session.refresh(row)
    if moved:
        return
    details = {"approval_id": row.id, "status": row.status.value}
    if row.status == ApprovalStatus.PENDING or row.status == ApprovalStatus.EXPIRED:
        raise StateConflict(
            f"approval {row.id} expired at {row.expires_at.isoformat()} without a decision; nothing was "
            f"done. Ask for the {row.action} again if it is still needed",
            details={**details, "status": ApprovalStatus.EXPIRED.value},
        )
    by = f" by {row.decided_by}" if row.decided_by else ""
    raise StateConflict(f"approval {row.id} was already {row.status.value}{by}", details=details)


def _check(caller: Caller, inv: Investigation, spec: ActionSpec, values: dict[str, Any]) -> None:
    if spec.runs_engine:
        investigations.check_request(caller, inv, spec, values)
    else:
        investigations.check_extension(caller, inv, int(values["hours"]))


def _act(caller: Caller, row: ApprovalRequest, requester: Actor, approval: dict[str, Any]) -> Decision:
    """Does what the row asks for, in ``requester``'s name; its checks run again (time has passed)."""
    params = dict(row.params or {})
    if row.action == operations.CANCEL:
        op = operations.cancel_now(caller, _cancelled(caller, row), requester=requester, approval=approval)
        return Decision(row, investigations.get_investigation(caller.session, row.investigation_id), op)
    spec = spec_of(row.action)
    inv = investigations.get_investigation(caller.session, row.investigation_id)
    if not spec.runs_engine:
        hours, reason = int(params["hours"]), params.get("reason")
        investigations.apply_extension(caller, inv, hours, reason, requester=requester, approval=approval)
        return Decision(row, inv)
    investigations.check_request(caller, inv, spec, params)
    op = investigations.queue_action(caller, inv, spec, params, requester=requester, approval=approval)
    return Decision(row, inv, op)


def _cancelled(caller: Caller, row: ApprovalRequest) -> Operation:
    return operations.get_operation(caller.session, str((row.params or {}).get("operation_id")))
