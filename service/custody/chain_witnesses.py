"""The custody chain compared with what witnesses it outside the database.

A chain recomputed in the database after an edit is consistent with itself, so ``ledger.verify_chain`` alone
cannot see it. Two witnesses can: every event's mirrored copy, written under legal hold into the evidence
bucket when it was recorded (``ledger.mirror``; the first version of each key is the one written then), and
the custody head (seq, hash) in the signed statements kept in that bucket (freeze manifest, teardown
certificate). Every mirrored copy must equal its database row, every row up to the last mirrored copy must
still be there, and every signed head must be a row of the chain with that hash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import statement_signing
from service.custody import ledger
from service.custody.models import CustodyEvent, SignedStatement


@dataclass(frozen=True)
class Divergence:
    seq: int | None
    reason: str


def _first_versions(s3: Any, bucket: str) -> dict[str, str]:
    """Each custody key's oldest version id: the copy written when the event was recorded."""
    oldest: dict[str, tuple[Any, str]] = {}
    for page in s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, Prefix=ledger.CUSTODY_PREFIX
    ):
        for version in page.get("Versions", []):
            key, when = version["Key"], version["LastModified"]
            if key not in oldest or when < oldest[key][0]:
                oldest[key] = (when, version["VersionId"])
    return {key: version_id for key, (_when, version_id) in oldest.items()}


def _seq_of(key: str) -> int | None:
    head = key.removeprefix(ledger.CUSTODY_PREFIX).split("-", 1)[0]
    return int(head) if head.isdigit() else None


def _mirrored_copy(row: CustodyEvent) -> dict[str, Any]:
    """What ``ledger.mirror`` wrote for the row, as JSON reads it back."""
    document = {**ledger.event_body(row), "prevHash": row.prev_hash, "hash": row.hash}
    loaded: dict[str, Any] = json.loads(json.dumps(document, sort_keys=True))
    return loaded


def mirror_divergence(session: Session, s3: Any, bucket: str, investigation_id: str) -> Divergence | None:
    """The first difference between the database's chain and its mirrored copies, or None."""
    rows = {row.seq: row for row in ledger.events(session, investigation_id)}
    for key, version_id in sorted(_first_versions(s3, bucket).items()):
        seq = _seq_of(key)
        if seq is None:
            continue
        copy = json.loads(s3.get_object(Bucket=bucket, Key=key, VersionId=version_id)["Body"].read())
        row = rows.get(seq)
        if row is None:
            return Divergence(seq, f"the evidence bucket holds it ({key}) but the database does not")
        expected = _mirrored_copy(row)
        if copy != expected:
            fields = sorted(k for k in set(copy) | set(expected) if copy.get(k) != expected.get(k))
            return Divergence(
                seq,
                f"differs from its copy under legal hold in the evidence bucket ({key}): {', '.join(fields)}",
            )
    return None


def signed_head_divergence(
    session: Session, s3: Any, investigation_id: str, public_key_pem: str | None
) -> Divergence | None:
    """The first signed custody head (read from the statement's copy in the bucket, its signature checked
    when the public key is given) that the database's chain does not contain, or None."""
    rows = {row.seq: row for row in ledger.events(session, investigation_id)}
    statements = session.execute(
        select(SignedStatement)
        .where(SignedStatement.investigation_id == investigation_id)
        .order_by(SignedStatement.id)
    ).scalars()
    for statement in statements:
        if not statement.location or not statement.location.startswith("s3://"):
            continue
        bucket, _, key = statement.location.removeprefix("s3://").partition("/")
        document = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        if public_key_pem is not None:
            problems = statement_signing.verify_signature(document, public_key_pem)
            if problems:
                return Divergence(
                    None, f"the signed statement {statement.location} does not verify: {problems[0]}"
                )
        head = (document.get("statement") or {}).get("custodyHead")
        if not isinstance(head, dict):
            continue
        seq, signed_hash = head.get("seq"), head.get("hash")
        row = rows.get(seq) if isinstance(seq, int) else None
        if row is None or row.hash != signed_hash:
            return Divergence(
                seq if isinstance(seq, int) else None,
                f"the chain does not contain the custody head signed in {statement.location}",
            )
    return None


def has_events(session: Session, investigation_id: str) -> bool:
    found = session.execute(
        select(CustodyEvent.id).where(CustodyEvent.investigation_id == investigation_id).limit(1)
    ).first()
    return found is not None
