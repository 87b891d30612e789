"""Investigation use cases: open, list, read, request operations, and settle an operation's outcome.

Requests only write rows (investigation status, a queued operation, an audit entry) and then hand the
investigation id to ``dispatch``; the job layer runs the operation. State changes use conditional UPDATEs so
two concurrent requests cannot both move the same investigation.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.auth.roles import Permission
from service.auth.service import Principal
from service.clock import Clock
from service.config import Settings
from service.db.base import canonical_json
from service.errors import IdempotencyConflict, NotFound, StateConflict
from service.investigations import stack_config
from service.investigations.models import Investigation
from service.investigations.schemas import InvestigationCreate
from service.investigations.states import OPEN_STATES, Status, check_action, check_transition
from service.operations.models import Operation
from service.operations.states import ACTION_KIND, Action, OperationState
from service.orchestration.models import OperationResult

logger = logging.getLogger(__name__)

# Hands an investigation id to the job layer ("run its next queued operation"). Never an ORM object.
Dispatch = Callable[[str], None]


def new_investigation_id(ticket: str) -> str:
    """Readable and unique: the ticket slug plus random hex, within the program's id pattern."""
    slug = re.sub(r"[^a-z0-9]+", "-", ticket.lower()).strip("-")[:28] or "inv"
    return f"{slug}-{secrets.token_hex(4)}"


def _request_hash(body: InvestigationCreate) -> str:
    return hashlib.sha256(canonical_json(body.model_dump(mode="json")).encode()).hexdigest()


def get_investigation(session: Session, investigation_id: str) -> Investigation:
    inv = session.get(Investigation, investigation_id)
    if inv is None:
        raise NotFound(f"investigation {investigation_id} not found")
    return inv


def timeline(session: Session, investigation_id: str) -> list[Operation]:
    query = (
        select(Operation).where(Operation.investigation_id == investigation_id).order_by(Operation.sequence)
    )
    return list(session.execute(query).scalars())


def first_operation(session: Session, investigation_id: str) -> Operation:
    query = (
        select(Operation)
        .where(Operation.investigation_id == investigation_id)
        .order_by(Operation.sequence)
        .limit(1)
    )
    return session.execute(query).scalar_one()


def list_investigations(
    session: Session, *, status: Status | None, ticket: str | None, limit: int, offset: int
) -> tuple[list[Investigation], int]:
    query = select(Investigation)
    if status is not None:
        query = query.where(Investigation.status == status.value)
    if ticket:
        query = query.where(Investigation.ticket == ticket)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(
        query.order_by(Investigation.created_at.desc(), Investigation.id).limit(limit).offset(offset)
    ).scalars()
    return list(rows), int(total)


def _existing_for(session: Session, idempotency_key: str | None, ticket: str) -> Investigation | None:
    if idempotency_key:
        found = session.execute(
            select(Investigation).where(Investigation.idempotency_key == idempotency_key)
        ).scalar_one_or_none()
        if found is not None:
            return found
    return session.execute(
        select(Investigation).where(Investigation.open_ticket == ticket)
    ).scalar_one_or_none()


def _replay(inv: Investigation, idempotency_key: str | None, body_hash: str) -> Investigation:
    if idempotency_key and inv.idempotency_key == idempotency_key and inv.request_hash != body_hash:
        raise IdempotencyConflict(
            "this Idempotency-Key was used with a different request body",
            details={"investigation_id": inv.id},
        )
    return inv


def open_investigation(
    session: Session,
    clock: Clock,
    settings: Settings,
    dispatch: Dispatch,
    *,
    principal: Principal,
    body: InvestigationCreate,
    idempotency_key: str | None,
    request_id: str | None,
) -> tuple[Investigation, Operation, bool]:
    """Returns (investigation, its first operation, created). A replayed Idempotency-Key, or a ticket that
    already has an open investigation, returns the existing one instead of creating a second stack."""
    principal.require(Permission.OPEN)
    body_hash = _request_hash(body)
    existing = _existing_for(session, idempotency_key, body.ticket)
    if existing is not None:
        return _replay(existing, idempotency_key, body_hash), first_operation(session, existing.id), False

    now = clock()
    ttl = body.ttl_hours or settings.default_ttl_hours
    investigation_id = new_investigation_id(body.ticket)
    inv = Investigation(
        id=investigation_id,
        ticket=body.ticket,
        open_ticket=body.ticket,
        title=body.title,
        region=body.region or settings.aws_region,
        account_id=body.account_id,
        assume_role_arn=body.assume_role_arn,
        instance_type=body.instance_type,
        golden_ami=body.golden_ami.model_dump(exclude_none=True)
        or {"ssm_parameter": settings.golden_ami_ssm_parameter},
        evidence_snapshot_ids=list(body.evidence_snapshot_ids),
        ttl_hours=ttl,
        expires_at=now + timedelta(hours=ttl),
        tags=dict(body.tags),
        stack_name=stack_config.stack_name(investigation_id),
        status=Status.OPENING.value,
        frozen=False,
        retain_evidence_bucket=True,
        legal_hold=False,
        outputs={},
        policy_results={},
        drift={},
        next_sequence=1,
        idempotency_key=idempotency_key,
        request_hash=body_hash,
        created_by=principal.name,
        created_at=now,
        updated_at=now,
    )
    stack_config.validate(stack_config.raw_config(inv), region=inv.region)
    session.add(inv)
    try:
        session.flush()
    except IntegrityError:
        # Lost a race with the same ticket or key: answer with the winner.
        session.rollback()
        existing = _existing_for(session, idempotency_key, body.ticket)
        if existing is None:
            raise
        return _replay(existing, idempotency_key, body_hash), first_operation(session, existing.id), False
    op = _enqueue(session, clock, inv, Action.OPEN, principal.actor, {}, request_id)
    audit.record(
        session,
        clock,
        actor=principal.actor,
        action="investigation.open",
        target=f"investigation/{inv.id}",
        outcome="accepted",
        request_id=request_id,
        details={"ticket": inv.ticket, "operation_id": op.id, "region": inv.region},
    )
    session.commit()
    dispatch(inv.id)
    return inv, op, True


def _enqueue(
    session: Session,
    clock: Clock,
    inv: Investigation,
    action: Action,
    actor: audit.Actor,
    params: dict[str, Any],
    request_id: str | None,
    *,
    retry_of: str | None = None,
    attempt: int = 1,
) -> Operation:
    # Atomic increment: concurrent requests on one investigation get distinct sequence numbers.
    sequence = (
        session.execute(
            update(Investigation)
            .where(Investigation.id == inv.id)
            .values(next_sequence=Investigation.next_sequence + 1)
            .returning(Investigation.next_sequence)
        ).scalar_one()
        - 1
    )
    op = Operation(
        id=str(uuid.uuid4()),
        investigation_id=inv.id,
        sequence=sequence,
        action=action.value,
        kind=ACTION_KIND[action].value,
        state=OperationState.QUEUED.value,
        params=params,
        retry_of=retry_of,
        attempt=attempt,
        requested_by=actor.name,
        request_id=request_id,
        progress_done=0,
        progress_planned=0,
        result={},
        created_at=clock(),
    )
    session.add(op)
    session.flush()
    return op


def request_operation(
    session: Session,
    clock: Clock,
    dispatch: Dispatch,
    *,
    principal: Principal,
    investigation_id: str,
    action: Action,
    params: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> tuple[Investigation, Operation]:
    """Queue preview/refresh/freeze/release/destroy after whatever is already queued for the investigation."""
    params = dict(params or {})
    inv = get_investigation(session, investigation_id)
    current = Status(inv.status)
    target = check_action(current, action, inv.id)
    if target is not None:
        params["previous_status"] = current.value
        moved = session.execute(
            update(Investigation)
            .where(Investigation.id == inv.id, Investigation.status == current.value)
            .values(status=target.value, updated_at=clock(), attention_reason=None)
        )
        if moved.rowcount == 0:  # type: ignore[attr-defined]
            session.rollback()
            raise StateConflict(f"investigation {inv.id} changed state meanwhile; read it again and retry")
        session.refresh(inv)
    op = _enqueue(session, clock, inv, action, principal.actor, params, request_id)
    audit.record(
        session,
        clock,
        actor=principal.actor,
        action=f"investigation.{action.value}",
        target=f"investigation/{inv.id}",
        outcome="accepted",
        request_id=request_id,
        details={"operation_id": op.id, **params},
    )
    session.commit()
    dispatch(inv.id)
    return inv, op


def retry_operation(session: Session, clock: Clock, failed: Operation) -> Operation:
    """A new queued operation linked to an interrupted one (start-up recovery)."""
    inv = get_investigation(session, failed.investigation_id)
    op = _enqueue(
        session,
        clock,
        inv,
        Action(failed.action),
        audit.SYSTEM,
        dict(failed.params or {}),
        failed.request_id,
        retry_of=failed.id,
        attempt=failed.attempt + 1,
    )
    return op


def _move(inv: Investigation, target: Status, now: datetime, reason: str | None = None) -> None:
    current = Status(inv.status)
    try:
        check_transition(current, target)
    except StateConflict:
        # Settling must never fail: record the surprise for a human instead.
        logger.warning("investigation %s: unexpected transition %s -> %s", inv.id, current, target)
        target = Status.NEEDS_ATTENTION
        reason = f"unexpected transition {current.value} -> {target.value}; {reason or ''}".strip("; ")
    inv.status = target.value
    inv.attention_reason = reason if target == Status.NEEDS_ATTENTION else None
    inv.updated_at = now


def settle(
    inv: Investigation,
    op: Operation,
    state: OperationState,
    result: OperationResult | None,
    now: datetime,
    *,
    ran: bool = True,
) -> None:
    """Apply an operation's outcome to its investigation. ``ran=False``: cancelled before it started."""
    action = Action(op.action)
    ok = state == OperationState.SUCCEEDED
    params = op.params or {}
    if result is not None:
        _record_results(inv, op, result, now)
    if action == Action.OPEN:
        _move(inv, Status.READY if ok else Status.FAILED, now)
    elif action == Action.FREEZE:
        if ok:
            inv.frozen = True
            inv.legal_hold = True
            _move(inv, Status.FROZEN, now)
        elif not ran:
            _move(inv, Status(params.get("previous_status", Status.READY.value)), now)
        else:
            _move(inv, Status.NEEDS_ATTENTION, now, f"freeze {state.value}: {op.error or op.error_code}")
    elif action == Action.RELEASE:
        if ok:
            inv.frozen = False
            inv.legal_hold = not params.get("remove_legal_holds", False)
            _move(inv, Status.READY, now)
        elif not ran:
            _move(inv, Status(params.get("previous_status", Status.FROZEN.value)), now)
        else:
            _move(inv, Status.NEEDS_ATTENTION, now, f"release {state.value}: {op.error or op.error_code}")
    elif action == Action.DESTROY:
        if ok:
            inv.retain_evidence_bucket = bool(params.get("retain_evidence_bucket", True))
            bucket = (inv.outputs or {}).get("evidenceBucket")
            inv.outputs = {"evidenceBucket": bucket} if bucket and inv.retain_evidence_bucket else {}
            inv.open_ticket = None
            _move(inv, Status.DESTROYED, now)
        elif not ran:
            _move(inv, Status(params.get("previous_status", Status.READY.value)), now)
        else:
            _move(inv, Status.FAILED, now)
    inv.updated_at = now


def mark_interrupted(inv: Investigation, op: Operation, now: datetime) -> None:
    """After a crash: open/preview/refresh are retried; freeze/release/destroy wait for a human."""
    action = Action(op.action)
    if action in (Action.FREEZE, Action.RELEASE, Action.DESTROY):
        _move(
            inv,
            Status.NEEDS_ATTENTION,
            now,
            f"{action.value} operation {op.id} was interrupted; check the stack, then repeat or undo it",
        )


def _record_results(inv: Investigation, op: Operation, result: OperationResult, now: datetime) -> None:
    if result.succeeded and op.kind == "up":
        inv.outputs = dict(result.outputs)
    if op.kind in ("up", "preview") and (result.succeeded or result.policy_violations):
        inv.policy_results = {
            "operation_id": op.id,
            "action": op.action,
            "checked_at": now.isoformat(),
            "passed": not result.policy_violations,
            "violations": [v.__dict__ for v in result.policy_violations],
        }
    if op.kind == "refresh" and result.succeeded:
        inv.drift = {
            "operation_id": op.id,
            "checked_at": now.isoformat(),
            "drifted": bool(result.drift),
            "resources": list(result.drift),
        }


def ensure_open(inv: Investigation) -> None:
    if Status(inv.status) not in OPEN_STATES:
        raise StateConflict(f"investigation {inv.id} is {inv.status}")


def preview(
    session: Session,
    clock: Clock,
    dispatch: Dispatch,
    *,
    principal: Principal,
    investigation_id: str,
    request_id: str | None,
) -> tuple[Investigation, Operation]:
    principal.require(Permission.PREVIEW)
    return request_operation(
        session,
        clock,
        dispatch,
        principal=principal,
        investigation_id=investigation_id,
        action=Action.PREVIEW,
        request_id=request_id,
    )


def refresh(
    session: Session,
    clock: Clock,
    dispatch: Dispatch,
    *,
    principal: Principal,
    investigation_id: str,
    request_id: str | None,
) -> tuple[Investigation, Operation]:
    principal.require(Permission.REFRESH)
    return request_operation(
        session,
        clock,
        dispatch,
        principal=principal,
        investigation_id=investigation_id,
        action=Action.REFRESH,
        request_id=request_id,
    )


def freeze(
    session: Session,
    clock: Clock,
    dispatch: Dispatch,
    *,
    principal: Principal,
    investigation_id: str,
    reason: str | None,
    request_id: str | None,
) -> tuple[Investigation, Operation]:
    principal.require(Permission.FREEZE)
    return request_operation(
        session,
        clock,
        dispatch,
        principal=principal,
        investigation_id=investigation_id,
        action=Action.FREEZE,
        params={"reason": reason},
        request_id=request_id,
    )


def release(
    session: Session,
    clock: Clock,
    dispatch: Dispatch,
    *,
    principal: Principal,
    investigation_id: str,
    reason: str,
    remove_legal_holds: bool,
    request_id: str | None,
) -> tuple[Investigation, Operation]:
    principal.require(Permission.RELEASE)
    if remove_legal_holds:
        principal.require(Permission.RETENTION)
    return request_operation(
        session,
        clock,
        dispatch,
        principal=principal,
        investigation_id=investigation_id,
        action=Action.RELEASE,
        params={"reason": reason, "remove_legal_holds": remove_legal_holds},
        request_id=request_id,
    )


def destroy(
    session: Session,
    clock: Clock,
    dispatch: Dispatch,
    *,
    principal: Principal,
    investigation_id: str,
    reason: str | None,
    retain_evidence_bucket: bool,
    request_id: str | None,
) -> tuple[Investigation, Operation]:
    principal.require(Permission.DESTROY)
    if not retain_evidence_bucket:
        principal.require(Permission.RETENTION)
    return request_operation(
        session,
        clock,
        dispatch,
        principal=principal,
        investigation_id=investigation_id,
        action=Action.DESTROY,
        params={"reason": reason, "retain_evidence_bucket": retain_evidence_bucket},
        request_id=request_id,
    )
