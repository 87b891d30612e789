"""TTL and drift: what the periodic jobs do, as plain functions of ``now`` (tests pass a test clock's time).

``plan(now)``            what the next teardown run would do: warn / destroy / skip (with the reason)
``run_teardown(now)``    warns once per expiry (ticket + chat), destroys expired clean rooms; never touches a
                         frozen one or one with an operation queued or running; one failure does not stop the
                         others (it is audited and simply planned again on the next run)
``run_drift_check(now)`` queues a refresh (a refresh *preview*: nothing is changed) on ready clean rooms whose
                         last check is older than the interval; drift in the result raises an alert through
                         ``service.integrations.events`` (ticket + chat + audit), never a remediation
``extend(...)``          moves the expiry (and re-arms the warning)
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.auth.roles import Permission, Role, allows
from service.auth.service import Principal
from service.clock import Clock, as_utc
from service.config import Settings
from service.db.session import session_scope
from service.errors import Forbidden, InvalidInput, ServiceError, StateConflict
from service.integrations import outbox
from service.integrations.context import Integrations
from service.integrations.messages import Notice, snapshot
from service.investigations import service as investigations
from service.investigations.models import Investigation
from service.investigations.states import Status
from service.operations.models import Operation
from service.operations.states import OperationState
from service.teardown.models import TtlWarning

logger = logging.getLogger(__name__)

PlanAction = Literal["warn", "destroy", "skip"]
_FROZEN = (Status.FROZEN, Status.FREEZING, Status.RELEASING)
_HUMAN = (Status.NEEDS_ATTENTION,)


@dataclass
class PlanItem:
    investigation_id: str
    ticket: str
    status: str
    expires_at: datetime
    action: PlanAction
    reason: str


@dataclass
class TeardownReport:
    warned: list[str] = field(default_factory=list)
    destroying: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class DriftReport:
    checked: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _busy(session: Session) -> dict[str, str]:
    """Investigation id -> the operation queued or running on it."""
    rows = session.execute(
        select(Operation.investigation_id, Operation.id, Operation.state).where(
            Operation.state.in_((OperationState.QUEUED.value, OperationState.RUNNING.value))
        )
    ).all()
    return {inv_id: f"operation {op_id} is {state}" for inv_id, op_id, state in rows}


def _skip_reason(inv: Investigation, busy: dict[str, str]) -> str | None:
    status = Status(inv.status)
    if inv.frozen or status in _FROZEN:
        return f"frozen under legal hold ({status.value}); never torn down automatically"
    if status in _HUMAN:
        return f"needs attention: {inv.attention_reason or 'a human decides'}"
    if inv.active_operation_id:
        return f"operation {inv.active_operation_id} is running"
    if inv.id in busy:
        return busy[inv.id]
    if status in (Status.OPENING, Status.DESTROYING):
        return f"{status.value}: an operation is in progress"
    return None


def plan(session: Session, settings: Settings, now: datetime) -> list[PlanItem]:
    warn_before = timedelta(hours=settings.ttl_warning_hours)
    busy = _busy(session)
    warned = {w.investigation_id: w.expires_at for w in session.execute(select(TtlWarning)).scalars()}
    rows = session.execute(
        select(Investigation)
        .where(Investigation.status != Status.DESTROYED.value, Investigation.expires_at <= now + warn_before)
        .order_by(Investigation.expires_at, Investigation.id)
    ).scalars()
    items: list[PlanItem] = []
    for inv in rows:
        expires = as_utc(inv.expires_at)
        skip = _skip_reason(inv, busy)
        if expires <= now:
            action: PlanAction = "skip" if skip else "destroy"
            reason = skip or f"expired at {expires.isoformat()}"
        else:
            if inv.id in warned and as_utc(warned[inv.id]) == expires:
                continue  # warned about this expiry already
            frozen = skip is not None and skip.startswith("frozen")
            action = "skip" if frozen else "warn"
            reason = skip if frozen and skip else f"expires at {expires.isoformat()}"
        items.append(PlanItem(inv.id, inv.ticket, inv.status, expires, action, reason))
    return items


def run_teardown(ctx: Integrations, now: datetime) -> TeardownReport:
    report = TeardownReport()
    with session_scope(ctx.session_factory) as session:
        items = plan(session, ctx.settings, now)
    for item in items:
        if item.action == "skip":
            report.skipped.append(item.investigation_id)
            continue
        try:
            if item.action == "warn":
                _warn(ctx, item, now)
                report.warned.append(item.investigation_id)
            else:
                _destroy(ctx, item, now)
                report.destroying.append(item.investigation_id)
        except Exception as exc:  # one failure must not stop the others; the next run plans it again
            logger.exception("teardown %s of %s", item.action, item.investigation_id)
            message = exc.message if isinstance(exc, ServiceError) else f"{type(exc).__name__}: {exc}"
            report.errors[item.investigation_id] = message
            _audit_error(ctx, item, exc, message)
    return report


def teardown_principal(settings: Settings) -> Principal:
    return Principal(settings.teardown_principal, Role(settings.teardown_role))


def _warn(ctx: Integrations, item: PlanItem, now: datetime) -> None:
    with session_scope(ctx.session_factory) as session:
        inv = investigations.get_investigation(session, item.investigation_id)
        row = session.get(TtlWarning, inv.id)
        if row is None:
            session.add(TtlWarning(investigation_id=inv.id, expires_at=inv.expires_at, warned_at=now))
        else:
            row.expires_at = inv.expires_at
            row.warned_at = now
        left = as_utc(inv.expires_at) - now
        detail = (
            f"This clean room will be destroyed in {_duration(left)} (the evidence bucket is kept). "
            f"Extend it with `/forensics extend {inv.id} <hours>` or POST /v1/investigations/{inv.id}/extend."
        )
        outbox.notify(session, ctx.clock(), ctx.settings, Notice("ttl_warning", snapshot(inv), detail))
        audit.record(
            session,
            ctx.clock,
            actor=teardown_principal(ctx.settings).actor,
            action="investigation.ttl_warning",
            target=f"investigation/{inv.id}",
            outcome="warned",
            details={"expires_at": as_utc(inv.expires_at).isoformat()},
        )


def _destroy(ctx: Integrations, item: PlanItem, now: datetime) -> None:
    with ctx.session_factory() as session:
        inv = investigations.get_investigation(session, item.investigation_id)
        # Queued in the destroy's own transaction: rolled back with it if the request is refused.
        outbox.notify(
            session,
            ctx.clock(),
            ctx.settings,
            Notice(
                "teardown",
                snapshot(inv),
                f"Expired at {item.expires_at.isoformat()}; destroying (evidence kept).",
            ),
        )
        investigations.destroy(
            session,
            ctx.clock,
            ctx.dispatch,
            principal=teardown_principal(ctx.settings),
            investigation_id=inv.id,
            reason=f"TTL expired at {item.expires_at.isoformat()}",
            retain_evidence_bucket=True,
            request_id=None,
        )


def _audit_error(ctx: Integrations, item: PlanItem, exc: Exception, message: str) -> None:
    code = exc.code if isinstance(exc, ServiceError) else "internal_error"
    try:
        with session_scope(ctx.session_factory) as session:
            audit.record(
                session,
                ctx.clock,
                actor=teardown_principal(ctx.settings).actor,
                action=f"teardown.{item.action}",
                target=f"investigation/{item.investigation_id}",
                outcome=f"error:{code}",
                details={"message": message[:1000], "will_retry": True},
            )
    except Exception:
        logger.exception("could not audit a teardown failure")


def _duration(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"


# Drift


def drift_principal(settings: Settings) -> Principal:
    return Principal(settings.drift_check_principal, Role(settings.drift_check_role))


def _last_checked(inv: Investigation) -> datetime:
    checked = (inv.drift or {}).get("checked_at")
    if isinstance(checked, str):
        try:
            return as_utc(datetime.fromisoformat(checked))
        except ValueError:
            pass
    return as_utc(inv.created_at)


def run_drift_check(ctx: Integrations, now: datetime) -> DriftReport:
    report = DriftReport()
    interval = timedelta(hours=ctx.settings.drift_check_interval_hours)
    with session_scope(ctx.session_factory) as session:
        busy = _busy(session)
        due: list[str] = []
        for inv in session.execute(
            select(Investigation).where(Investigation.status == Status.READY.value).order_by(Investigation.id)
        ).scalars():
            reason = _skip_reason(inv, busy)
            if reason:
                report.skipped[inv.id] = reason
            elif now - _last_checked(inv) < interval:
                report.skipped[inv.id] = "checked recently"
            else:
                due.append(inv.id)
    for investigation_id in due:
        try:
            with ctx.session_factory() as session:
                investigations.refresh(
                    session,
                    ctx.clock,
                    ctx.dispatch,
                    principal=drift_principal(ctx.settings),
                    investigation_id=investigation_id,
                    request_id=None,
                )
            report.checked.append(investigation_id)
        except Exception as exc:
            logger.exception("drift check of %s", investigation_id)
            report.errors[investigation_id] = str(exc)
    return report


# Extend


def may_extend(principal: Principal) -> bool:
    return allows(principal.role, Permission.OPEN) or allows(principal.role, Permission.DESTROY)


def extend(
    session: Session,
    clock: Clock,
    settings: Settings,
    *,
    principal: Principal,
    investigation_id: str,
    hours: int,
    request_id: str | None,
    reason: str | None = None,
) -> Investigation:
    """Moves the expiry ``hours`` past the later of the current expiry and now (open/destroy permission)."""
    if not may_extend(principal):
        raise Forbidden(
            f"role {principal.role.value} may not extend an investigation",
            details={"role": principal.role.value, "permission": "open or destroy"},
        )
    if not 1 <= hours <= settings.max_ttl_extension_hours:
        raise InvalidInput(f"hours must be between 1 and {settings.max_ttl_extension_hours}")
    inv = investigations.get_investigation(session, investigation_id)
    if Status(inv.status) in (Status.DESTROYING, Status.DESTROYED):
        raise StateConflict(f"investigation {inv.id} is {inv.status}; there is nothing to extend")
    now = clock()
    old = as_utc(inv.expires_at)
    new = max(old, now) + timedelta(hours=hours)
    ttl = math.ceil((new - as_utc(inv.created_at)).total_seconds() / 3600)
    moved = session.execute(
        update(Investigation)
        .where(Investigation.id == inv.id, Investigation.expires_at == old)
        .values(expires_at=new, ttl_hours=ttl, updated_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if not moved:
        session.rollback()
        raise StateConflict(f"investigation {inv.id} changed meanwhile; read it again and retry")
    session.refresh(inv)
    audit.record(
        session,
        clock,
        actor=principal.actor,
        action="investigation.extend",
        target=f"investigation/{inv.id}",
        outcome="ok",
        request_id=request_id,
        details={
            "hours": hours,
            "previous_expires_at": old.isoformat(),
            "expires_at": new.isoformat(),
            "reason": reason,
        },
    )
    outbox.notify(
        session,
        now,
        settings,
        Notice("extended", snapshot(inv), f"Extended by {hours}h by {principal.name}."),
    )
    session.commit()
    return inv
