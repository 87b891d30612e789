"""Signed audit anchors: the chain's head, signed with the KMS key and kept outside the database.

The chain and its head row live in the same database, so whoever can write to it can delete the last entries
and fix up the head, or edit an entry and recompute every hash after it; ``verify`` alone cannot tell. An
anchor is a signed statement of the head (``lastId``, ``lastHash``) written to an Object Lock bucket whose
COMPLIANCE retention nobody can shorten: an entry that no longer hashes to what an anchor signed means the
chain was rewritten, and a log that ends before an anchored id means entries were removed.

Anchors are written by the scheduler (``AnchorSchedule``, when the head moved and the interval passed) and at
every freeze and destroy (``anchor_now``).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import aws_clients
from service.audit.models import AuditEntry, AuditHead
from service.audit.service import GENESIS_HASH, Verification, verify
from service.clock import Clock, as_utc
from service.config import Settings
from service.db.session import SessionFactory, session_scope
from service.errors import AnchorStoreError
from service.statement_signing import Signer, sign_statement, signer_for, verify_signature

logger = logging.getLogger(__name__)

ANCHOR_KIND = "audit-anchor"
ANCHOR_PREFIX = "anchors/"
_KEY = re.compile(r"^anchors/(\d{12})-(\d{8}T\d{6}\.\d{6})Z\.json$")
_KEY_TIME = "%Y%m%dT%H%M%S.%f"
# Entry hashes are fetched for this many anchored ids per query.
_BATCH = 500


def anchors_enabled(settings: Settings) -> bool:
    """Whether anchors are written and checked. Locally without the local AWS's endpoint there is nowhere
    they could be (clients would reach real AWS with the local placeholder keys), so they are off."""
    return bool(settings.anchor_bucket) and aws_clients.available(settings)


def anchor_key(last_id: int, time: datetime) -> str:
    # Zero-padded ids make the bucket's key order the chain's order: the latest anchor lists last.
    return f"{ANCHOR_PREFIX}{last_id:012d}-{as_utc(time).strftime(_KEY_TIME)}Z.json"


def _time_text(value: datetime) -> str:
    return as_utc(value).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def read_head(session: Session) -> tuple[int, str]:
    # Columns, not the mapped row: a row already in the session's identity map could be stale.
    row = session.execute(select(AuditHead.last_id, AuditHead.last_hash).where(AuditHead.id == 1)).first()
    return (row.last_id, row.last_hash) if row is not None else (0, GENESIS_HASH)


def write_anchor(
    session: Session, clock: Clock, signer: Signer, s3: Any, bucket: str, *, reason: str
) -> dict[str, Any]:
    """Signs the committed head and stores it under ``anchors/<last id>-<time>.json``; the bucket's default
    COMPLIANCE retention keeps every anchor for good (the time in the key keeps each one a new object)."""
    last_id, last_hash = read_head(session)
    now = as_utc(clock())
    statement = {"lastId": last_id, "lastHash": last_hash, "time": _time_text(now), "reason": reason}
    document = sign_statement(signer, ANCHOR_KIND, statement)
    s3.put_object(
        Bucket=bucket,
        Key=anchor_key(last_id, now),
        Body=json.dumps(document, indent=2, sort_keys=True).encode(),
        ContentType="application/json",
        ChecksumAlgorithm="SHA256",
    )
    return document


def _anchor_keys(s3: Any, bucket: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=ANCHOR_PREFIX):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


def load_anchors(s3: Any, bucket: str) -> list[dict[str, Any]]:
    documents = []
    for key in _anchor_keys(s3, bucket):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise AnchorStoreError(f"s3://{bucket}/{key} is not a JSON document: {exc}") from exc
        if not isinstance(document, dict):
            raise AnchorStoreError(f"s3://{bucket}/{key} is not a JSON object")
        documents.append(document)
    return documents


def latest_anchor(s3: Any, bucket: str) -> tuple[int, datetime] | None:
    """The anchored id and time of the latest anchor, from the key names alone (no object is read)."""
    latest: tuple[int, datetime] | None = None
    for key in _anchor_keys(s3, bucket):
        match = _KEY.match(key)
        if match is None:
            continue
        found = (int(match.group(1)), as_utc(datetime.strptime(match.group(2), _KEY_TIME)))
        if latest is None or found > latest:
            latest = found
    return latest


@dataclass(frozen=True)
class _Anchor:
    last_id: int
    last_hash: str
    time: str


def _parse(document: dict[str, Any], public_key_pem: str) -> tuple[_Anchor | None, list[str]]:
    problems = verify_signature(document, public_key_pem)
    statement = document.get("statement")
    statement = statement if isinstance(statement, dict) else {}
    if document.get("kind") != ANCHOR_KIND:
        problems.append(f"kind is {document.get('kind')!r}, not {ANCHOR_KIND!r}")
    last_id, last_hash, time = statement.get("lastId"), statement.get("lastHash"), statement.get("time")
    if isinstance(last_id, bool) or not isinstance(last_id, int) or last_id < 0:
        return None, [*problems, f"lastId {last_id!r} is not an entry id"]
    if not isinstance(last_hash, str) or not isinstance(time, str):
        return None, [*problems, "lastHash or time is missing"]
    if problems:
        return None, problems
    return _Anchor(last_id, last_hash, time), []


def _entry_hashes(session: Session, ids: Sequence[int]) -> dict[int, str]:
    hashes: dict[int, str] = {}
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        rows = session.execute(select(AuditEntry.id, AuditEntry.hash).where(AuditEntry.id.in_(batch)))
        hashes.update({row.id: row.hash for row in rows})
    return hashes


def verify_with_anchors(
    session: Session, anchors: Iterable[dict[str, Any]], public_key_pem: str
) -> Verification:
    """The chain check, then every anchor against it. Load the anchors before calling this: an anchor written
    after the chain was read could cover entries this read did not see, and look like a truncation."""
    chain = verify(session)
    last_entry = session.execute(select(func.max(AuditEntry.id))).scalar_one_or_none() or 0
    problems: list[str] = []
    bad_ids: list[int] = []
    valid: list[_Anchor] = []
    for index, document in enumerate(anchors):
        anchor, invalid = _parse(document, public_key_pem)
        if anchor is None:
            statement = document.get("statement")
            when = statement.get("time") if isinstance(statement, dict) else None
            problems.append(f"the anchor of {when or f'#{index}'} is not valid: {'; '.join(invalid)}")
            continue
        valid.append(anchor)
    valid.sort(key=lambda a: (a.last_id, a.time))
    if valid and valid[-1].last_id > last_entry:
        highest = valid[-1]
        problems.append(
            f"the log ends at entry {last_entry} but an anchor signed at {highest.time} covers entry "
            f"{highest.last_id}: entries were removed"
        )
        bad_ids.append(last_entry + 1)
    covered = [a for a in valid if 0 < a.last_id <= last_entry]
    hashes = _entry_hashes(session, sorted({a.last_id for a in covered}))
    for anchor in covered:
        actual = hashes.get(anchor.last_id)
        if actual is None:
            problems.append(
                f"entry {anchor.last_id} is missing but the anchor of {anchor.time} covers it: entries were "
                "removed"
            )
        elif actual != anchor.last_hash:
            problems.append(
                f"entry {anchor.last_id} does not match the signed anchor of {anchor.time}: the chain was "
                "rewritten"
            )
        else:
            continue
        bad_ids.append(anchor.last_id)
    for anchor in valid:
        if anchor.last_id == 0 and anchor.last_hash != GENESIS_HASH:
            problems.append(f"the anchor of {anchor.time} signs an empty log with a non-genesis hash")
    return replace(
        chain,
        ok=chain.ok and not problems,
        first_bad_id=chain.first_bad_id if not chain.ok else min(bad_ids, default=None),
        reason=chain.reason if not chain.ok else (problems[0] if problems else None),
        anchors_checked=len(valid),
        anchored_through=valid[-1].last_id if valid else None,
        anchor_problems=tuple(problems),
    )


def anchor_s3(settings: Settings) -> Any:
    """S3 in the default region's forensic account, where the anchor bucket is."""
    account = settings.account_for(settings.aws_region)
    return aws_clients.client(
        settings,
        "s3",
        settings.aws_region,
        role_arn=account.deploy_role_arn if account else None,
        session_name="forensics-audit-anchor",
    )


def check_with_anchors(settings: Settings, session: Session) -> Verification:
    """What ``GET /v1/audit/verify`` reports: the chain alone when anchors are off; otherwise the chain and
    every anchor, and not ok when the anchors cannot be read (an unverifiable log is not a verified one)."""
    bucket = settings.anchor_bucket
    if not anchors_enabled(settings) or bucket is None:
        return verify(session)
    try:
        public_key_pem = signer_for(settings, settings.aws_region).public_key_pem()
        documents = load_anchors(anchor_s3(settings), bucket)
    except Exception as exc:  # botocore's errors, a missing key or bucket: all mean "not verified"
        logger.warning("audit anchors could not be read from %s: %s", bucket, exc)
        chain = verify(session)
        problem = f"the audit anchors in {bucket} could not be read: {exc}"
        return replace(
            chain, ok=False, reason=chain.reason or problem, anchors_checked=0, anchor_problems=(problem,)
        )
    return verify_with_anchors(session, documents, public_key_pem)


def anchor_now(
    settings: Settings, session_factory: SessionFactory, clock: Clock, reason: str
) -> dict[str, Any] | None:
    """Writes an anchor of the committed head right away (freeze, destroy); None when anchors are off.
    Failures propagate: the caller decides whether its own action may go on without the anchor."""
    bucket = settings.anchor_bucket
    if not anchors_enabled(settings) or bucket is None:
        return None
    signer = signer_for(settings, settings.aws_region)
    with session_scope(session_factory) as session:
        return write_anchor(session, clock, signer, anchor_s3(settings), bucket, reason=reason)


class AnchorSchedule:
    """The periodic anchor of one process: written when the head moved since the latest anchor and that
    anchor is at least ``audit_anchor_interval_minutes`` old. The latest anchor is remembered between runs
    and re-read from the bucket's key names only when one looks due, so anchors written meanwhile by
    ``anchor_now`` or another process are not duplicated, and a run that is not due makes no AWS call."""

    def __init__(self, settings: Settings, session_factory: SessionFactory, clock: Clock) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.clock = clock
        self._latest: tuple[int, datetime] | None = None
        self._loaded = False
        self._lock = threading.Lock()

    def _due(self, head_id: int, now: datetime) -> bool:
        if self._latest is None:
            return head_id > 0
        anchored_id, anchored_at = self._latest
        if head_id < anchored_id:
            # Anchoring now would sign a log that lost entries; verify reports it instead.
            logger.error(
                "audit log head %d is behind the anchored entry %d: not anchoring", head_id, anchored_id
            )
            return False
        interval = timedelta(minutes=self.settings.audit_anchor_interval_minutes)
        return head_id > anchored_id and now >= anchored_at + interval

    def run(self) -> dict[str, Any] | None:
        bucket = self.settings.anchor_bucket
        if not anchors_enabled(self.settings) or bucket is None:
            return None
        with self._lock:
            now = as_utc(self.clock())
            with session_scope(self.session_factory) as session:
                head_id, _ = read_head(session)
                if self._loaded and not self._due(head_id, now):
                    return None
                s3 = anchor_s3(self.settings)
                self._latest, self._loaded = latest_anchor(s3, bucket), True
                if not self._due(head_id, now):
                    return None
                signer = signer_for(self.settings, self.settings.aws_region)
                document = write_anchor(session, lambda: now, signer, s3, bucket, reason="scheduled")
            self._latest = (int(document["statement"]["lastId"]), now)
            return document
