"""What freeze and destroy leave behind for custody: custody events for every artifact, the legal hold, the
signed freeze manifest and the signed teardown certificate, each kept under Object Lock and anchored in the
audit log. Task-level functions; the action table's after-success hooks call them."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select

from service import aws_clients, statement_signing
from service.audit import anchors
from service.custody import ledger, teardown
from service.custody.acquisition import record_for_all
from service.custody.models import (
    ArtifactStatus,
    CustodyEvent,
    CustodyEventType,
    EvidenceArtifact,
    SignedStatement,
)
from service.errors import StepFailed
from service.investigations import legal_hold
from service.investigations.actions import StepContext, StepRun
from service.investigations.models import Investigation

FREEZE_MANIFEST = "freeze-manifest"
TEARDOWN_CERTIFICATE = "teardown-certificate"
CHUNK = 1024 * 1024


def _stamp(at: datetime) -> str:
    return at.strftime("%Y%m%dT%H%M%SZ")


def hash_object_version(s3: Any, bucket: str, key: str, version_id: str) -> str:
    """SHA-256 of one object version, streamed (bounded memory whatever its size)."""
    body = s3.get_object(Bucket=bucket, Key=key, VersionId=version_id)["Body"]
    digest = hashlib.sha256()
    for chunk in iter(lambda: body.read(CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


def _artifacts(session: Any, inv_id: str) -> list[EvidenceArtifact]:
    return list(
        session.execute(
            select(EvidenceArtifact)
            .where(EvidenceArtifact.investigation_id == inv_id)
            .order_by(EvidenceArtifact.created_at, EvidenceArtifact.id)
        ).scalars()
    )


def _artifact_entry(a: EvidenceArtifact) -> dict[str, Any]:
    return {
        "id": a.id,
        "status": str(a.status),
        "source": a.source,
        "sha256Source": a.sha256_source,
        "sha256Copy": a.sha256_copy,
        "sizeBytes": a.size_bytes,
        "copySnapshotId": a.copy_snapshot_id,
        "volumeId": a.volume_id,
    }


def _chain_head(session: Any, inv_id: str) -> dict[str, Any] | None:
    last = session.execute(
        select(CustodyEvent)
        .where(CustodyEvent.investigation_id == inv_id)
        .order_by(CustodyEvent.seq.desc())
        .limit(1)
    ).scalar_one_or_none()
    return {"seq": last.seq, "hash": last.hash} if last else None


def _put_signed(s3: Any, bucket: str, key: str, document: dict[str, Any], *, hold: bool) -> None:
    extra = {"ObjectLockLegalHoldStatus": "ON"} if hold else {}
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(document, indent=2, sort_keys=True).encode(),
        ContentType="application/json",
        ChecksumAlgorithm="SHA256",
        **extra,
    )


def _keep(ctx: StepContext, inv: Investigation, kind: str, location: str, document: dict[str, Any]) -> None:
    with ctx.unit_of_work() as uow:
        uow.session.add(
            SignedStatement(
                investigation_id=inv.id,
                kind=kind,
                location=location,
                document=document,
                created_at=ctx.clock(),
            )
        )


def _store_report(
    ctx: StepContext, inv: Investigation, s3: Any, bucket: str, prefix: str, *, hold: bool
) -> list[str]:
    """The custody report as it stands (PDF and HTML), kept beside the statement it accompanies."""
    # The report renders PDFs with reportlab, slow to import; only a freeze or a destroy writes one.
    from service.custody import report
    from service.custody.service import build_report

    with ctx.unit_of_work() as uow:
        content = build_report(ctx.settings, uow.session, inv.id, "system", ctx.clock())
    extra = {"ObjectLockLegalHoldStatus": "ON"} if hold else {}
    keys = []
    for name, body, media in (
        ("custody-report.pdf", report.render_pdf(content), "application/pdf"),
        ("custody-report.html", report.render_html(content).encode(), "text/html; charset=utf-8"),
    ):
        s3.put_object(
            Bucket=bucket,
            Key=prefix + name,
            Body=body,
            ContentType=media,
            ChecksumAlgorithm="SHA256",
            **extra,
        )
        keys.append(prefix + name)
    return keys


def seal_freeze(
    ctx: StepContext, inv: Investigation, operation_id: str | None, outputs: dict[str, Any]
) -> dict[str, Any]:
    """After the frozen `up`: custody events, legal hold on every object version, the stack export, and the
    signed freeze manifest listing every version held (re-hashed), every snapshot and artifact hash."""
    settings = ctx.settings
    bucket = outputs.get("evidenceBucket")
    if not bucket:
        raise StepFailed(
            "freeze_output_missing", "the frozen stack has no evidenceBucket output; legal hold not placed"
        )
    at = ctx.clock()
    s3 = legal_hold.s3_client(settings, inv.region, inv.assume_role_arn)
    freeze_snapshots = list(outputs.get("freezeSnapshotIds") or [])
    with ctx.unit_of_work() as uow:
        record_for_all(
            uow.session,
            ctx.clock,
            inv,
            CustodyEventType.FROZEN,
            "system",
            location={"freeze_snapshot_ids": freeze_snapshots, "bucket": bucket},
            operation_id=operation_id,
        )
        ledger.mirror(uow.session, s3, bucket, inv.id)
    held = legal_hold.set_legal_hold(s3, bucket, on=True)
    folder = f"{legal_hold.LEGAL_HOLD_PREFIX}{_stamp(at)}/"
    export_key = folder + "stack-export.json"
    export = ctx.export_stack(inv.stack_name)
    export_sha = legal_hold.put_json(s3, bucket, export_key, export)
    objects = [
        {
            "bucket": bucket,
            "key": key,
            "versionId": version,
            "sha256": hash_object_version(s3, bucket, key, version),
        }
        for key, version in legal_hold.versions(s3, bucket)
    ]
    lock = s3.get_object_lock_configuration(Bucket=bucket).get("ObjectLockConfiguration", {})
    retention = (lock.get("Rule") or {}).get("DefaultRetention") or {}
    with ctx.unit_of_work() as uow:
        artifacts = _artifacts(uow.session, inv.id)
        statement = {
            "investigationId": inv.id,
            "ticket": inv.ticket,
            "stack": inv.stack_name,
            "account": inv.account_id,
            "region": inv.region,
            "frozenAt": at.isoformat(),
            "operationId": operation_id,
            "objects": objects,
            "snapshots": [
                *(
                    {"snapshotId": a.copy_snapshot_id, "sha256": a.sha256_copy, "artifactId": a.id}
                    for a in artifacts
                    if a.copy_snapshot_id
                ),
                # Snapshots of the stopped workstation's disks: listed, not hashed at freeze (their content is
                # the workstation's, not acquired evidence).
                *({"snapshotId": sid, "sha256": None, "role": "freeze"} for sid in freeze_snapshots),
            ],
            "artifacts": [_artifact_entry(a) for a in artifacts],
            "custodyHead": _chain_head(uow.session, inv.id),
            "stackExport": {"bucket": bucket, "key": export_key, "sha256": export_sha},
            "resources": legal_hold.resource_manifest(export),
            "outputs": outputs,
            # Objects written after this manifest are held by the bucket's default retention, not listed here.
            "postFreezeWrites": {
                "heldBy": "bucket default retention" if retention else "nothing",
                "mode": retention.get("Mode"),
                "days": retention.get("Days"),
                "years": retention.get("Years"),
            },
        }
    document = statement_signing.sign_statement(
        statement_signing.signer_for(settings, inv.region), FREEZE_MANIFEST, statement
    )
    manifest_key = folder + "manifest.signed.json"
    _put_signed(s3, bucket, manifest_key, document, hold=True)
    _keep(ctx, inv, FREEZE_MANIFEST, f"s3://{bucket}/{manifest_key}", document)
    report_keys = _store_report(ctx, inv, s3, bucket, folder, hold=True)
    anchor = anchors.anchor_now(settings, ctx.session_factory, ctx.clock, f"freeze of {inv.id}")
    return {
        "legal_hold": {
            "object_versions": held,
            "written": [export_key, manifest_key, *report_keys],
            "manifest": f"s3://{bucket}/{manifest_key}",
            "objects_hashed": len(objects),
            "audit_anchor": (anchor or {}).get("statement", {}).get("lastId"),
        }
    }


def record_release(
    ctx: StepContext, inv: Investigation, operation_id: str | None, bucket: str | None
) -> None:
    with ctx.unit_of_work() as uow:
        record_for_all(
            uow.session, ctx.clock, inv, CustodyEventType.RELEASED, "system", operation_id=operation_id
        )
        if bucket:
            ledger.mirror(
                uow.session,
                legal_hold.s3_client(ctx.settings, inv.region, inv.assume_role_arn),
                bucket,
                inv.id,
            )


def take_inventory(ctx: StepContext, inv: Investigation, _params: Any, run: StepRun) -> None:
    """The destroy's first work step: every resource of the stack, for the certificate. A stack that cannot
    be exported (never deployed) has nothing to certify; the destroy itself goes on."""
    try:
        run.notes["resources"] = teardown.inventory(ctx.export_stack(inv.stack_name))
    except Exception as exc:
        run.notes["inventory_error"] = f"{type(exc).__name__}: {exc}"


def certify_destroy(
    ctx: StepContext, inv: Investigation, run: StepRun, *, retain_evidence: bool
) -> dict[str, Any]:
    """After the destroy: every resource the stack had, checked with describe calls (gone, or retained and
    still there), custody events, and the signed teardown certificate kept under Object Lock: in the evidence
    bucket when it is retained, else in the audit-anchor bucket."""
    settings = ctx.settings
    if not aws_clients.available(settings):
        return {"teardown_certificate": {"location": None, "skipped": "no AWS to check the teardown against"}}
    at = ctx.clock()
    operation_id = run.operation_id
    resources: list[teardown.StackResource] = run.notes.get("resources", [])

    def clients(service: str) -> Any:
        return aws_clients.client(settings, service, inv.region, role_arn=inv.assume_role_arn)

    checks = teardown.check_gone(clients, resources)
    problems = teardown.problems(checks)
    bucket = (inv.outputs or {}).get("evidenceBucket") if retain_evidence else None
    with ctx.unit_of_work() as uow:
        record_for_all(
            uow.session,
            ctx.clock,
            inv,
            CustodyEventType.RETAINED if retain_evidence else CustodyEventType.DESTROYED,
            "system",
            status=ArtifactStatus.RETAINED if retain_evidence else ArtifactStatus.DESTROYED,
            location={"bucket": bucket} if bucket else {},
            operation_id=operation_id,
        )
        artifacts = _artifacts(uow.session, inv.id)
        statement = {
            "investigationId": inv.id,
            "ticket": inv.ticket,
            "stack": inv.stack_name,
            "account": inv.account_id,
            "region": inv.region,
            "destroyedAt": at.isoformat(),
            "operationId": operation_id,
            "evidenceRetained": retain_evidence,
            "resources": [teardown.check_json(c) for c in checks],
            "problems": problems
            + (
                [f"the stack could not be listed before destroy: {run.notes['inventory_error']}"]
                if "inventory_error" in run.notes
                else []
            ),
            "artifacts": [_artifact_entry(a) for a in artifacts],
            "snapshots": [
                {"snapshotId": a.copy_snapshot_id, "sha256": a.sha256_copy, "artifactId": a.id}
                for a in artifacts
                if a.copy_snapshot_id and retain_evidence
            ],
            "custodyHead": _chain_head(uow.session, inv.id),
        }
    document = statement_signing.sign_statement(
        statement_signing.signer_for(settings, inv.region), TEARDOWN_CERTIFICATE, statement
    )
    key = f"teardown/{_stamp(at)}-certificate.signed.json"
    if bucket:
        s3 = legal_hold.s3_client(settings, inv.region, inv.assume_role_arn)
        with ctx.unit_of_work() as uow:
            ledger.mirror(uow.session, s3, bucket, inv.id)
        _put_signed(s3, bucket, key, document, hold=True)
        location: str | None = f"s3://{bucket}/{key}"
        store: tuple[Any, str, str, bool] | None = (s3, bucket, f"teardown/{_stamp(at)}-", True)
    elif settings.anchor_bucket:
        # No evidence bucket outlives this clean room: the certificate goes where the audit anchors are,
        # under the same default retention.
        key = f"certificates/{inv.id}/{_stamp(at)}.signed.json"
        anchor_s3 = anchors.anchor_s3(settings)
        _put_signed(anchor_s3, settings.anchor_bucket, key, document, hold=False)
        location = f"s3://{settings.anchor_bucket}/{key}"
        store = (anchor_s3, settings.anchor_bucket, f"certificates/{inv.id}/{_stamp(at)}-", False)
    else:
        location, store = None, None
    _keep(ctx, inv, TEARDOWN_CERTIFICATE, location or "", document)
    if store is not None:
        _store_report(ctx, inv, store[0], store[1], store[2], hold=store[3])
    anchors.anchor_now(settings, ctx.session_factory, ctx.clock, f"destroy of {inv.id}")
    return {
        "teardown_certificate": {
            "location": location,
            "resources": len(checks),
            "gone": sum(1 for c in checks if c.status == "gone"),
            "retained": sum(1 for c in checks if c.status == "retained"),
            "problems": problems,
        }
    }
