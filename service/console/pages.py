"""What each console page shows, read through the same domain functions the API's GET routes use.

Only presentation is decided here (which actions to offer, how long is left); whether an action may be done
is the domain's answer when it is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.access import service as access
from service.access.models import AccessRequest
from service.access.schemas import AccessRequestOut
from service.approvals import service as approvals
from service.auth.persons import person_of
from service.auth.roles import Permission, allows
from service.auth.service import Principal
from service.clock import as_utc
from service.config import Settings
from service.custody import ledger
from service.custody import service as custody
from service.custody.report_model import CustodyReport
from service.features import ACTIONS
from service.investigation_states import Status
from service.investigations import operation_service as operations
from service.investigations import service as investigations
from service.investigations.actions import ActionSpec
from service.investigations.approval_models import ApprovalRequest, ApprovalStatus
from service.investigations.models import Investigation
from service.operations.models import Operation
from service.operations.states import Action, OperationState

# The actions the console offers on a clean room, in this order (the rest stay with the API and chat).
CONSOLE_ACTIONS: tuple[str, ...] = (
    Action.FREEZE,
    Action.EXTEND,
    Action.RELEASE,
    Action.DESTROY,
    Action.MEMORY,
    Action.LOGS,
    Action.CONTAIN,
    Action.RELEASE_CONTAINMENT,
)
PAGE_SIZE = 50
UNFINISHED = (OperationState.QUEUED, OperationState.RUNNING)


def remaining(inv: Investigation, now: datetime) -> str:
    """Time to live as a person reads it: "2d 4h", "3h 20m", "12m", "expired", or "—" once destroyed."""
    if inv.status == Status.DESTROYED:
        return "—"
    expires_at = inv.expires_at
    seconds = int((as_utc(expires_at) - now).total_seconds())
    if seconds <= 0:
        return "expired"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{max(minutes, 1)}m"


@dataclass(frozen=True)
class RoomRow:
    inv: Investigation
    ttl: str
    drifted: bool
    operation: Operation | None


def _drifted(inv: Investigation) -> bool:
    return bool((inv.drift or {}).get("drifted"))


def _running(session: Session, inv: Investigation) -> Operation | None:
    """The operation running now, else the next one queued (an operation waits in the queue before it takes
    the investigation's lock)."""
    if inv.active_operation_id:
        return operations.get_operation(session, inv.active_operation_id)
    return session.execute(
        select(Operation)
        .where(Operation.investigation_id == inv.id, Operation.state.in_(UNFINISHED))
        .order_by(Operation.sequence)
        .limit(1)
    ).scalar_one_or_none()


def room_rows(
    session: Session, now: datetime, *, status: Status | None, ticket: str | None, offset: int
) -> tuple[list[RoomRow], int]:
    rows, total = investigations.list_investigations(
        session, status=status, ticket=ticket, limit=PAGE_SIZE, offset=offset
    )
    return [RoomRow(inv, remaining(inv, now), _drifted(inv), _running(session, inv)) for inv in rows], total


@dataclass(frozen=True)
class OfferedAction:
    spec: ActionSpec
    # Why it cannot be asked for now (shown instead of a button), or None.
    refusal: str | None


def offered_actions(principal: Principal, inv: Investigation) -> list[OfferedAction]:
    """The console's actions this caller's role may ask for; each with the domain's refusal for the clean
    room's current state, if any."""
    out = []
    for name in CONSOLE_ACTIONS:
        spec = ACTIONS[name]
        if allows(principal.role, spec.permission):
            out.append(OfferedAction(spec, spec.refusal(inv)))
    return out


@dataclass
class RoomPage:
    inv: Investigation
    ttl: str
    drifted: bool
    running: Operation | None
    timeline: list[Operation]
    report: CustodyReport
    chain_ok: bool
    chain_problem: str | None
    grants: list[AccessRequestOut]
    pending: list[ApprovalRequest]
    actions: list[OfferedAction]
    statements: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def room_page(
    settings: Settings, session: Session, principal: Principal, investigation_id: str, now: datetime
) -> RoomPage:
    inv = investigations.get_investigation(session, investigation_id)
    report = custody.build_report(settings, session, inv.id, principal.name, now)
    _events, check = custody.witnessed_custody(settings, session, inv.id)
    pending, _total = approvals.list_approvals(
        session, status=ApprovalStatus.PENDING, investigation_id=inv.id, limit=50, offset=0
    )
    statements: dict[str, list[dict[str, Any]]] = {}
    for statement in report.statements:
        statements.setdefault(str(statement.get("kind")), []).append(statement)
    return RoomPage(
        inv=inv,
        ttl=remaining(inv, now),
        drifted=_drifted(inv),
        running=_running(session, inv),
        timeline=investigations.timeline(session, inv.id),
        report=report,
        chain_ok=check.ok,
        chain_problem=ledger.describe(check),
        grants=[access.out(inv, row) for row in access.list_requests(session, inv.id)],
        pending=pending,
        actions=offered_actions(principal, inv),
        statements=statements,
    )


@dataclass(frozen=True)
class PendingRow:
    approval: ApprovalRequest
    # The caller asked for it: they may withdraw it (deny), never approve it.
    own: bool


@dataclass(frozen=True)
class AccessRow:
    request: AccessRequest
    # The caller is the person it is for: they may withdraw it, never approve it.
    own: bool


def access_rows(settings: Settings, session: Session, principal: Principal) -> list[AccessRow]:
    """Access requests waiting for someone with approve_access (everyone sees their own)."""
    may_decide = allows(principal.role, Permission.APPROVE_ACCESS)
    rows = [
        AccessRow(row, access.is_requester(settings, principal, row))
        for row in access.waiting_requests(session)
    ]
    return [row for row in rows if may_decide or row.own]


def pending_rows(settings: Settings, session: Session, principal: Principal) -> list[PendingRow]:
    rows, _total = approvals.list_approvals(
        session, status=ApprovalStatus.PENDING, investigation_id=None, limit=200, offset=0
    )
    me = person_of(settings, principal)
    return [PendingRow(row, row.requester_person == me) for row in rows]
