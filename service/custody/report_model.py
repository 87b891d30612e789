"""The custody report's content, gathered from the database elsewhere and rendered by service.custody.report.

Plain data only: rows are dicts as the API and the ledger shape them, any value may be None or absent, and
the renderers show "—" for those. Strings in here can come from inside the evidence (file names, tags,
titles) and are treated as hostile by every renderer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class CustodyReport:
    # id, ticket, title, region, account_id, status, created_by, created_at, expires_at, frozen, legal_hold,
    # stack_name
    investigation: dict[str, Any]
    # id, action, state, requested_by, created_at, started_at, finished_at, error
    operations: list[dict[str, Any]]
    # audit entries: id, time, actor, role, action, target, outcome
    timeline: list[dict[str, Any]]
    # id, kind ("snapshot"|"object"), source (dict: account_id, region, snapshot_id, instance_id, bucket,
    # key), sha256_source, sha256_copy, size_bytes, status, copy_snapshot_id, volume_id, device
    evidence: list[dict[str, Any]]
    # seq, time, event, artifact_id, actor, role, where (dict), hashes (dict), details (dict), hash, prev_hash
    custody_events: list[dict[str, Any]]
    # free-form JSON from the policy gate
    policy_results: dict[str, Any]
    # principal, role, granted_by, from, until, source
    role_holders: list[dict[str, Any]]
    # kind, key (where stored), document (the signed statement: format, kind, statement,
    # signature {algorithm, keyId, digest, value, publicKeyFingerprint}), verified (bool | None), problems
    statements: list[dict[str, Any]]
    generated_at: datetime
    generated_by: str
