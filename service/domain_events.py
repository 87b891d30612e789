"""What happened, as plain data: domain functions return these (through the unit of work) instead of acting
on them. After the change they describe is flushed, the unit of work hands them to its publisher: in the same
transaction (notifications into the outbox, alert audit entries) and after the commit (jobs dispatched,
delivery started). Nothing reads ORM attribute history to find out what changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from service.investigation_states import Status


@dataclass(frozen=True)
class InvestigationOpened:
    investigation_id: str
    requested_by: str


@dataclass(frozen=True)
class OperationQueued:
    """Someone must run the investigation's queue (after the commit that makes the operation visible)."""

    investigation_id: str
    operation_id: str


@dataclass(frozen=True)
class StatusChanged:
    investigation_id: str
    old: Status
    new: Status
    action: str
    by: str
    reason: str | None = None


@dataclass(frozen=True)
class DriftFound:
    investigation_id: str
    operation_id: str
    resources: int


@dataclass(frozen=True)
class BuildProgress:
    """The opening build passed half of its plan (one message; chat only)."""

    investigation_id: str
    done: int
    planned: int


@dataclass(frozen=True)
class ExpiryWarned:
    investigation_id: str
    expires_at: datetime
    at: datetime


@dataclass(frozen=True)
class ExpiryExtended:
    investigation_id: str
    hours: int
    by: str


@dataclass(frozen=True)
class RequestRefused:
    """An integration's request that was refused (ticket transition, ...): commented back to the ticket."""

    ticket: str
    investigation_id: str | None
    action: str
    message: str


@dataclass(frozen=True)
class ApprovalRequested:
    """A request waits for a second, different person (service/approvals)."""

    approval_id: str
    investigation_id: str
    action: str
    requested_by: str
    rule: str
    expires_at: datetime


@dataclass(frozen=True)
class ApprovalDecided:
    approval_id: str
    investigation_id: str
    action: str
    approved: bool
    by: str
    requested_by: str
    reason: str | None = None


@dataclass(frozen=True)
class ApprovalExpired:
    """Nobody decided in time; nothing was done."""

    approval_id: str
    investigation_id: str
    action: str
    requested_by: str


@dataclass(frozen=True)
class BreakGlassUsed:
    """One person acted alone on their own say-so: an alert of its own, never folded into another notice."""

    approval_id: str
    investigation_id: str
    action: str
    by: str
    reason: str


@dataclass(frozen=True)
class AccessChanged:
    """A step of a just-in-time access request (service/access): ``change`` is requested, approved,
    denied, granted (in the trust policy now), expired (the grant's time is up), lapsed (nobody decided in
    time) or revoked."""

    request_id: str
    investigation_id: str
    role: str
    person: str
    change: str
    by: str
    reason: str | None = None
    expires_at: datetime | None = None
    hours: int | None = None


@dataclass(frozen=True)
class RoleUsedWithoutGrant:
    """CloudTrail shows a clean-room role assumed (or tried) by someone without a live grant at that time
    (service/access/cloudtrail.py)."""

    investigation_id: str
    event_id: str
    role_arn: str
    caller: str
    source_identity: str | None
    at: datetime
    finding: str


@dataclass(frozen=True)
class OperationEnded:
    """An operation of an action that moves no status ended (containment, log collection, memory capture),
    and its action announces that (``ActionSpec.announce``): the ticket and chat hear how it went, as they
    hear a status change. ``facts``: what its work steps want said with it (e.g. a memory image's hash on the
    instance and as the service re-hashed it)."""

    investigation_id: str
    operation_id: str
    action: str
    state: str
    by: str
    error: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LoginAlerted:
    """Someone signed in to a forensic account: a Session Manager session or a clean-room role assumed, as
    the account's log-in alert rule published it (service/integrations/login_alerts.py). ``investigation_id``
    is None when the role or instance belongs to no investigation; ``malformed`` when the message could not
    be read (``detail`` says what arrived)."""

    investigation_id: str | None
    event_id: str
    account_id: str
    detail: str
    facts: dict[str, Any] = field(default_factory=dict)
    malformed: bool = False


DomainEvent = (
    InvestigationOpened
    | OperationQueued
    | StatusChanged
    | DriftFound
    | BuildProgress
    | ExpiryWarned
    | ExpiryExtended
    | RequestRefused
    | ApprovalRequested
    | ApprovalDecided
    | ApprovalExpired
    | BreakGlassUsed
    | AccessChanged
    | RoleUsedWithoutGrant
    | OperationEnded
    | LoginAlerted
)
