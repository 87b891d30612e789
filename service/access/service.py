"""Just-in-time access to a clean room's roles, through the program.

A person asks (``request_access``) for one role for some hours; their AWS principal comes from the operator's
settings (``person_principals``), never from the request. Another person holding ``approve_access`` decides
(``decide``): an approval declares the grant in the investigation's ``grants`` and queues the ``grant``
action, an `up` that writes it into the role's trust policy with ``DateLessThan aws:CurrentTime`` at the
expiry and the person as the required source identity, so the policy pack judges it and AWS refuses the
role from the expiry on whether or not this service is running. The scheduler (``expire_grants``) drops
expired grants from the declared state and queues the `up` that removes them from the trust policy.

Freeze needs nothing here: the program leaves every grant but the custodian's out while frozen, and the
release's `up` declares the remaining ones again. The declared grants are recomputed from the requests (not
patched), at every change and again when the ``grant`` action starts, so two decisions committed at once
cannot lose one another's grant.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from programs.forensic_env.config import GRANT_EXPIRY_FORMAT
from programs.forensic_env.trust import FROZEN_KEEPS_GRANTS_OF, SOURCE_IDENTITY_PATTERN
from service.access.models import DECLARED, AccessRequest, AccessStatus, suspended_by_freeze
from service.access.schemas import AccessRequestCreate, AccessRequestOut
from service.audit import service as audit
from service.auth.models import ApiToken
from service.auth.persons import person_of, require_person
from service.auth.roles import Permission, Role
from service.auth.service import BOOTSTRAP_PRINCIPAL, Principal, bootstrap_enabled
from service.clock import as_utc
from service.config import Settings
from service.domain_events import AccessChanged
from service.errors import Forbidden, InvalidInput, NotFound, StateConflict
from service.investigations import service as investigations
from service.investigations import stack_config
from service.investigations.actions import Params, StepContext, StepFailed, StepRun, spec_of
from service.investigations.models import Investigation
from service.operations.models import Operation
from service.operations.states import OperationState
from service.unit_of_work import Caller, UnitOfWork

logger = logging.getLogger(__name__)

# The action whose `up` brings the trust policies in line with the declared grants (actions.py).
GRANT_ACTION = "grant"
_SOURCE_IDENTITY_RE = re.compile(SOURCE_IDENTITY_PATTERN)


def sync_principal(settings: Settings) -> Principal:
    return Principal(settings.access_sync_principal, Role(settings.access_sync_role))


def out(inv: Investigation, row: AccessRequest) -> AccessRequestOut:
    return AccessRequestOut.model_validate(row).model_copy(
        update={"suspended_by_freeze": suspended_by_freeze(inv, row)}
    )


# Reads


def get_request(session: Session, request_id: str) -> AccessRequest:
    row = session.get(AccessRequest, request_id)
    if row is None:
        raise NotFound(f"access request {request_id} not found")
    return row


def list_requests(session: Session, investigation_id: str) -> list[AccessRequest]:
    investigations.get_investigation(session, investigation_id)
    query = (
        select(AccessRequest)
        .where(AccessRequest.investigation_id == investigation_id)
        .order_by(AccessRequest.created_at, AccessRequest.id)
    )
    return list(session.execute(query).scalars())


def waiting_requests(session: Session, limit: int = 200) -> list[AccessRequest]:
    """Access requests still waiting for a decision, oldest first (for whoever may decide them)."""
    query = (
        select(AccessRequest)
        .where(AccessRequest.status == AccessStatus.REQUESTED)
        .order_by(AccessRequest.created_at, AccessRequest.id)
        .limit(limit)
    )
    return list(session.execute(query).scalars())


def is_requester(settings: Settings, principal: Principal, row: AccessRequest) -> bool:
    """Whether ``principal`` is the person the request is for (or who asked), through any token or chat id."""
    return person_of(settings, principal) in (row.person, person_of(settings, row.requested_by))


def declared_grants(session: Session, investigation_id: str, now: datetime) -> list[dict[str, str]]:
    """Every approved or active grant of the investigation that has not expired, oldest decision first."""
    rows = (
        session.execute(
            select(AccessRequest)
            .where(AccessRequest.investigation_id == investigation_id, AccessRequest.status.in_(DECLARED))
            .order_by(AccessRequest.decided_at, AccessRequest.id)
        )
        .scalars()
        .all()
    )
    return [_entry(row) for row in rows if row.expires_at is not None and as_utc(row.expires_at) > now]


def _entry(row: AccessRequest, expires: datetime | None = None) -> dict[str, str]:
    until = expires or row.expires_at
    assert until is not None
    entry = {
        "requestId": row.id,
        "role": row.role,
        "principalArn": row.principal_arn,
        "person": row.person,
        "expiresAt": as_utc(until).strftime(GRANT_EXPIRY_FORMAT),
    }
    if row.session_name:
        entry["sessionName"] = row.session_name
    return entry


# Requests and decisions


def _refusal_for_role(inv: Investigation, role: str) -> str | None:
    refusal = spec_of(GRANT_ACTION).refusal(inv)
    if refusal is not None:
        return refusal
    if inv.frozen and role not in FROZEN_KEEPS_GRANTS_OF:
        return (
            f"investigation {inv.id} is frozen: only {', '.join(FROZEN_KEEPS_GRANTS_OF)} access may be "
            "granted until it is released"
        )
    return None


def _check_role(inv: Investigation, role: str) -> None:
    message = _refusal_for_role(inv, role)
    if message is not None:
        raise StateConflict(message, details={"status": inv.status.value, "role": role})


def request_access(caller: Caller, investigation_id: str, body: AccessRequestCreate) -> AccessRequest:
    """Anyone signed in may ask, for themselves only: the principal is the one settings give their name."""
    principal = caller.principal
    principal.require(Permission.READ)
    settings = caller.settings
    session = caller.session
    inv = investigations.get_investigation(session, investigation_id)
    _check_role(inv, body.role)
    # The person, not the token or chat account: their second token asks as them, and their sessions must
    # carry their own name as the source identity.
    person = person_of(settings, principal)
    bound = settings.person_principals.get(person)
    if bound is None:
        raise InvalidInput(
            f"{person} has no AWS principal to grant access to (FORENSICS_PERSON_PRINCIPALS)",
            details={"fields": [{"field": "person", "message": "no AWS principal", "type": "settings"}]},
        )
    if not _SOURCE_IDENTITY_RE.match(person):
        # The name becomes the session's source identity, which STS limits to these characters.
        raise InvalidInput(
            f"{person!r} cannot be a source identity ({SOURCE_IDENTITY_PATTERN}); map it to a person "
            "(FORENSICS_PERSON_ALIASES)",
            details={"fields": [{"field": "person", "message": "not a source identity", "type": "value"}]},
        )
    if body.hours > settings.max_grant_hours:
        raise InvalidInput(
            f"hours must be between 1 and {settings.max_grant_hours}",
            details={
                "fields": [
                    {"field": "hours", "message": f"at most {settings.max_grant_hours}", "type": "limit"}
                ]
            },
        )
    pending = session.execute(
        select(AccessRequest.id).where(
            AccessRequest.investigation_id == inv.id,
            AccessRequest.person == person,
            AccessRequest.role == body.role,
            AccessRequest.status == AccessStatus.REQUESTED,
        )
    ).first()
    if pending is not None:
        raise StateConflict(
            f"{person} already asked for {body.role} access to {inv.id} (request {pending[0]})",
            details={"access_request_id": pending[0]},
        )
    now = caller.clock()
    row = AccessRequest(
        id=str(uuid.uuid4()),
        investigation_id=inv.id,
        role=body.role,
        principal_arn=bound.principal_arn,
        session_name=bound.session_name,
        person=person,
        hours=body.hours,
        reason=body.reason,
        status=AccessStatus.REQUESTED,
        requested_by=principal.name,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    _audit(caller, row, "access.request", {"hours": body.hours, "reason": body.reason})
    _announce(caller, row, "requested", by=principal.name, reason=body.reason)
    return row


def decide(
    caller: Caller, request_id: str, *, approve: bool, reason: str | None
) -> tuple[AccessRequest, Operation | None]:
    """Approve or deny someone else's request. Approval declares the grant and queues the `up` that puts it
    into the role's trust policy (or joins one already queued: it reads the declared state when it starts)."""
    principal = caller.principal
    principal.require(Permission.APPROVE_ACCESS)
    require_person(caller.settings, principal, "decide access requests")
    session = caller.session
    row = get_request(session, request_id)
    if is_requester(caller.settings, caller.principal, row):
        raise Forbidden(
            f"access request {row.id} is {row.person}'s, and you ({principal.name}) are that person: access "
            "must be decided by another person than the one who asked for it",
            details={"access_request_id": row.id, "permission": Permission.APPROVE_ACCESS.value},
        )
    if row.status != AccessStatus.REQUESTED:
        _not_waiting(row)
    inv = investigations.get_investigation(session, row.investigation_id)
    now = caller.clock()
    if decide_by(caller.settings, row) <= now:
        # Past its time even if the scheduler has not marked it yet: nobody may grant from a stale request.
        raise StateConflict(
            f"access request {row.id} waited longer than {caller.settings.approval_ttl_hours:g} hours "
            "without a decision and has lapsed; nothing was granted. Ask again if access is still needed",
            details={"status": AccessStatus.LAPSED.value},
        )
    if not approve:
        _settle(caller, row, AccessStatus.DENIED, now, reason)
        _audit(caller, row, "access.deny", {"reason": reason})
        _announce(caller, row, "denied", by=principal.name, reason=reason)
        return row, None

    _check_role(inv, row.role)
    _require_requester_signed_in(caller, row, now)
    expires = (now + timedelta(hours=row.hours)).replace(microsecond=0)
    grants = [*declared_grants(session, inv.id, now), _entry(row, expires)]
    # Checked by the program's own validator before anything changes: a grant the trust policy cannot take
    # (IAM's size quota) is a 422 now, not a failed deployment later.
    stack_config.validate(
        {
            **stack_config.raw_config(inv),
            **stack_config.trust_config(caller.settings, inv),
            "grants": stack_config.program_grants(grants),
        },
        region=inv.region,
    )
    _settle(caller, row, AccessStatus.APPROVED, now, reason, expires_at=expires)
    inv.grants = grants
    inv.updated_at = now
    op = _queue_sync(caller, inv)
    row.operation_id = op.id
    _audit(
        caller,
        row,
        "access.approve",
        {"expires_at": expires.isoformat(), "reason": reason, "operation_id": op.id},
    )
    _announce(caller, row, "approved", by=principal.name, reason=reason)
    return row, op


def revoke(caller: Caller, request_id: str, reason: str | None) -> tuple[AccessRequest, Operation | None]:
    """The person gives up their own grant (or withdraws their request), or an approver takes it back."""
    principal = caller.principal
    session = caller.session
    row = get_request(session, request_id)
    own = is_requester(caller.settings, caller.principal, row)
    if not own:
        principal.require(Permission.APPROVE_ACCESS)
    revocable = (AccessStatus.REQUESTED, *DECLARED)
    if row.status not in revocable:
        _nothing_to_revoke(row)
    inv = investigations.get_investigation(session, row.investigation_id)
    now = caller.clock()
    was = row.status
    # Conditional on the status read: a decision committed meanwhile (an approval racing this withdrawal)
    # makes this a conflict to read again, never a withdrawal that leaves a grant behind.
    moved = session.execute(
        update(AccessRequest)
        .where(AccessRequest.id == row.id, AccessRequest.status == was)
        .values(
            status=AccessStatus.REVOKED,
            updated_at=now,
            decision_reason=reason or row.decision_reason,
        )
    ).rowcount  # type: ignore[attr-defined]
    session.refresh(row)
    if not moved:
        if row.status in revocable:
            raise StateConflict(
                f"access request {row.id} changed meanwhile (now {row.status.value}); read it and revoke "
                "again",
                details={"status": row.status.value},
            )
        _nothing_to_revoke(row)
    was_declared = was in DECLARED
    op = _redeclare(caller, inv, now) if was_declared else None
    _audit(caller, row, "access.revoke", {"reason": reason, "operation_id": op.id if op else None})
    _announce(caller, row, "revoked", by=principal.name, reason=reason)
    return row, op


def _not_waiting(row: AccessRequest) -> None:
    raise StateConflict(
        f"access request {row.id} is {row.status.value}; only a request still waiting can be decided",
        details={"status": row.status.value},
    )


def _nothing_to_revoke(row: AccessRequest) -> None:
    raise StateConflict(
        f"access request {row.id} is {row.status.value}; there is nothing to revoke",
        details={"status": row.status.value},
    )


def _settle(
    caller: Caller,
    row: AccessRequest,
    status: AccessStatus,
    now: datetime,
    reason: str | None,
    *,
    expires_at: datetime | None = None,
) -> None:
    """Takes the request out of ``requested`` with one conditional UPDATE, so it is decided once: a
    withdrawal or another decision committed since it was read makes this one a conflict (409)."""
    values: dict[str, Any] = {
        "status": status,
        "decided_by": caller.principal.name,
        "decided_at": now,
        "decision_reason": reason,
        "updated_at": now,
    }
    if expires_at is not None:
        values["expires_at"] = expires_at
    moved = caller.session.execute(
        update(AccessRequest)
        .where(AccessRequest.id == row.id, AccessRequest.status == AccessStatus.REQUESTED)
        .values(**values)
    ).rowcount  # type: ignore[attr-defined]
    caller.session.refresh(row)
    if not moved:
        _not_waiting(row)


def requester_signed_in(settings: Settings, session: Session, name: str, now: datetime) -> bool:
    """Whether whoever asked can still act here: a chat user still mapped to a role, the bootstrap admin
    while its token is configured, anyone else while they hold an API token neither revoked nor expired. A
    request asked with a token revoked since (a leaked one, say) grants nothing."""
    if name.startswith("slack:"):
        user = name.removeprefix("slack:").split("(", 1)[0]
        return user in settings.slack_user_roles
    if name == BOOTSTRAP_PRINCIPAL:
        return bootstrap_enabled(settings)
    valid = session.execute(
        select(ApiToken.id)
        .where(
            ApiToken.principal == name,
            ApiToken.revoked_at.is_(None),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
        )
        .limit(1)
    ).first()
    return valid is not None


def _require_requester_signed_in(caller: Caller, row: AccessRequest, now: datetime) -> None:
    if not requester_signed_in(caller.settings, caller.session, row.requested_by, now):
        raise StateConflict(
            f"access request {row.id} was asked by {row.requested_by}, who no longer holds a valid token "
            "(revoked or expired since); nothing was granted. Deny it, and have the person ask again",
            details={"status": row.status.value, "requested_by": row.requested_by},
        )


def _redeclare(caller: Caller, inv: Investigation, now: datetime) -> Operation | None:
    """Declare the grants in force again and queue the `up` that applies them, as the service itself (the
    one who triggered it may hold no approving permission). Nothing is queued where no `up` may run now:
    the next one (a release, say) applies the declared state."""
    session = caller.session
    inv.grants = declared_grants(session, inv.id, now)
    inv.updated_at = now
    session.flush()
    if spec_of(GRANT_ACTION).refusal(inv) is not None:
        return None
    return _queue_sync(caller.as_principal(sync_principal(caller.settings)), inv)


def _queue_sync(caller: Caller, inv: Investigation) -> Operation:
    """The `up` that applies the declared grants; one still queued will do, since it reads them when it
    starts."""
    waiting = caller.session.execute(
        select(Operation)
        .where(
            Operation.investigation_id == inv.id,
            Operation.action == GRANT_ACTION,
            Operation.state == OperationState.QUEUED,
        )
        .limit(1)
    ).scalar_one_or_none()
    if waiting is not None:
        return waiting
    queued = investigations.request_action(caller, inv.id, GRANT_ACTION, {})
    if not isinstance(queued, tuple):
        # The grant was approved by a second person already; an action table asking for another is wrong.
        raise StateConflict(f"the {GRANT_ACTION} action must not wait for a second approval")
    return queued[1]


def _announce(
    unit: Caller | UnitOfWork, row: AccessRequest, change: str, *, by: str, reason: str | None = None
) -> None:
    """The ticket and chat hear of every step (alerts: access to evidence is something to watch)."""
    unit.emit(
        AccessChanged(
            row.id,
            row.investigation_id,
            row.role,
            row.person,
            change,
            by,
            reason,
            row.expires_at,
            row.hours,
        )
    )


def _audit(caller: Caller, row: AccessRequest, action: str, details: dict[str, Any]) -> None:
    caller.audit(
        action,
        target=f"access_request/{row.id}",
        outcome=row.status.value,
        details={
            "investigation_id": row.investigation_id,
            "role": row.role,
            "person": row.person,
            "principal_arn": row.principal_arn,
            "session_name": row.session_name,
            **details,
        },
    )


# The scheduler


def decide_by(settings: Settings, row: AccessRequest) -> datetime:
    """When a request nobody decided lapses (the same wait as the two-person rule's requests)."""
    return as_utc(row.created_at) + timedelta(hours=settings.approval_ttl_hours)


@dataclass
class ExpiryReport:
    expired: list[str] = field(default_factory=list)
    # Requests nobody decided in time.
    lapsed: list[str] = field(default_factory=list)
    # Investigation id -> the operation queued to remove its expired grants (None: applied by the next `up`).
    synced: dict[str, str | None] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def expire_grants(ctx: StepContext, now: datetime) -> ExpiryReport:
    """Expired grants leave the declared state and, through an `up`, the trust policy. AWS has refused them
    since their expiry already; this keeps the trust policy to the people who may still come in. One
    investigation's failure does not stop the others (the next run finds its grants again)."""
    report = ExpiryReport()
    report.lapsed = lapse_requests(ctx, now)
    with ctx.unit_of_work() as uow:
        due = uow.session.execute(
            select(AccessRequest.investigation_id)
            .where(AccessRequest.status.in_(DECLARED), AccessRequest.expires_at <= now)
            .distinct()
        ).scalars()
        investigation_ids = sorted(set(due))
    for investigation_id in investigation_ids:
        try:
            with ctx.unit_of_work() as uow:
                caller = Caller(uow, sync_principal(ctx.settings))
                rows = (
                    uow.session.execute(
                        select(AccessRequest).where(
                            AccessRequest.investigation_id == investigation_id,
                            AccessRequest.status.in_(DECLARED),
                            AccessRequest.expires_at <= now,
                        )
                    )
                    .scalars()
                    .all()
                )
                for row in rows:
                    row.status = AccessStatus.EXPIRED
                    row.updated_at = now
                    _audit(caller, row, "access.expire", {"expires_at": _iso(row.expires_at)})
                    _announce(caller, row, "expired", by=caller.principal.name)
                    report.expired.append(row.id)
                inv = investigations.get_investigation(uow.session, investigation_id)
                op = _redeclare(caller, inv, now)
                report.synced[investigation_id] = op.id if op else None
        except Exception as exc:
            logger.exception("expiring the access grants of %s", investigation_id)
            report.errors[investigation_id] = f"{type(exc).__name__}: {exc}"
    return report


def lapse_requests(ctx: StepContext, now: datetime) -> list[str]:
    """Requests nobody decided within the approval wait lapse: audited and announced, nothing granted."""
    oldest = now - timedelta(hours=ctx.settings.approval_ttl_hours)
    with ctx.unit_of_work() as uow:
        caller = Caller(uow, sync_principal(ctx.settings))
        rows = (
            uow.session.execute(
                select(AccessRequest)
                .where(AccessRequest.status == AccessStatus.REQUESTED, AccessRequest.created_at <= oldest)
                .order_by(AccessRequest.created_at, AccessRequest.id)
            )
            .scalars()
            .all()
        )
        for row in rows:
            row.status = AccessStatus.LAPSED
            row.updated_at = now
            _audit(caller, row, "access.lapse", {"waited_hours": ctx.settings.approval_ttl_hours})
            _announce(caller, row, "lapsed", by=caller.principal.name)
        return [row.id for row in rows]


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


# Work steps of the `grant` action (actions.py)


def declare_step(ctx: StepContext, inv: Investigation, _params: Params, _run: StepRun) -> None:
    """Before the `up`: the grants in force as of now, from the requests themselves. Refused where an `up`
    must not run any more (a destroy queued before this one ran first, say)."""
    with ctx.unit_of_work() as uow:
        current = investigations.get_investigation(uow.session, inv.id)
        refusal = spec_of(GRANT_ACTION).refusal(current)
        if refusal is not None:
            raise StepFailed("state_conflict", refusal)
        current.grants = declared_grants(uow.session, inv.id, ctx.clock())


def record_applied(ctx: StepContext, inv: Investigation, _params: Params, run: StepRun) -> None:
    """After the `up`: the approved grants it declared are in the trust policy now (or, frozen, held back by
    the program until the release)."""
    applied = {str(entry.get("requestId")) for entry in inv.grants or []}
    with ctx.unit_of_work() as uow:
        rows = (
            uow.session.execute(
                select(AccessRequest).where(
                    AccessRequest.investigation_id == inv.id, AccessRequest.status == AccessStatus.APPROVED
                )
            )
            .scalars()
            .all()
        )
        for row in rows:
            if row.id in applied:
                row.status = AccessStatus.ACTIVE
                row.updated_at = ctx.clock()
                audit.record(
                    uow.session,
                    ctx.clock,
                    actor=audit.SYSTEM,
                    action="access.active",
                    target=f"access_request/{row.id}",
                    outcome=row.status.value,
                    details={"investigation_id": inv.id, "operation_id": run.operation_id},
                )
                _announce(uow, row, "granted", by=audit.SYSTEM.name)
