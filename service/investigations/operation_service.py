"""Read operations, cancel them, and read their persisted event stream."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service.audit.service import Actor
from service.auth.persons import person_of
from service.auth.roles import Permission
from service.domain_events import OperationQueued
from service.errors import NotFound, StateConflict
from service.investigations import pending_approvals as pending
from service.investigations import service as investigations
from service.investigations.actions import spec_of
from service.investigations.approval_models import ApprovalRequest
from service.operations.models import Operation, OperationEvent
from service.operations.states import TERMINAL, OperationState
from service.orchestration.messages import EngineErrorCode
from service.unit_of_work import Caller


def get_operation(session: Session, operation_id: str) -> Operation:
    op = session.get(Operation, operation_id)
    if op is None:
        raise NotFound(f"operation {operation_id} not found")
    return op


def events_after(
    session: Session, operation_id: str, after_id: int, limit: int = 500
) -> list[OperationEvent]:
    query = (
        select(OperationEvent)
        .where(OperationEvent.operation_id == operation_id, OperationEvent.id > after_id)
        .order_by(OperationEvent.id)
        .limit(limit)
    )
    return list(session.execute(query).scalars())


CANCEL = "cancel"


def cancel_operation(caller: Caller, operation_id: str) -> Operation | ApprovalRequest:
    """A queued operation is cancelled at once; a running one is asked to stop (the worker sees the flag,
    interrupts the engine, and records ``cancelled``). Cancelling undoes a request, so it needs what the
    request needed: a responder cannot cancel a custodian's destroy alone. Cancelling a custodian's decision
    that someone else asked for is held for a second person (the pending approval is returned); the approver
    needs what the request needed."""
    caller.principal.require(Permission.CANCEL)
    op = get_operation(caller.session, operation_id)
    spec = spec_of(op.action)
    settings = caller.settings
    by_requester = person_of(settings, caller.principal) == person_of(settings, op.requested_by)
    rule = spec.cancel_needs_second_person(by_requester=by_requester)
    if rule is None:
        investigations.authorize(caller, spec, op.params or {})
    _check_cancellable(op)
    if rule is not None:
        return pending.hold(
            caller,
            investigation_id=op.investigation_id,
            action=CANCEL,
            params={"operation_id": op.id, "action": op.action},
            rule=rule,
            audit_action="operation.cancel",
            target=f"operation/{op.id}",
            operation_id=op.id,
        )
    return cancel_now(caller, op, requester=caller.actor)


def authorize_cancel(caller: Caller, op: Operation) -> None:
    """What the approver of someone else's cancel must hold."""
    caller.principal.require(Permission.CANCEL)
    investigations.authorize(caller, spec_of(op.action), op.params or {})


def _check_cancellable(op: Operation) -> None:
    if op.state in TERMINAL:
        raise StateConflict(f"operation {op.id} already ended ({op.state})", details={"state": op.state})


def cancel_now(
    caller: Caller, op: Operation, *, requester: Actor, approval: dict[str, Any] | None = None
) -> Operation:
    """Cancels in the requester's name (checked again: an approved cancel may find the operation ended)."""
    session = caller.session
    _check_cancellable(op)
    now = caller.clock()
    dequeued = session.execute(
        update(Operation)
        .where(Operation.id == op.id, Operation.state == OperationState.QUEUED)
        .values(
            state=OperationState.CANCELLED,
            finished_at=now,
            cancel_requested_at=now,
            error_code=EngineErrorCode.CANCELLED,
            error=f"cancelled by {requester.name} before it started",
        )
    ).rowcount  # type: ignore[attr-defined]
    session.refresh(op)
    if dequeued:
        inv = investigations.get_investigation(session, op.investigation_id)
        investigations.settle(caller.uow, inv, op, OperationState.CANCELLED, None, ran=False)
        # The next queued operation may run now.
        caller.emit(OperationQueued(op.investigation_id, op.id))
        outcome = "cancelled"
    else:
        if op.cancel_requested_at is None:
            op.cancel_requested_at = now
        outcome = "cancel_requested"
    caller.audit(
        "operation.cancel",
        target=f"operation/{op.id}",
        outcome=outcome,
        actor=requester,
        details={"investigation_id": op.investigation_id, **(approval or {})},
    )
    return op


def counts_by_state(session: Session) -> dict[tuple[str, str], int]:
    rows = session.execute(
        select(Operation.kind, Operation.state, func.count()).group_by(Operation.kind, Operation.state)
    ).all()
    return {(kind, state): int(n) for kind, state, n in rows}
