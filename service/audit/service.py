"""Append to and verify the hash-chained audit log.

Each entry's hash = sha256(prev_hash + canonical JSON of the entry's fields, including its id), so an
edited entry fails its own hash and a deleted one breaks the next entry's ``prev_hash`` (or the head, if it
was the last).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service.audit.models import AuditEntry, AuditHead
from service.clock import Clock, as_utc
from service.db.base import canonical_json

GENESIS_HASH = "0" * 64
SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class Actor:
    name: str
    role: str


SYSTEM = Actor(SYSTEM_ACTOR, "system")


def _time_text(value: datetime) -> str:
    return as_utc(value).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    body = {
        "id": entry.id,
        "time": _time_text(entry.time),
        "actor": entry.actor,
        "role": entry.role,
        "action": entry.action,
        "target": entry.target,
        "request_id": entry.request_id,
        "outcome": entry.outcome,
        "details": entry.details or {},
    }
    return hashlib.sha256((prev_hash + canonical_json(body)).encode()).hexdigest()


def record(
    session: Session,
    clock: Clock,
    *,
    actor: Actor,
    action: str,
    target: str,
    outcome: str,
    request_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Adds an entry to the session's transaction; committed with the change it describes."""
    # Take the head's lock before reading it, so concurrent appends queue instead of forking the chain.
    locked = session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_id=AuditHead.last_id))
    if locked.rowcount == 0:  # type: ignore[attr-defined]
        session.add(AuditHead(id=1, last_id=0, last_hash=GENESIS_HASH))
        session.flush()
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    session.refresh(head)
    entry = AuditEntry(
        id=head.last_id + 1,
        time=clock(),
        actor=actor.name,
        role=actor.role,
        action=action,
        target=target,
        request_id=request_id,
        outcome=outcome,
        details=details or {},
        prev_hash=head.last_hash,
    )
    entry.hash = entry_hash(head.last_hash, entry)
    session.add(entry)
    head.last_id = entry.id
    head.last_hash = entry.hash
    session.flush()
    return entry


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str | None = None
    # Filled in only when signed anchors were consulted (service.audit.anchors): how many valid anchors,
    # the highest entry id they cover, and everything they contradict.
    anchors_checked: int | None = None
    anchored_through: int | None = None
    anchor_problems: tuple[str, ...] = ()


def verify(session: Session) -> Verification:
    prev = GENESIS_HASH
    expected_id = 1
    checked = 0
    for entry in session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars():
        if entry.id != expected_id:
            return Verification(False, checked, expected_id, f"entry {expected_id} is missing")
        if entry.prev_hash != prev:
            return Verification(False, checked, entry.id, "previous-hash link is broken")
        if entry_hash(prev, entry) != entry.hash:
            return Verification(False, checked, entry.id, "entry content does not match its hash")
        prev = entry.hash
        expected_id += 1
        checked += 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_id != expected_id - 1 or head.last_hash != prev):
        return Verification(False, checked, expected_id, "the chain ends before its recorded head")
    return Verification(True, checked)


def list_entries(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    if target:
        query = query.where(AuditEntry.target == target)
    if outcome:
        query = query.where(AuditEntry.outcome == outcome)
    if since:
        query = query.where(AuditEntry.time >= since)
    if until:
        query = query.where(AuditEntry.time < until)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)).scalars().all()
    return list(rows), int(total)
