"""Investigation state changes -> notifications, written in the same transaction as the change.

Session hooks on the app's session factory (no edits to the domain code): ``before_flush`` notices a new
investigation, a status change and a new drift result on ``Investigation`` rows (from their attribute
history); ``before_commit`` turns what was noticed into outbox rows (and an audit entry for drift alerts)
inside the committing transaction; ``after_commit`` asks for a delivery pass; a rollback forgets everything.
Status moves made with bulk UPDATEs (the transitional freezing/destroying/releasing) are not reported: the
request that causes them is reported by whoever made it, and the outcome by ``settle``'s ORM change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.clock import Clock
from service.config import Settings
from service.db.session import SessionFactory
from service.integrations import outbox
from service.integrations.messages import Notice, snapshot
from service.investigations.models import Investigation
from service.investigations.states import Status
from service.operations.models import Operation, OperationEvent

logger = logging.getLogger(__name__)

_EVENTS_KEY = "integration_events"
_WRITTEN_KEY = "outbox_written"


@dataclass
class _Noticed:
    kind: str  # opened | status | drift | progress
    inv: Investigation
    old: str | None = None
    new: str | None = None
    done: int = 0
    planned: int = 0


def _history(inv: Investigation, attr: str) -> tuple[Any, Any] | None:
    hist = inspect(inv).attrs[attr].history
    if not hist.has_changes() or not hist.added:
        return None
    old = hist.deleted[0] if hist.deleted else None
    return old, hist.added[0]


def _operation_error(session: Session, inv: Investigation) -> str | None:
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Operation) and obj.investigation_id == inv.id and obj.error_code:
            return f"{obj.action} {obj.state}: {obj.error_code}: {(obj.error or '')[:500]}".strip(": ")
    return None


class StateHooks:
    def __init__(
        self, settings: Settings, clock: Clock, on_outbox_written: Callable[[], None] | None
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.on_outbox_written = on_outbox_written

    def install(self, session_factory: SessionFactory) -> None:
        event.listen(session_factory, "before_flush", self._before_flush)
        event.listen(session_factory, "before_commit", self._before_commit)
        event.listen(session_factory, "after_commit", self._after_commit)
        event.listen(session_factory, "after_soft_rollback", self._after_rollback)

    # Hooks

    def _before_flush(self, session: Session, _context: Any, _instances: Any) -> None:
        noticed: list[_Noticed] = session.info.setdefault(_EVENTS_KEY, [])
        for obj in session.new:
            if isinstance(obj, Investigation):
                noticed.append(_Noticed("opened", obj, None, obj.status))
            elif isinstance(obj, OperationEvent):
                halfway = _halfway(session, obj)
                if halfway is not None:
                    noticed.append(halfway)
        for obj in session.dirty:
            if not isinstance(obj, Investigation):
                continue
            status = _history(obj, "status")
            if status is not None and status[0] != status[1]:
                noticed.append(_Noticed("status", obj, status[0], status[1]))
            drift = _history(obj, "drift")
            if drift is not None and isinstance(drift[1], dict) and drift[1].get("drifted"):
                noticed.append(_Noticed("drift", obj))

    def _before_commit(self, session: Session) -> None:
        session.flush()  # pending changes reach _before_flush now, inside this transaction
        noticed: list[_Noticed] = session.info.pop(_EVENTS_KEY, [])
        for item in noticed:
            try:
                self._emit(session, item)
            except Exception:
                # A notification must never undo the state change it reports.
                logger.exception("could not queue a notification for investigation %s", item.inv.id)

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(_WRITTEN_KEY, None) and self.on_outbox_written is not None:
            try:
                self.on_outbox_written()
            except Exception:  # the periodic pass delivers it anyway
                logger.exception("could not schedule an outbox delivery")

    def _after_rollback(self, session: Session, _previous: Any) -> None:
        session.info.pop(_EVENTS_KEY, None)
        session.info.pop(_WRITTEN_KEY, None)

    # Turning what was noticed into notices

    def _emit(self, session: Session, item: _Noticed) -> None:
        notice = self.notice_for(session, item)
        if notice is None:
            return
        now = self.clock()
        outbox.notify(session, now, self.settings, notice)
        if item.kind == "drift":
            drift = item.inv.drift or {}
            audit.record(
                session,
                self.clock,
                actor=audit.SYSTEM,
                action="investigation.drift_alert",
                target=f"investigation/{item.inv.id}",
                outcome="alert",
                details={
                    "operation_id": drift.get("operation_id"),
                    "resources": len(drift.get("resources") or []),
                    "remediated": False,
                },
            )

    def notice_for(self, session: Session, item: _Noticed) -> Notice | None:
        inv = item.inv
        data = snapshot(inv)
        if item.kind == "opened":
            return Notice(
                "opened",
                data,
                f"Requested by {inv.created_by}; the clean room is being built (this takes a few minutes).",
            )
        if item.kind == "progress":
            return Notice(
                "progress",
                data,
                f"Halfway: {item.done} of {item.planned} resources done.",
                {"resources": f"{item.done}/{item.planned}"},
            )
        if item.kind == "drift":
            drift = inv.drift or {}
            resources = drift.get("resources") or []
            lines = [_describe(r) for r in resources[:10]]
            detail = "The refresh preview found resources that differ from the stack. Nothing was changed."
            if lines:
                detail += "\n" + "\n".join(f"- {line}" for line in lines)
            return Notice("drift", data, detail, {"drifted resources": len(resources)})
        old, new = item.old, item.new
        if new == Status.READY.value:
            if old == Status.OPENING.value:
                return Notice("ready", data, "The clean room is built and the policies passed.")
            if old == Status.RELEASING.value:
                return Notice("released", data)
            return Notice("status", data, f"{old} -> {new}")
        if new == Status.FROZEN.value:
            return Notice("frozen", data, "Preserved in a locked state; legal hold placed on the evidence.")
        if new == Status.DESTROYED.value:
            kept = "retained" if inv.retain_evidence_bucket else "deleted"
            return Notice("destroyed", data, f"The stack was removed; the evidence bucket was {kept}.")
        if new == Status.FAILED.value:
            return Notice("failed", data, _operation_error(session, inv) or f"{old} -> failed")
        if new == Status.NEEDS_ATTENTION.value:
            return Notice("needs_attention", data, inv.attention_reason)
        return None


def _halfway(session: Session, event: OperationEvent) -> _Noticed | None:
    """One progress message per build: the engine event whose progress first reaches half the plan.

    Only for the opening build, the one people wait on (Slack allows a response_url five messages). The
    operation row still holds the previous count here: the runner updates it after adding the event."""
    progress = (event.payload or {}).get("progress") or {}
    done, planned = int(progress.get("done", 0)), int(progress.get("planned", 0))
    if planned < 2 or done * 2 < planned:
        return None
    with session.no_autoflush:
        op = session.get(Operation, event.operation_id)
        if op is None or op.action != "open" or op.progress_done * 2 >= op.progress_planned > 0:
            return None
        inv = session.get(Investigation, op.investigation_id)
    if inv is None:
        return None
    return _Noticed("progress", inv, done=done, planned=planned)


def _describe(resource: Any) -> str:
    if isinstance(resource, dict):
        urn = resource.get("urn") or resource.get("name") or resource.get("id") or "resource"
        kind = resource.get("type") or resource.get("resource_type") or ""
        op = resource.get("op") or resource.get("diff") or ""
        return " ".join(str(part) for part in (kind, urn, op) if part)[:300]
    return str(resource)[:300]
