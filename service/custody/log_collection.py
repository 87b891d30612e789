"""Logs about an affected instance for a window: the ``logs`` action's work step.

Each source (log_sources.py) is read through the source account's snapshot role and written as ONE JSON Lines
object into the investigation's evidence bucket (under legal hold, S3 checking the SHA-256 the service
computed), and recorded as an artifact of kind ``log``: its SHA-256, the exact calls that produced it, the
record count and the window, with an ``acquired`` custody event. So it is listed in the freeze manifest
(every object version of the bucket, hashed) and the report, and ``forensics verify`` re-hashes it. A source
the account has not enabled is a ``not_collected`` custody event saying so, not a failure. A source that fails
otherwise is recorded the same way with the error, the others are still collected, and the operation fails
naming it.

The window: ``until`` defaults to when the request was made (the operation's creation), ``since`` to 24 hours
before ``until``; the request's own bounds are checked in the request schema (LogsRequest).
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from service import aws_clients
from service.clock import as_utc
from service.custody import acquisition, ledger, log_sources
from service.custody.custody_step import CustodyStep
from service.custody.log_sources import Collected, Target, Window
from service.custody.models import ArtifactStatus, CustodyEventType, EvidenceArtifact
from service.custody.schemas import MAX_LOG_WINDOW_DAYS
from service.investigations import legal_hold
from service.investigations.actions import Params, StepContext, StepFailed, StepRun
from service.investigations.models import Investigation
from service.operations.models import Operation, OperationEvent

DEFAULT_WINDOW = timedelta(hours=24)
# The collected logs sit with the other evidence handed in, so the investigator reads them where she reads
# the rest (programs/forensic_env/access.py INCOMING).
LOGS_PREFIX = "incoming/evidence-artifacts/logs/"
ARTIFACT_KIND = "log"


def resolve_window(params: Params, requested_at: datetime) -> Window:
    """The window the request meant: its bounds, defaulted from the time it was made."""
    until = _aware(params.get("until")) or as_utc(requested_at)
    since = _aware(params.get("since")) or until - DEFAULT_WINDOW
    if since >= until:
        raise StepFailed(
            "invalid_window",
            f"the window starts at {since.isoformat()}, not before its end {until.isoformat()} (the end "
            "defaults to the time of the request)",
        )
    if until - since > timedelta(days=MAX_LOG_WINDOW_DAYS):
        raise StepFailed("invalid_window", f"the window may span at most {MAX_LOG_WINDOW_DAYS} days")
    return Window(since, until)


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return as_utc(at)


# The source account's clients (a seam: tests stand in for the APIs the local AWS lacks).
ClientFn = Callable[[StepContext, Investigation, Params, str], Any]


def _client(ctx: StepContext, inv: Investigation, params: Params, service: str) -> Any:
    return acquisition._source_client(ctx.settings, inv, params, service)


def _read(ctx: StepContext, inv: Investigation, params: Params, target: Target, window: Window) -> list[Any]:
    """Each source's result: Collected, or the exception that stopped it."""

    def client(service: str) -> Any:
        return _client(ctx, inv, params, service)

    readers: list[tuple[str, Callable[[], Collected]]] = [
        (
            log_sources.CLOUDTRAIL,
            lambda: log_sources.cloudtrail(
                client("cloudtrail"),
                target,
                log_sources.role_of_profile(client("iam"), target.instance_profile_arn),
                window,
            ),
        ),
        (
            log_sources.FLOW_LOGS,
            lambda: log_sources.flow_logs(client("ec2"), client("logs"), client("s3"), target, window),
        ),
        (log_sources.CONFIG, lambda: log_sources.config_history(client("config"), target, window)),
        (
            log_sources.SECURITY_HUB,
            lambda: log_sources.securityhub_findings(client("securityhub"), target, window),
        ),
        (log_sources.GUARDDUTY, lambda: log_sources.guardduty_findings(client("guardduty"), target, window)),
    ]
    results: list[Any] = []
    for name, read in readers:
        try:
            results.append(read())
        except (ClientError, BotoCoreError, ValueError, KeyError) as exc:
            results.append((name, exc))
    return results


def jsonl(records: list[dict[str, Any]]) -> bytes:
    """One record a line, keys sorted: the same records always give the same bytes (and hash)."""
    return b"".join(
        json.dumps(log_sources.plain(r), sort_keys=True, separators=(",", ":")).encode() + b"\n"
        for r in records
    )


def _progress(ctx: StepContext, run: StepRun, payload: dict[str, Any]) -> None:
    with ctx.unit_of_work() as uow:
        uow.session.add(
            OperationEvent(
                operation_id=run.operation_id, type="logs_progress", payload=payload, created_at=ctx.clock()
            )
        )


def collect_logs(ctx: StepContext, inv: Investigation, params: Params, run: StepRun) -> None:
    if not aws_clients.available(ctx.settings):
        # Locally without the local AWS, clients would reach real AWS with placeholder keys.
        raise StepFailed("logs_failed", "there is no AWS to read the logs from (no local AWS endpoint)")
    bucket = (inv.outputs or {}).get("evidenceBucket")
    if not bucket:
        raise StepFailed("logs_failed", f"investigation {inv.id} has no evidence bucket")
    with ctx.unit_of_work() as uow:
        operation = uow.session.get(Operation, run.operation_id)
        requested_at = operation.created_at if operation is not None else ctx.clock()
    window = resolve_window(params, requested_at)
    account, instance_id = str(params["source_account_id"]), str(params["instance_id"])
    try:
        target = log_sources.describe_target(
            _client(ctx, inv, params, "ec2"), account, inv.region, instance_id
        )
    except (ClientError, BotoCoreError, IndexError) as exc:
        raise StepFailed(
            "logs_failed", f"instance {instance_id} cannot be read in source account {account}: {exc}"
        ) from exc
    evidence_s3 = legal_hold.s3_client(ctx.settings, inv.region, inv.assume_role_arn)
    failed: list[str] = []
    for result in _read(ctx, inv, params, target, window):
        if isinstance(result, Collected) and result.not_enabled is None:
            artifact_id = _store(ctx, inv, run, evidence_s3, bucket, target, window, result)
            _progress(
                ctx, run, {"source": result.source, "artifact": artifact_id, "records": len(result.records)}
            )
            continue
        if isinstance(result, Collected):
            name, details = result.source, {"not_enabled": result.not_enabled, "query": result.query}
        else:
            name, error = result
            details = {"error": f"{type(error).__name__}: {error}"[:1000]}
            failed.append(f"{name} ({details['error']})")
        _record_absent(ctx, inv, run, target, window, name, details)
        _progress(ctx, run, {"source": name, **{k: v for k, v in details.items() if k != "query"}})
    with ctx.unit_of_work() as uow:
        ledger.mirror(uow.session, evidence_s3, bucket, inv.id)
    if failed:
        raise StepFailed("logs_failed", "some sources could not be collected: " + "; ".join(failed))


def _where(target: Target) -> dict[str, Any]:
    return {"account": target.account_id, "region": target.region, "instance_id": target.instance_id}


def _store(
    ctx: StepContext,
    inv: Investigation,
    run: StepRun,
    s3: Any,
    bucket: str,
    target: Target,
    window: Window,
    found: Collected,
) -> str:
    body = jsonl(found.records)
    digest = hashlib.sha256(body).hexdigest()
    artifact_id = f"ev-{uuid.uuid4().hex[:12]}"
    key = f"{LOGS_PREFIX}{artifact_id}/{found.source}.jsonl"
    # S3 refuses the object unless its bytes hash to what was computed here; legal hold like all evidence.
    put = s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=body,
        ContentType="application/x-ndjson",
        ChecksumSHA256=base64.b64encode(bytes.fromhex(digest)).decode(),
        ObjectLockLegalHoldStatus="ON",
    )
    stored = put.get("ChecksumSHA256")
    s3_sha = base64.b64decode(stored).hex() if stored else None
    source = {
        "account_id": target.account_id,
        "region": target.region,
        "instance_id": target.instance_id,
        "log_source": found.source,
        "bucket": bucket,
        "key": key,
        "version_id": put.get("VersionId"),
        "query": found.query,
        "record_count": len(found.records),
        "window": window.as_dict(),
    }
    with ctx.unit_of_work() as uow:
        now = ctx.clock()
        uow.session.add(
            EvidenceArtifact(
                id=artifact_id,
                investigation_id=inv.id,
                kind=ARTIFACT_KIND,
                status=ArtifactStatus.VERIFIED if s3_sha == digest else ArtifactStatus.MISMATCH,
                source=source,
                description=f"{found.source} records about {target.instance_id}",
                sha256_source=digest,
                sha256_copy=s3_sha,
                size_bytes=len(body),
                flag_reason=None
                if s3_sha == digest
                else "S3's stored checksum differs from the hash written",
                operation_id=run.operation_id,
                acquired_by=run.requested_by,
                created_at=now,
                updated_at=now,
            )
        )
        uow.session.flush()
        CustodyStep(ctx, inv, run).record(
            CustodyEventType.ACQUIRED,
            session=uow.session,
            artifact_id=artifact_id,
            location={**_where(target), "bucket": bucket, "key": key, "version_id": put.get("VersionId")},
            hashes={"sha256": digest, "s3_checksum_sha256": s3_sha},
            details={
                "log_source": found.source,
                "query": found.query,
                "record_count": len(found.records),
                "window": window.as_dict(),
            },
        )
    return artifact_id


def _record_absent(
    ctx: StepContext,
    inv: Investigation,
    run: StepRun,
    target: Target,
    window: Window,
    name: str,
    details: dict[str, Any],
) -> None:
    CustodyStep(ctx, inv, run).record(
        CustodyEventType.NOT_COLLECTED,
        location=_where(target),
        details={"log_source": name, "window": window.as_dict(), **details},
    )


def check_request(inv: Investigation, params: Params, settings: Any) -> None:
    """The same checks as an acquisition's: the investigation's region, a configured source account, and an
    instance that account owns."""
    acquisition.check_request(inv, params, settings)
    acquisition.check_source(inv, params, settings)
