"""Investigation use cases: open, read, request an action, extend, and settle an operation's outcome.

Every function here works inside the caller's unit of work: it changes rows, flushes, and emits what happened
(``service.domain_events``); it never commits and never dispatches. What an action means is read from the
action table (``actions.py``). State changes use conditional UPDATEs so two concurrent requests cannot both
move the same investigation. A request the action table says needs a second person is not acted on: it is
held as a pending approval (``service.approvals``) and returned instead; once approved, ``queue_action`` and
``apply_extension`` act on it exactly as it was asked.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import secrets
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from programs.forensic_env.config import MAX_TTL_HOURS
from service.audit import service as audit
from service.audit.models import AuditEntry
from service.audit.service import Actor
from service.auth.persons import person_of
from service.clock import as_utc
from service.config import Settings
from service.db.base import canonical_json
from service.domain_events import (
    DriftFound,
    ExpiryExtended,
    InvestigationOpened,
    OperationEnded,
    OperationQueued,
    StatusChanged,
)
from service.errors import Forbidden, IdempotencyConflict, InvalidInput, NotFound, StateConflict
from service.investigation_states import Status
from service.investigations import pending_approvals as pending
from service.investigations import stack_config
from service.investigations.actions import ActionSpec, spec_of
from service.investigations.approval_models import ApprovalRequest
from service.investigations.models import Investigation
from service.investigations.schemas import InvestigationCreate
from service.operations.models import Operation
from service.operations.states import Action, OperationState
from service.orchestration.messages import OperationKind, OperationResult
from service.unit_of_work import Caller, UnitOfWork

logger = logging.getLogger(__name__)


def new_investigation_id(ticket: str) -> str:
    """Readable and unique: the ticket slug plus random hex, within the program's id pattern."""
    slug = re.sub(r"[^a-z0-9]+", "-", ticket.lower()).strip("-")[:28] or "inv"
    return f"{slug}-{secrets.token_hex(4)}"


def _request_hash(body: InvestigationCreate) -> str:
    return hashlib.sha256(canonical_json(body.model_dump(mode="json")).encode()).hexdigest()


# Reads


def get_investigation(session: Session, investigation_id: str) -> Investigation:
    inv = session.get(Investigation, investigation_id)
    if inv is None:
        raise NotFound(f"investigation {investigation_id} not found")
    return inv


def open_for_ticket(session: Session, ticket: str) -> Investigation | None:
    return session.execute(
        select(Investigation).where(Investigation.open_ticket == ticket)
    ).scalar_one_or_none()


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
        query = query.where(Investigation.status == status)
    if ticket:
        query = query.where(Investigation.ticket == ticket)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(
        query.order_by(Investigation.created_at.desc(), Investigation.id).limit(limit).offset(offset)
    ).scalars()
    return list(rows), int(total)


# Open


def _existing_for(session: Session, idempotency_key: str | None, ticket: str) -> Investigation | None:
    if idempotency_key:
        found = session.execute(
            select(Investigation).where(Investigation.idempotency_key == idempotency_key)
        ).scalar_one_or_none()
        if found is not None:
            return found
    return open_for_ticket(session, ticket)


def open_params(body: InvestigationCreate) -> dict[str, Any]:
    """The open operation's params: the evidence to acquire once the clean room is ready."""
    evidence = [item.model_dump(mode="json", exclude_none=True) for item in body.evidence]
    return {"evidence": evidence} if evidence else {}


def _evidence_sources(inv: Investigation, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Each piece of evidence given at open, as an acquisition's params (in the clean room's region)."""
    return [{**item, "region": inv.region} for item in params.get("evidence") or []]


def _check_evidence_at_open(inv: Investigation, params: dict[str, Any], settings: Settings) -> None:
    """Every check an acquisition request has (region, source account, never a forensic account, owned by
    that account), before anything is written: a source refused here opens nothing."""
    acquire = spec_of(Action.ACQUIRE)
    for source in _evidence_sources(inv, params):
        assert acquire.validate is not None
        acquire.validate(inv, source, settings)


def _queue_evidence_given_at_open(uow: UnitOfWork, inv: Investigation, op: Operation) -> None:
    """Once the opening `up` succeeded: one acquisition per piece of evidence given at open, queued in order
    behind it (the same operation as POST .../evidence: owner, hashes, custody ledger, manifest)."""
    acquire = spec_of(Action.ACQUIRE)
    for source in _evidence_sources(inv, op.params or {}):
        queued = _enqueue(uow, inv, acquire, op.requested_by, source, op.request_id)
        uow.emit(OperationQueued(inv.id, queued.id))


def _replay(inv: Investigation, idempotency_key: str | None, body_hash: str) -> Investigation:
    if idempotency_key and inv.idempotency_key == idempotency_key and inv.request_hash != body_hash:
        raise IdempotencyConflict(
            "this Idempotency-Key was used with a different request body",
            details={"investigation_id": inv.id},
        )
    return inv


def _check_opening_limits(caller: Caller, body: InvestigationCreate) -> None:
    """What one person may open alone: an allowed instance type, a TTL within what one person may grant
    (more is an extension a second person approves), and a bounded number of open clean rooms."""
    settings = caller.settings
    allowed = settings.allowed_instance_types
    if body.instance_type is not None and body.instance_type not in allowed:
        raise InvalidInput(
            f"instance type {body.instance_type} is not allowed; allowed: {', '.join(allowed)}",
            details={"fields": [{"field": "instance_type", "message": "not allowed", "type": "allowlist"}]},
        )
    limit = settings.two_person_extension_hours
    ttl = body.ttl_hours or settings.default_ttl_hours
    if ttl > limit:
        raise InvalidInput(
            f"ttl_hours {ttl} is more than the {limit} hours one person may grant; open with at most "
            f"{limit} and ask for an extension (POST /v1/investigations/{{id}}/extend), which a second "
            f"person approves",
            details={"fields": [{"field": "ttl_hours", "message": f"at most {limit}", "type": "two_person"}]},
        )
    cap = settings.max_open_rooms_per_requester
    # Counted per person: a second token or chat account of the same person shares the count.
    person = person_of(settings, caller.principal)
    openers = caller.session.execute(
        select(Investigation.created_by).where(Investigation.status != Status.DESTROYED)
    ).scalars()
    open_rooms = sum(1 for name in openers if person_of(settings, name) == person)
    if open_rooms >= cap:
        raise StateConflict(
            f"{person} has {open_rooms} clean rooms open, the most one requester may have "
            f"({cap}); destroy one that is no longer needed, or ask an operator to raise "
            f"FORENSICS_MAX_OPEN_ROOMS_PER_REQUESTER",
            details={"open_rooms": open_rooms, "limit": cap},
        )


def open_investigation(
    caller: Caller, body: InvestigationCreate, *, idempotency_key: str | None
) -> tuple[Investigation, Operation, bool]:
    """Returns (investigation, its first operation, created). A replayed Idempotency-Key, or a ticket that
    already has an open investigation, returns the existing one instead of creating a second stack."""
    spec = spec_of(Action.OPEN)
    params = open_params(body)
    for permission in sorted(spec.permissions(params)):
        caller.principal.require(permission)
    session, settings = caller.session, caller.settings
    body_hash = _request_hash(body)
    existing = _existing_for(session, idempotency_key, body.ticket)
    if existing is not None:
        return _replay(existing, idempotency_key, body_hash), first_operation(session, existing.id), False

    _check_opening_limits(caller, body)
    region = body.region or settings.aws_region
    account = settings.account_for(region)
    if account is None:
        # Before anything is written or deployed: evidence is examined in its own region only.
        raise InvalidInput(
            f"region {region} has no forensic account; allowed: {', '.join(sorted(settings.accounts))}",
            details={"fields": [{"field": "region", "message": "no forensic account", "type": "region"}]},
        )
    now = caller.clock()
    ttl = body.ttl_hours or settings.default_ttl_hours
    investigation_id = new_investigation_id(body.ticket)
    assert spec.running is not None
    inv = Investigation(
        id=investigation_id,
        ticket=body.ticket,
        open_ticket=body.ticket,
        title=body.title,
        region=region,
        account_id=account.account_id,
        assume_role_arn=account.deploy_role_arn,
        instance_type=body.instance_type,
        golden_ami=body.golden_ami.model_dump(exclude_none=True)
        or {"ssm_parameter": settings.golden_ami_ssm_parameter},
        evidence_snapshot_ids=[],
        ttl_hours=ttl,
        expires_at=now + timedelta(hours=ttl),
        tags=dict(body.tags),
        stack_name=stack_config.stack_name(investigation_id),
        status=spec.running,
        frozen=False,
        retain_evidence_bucket=True,
        legal_hold=False,
        outputs={},
        policy_results={},
        drift={},
        next_sequence=1,
        idempotency_key=idempotency_key,
        request_hash=body_hash,
        created_by=caller.principal.name,
        created_at=now,
        updated_at=now,
    )
    stack_config.validate(
        {**stack_config.raw_config(inv), **stack_config.trust_config(settings, inv)}, region=inv.region
    )
    _check_evidence_at_open(inv, params, settings)
    session.add(inv)
    try:
        session.flush()
    except IntegrityError:
        # Lost a race with the same ticket or key: answer with the winner. The whole unit of work is rolled
        # back (no savepoint: pysqlite would commit at the savepoint's release); callers that did more in it
        # see ``created`` False and start again from what now exists.
        caller.rollback()
        existing = _existing_for(session, idempotency_key, body.ticket)
        if existing is None:
            raise
        return _replay(existing, idempotency_key, body_hash), first_operation(session, existing.id), False
    op = _enqueue(caller.uow, inv, spec, caller.principal.name, params, caller.request_id)
    caller.emit(InvestigationOpened(inv.id, caller.principal.name), OperationQueued(inv.id, op.id))
    caller.audit(
        "investigation.open",
        target=f"investigation/{inv.id}",
        outcome="accepted",
        details={
            "ticket": inv.ticket,
            "operation_id": op.id,
            "region": inv.region,
            **({"evidence": params["evidence"]} if params else {}),
        },
    )
    return inv, op, True


# Requests for actions on an existing investigation


def _enqueue(
    uow: UnitOfWork,
    inv: Investigation,
    spec: ActionSpec,
    requested_by: str,
    params: dict[str, Any],
    request_id: str | None,
    *,
    retry_of: str | None = None,
    attempt: int = 1,
) -> Operation:
    # Atomic increment: concurrent requests on one investigation get distinct sequence numbers.
    sequence = (
        uow.session.execute(
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
        action=spec.name,
        kind=(spec.kind or OperationKind.UP).value,
        state=OperationState.QUEUED,
        params=params,
        retry_of=retry_of,
        attempt=attempt,
        requested_by=requested_by,
        request_id=request_id,
        progress_done=0,
        progress_planned=0,
        result={},
        created_at=uow.clock(),
    )
    uow.session.add(op)
    uow.session.flush()
    return op


def validated_params(spec: ActionSpec, params: BaseModel | dict[str, Any] | None) -> dict[str, Any]:
    model = (
        params if isinstance(params, spec.params_model) else spec.params_model.model_validate(params or {})
    )
    return model.model_dump(mode="json")


def authorize(caller: Caller, spec: ActionSpec, params: dict[str, Any]) -> None:
    for permission in sorted(spec.permissions(params)):
        caller.principal.require(permission)


def _move(caller: Caller, inv: Investigation, spec: ActionSpec, reason: str | None, by: str) -> Status:
    """Moves the investigation to the action's running status (if it has one); returns where it was."""
    current = inv.status
    if spec.running is None:
        return current
    moved = caller.session.execute(
        update(Investigation)
        .where(Investigation.id == inv.id, Investigation.status == current)
        .values(status=spec.running, updated_at=caller.clock(), attention_reason=None)
    )
    if moved.rowcount == 0:  # type: ignore[attr-defined]
        raise StateConflict(f"investigation {inv.id} changed state meanwhile; read it again and retry")
    caller.session.refresh(inv)
    caller.emit(StatusChanged(inv.id, current, spec.running, spec.name, by, reason))
    return current


def check_request(caller: Caller, inv: Investigation, spec: ActionSpec, values: dict[str, Any]) -> None:
    """May this be asked for now (state, declared stack state, params against the settings)? Checked when it
    is asked for, and again when a second person approves it."""
    spec.check(inv)
    if spec.validate is not None:
        spec.validate(inv, values, caller.settings)


def request_action(
    caller: Caller,
    investigation_id: str,
    action: str,
    params: BaseModel | dict[str, Any] | None = None,
) -> tuple[Investigation, Operation] | ApprovalRequest:
    """Queue an engine action after whatever is already queued for the investigation; or, when the action
    table says these params need a second person, hold it for approval and return the pending approval."""
    return _request(caller, investigation_id, action, params, may_hold=True)


def request_now(
    caller: Caller,
    investigation_id: str,
    action: str,
    params: BaseModel | dict[str, Any] | None = None,
) -> tuple[Investigation, Operation]:
    """``request_action`` for paths where nothing can wait for a second person (a chat command, a system
    job): a request the two-person rule would hold is refused (403), and nothing of it is recorded."""
    result = _request(caller, investigation_id, action, params, may_hold=False)
    assert not isinstance(result, ApprovalRequest)
    return result


def _request(
    caller: Caller,
    investigation_id: str,
    action: str,
    params: BaseModel | dict[str, Any] | None,
    *,
    may_hold: bool,
) -> tuple[Investigation, Operation] | ApprovalRequest:
    spec = spec_of(action)
    if not spec.runs_engine or action == Action.OPEN:
        raise InvalidInput(f"{action} is not requested as an operation")
    values = validated_params(spec, params)
    authorize(caller, spec, values)
    inv = get_investigation(caller.session, investigation_id)
    check_request(caller, inv, spec, values)
    rule = spec.second_person(values, caller.settings)
    if rule is not None and not may_hold:
        raise Forbidden(
            f"{spec.name} of investigation {inv.id} needs a second person ({rule}); ask for it through the "
            f"API (POST /v1/investigations/{inv.id}/{spec.route or spec.name}), where it waits for approval",
            details={"action": spec.name, "rule": "two_person"},
        )
    if rule is not None:
        return pending.hold(
            caller,
            investigation_id=inv.id,
            action=spec.name,
            params=values,
            rule=rule,
            audit_action=f"investigation.{spec.name}",
            target=f"investigation/{inv.id}",
        )
    return inv, queue_action(caller, inv, spec, values, requester=caller.actor)


def queue_action(
    caller: Caller,
    inv: Investigation,
    spec: ActionSpec,
    values: dict[str, Any],
    *,
    requester: Actor,
    approval: dict[str, Any] | None = None,
) -> Operation:
    """Queue a checked request in the requester's name. ``approval`` (who approved it, or the break-glass
    use) is kept with the operation's params and in the audit entry."""
    values = dict(values)
    previous = _move(caller, inv, spec, values.get("reason"), requester.name)
    if spec.running is not None:
        values["previous_status"] = previous.value
    values.update(approval or {})
    op = _enqueue(caller.uow, inv, spec, requester.name, values, caller.request_id)
    caller.emit(OperationQueued(inv.id, op.id))
    caller.audit(
        f"investigation.{spec.name}",
        target=f"investigation/{inv.id}",
        outcome="accepted",
        actor=requester,
        details={"operation_id": op.id, **values},
    )
    return op


def extend(
    caller: Caller, investigation_id: str, hours: int, reason: str | None = None
) -> Investigation | ApprovalRequest:
    """Moves the expiry ``hours`` past the later of the current expiry and now; an extension longer than one
    person may grant is held for a second person's approval (returned instead)."""
    spec = spec_of(Action.EXTEND)
    values = {"hours": hours, "reason": reason}
    authorize(caller, spec, values)
    inv = get_investigation(caller.session, investigation_id)
    check_extension(caller, inv, hours)
    rule = extension_rule(caller, inv, values)
    if rule is not None:
        return pending.hold(
            caller,
            investigation_id=inv.id,
            action=spec.name,
            params=values,
            rule=rule,
            audit_action="investigation.extend",
            target=f"investigation/{inv.id}",
        )
    return apply_extension(caller, inv, hours, reason, requester=caller.actor)


def hours_extended_alone(session: Session, investigation_id: str) -> int:
    """Hours of extension granted on the investigation without a second person: the applied extensions
    whose audit entry names no approval (an approved or break-glass one names its approval id)."""
    entries = session.execute(
        select(AuditEntry.details).where(
            AuditEntry.target == f"investigation/{investigation_id}",
            AuditEntry.action == "investigation.extend",
            AuditEntry.outcome == "ok",
        )
    ).scalars()
    return sum(int((d or {}).get("hours") or 0) for d in entries if not (d or {}).get("approval_id"))


def extension_rule(caller: Caller, inv: Investigation, values: dict[str, Any]) -> str | None:
    """Why this extension needs a second person, or None: judged on everything one person has added since
    the opening (so ten short extensions cannot add up to a long one nobody else saw)."""
    granted = hours_extended_alone(caller.session, inv.id)
    return spec_of(Action.EXTEND).second_person({**values, "hours_granted_alone": granted}, caller.settings)


def check_extension(caller: Caller, inv: Investigation, hours: int) -> tuple[datetime, int]:
    """The new expiry and total TTL, or why not: the limits are checked before anyone is asked to approve,
    and again when the extension is applied."""
    spec = spec_of(Action.EXTEND)
    limit = caller.settings.max_ttl_extension_hours
    if not 1 <= hours <= limit:
        raise InvalidInput(f"hours must be between 1 and {limit}")
    spec.check(inv)
    now = caller.clock()
    old = as_utc(inv.expires_at)
    new = max(old, now) + timedelta(hours=hours)
    ttl = math.ceil((new - as_utc(inv.created_at)).total_seconds() / 3600)
    if ttl > MAX_TTL_HOURS:
        # Past the program's limit every later `up` (freeze, release) would fail validation: a clean room
        # extended too far could never be frozen again. Refuse here instead, with what is still possible.
        left = max(
            MAX_TTL_HOURS - math.ceil((max(old, now) - as_utc(inv.created_at)).total_seconds() / 3600), 0
        )
        raise InvalidInput(
            f"a clean room lives at most {MAX_TTL_HOURS} hours in all; this one can be extended by at most "
            f"{left} more hours",
            details={"fields": [{"field": "hours", "message": f"at most {left}", "type": "limit"}]},
        )
    # The whole stack config is checked again with the new TTL, by the program's own validator.
    stack_config.validate(stack_config.raw_config(inv, ttlHours=ttl), region=inv.region)
    return new, ttl


def apply_extension(
    caller: Caller,
    inv: Investigation,
    hours: int,
    reason: str | None,
    *,
    requester: Actor,
    approval: dict[str, Any] | None = None,
) -> Investigation:
    """Extends in the requester's name (checked again: time has passed if a second person approved it)."""
    new, ttl = check_extension(caller, inv, hours)
    old = as_utc(inv.expires_at)
    now = caller.clock()
    moved = caller.session.execute(
        update(Investigation)
        .where(Investigation.id == inv.id, Investigation.expires_at == old)
        .values(expires_at=new, ttl_hours=ttl, updated_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if not moved:
        raise StateConflict(f"investigation {inv.id} changed meanwhile; read it again and retry")
    caller.session.refresh(inv)
    caller.audit(
        "investigation.extend",
        target=f"investigation/{inv.id}",
        outcome="ok",
        actor=requester,
        details={
            "hours": hours,
            "previous_expires_at": old.isoformat(),
            "expires_at": new.isoformat(),
            "reason": reason,
            **(approval or {}),
        },
    )
    caller.emit(ExpiryExtended(inv.id, hours, requester.name))
    return inv


def retry_operation(uow: UnitOfWork, failed: Operation) -> Operation:
    """A new queued operation linked to an interrupted one (recovery)."""
    inv = get_investigation(uow.session, failed.investigation_id)
    op = _enqueue(
        uow,
        inv,
        spec_of(failed.action),
        audit.SYSTEM.name,
        dict(failed.params or {}),
        failed.request_id,
        retry_of=failed.id,
        attempt=failed.attempt + 1,
    )
    uow.emit(OperationQueued(inv.id, op.id))
    return op


# Outcomes


def _set_status(
    uow: UnitOfWork, inv: Investigation, op: Operation, target: Status, reason: str | None
) -> None:
    old = inv.status
    inv.status = target
    inv.attention_reason = reason if target == Status.NEEDS_ATTENTION else None
    inv.updated_at = uow.clock()
    if old != target:
        uow.emit(StatusChanged(inv.id, old, target, op.action, op.requested_by, reason))


def _failure_text(op: Operation, state: OperationState) -> str:
    detail = f"{op.error_code}: {(op.error or '')[:500]}".strip(": ") if op.error_code else ""
    return f"{op.action} {state.value}" + (f": {detail}" if detail else "")


def settle(
    uow: UnitOfWork,
    inv: Investigation,
    op: Operation,
    state: OperationState,
    result: OperationResult | None,
    *,
    ran: bool = True,
    facts: Mapping[str, Any] | None = None,
) -> None:
    """Apply an operation's outcome to its investigation, as the action table says. ``ran=False``: cancelled
    before it started. ``facts``: what its work steps want said with an announced outcome."""
    spec = spec_of(op.action)
    ok = state == OperationState.SUCCEEDED
    params = op.params or {}
    if result is not None:
        _record_results(uow, inv, op, result)
    if ran and spec.declare_when_ran is not None:
        spec.declare_when_ran(inv, params)
    if ok and spec.declare_when_succeeded is not None:
        spec.declare_when_succeeded(inv, params)
    previous = Status(params.get("previous_status", inv.status))
    target = spec.status_after(ran=ran, succeeded=ok, previous=previous, current=inv.status)
    if not ran and target == Status.NEEDS_ATTENTION:
        reason: str | None = (
            f"{op.action} operation {op.id} was cancelled before it ran; a person decides whether to ask for "
            f"it again or to destroy the clean room"
        )
    else:
        reason = None if ok or not ran else _failure_text(op, state)
    _set_status(uow, inv, op, target, reason)
    inv.updated_at = uow.clock()
    if ran and spec.announce:
        error = None if ok else (op.error or op.error_code or None)
        said = dict(facts or {})
        uow.emit(OperationEnded(inv.id, op.id, op.action, state.value, op.requested_by, error, said))
    if ok and ran and op.action == Action.OPEN:
        _queue_evidence_given_at_open(uow, inv, op)


def mark_interrupted(uow: UnitOfWork, inv: Investigation, op: Operation) -> None:
    """After a crash, for an action that is not retried: a human checks the stack and decides."""
    spec = spec_of(op.action)
    if spec.declare_when_ran is not None:
        spec.declare_when_ran(inv, op.params or {})
    if spec.running is not None:
        reason = f"{op.action} operation {op.id} was interrupted; check the stack, then repeat or undo it"
        _set_status(uow, inv, op, Status.NEEDS_ATTENTION, reason)


def _record_results(uow: UnitOfWork, inv: Investigation, op: Operation, result: OperationResult) -> None:
    now = uow.clock()
    if result.succeeded and op.kind == OperationKind.UP:
        inv.outputs = dict(result.outputs)
    if op.kind in (OperationKind.UP, OperationKind.PREVIEW) and (
        result.succeeded or result.policy_violations
    ):
        inv.policy_results = {
            "operation_id": op.id,
            "action": op.action,
            "checked_at": now.isoformat(),
            "passed": not result.policy_violations,
            "violations": [v.__dict__ for v in result.policy_violations],
        }
    if op.kind == OperationKind.REFRESH and result.succeeded:
        inv.drift = {
            "operation_id": op.id,
            "checked_at": now.isoformat(),
            "drifted": bool(result.drift),
            "resources": list(result.drift),
        }
        if result.drift:
            uow.emit(DriftFound(inv.id, op.id, len(result.drift)))
