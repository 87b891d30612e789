"""Domain events -> notifications: what each event says on the ticket and in chat, written to the outbox in
the transaction of the change (an in-transaction handler of the unit of work's publisher).

Transitional moves (freezing, releasing, destroying) are announced with who asked and why; drift also gets
an alert audit entry. Requests held by the two-person rule are announced when asked for, approved, denied or
expired, so whoever may approve learns of them where the incident is discussed; a break-glass use is an alert
of its own (one notice per destination, never merged into the status notice that follows it). Nothing here
reads ORM history: the domain functions say what happened.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.access.models import DECLARED, AccessRequest, suspended_by_freeze
from service.audit import service as audit
from service.clock import Clock, as_utc
from service.config import Settings
from service.domain_events import (
    AccessChanged,
    ApprovalDecided,
    ApprovalExpired,
    ApprovalRequested,
    BreakGlassUsed,
    BuildProgress,
    DomainEvent,
    DriftFound,
    ExpiryExtended,
    ExpiryWarned,
    InvestigationOpened,
    LoginAlerted,
    OperationEnded,
    OperationQueued,
    RequestRefused,
    RoleUsedWithoutGrant,
    StatusChanged,
)
from service.integrations import outbox
from service.integrations.messages import Notice, snapshot
from service.investigation_states import Status
from service.investigations.models import Investigation

logger = logging.getLogger(__name__)


class NotificationWriter:
    """Subscribed in-transaction: ``writer(session, events)`` queues one notice per event that has one."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    def __call__(self, session: Session, events: Sequence[DomainEvent]) -> None:
        for event in events:
            notice = notice_for(session, event)
            if notice is None:
                continue
            outbox.notify(session, self.clock(), self.settings, notice)
            if isinstance(event, DriftFound):
                audit.record(
                    session,
                    self.clock,
                    actor=audit.SYSTEM,
                    action="investigation.drift_alert",
                    target=f"investigation/{event.investigation_id}",
                    outcome="alert",
                    details={
                        "operation_id": event.operation_id,
                        "resources": event.resources,
                        "remediated": False,
                    },
                )
        # Last: the stream positions lock their counters until the commit that follows.
        outbox.sequence(session)


def wrote_outbox(events: Sequence[DomainEvent]) -> bool:
    return any(not isinstance(e, OperationQueued) for e in events)


def notice_for(session: Session, event: DomainEvent) -> Notice | None:
    if isinstance(event, RequestRefused):
        inv = session.get(Investigation, event.investigation_id) if event.investigation_id else None
        data = snapshot(inv) if inv else {"ticket": event.ticket, "id": "-", "status": "-"}
        return Notice("refused", data, f"{event.action} refused: {event.message}")
    if isinstance(event, OperationQueued):
        return None
    if isinstance(event, LoginAlerted):
        return _login_notice(session, event)
    inv = session.get(Investigation, event.investigation_id)
    if inv is None:
        return None
    data = snapshot(inv)
    if isinstance(event, InvestigationOpened):
        return Notice(
            "opened",
            data,
            f"Requested by {event.requested_by}; the clean room is being built (this takes a few minutes).",
        )
    if isinstance(event, BuildProgress):
        return Notice(
            "progress",
            data,
            f"Halfway: {event.done} of {event.planned} resources done.",
            {"resources": f"{event.done}/{event.planned}"},
        )
    if isinstance(event, DriftFound):
        drift = inv.drift or {}
        resources = drift.get("resources") or []
        lines = [_describe(r) for r in resources[:10]]
        detail = "The refresh preview found resources that differ from the stack. Nothing was changed."
        if lines:
            detail += "\n" + "\n".join(f"- {line}" for line in lines)
        return Notice("drift", data, detail, {"drifted resources": len(resources)})
    if isinstance(event, ExpiryWarned):
        left = as_utc(event.expires_at) - as_utc(event.at)
        return Notice(
            "ttl_warning",
            data,
            f"This clean room will be destroyed in {_duration(left)} (the evidence bucket is kept). "
            f"Extend it with `/forensics extend {inv.id} <hours>` or "
            f"POST /v1/investigations/{inv.id}/extend.",
        )
    if isinstance(event, ExpiryExtended):
        return Notice("extended", data, f"Extended by {event.hours}h by {event.by}.")
    if isinstance(event, OperationEnded):
        detail = f"{event.action} (operation {event.operation_id}) asked by {event.by}: {event.state}"
        detail += f": {event.error}" if event.error else "."
        headline = "action_done" if event.state == "succeeded" else "action_failed"
        return Notice(headline, data, detail, {"action": event.action, **event.facts})
    if isinstance(event, ApprovalRequested | ApprovalDecided | ApprovalExpired | BreakGlassUsed):
        return _approval_notice(event, data)
    if isinstance(event, AccessChanged):
        return _access_notice(event, data)
    if isinstance(event, RoleUsedWithoutGrant):
        return Notice(
            "role_use_alert",
            data,
            f"CloudTrail shows {event.role_arn} assumed by {event.caller} at {_when(event.at)} "
            f"{event.finding}. Find out who it was and why now.",
            {
                "event": event.event_id,
                "source identity": event.source_identity or "(none)",
            },
        )
    return _status_notice(session, event, inv, data)


def _login_notice(session: Session, event: LoginAlerted) -> Notice:
    """To the alert channel always; to the investigation's ticket when the role or instance is one's."""
    inv = session.get(Investigation, event.investigation_id) if event.investigation_id else None
    data = snapshot(inv) if inv else {"ticket": None, "id": "-", "status": "-"}
    headline = "login_alert_malformed" if event.malformed else "login_alert"
    return Notice(
        headline, data, event.detail, {"event": event.event_id, "account": event.account_id, **event.facts}
    )


_ACCESS_DETAIL = {
    "requested": "{person} asked for the {role} role for {hours}h: {reason}. Another person with "
    "approve_access decides (POST /v1/access-requests/{id}/approve or /deny).",
    "approved": "{by} approved {person}'s {role} access until {until}; the trust policy is being updated.",
    "denied": "{by} denied {person}'s {role} access{why} Nothing was granted.",
    "granted": "{person} may now assume the {role} role (as source identity {person}) until {until}; AWS "
    "refuses it after that.",
    "expired": "{person}'s {role} access expired at {until}; it is being removed from the trust policy.",
    "lapsed": "{person}'s request for the {role} role waited without a decision and lapsed; nothing was "
    "granted.",
    "revoked": "{by} revoked {person}'s {role} access{why}",
}


def _access_notice(event: AccessChanged, data: dict[str, Any]) -> Notice:
    why = f": {event.reason}" if event.reason else "."
    detail = _ACCESS_DETAIL[event.change].format(
        person=event.person,
        role=event.role,
        hours=event.hours,
        reason=event.reason,
        id=event.request_id,
        by=event.by,
        until=_when(event.expires_at),
        why=why,
    )
    facts = {"access request": event.request_id, "role": event.role, "person": event.person}
    return Notice(f"access_{event.change}", data, detail, facts, event.request_id)


def _when(value: datetime | None) -> str:
    return f"{as_utc(value):%Y-%m-%d %H:%M} UTC" if value else "-"


def _approval_notice(
    event: ApprovalRequested | ApprovalDecided | ApprovalExpired | BreakGlassUsed, data: dict[str, Any]
) -> Notice:
    facts: dict[str, Any] = {"approval": event.approval_id, "action": event.action}
    if isinstance(event, BreakGlassUsed):
        return Notice(
            "break_glass",
            data,
            f"BREAK-GLASS: {event.by} did {event.action} alone, without a second person's approval. "
            f"Reason given: {event.reason}\nIt acted at once; it is in the audit log "
            "(investigation.break_glass) and will be listed in the custody report. Review it now.",
            facts,
        )
    if isinstance(event, ApprovalRequested):
        return Notice(
            "approval_requested",
            data,
            f"{event.requested_by} asked for {event.action}, which needs a second person: {event.rule}. "
            f"Nothing is done until a different person who may do it approves "
            f"(POST /v1/approvals/{event.approval_id}/approve) or denies it "
            f"(POST /v1/approvals/{event.approval_id}/deny).",
            {**facts, "approve before": f"{as_utc(event.expires_at):%Y-%m-%d %H:%M} UTC"},
            event.approval_id,
        )
    if isinstance(event, ApprovalExpired):
        return Notice(
            "approval_expired",
            data,
            f"The {event.action} {event.requested_by} asked for expired without a second person; "
            "nothing was done.",
            facts,
        )
    if event.approved:
        detail = f"{event.by} approved the {event.action} {event.requested_by} asked for; it goes ahead now."
        return Notice("approval_granted", data, detail, facts)
    why = f": {event.reason}" if event.reason else "."
    detail = f"{event.by} denied the {event.action} {event.requested_by} asked for{why} Nothing was done."
    return Notice("approval_denied", data, detail, facts)


def suspended_grants(session: Session, inv: Investigation) -> list[str]:
    """ "person (role)" for each grant a freeze leaves out of the trust policies."""
    rows = session.execute(
        select(AccessRequest)
        .where(AccessRequest.investigation_id == inv.id, AccessRequest.status.in_(DECLARED))
        .order_by(AccessRequest.decided_at, AccessRequest.id)
    ).scalars()
    return [f"{row.person} ({row.role})" for row in rows if suspended_by_freeze(inv, row)]


def _status_notice(
    session: Session, event: StatusChanged, inv: Investigation, data: dict[str, Any]
) -> Notice | None:
    old, new = event.old, event.new
    why = f"Requested by {event.by}" + (f": {event.reason}" if event.reason else ".")
    if new == Status.READY:
        if old == Status.OPENING:
            return Notice("ready", data, "The clean room is built and the policies passed.")
        if old == Status.RELEASING:
            return Notice("released", data)
        return Notice("status", data, f"{old} -> {new}")
    if new == Status.FREEZING:
        return Notice("freezing", data, why)
    if new == Status.RELEASING:
        return Notice("releasing", data, why)
    if new == Status.DESTROYING:
        return Notice(
            "destroying", data, why + " The evidence bucket is kept unless a custodian said otherwise."
        )
    if new == Status.FROZEN:
        detail = "Preserved in a locked state; legal hold placed on the evidence."
        held_back = suspended_grants(session, inv)
        if held_back:
            detail += " Access revoked by the freeze (until a release): " + ", ".join(held_back) + "."
        return Notice("frozen", data, detail)
    if new == Status.DESTROYED:
        kept = "retained" if inv.retain_evidence_bucket else "deleted"
        return Notice("destroyed", data, f"The stack was removed; the evidence bucket was {kept}.")
    if new == Status.FAILED:
        return Notice("failed", data, event.reason or f"{old} -> failed")
    if new == Status.NEEDS_ATTENTION:
        return Notice("needs_attention", data, inv.attention_reason)
    return None


def _duration(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"


def _describe(resource: object) -> str:
    if isinstance(resource, dict):
        urn = resource.get("urn") or resource.get("name") or resource.get("id") or "resource"
        kind = resource.get("type") or resource.get("resource_type") or ""
        op = resource.get("op") or resource.get("diff") or ""
        return " ".join(str(part) for part in (kind, urn, op) if part)[:300]
    return str(resource)[:300]
