"""Reading custody: an investigation's evidence, its custody chain, and the custody report's content."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import statement_signing
from service.access.models import AccessRequest
from service.audit.models import AuditEntry
from service.config import Settings
from service.custody import chain_witnesses, ledger
from service.custody.models import CustodyEvent, EvidenceArtifact, SignedStatement
from service.custody.report_model import CustodyReport
from service.investigation_states import Status
from service.investigations import legal_hold
from service.investigations.models import Investigation
from service.investigations.service import get_investigation, timeline


def list_evidence(session: Session, investigation_id: str) -> list[EvidenceArtifact]:
    get_investigation(session, investigation_id)  # 404 for an unknown investigation
    return list(
        session.execute(
            select(EvidenceArtifact)
            .where(EvidenceArtifact.investigation_id == investigation_id)
            .order_by(EvidenceArtifact.created_at, EvidenceArtifact.id)
        ).scalars()
    )


def custody(session: Session, investigation_id: str) -> tuple[list[CustodyEvent], ledger.ChainCheck]:
    """The chain as the database has it, checked against itself only (see ``witnessed_custody``)."""
    get_investigation(session, investigation_id)
    return ledger.events(session, investigation_id), ledger.verify_chain(session, investigation_id)


def witnessed_custody(
    settings: Settings, session: Session, investigation_id: str
) -> tuple[list[CustodyEvent], ledger.ChainCheck]:
    """The chain checked against itself and against its witnesses outside the database: the mirrored copies
    under legal hold in the evidence bucket and the signed custody heads (chain_witnesses.py). A chain
    recomputed in the database after an edit is consistent with itself, not with them. When the bucket
    cannot be read, the chain is not called intact."""
    inv = get_investigation(session, investigation_id)
    events, check = custody(session, investigation_id)
    bucket = (inv.outputs or {}).get("evidenceBucket")
    if not check.ok or not events or not isinstance(bucket, str):
        return events, check
    try:
        s3 = legal_hold.s3_client(settings, inv.region, inv.assume_role_arn)
        divergence = chain_witnesses.mirror_divergence(session, s3, bucket, inv.id)
        if divergence is None:
            try:
                public_key: str | None = statement_signing.signer_for(settings, inv.region).public_key_pem()
            except Exception:  # KMS unreachable: heads are still compared, signatures left to the report
                public_key = None
            divergence = chain_witnesses.signed_head_divergence(session, s3, inv.id, public_key)
    except ClientError as exc:
        gone = exc.response.get("Error", {}).get("Code") == "NoSuchBucket"
        if gone and inv.status == Status.DESTROYED:
            # Destroyed without retaining the evidence (two people agreed to it): no witness is left.
            return events, check
        return events, ledger.ChainCheck(False, check.checked, None, _unreadable(exc))
    except Exception as exc:  # the witnesses could not be read: not intact as far as anyone can tell
        return events, ledger.ChainCheck(False, check.checked, None, _unreadable(exc))
    if divergence is not None:
        return events, ledger.ChainCheck(False, check.checked, divergence.seq, divergence.reason)
    return events, check


def _unreadable(exc: Exception) -> str:
    return f"the copies in the evidence bucket could not be read ({type(exc).__name__}: {exc})"[:500]


def _investigation_row(inv: Investigation) -> dict[str, Any]:
    return {
        "id": inv.id,
        "ticket": inv.ticket,
        "title": inv.title,
        "region": inv.region,
        "account_id": inv.account_id,
        "status": str(inv.status),
        "created_by": inv.created_by,
        "created_at": inv.created_at,
        "expires_at": inv.expires_at,
        "frozen": inv.frozen,
        "legal_hold": inv.legal_hold,
        "stack_name": inv.stack_name,
    }


def _artifact_row(a: EvidenceArtifact) -> dict[str, Any]:
    return {
        "id": a.id,
        "kind": a.kind,
        "source": a.source,
        "sha256_source": a.sha256_source,
        "sha256_copy": a.sha256_copy,
        "size_bytes": a.size_bytes,
        "status": str(a.status),
        "copy_snapshot_id": a.copy_snapshot_id,
        "volume_id": a.volume_id,
        "device": a.device,
    }


def _statement_rows(settings: Settings, session: Session, inv: Investigation) -> list[dict[str, Any]]:
    rows = list(
        session.execute(
            select(SignedStatement)
            .where(SignedStatement.investigation_id == inv.id)
            .order_by(SignedStatement.created_at, SignedStatement.id)
        ).scalars()
    )
    if not rows:
        return []
    try:
        public_key: str | None = statement_signing.signer_for(settings, inv.region).public_key_pem()
        unavailable = None
    except Exception as exc:  # KMS unreachable: shown as not verified, never as verified
        public_key, unavailable = None, f"the signing key's public key could not be read: {exc}"
    out = []
    for row in rows:
        problems = (
            statement_signing.verify_signature(row.document, public_key) if public_key else [str(unavailable)]
        )
        out.append(
            {
                "kind": row.kind,
                "key": row.location,
                "document": row.document,
                "verified": (not problems) if public_key else None,
                "problems": problems,
            }
        )
    return out


def _role_holders(session: Session, investigation_id: str) -> list[dict[str, Any]]:
    """Who was granted which clean-room role, by whom, from when until when (just-in-time access grants)."""
    rows = session.execute(
        select(AccessRequest)
        .where(AccessRequest.investigation_id == investigation_id, AccessRequest.decided_at.is_not(None))
        .order_by(AccessRequest.decided_at)
    ).scalars()
    return [
        {
            "principal": f"{r.person} ({r.principal_arn})",
            "role": r.role,
            "granted_by": r.decided_by,
            "from": r.decided_at,
            "until": r.expires_at,
            "source": f"access request {r.id}: {r.status}",
        }
        for r in rows
        if r.expires_at is not None
    ]


def build_report(
    settings: Settings, session: Session, investigation_id: str, generated_by: str, at: datetime
) -> CustodyReport:
    """Everything the custody report shows, from the database (and the signing key's public key)."""
    inv = get_investigation(session, investigation_id)
    operations = timeline(session, inv.id)
    targets = [f"investigation/{inv.id}", *(f"operation/{op.id}" for op in operations)]
    audit_rows = session.execute(
        select(AuditEntry).where(AuditEntry.target.in_(targets)).order_by(AuditEntry.id)
    ).scalars()
    events, _check = custody(session, inv.id)
    return CustodyReport(
        investigation=_investigation_row(inv),
        operations=[
            {
                "id": op.id,
                "action": op.action,
                "state": str(op.state),
                "requested_by": op.requested_by,
                "created_at": op.created_at,
                "started_at": op.started_at,
                "finished_at": op.finished_at,
                "error": op.error,
            }
            for op in operations
        ],
        timeline=[
            {
                "id": e.id,
                "time": e.time,
                "actor": e.actor,
                "role": e.role,
                "action": e.action,
                "target": e.target,
                "outcome": e.outcome,
            }
            for e in audit_rows
        ],
        evidence=[_artifact_row(a) for a in list_evidence(session, inv.id)],
        custody_events=[
            {
                "seq": e.seq,
                "time": e.time,
                "event": str(e.event),
                "artifact_id": e.artifact_id,
                "actor": e.actor,
                "role": None,
                "where": e.location,
                "hashes": e.hashes,
                "details": e.details,
                "hash": e.hash,
                "prev_hash": e.prev_hash,
            }
            for e in events
        ],
        policy_results=dict(inv.policy_results or {}),
        role_holders=_role_holders(session, inv.id),
        statements=_statement_rows(settings, session, inv),
        generated_at=at,
        generated_by=generated_by,
    )
