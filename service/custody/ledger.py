"""The custody ledger: every step of every artifact's custody, hash-chained per investigation, and mirrored as
objects under legal hold into the investigation's evidence bucket (so the record survives our database).

Each event's hash = sha256(prev_hash + canonical JSON of the event, its sequence number included). The first
event's prev_hash is derived from the investigation id, so events cannot be moved between investigations.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.clock import Clock, as_utc
from service.custody.models import CustodyEvent, CustodyEventType
from service.db.base import canonical_json

CUSTODY_PREFIX = "custody/"


def genesis(investigation_id: str) -> str:
    return hashlib.sha256(f"forensics-custody:{investigation_id}".encode()).hexdigest()


def event_body(event: CustodyEvent) -> dict[str, Any]:
    """What the hash covers (and what the mirrored object holds besides the hashes)."""
    return {
        "investigationId": event.investigation_id,
        "seq": event.seq,
        "artifactId": event.artifact_id,
        "event": str(event.event),
        "time": as_utc(event.time).isoformat(timespec="microseconds"),
        "actor": event.actor,
        "location": event.location or {},
        "hashes": event.hashes or {},
        "details": event.details or {},
        "operationId": event.operation_id,
    }


def event_hash(prev_hash: str, event: CustodyEvent) -> str:
    return hashlib.sha256((prev_hash + canonical_json(event_body(event))).encode()).hexdigest()


def record(
    session: Session,
    clock: Clock,
    *,
    investigation_id: str,
    event: CustodyEventType,
    actor: str,
    artifact_id: str | None = None,
    location: dict[str, Any] | None = None,
    hashes: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    operation_id: str | None = None,
) -> CustodyEvent:
    """Appends to the investigation's chain in the session's transaction. Writers of one investigation's
    custody hold its operation lock; a concurrent append that forks the chain fails on the unique
    (investigation, seq) instead of being kept."""
    last = session.execute(
        select(CustodyEvent)
        .where(CustodyEvent.investigation_id == investigation_id)
        .order_by(CustodyEvent.seq.desc())
        .limit(1)
    ).scalar_one_or_none()
    row = CustodyEvent(
        investigation_id=investigation_id,
        seq=(last.seq + 1) if last else 1,
        artifact_id=artifact_id,
        event=event,
        time=clock(),
        actor=actor,
        location=location or {},
        hashes=hashes or {},
        details=details or {},
        operation_id=operation_id,
        prev_hash=last.hash if last else genesis(investigation_id),
    )
    row.hash = event_hash(row.prev_hash, row)
    session.add(row)
    session.flush()
    return row


def events(session: Session, investigation_id: str, artifact_id: str | None = None) -> list[CustodyEvent]:
    query = select(CustodyEvent).where(CustodyEvent.investigation_id == investigation_id)
    if artifact_id is not None:
        query = query.where(CustodyEvent.artifact_id == artifact_id)
    return list(session.execute(query.order_by(CustodyEvent.seq)).scalars())


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None


def describe(check: ChainCheck) -> str | None:
    if check.ok:
        return None
    return f"event {check.first_bad_seq}: {check.reason}" if check.first_bad_seq is not None else check.reason


def verify_chain(session: Session, investigation_id: str) -> ChainCheck:
    prev = genesis(investigation_id)
    checked = 0
    for expected_seq, row in enumerate(events(session, investigation_id), start=1):
        if row.seq != expected_seq:
            return ChainCheck(False, checked, expected_seq, f"custody event {expected_seq} is missing")
        if row.prev_hash != prev:
            return ChainCheck(False, checked, row.seq, "previous-hash link is broken")
        if event_hash(prev, row) != row.hash:
            return ChainCheck(False, checked, row.seq, "event content does not match its hash")
        prev = row.hash
        checked += 1
    return ChainCheck(True, checked)


def mirror_key(row: CustodyEvent) -> str:
    return f"{CUSTODY_PREFIX}{row.seq:06d}-{row.event}.json"


def mirror(session: Session, s3: Any, bucket: str, investigation_id: str) -> list[str]:
    """Writes every not yet mirrored event of the investigation into its evidence bucket, under legal hold,
    in chain order; returns the keys written. Safe to call again: mirrored events are skipped."""
    written = []
    for row in events(session, investigation_id):
        if row.mirrored_key:
            continue
        key = mirror_key(row)
        body = json.dumps(
            {**event_body(row), "prevHash": row.prev_hash, "hash": row.hash}, indent=2, sort_keys=True
        ).encode()
        # Object Lock buckets refuse writes without an integrity checksum.
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType="application/json",
            ChecksumAlgorithm="SHA256",
            ObjectLockLegalHoldStatus="ON",
        )
        row.mirrored_key = key
        written.append(key)
    session.flush()
    return written
