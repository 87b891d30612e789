"""TTL and drift: what the periodic jobs do, as plain functions of ``now`` (tests pass a test clock's time).

``plan(now)``            what the next teardown run would do: warn / destroy / skip (with the reason)
``run_teardown(now)``    warns once per expiry (ticket + chat), destroys expired clean rooms; never touches a
                         frozen one or one with an operation queued or running; one failure does not stop the
                         others (it is audited and simply planned again on the next run)
``run_drift_check(now)`` queues a refresh (a refresh *preview*: nothing is changed) on ready clean rooms whose
                         last check is older than the interval; drift in the result raises an alert through
                         ``service.integrations.events`` (ticket + chat + audit), never a remediation

Whether a clean room may be destroyed is the action table's answer (``actions.py``), not this module's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, load_only

from service.audit import service as audit
from service.auth.roles import Role
from service.auth.service import Principal
from service.clock import Clock, as_utc
from service.config import Settings
from service.db.session import SessionFactory, session_scope
from service.domain_events import ExpiryWarned
from service.errors import ServiceError
from service.expiry.models import TtlWarning
from service.investigation_states import Status
from service.investigations import service as investigations
from service.investigations.actions import spec_of, under_legal_hold
from service.investigations.models import Investigation
from service.operations.models import Operation
from service.operations.states import Action, OperationState
from service.unit_of_work import Caller

logger = logging.getLogger(__name__)

PlanAction = Literal["warn", "destroy", "skip"]


class ScheduledContext(Protocol):
    """What the reaper and the drift check need from the process that runs them (the integrations context
    provides it); they act as their configured principals."""

    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def session_factory(self) -> SessionFactory: ...

    def caller(self, session: Session, principal: Principal, request_id: str | None) -> Caller: ...


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
            Operation.state.in_((OperationState.QUEUED, OperationState.RUNNING))
        )
    ).all()
    return {inv_id: f"operation {op_id} is {state}" for inv_id, op_id, state in rows}


def _skip_reason(inv: Investigation, busy: dict[str, str]) -> str | None:
    if inv.active_operation_id:
        return f"operation {inv.active_operation_id} is running"
    if inv.id in busy:
        return busy[inv.id]
    if inv.status == Status.NEEDS_ATTENTION and not inv.frozen:
        return f"needs attention: {inv.attention_reason or 'a human decides'}"
    refusal = spec_of(Action.DESTROY).refusal(inv)
    if refusal is not None:
        return refusal
    return None


_PLAN_COLUMNS = (
    Investigation.id,
    Investigation.ticket,
    Investigation.status,
    Investigation.expires_at,
    Investigation.frozen,
    Investigation.attention_reason,
    Investigation.active_operation_id,
)


def plan(session: Session, settings: Settings, now: datetime) -> list[PlanItem]:
    warn_before = timedelta(hours=settings.ttl_warning_hours)
    busy = _busy(session)
    warned = {w.investigation_id: w.expires_at for w in session.execute(select(TtlWarning)).scalars()}
    rows = session.execute(
        select(Investigation)
        # The plan reads only these: decoding each row's JSON columns (outputs, evidence, grants...) was
        # most of its time. Anything else raises rather than quietly costing a query per investigation.
        .options(load_only(*_PLAN_COLUMNS, raiseload=True))
        .where(Investigation.status != Status.DESTROYED, Investigation.expires_at <= now + warn_before)
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
            # Warn unless it could never be destroyed automatically anyway (legal hold).
            held = under_legal_hold(inv)
            action = "skip" if held else "warn"
            reason = skip if held and skip else f"expires at {expires.isoformat()}"
        items.append(PlanItem(inv.id, inv.ticket, inv.status, expires, action, reason))
    return items


def run_teardown(ctx: ScheduledContext, now: datetime) -> TeardownReport:
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


def _warn(ctx: ScheduledContext, item: PlanItem, now: datetime) -> None:
    with ctx.session_factory() as session:
        caller = ctx.caller(session, teardown_principal(ctx.settings), None)
        inv = investigations.get_investigation(session, item.investigation_id)
        row = session.get(TtlWarning, inv.id)
        if row is None:
            session.add(TtlWarning(investigation_id=inv.id, expires_at=inv.expires_at, warned_at=now))
        else:
            row.expires_at = inv.expires_at
            row.warned_at = now
        caller.audit(
            "investigation.ttl_warning",
            target=f"investigation/{inv.id}",
            outcome="warned",
            details={"expires_at": as_utc(inv.expires_at).isoformat()},
        )
        caller.emit(ExpiryWarned(inv.id, as_utc(inv.expires_at), now))
        caller.commit()


def _destroy(ctx: ScheduledContext, item: PlanItem, now: datetime) -> None:
    with ctx.session_factory() as session:
        caller = ctx.caller(session, teardown_principal(ctx.settings), None)
        params = {"reason": f"TTL expired at {item.expires_at.isoformat()}", "retain_evidence_bucket": True}
        investigations.request_action(caller, item.investigation_id, Action.DESTROY, params)
        caller.commit()


def _audit_error(ctx: ScheduledContext, item: PlanItem, exc: Exception, message: str) -> None:
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


def run_drift_check(ctx: ScheduledContext, now: datetime) -> DriftReport:
    report = DriftReport()
    interval = timedelta(hours=ctx.settings.drift_check_interval_hours)
    with session_scope(ctx.session_factory) as session:
        busy = _busy(session)
        due: list[str] = []
        for inv in session.execute(
            select(Investigation).where(Investigation.status == Status.READY).order_by(Investigation.id)
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
                caller = ctx.caller(session, drift_principal(ctx.settings), None)
                investigations.request_action(caller, investigation_id, Action.REFRESH)
                caller.commit()
            report.checked.append(investigation_id)
        except Exception as exc:
            logger.exception("drift check of %s", investigation_id)
            report.errors[investigation_id] = str(exc)
    return report
