"""Files handed in as evidence through the evidence bucket's ``incoming/evidence-artifacts/``, each with its
SHA-256 recorded provably.

- Upload (``issue_upload``, POST .../evidence/uploads): the uploader declares the file's SHA-256 and gets a
  presigned PUT that signs ``x-amz-checksum-sha256`` with it, so S3 itself refuses any other bytes. The
  artifact exists from then on (acquiring), with the declared hash and a custody event.
- Register (the ``register`` action, ``register_objects``): for each key, the latest version is streamed
  through SHA-256 by the service. An upload's artifact is verified when that equals the declared hash (and the
  size and S3's own stored checksum agree), else flagged; any other object becomes an artifact of its own.
  Custody: ``uploaded`` (where, and who if known) and ``hashed``; the ledger is mirrored at the end.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service import aws_clients
from service.auth.roles import Permission
from service.config import Settings
from service.custody import ledger
from service.custody.acquisition import _progress_writer
from service.custody.custody_step import CustodyStep
from service.custody.models import ArtifactStatus, CustodyEventType, EvidenceArtifact
from service.custody.schemas import UploadInstructions, UploadRequest
from service.errors import InvalidInput, StateConflict
from service.investigations.actions import Params, StepContext, StepFailed, StepRun, spec_of
from service.investigations.models import Investigation
from service.investigations.service import get_investigation
from service.operations.models import OperationEvent
from service.operations.states import Action
from service.unit_of_work import Caller

# The program's hand-in prefix (programs/forensic_env/access.py INCOMING): responders may write only there.
INCOMING = "incoming/evidence-artifacts/"
UPLOAD_URL_SECONDS = 15 * 60
CHUNK_BYTES = 1 << 20
# Hashing smaller objects takes seconds; progress events are for the ones people wait on.
PROGRESS_FROM_BYTES = 64 << 20
# x-amz-meta-uploaded-by: who the uploader says they are (a claim, recorded as one).
UPLOADED_BY = "uploaded-by"
MAX_KEY_BYTES = 1024


def _refuse_key(index: int, message: str) -> InvalidInput:
    return InvalidInput(
        f"keys[{index}]: {message}",
        details={"fields": [{"field": f"keys.{index}", "message": message, "type": "key"}]},
    )


def check_keys(keys: Sequence[str]) -> None:
    """Only objects a responder can hand in are evidence uploads: keys under the prefix, naming an object (not
    the folder marker), as plain text with no segment a URL or a shell would read as a path step."""
    for index, key in enumerate(keys):
        if not key.startswith(INCOMING):
            raise _refuse_key(index, f"must be under {INCOMING}")
        rest = key[len(INCOMING) :]
        if not rest or key.endswith("/"):
            raise _refuse_key(index, "must name an object, not a folder")
        if not key.isprintable():
            raise _refuse_key(index, "must be printable text")
        if any(segment in ("", ".", "..") for segment in rest.split("/")):
            raise _refuse_key(index, "must not contain empty, '.' or '..' segments")
        if len(key.encode()) > MAX_KEY_BYTES:
            raise _refuse_key(index, f"must be at most {MAX_KEY_BYTES} bytes")


# Upload: the presigned PUT


def _sigv4_presign(signature_version: str, **_: Any) -> str | None:
    """botocore presigns S3 with SigV2 unless a signature version is configured, and SigV2 leaves the
    checksum in the query string instead of signing it as a header S3 must check."""
    return "s3v4-query" if signature_version.endswith("-query") else None


def _presigning_s3(settings: Settings, inv: Investigation) -> Any:
    s3 = aws_clients.client(
        settings, "s3", inv.region, role_arn=inv.assume_role_arn, session_name=f"forensics-{inv.id}"
    )
    s3.meta.events.register_first("choose-signer.s3.PutObject", _sigv4_presign)
    return s3


def _take_custody_lock(session: Session, inv: Investigation) -> None:
    """Custody is appended under the investigation's operation lock (``ledger.record``). A request holds it
    for its own transaction only: the conditional UPDATE keeps the job runner from claiming the lock until
    this commits, and matches nothing while an operation holds it."""
    held = session.execute(
        update(Investigation)
        .where(Investigation.id == inv.id, Investigation.active_operation_id.is_(None))
        .values(active_operation_id=None)
    ).rowcount  # type: ignore[attr-defined]
    if not held:
        session.refresh(inv)
        raise StateConflict(
            f"operation {inv.active_operation_id} is running on investigation {inv.id} and writes its "
            f"custody chain; ask for the upload once it has finished",
            details={"operation_id": inv.active_operation_id},
        )


def issue_upload(
    caller: Caller, investigation_id: str, body: UploadRequest
) -> tuple[EvidenceArtifact, UploadInstructions]:
    """A new upload artifact (acquiring) and the presigned PUT for it, valid 15 minutes."""
    caller.principal.require(Permission.ACQUIRE)
    session = caller.session
    inv = get_investigation(session, investigation_id)
    spec_of(Action.REGISTER).check(inv)
    bucket = (inv.outputs or {}).get("evidenceBucket")
    if not bucket:
        raise StateConflict(f"investigation {inv.id} has no evidence bucket")
    s3 = _presigning_s3(caller.settings, inv)  # assumes the deploy role: before the lock, not under it
    _take_custody_lock(session, inv)
    artifact_id = f"ev-{uuid.uuid4().hex[:12]}"
    key = f"{INCOMING}{artifact_id}/{body.filename}"
    declared = body.sha256.lower()
    checksum = base64.b64encode(bytes.fromhex(declared)).decode()
    now = caller.clock()
    expires_at = now + timedelta(seconds=UPLOAD_URL_SECONDS)
    url = s3.generate_presigned_url(
        "put_object",
        Params={"Bucket": bucket, "Key": key, "ChecksumSHA256": checksum},
        ExpiresIn=UPLOAD_URL_SECONDS,
    )
    source: dict[str, Any] = {"bucket": bucket, "key": key, "declared_sha256": declared}
    if body.size_bytes is not None:
        source["declared_size_bytes"] = body.size_bytes
    artifact = EvidenceArtifact(
        id=artifact_id,
        investigation_id=inv.id,
        kind="object",
        status=ArtifactStatus.ACQUIRING,
        source=source,
        description=body.description,
        # The file as its uploader declared it; the copy's hash is the service's own, once registered.
        sha256_source=declared,
        acquired_by=caller.principal.name,
        created_at=now,
        updated_at=now,
    )
    session.add(artifact)
    session.flush()
    ledger.record(
        session,
        caller.clock,
        investigation_id=inv.id,
        event=CustodyEventType.ACQUIRED,
        actor=caller.principal.name,
        artifact_id=artifact_id,
        location={"account": inv.account_id, "region": inv.region, "bucket": bucket, "key": key},
        hashes={"sha256": declared, "of": "declared"},
        details={"via": "presigned upload", "upload_expires_at": expires_at.isoformat()},
    )
    caller.audit(
        "evidence.upload",
        target=f"investigation/{inv.id}",
        outcome="issued",
        details={"artifact_id": artifact_id, "key": key, "sha256": declared},
    )
    instructions = UploadInstructions(
        url=url,
        headers={"x-amz-checksum-sha256": checksum},
        expires_at=expires_at,
        bucket=bucket,
        key=key,
    )
    return artifact, instructions


# Register: the work step of the ``register`` action


class _Unreadable(Exception):
    pass


@dataclass(frozen=True)
class _Head:
    version_id: str | None
    size: int
    s3_sha256: str | None  # hex, when S3 holds a full-object SHA-256 of this version
    checksums: dict[str, str]
    metadata: dict[str, str]


def _head(s3: Any, bucket: str, key: str) -> _Head:
    try:
        head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("404", "NoSuchKey", "405"):  # 405: the latest version is a delete marker
            raise _Unreadable(f"{key}: no object at this key") from exc
        raise _Unreadable(f"{key}: {exc}") from exc
    checksums = {
        name.removeprefix("Checksum"): str(value)
        for name, value in head.items()
        if name.startswith("Checksum") and name != "ChecksumType"
    }
    stored = checksums.get("SHA256")
    whole = stored is not None and head.get("ChecksumType") != "COMPOSITE" and "-" not in stored
    return _Head(
        version_id=head.get("VersionId"),
        size=int(head["ContentLength"]),
        s3_sha256=base64.b64decode(stored).hex() if whole and stored else None,
        checksums=checksums,
        metadata={str(k).lower(): str(v) for k, v in (head.get("Metadata") or {}).items()},
    )


def _stream_sha256(
    s3: Any, bucket: str, key: str, head: _Head, progress: Callable[[int, int], None] | None
) -> tuple[str, int]:
    """SHA-256 and length of one version, read in 1 MiB chunks (memory stays bounded whatever its size)."""
    version = {"VersionId": head.version_id} if head.version_id and head.version_id != "null" else {}
    digest = hashlib.sha256()
    done = 0
    try:
        body = s3.get_object(Bucket=bucket, Key=key, **version)["Body"]
        try:
            for chunk in body.iter_chunks(CHUNK_BYTES):
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, head.size)
        finally:
            body.close()
    except (ClientError, BotoCoreError) as exc:
        raise _Unreadable(f"{key}: reading version {head.version_id} failed: {exc}") from exc
    return digest.hexdigest(), done


def _upload_artifact(session: Session, inv_id: str, key: str) -> EvidenceArtifact | None:
    """The upload artifact whose key this is (the key names it: incoming/evidence-artifacts/<id>/<file>)."""
    artifact_id = key[len(INCOMING) :].split("/", 1)[0]
    found = session.get(EvidenceArtifact, artifact_id) if artifact_id.startswith("ev-") else None
    if found is None or found.investigation_id != inv_id or found.source.get("key") != key:
        return None
    return found


@dataclass(frozen=True)
class _Found:
    # The artifact that records this version already, or the upload waiting for it; None: a new one, with
    # ``new_source`` (a later version at an upload's key is judged by the upload's declared hash).
    artifact: EvidenceArtifact | None
    new_source: dict[str, Any]
    is_upload: bool = False


def _artifact_for(session: Session, inv_id: str, bucket: str, key: str, version_id: str | None) -> _Found:
    upload = _upload_artifact(session, inv_id, key)
    if upload is not None and (
        upload.status == ArtifactStatus.ACQUIRING or upload.source.get("version_id") == version_id
    ):
        return _Found(upload, {}, is_upload=True)
    recorded = session.execute(
        select(EvidenceArtifact).where(
            EvidenceArtifact.investigation_id == inv_id, EvidenceArtifact.kind == "object"
        )
    ).scalars()
    for artifact in recorded:
        held = artifact.source or {}
        if (held.get("bucket"), held.get("key"), held.get("version_id")) == (bucket, key, version_id):
            return _Found(artifact, {})
    source: dict[str, Any] = {"bucket": bucket, "key": key, "version_id": version_id}
    if upload is not None:
        source["declared_sha256"] = upload.source.get("declared_sha256")
        source["upload_artifact_id"] = upload.id
    return _Found(None, source)


def _uploader(artifact: EvidenceArtifact, head: _Head, *, is_upload: bool) -> tuple[str, str]:
    """Who put the object there, and how we know: S3 keeps no uploader we can read (objects belong to the
    bucket owner), so the person the upload URL was issued to, else the object's own claim, else unknown."""
    if is_upload:
        return artifact.acquired_by, f"holder of the upload URL issued to {artifact.acquired_by}"
    claimed = head.metadata.get(UPLOADED_BY, "")
    claimed = "".join(c if c.isprintable() else "?" for c in claimed)[:200]
    if claimed:
        return claimed, f"claimed by the object's x-amz-meta-{UPLOADED_BY} metadata"
    return "unknown", "S3 does not record who wrote an object"


def _event(ctx: StepContext, run: StepRun, payload: dict[str, Any]) -> OperationEvent:
    return OperationEvent(
        operation_id=run.operation_id, type="evidence_registered", payload=payload, created_at=ctx.clock()
    )


def _register_one(
    ctx: StepContext, inv: Investigation, run: StepRun, s3: Any, bucket: str, key: str
) -> str | None:
    """Hash and record one key; returns why it is flagged, or None."""
    head = _head(s3, bucket, key)
    located = {
        "account": inv.account_id,
        "region": inv.region,
        "bucket": bucket,
        "key": key,
        "version_id": head.version_id,
    }
    with ctx.unit_of_work() as uow:
        found = _artifact_for(uow.session, inv.id, bucket, key, head.version_id)
        artifact = found.artifact
        if artifact is not None and artifact.status != ArtifactStatus.ACQUIRING:
            uow.session.add(
                _event(ctx, run, {"key": key, "artifact": artifact.id, "status": "already recorded"})
            )
            return None
        now = ctx.clock()
        created = artifact is None
        if artifact is None:
            artifact = EvidenceArtifact(
                id=f"ev-{uuid.uuid4().hex[:12]}",
                investigation_id=inv.id,
                kind="object",
                status=ArtifactStatus.ACQUIRING,
                source=found.new_source,
                sha256_source=found.new_source.get("declared_sha256"),
                acquired_by=run.requested_by,
                created_at=now,
                updated_at=now,
            )
            uow.session.add(artifact)
            uow.session.flush()
        artifact.operation_id = run.operation_id
        # Once per version: a rerun after a crash finds its artifact still acquiring and only hashes it.
        if created or artifact.source.get("version_id") != head.version_id:
            actor, known_by = _uploader(artifact, head, is_upload=found.is_upload)
            artifact.source = {**artifact.source, "version_id": head.version_id}
            artifact.updated_at = now
            CustodyStep(ctx, inv, run).record(
                CustodyEventType.UPLOADED,
                session=uow.session,
                actor=actor,
                artifact_id=artifact.id,
                location=located,
                details={"uploader": known_by, "size_bytes": head.size},
            )
        artifact_id = artifact.id
        source = dict(artifact.source)
    progress = _progress_writer(ctx, run, artifact_id, "object") if head.size >= PROGRESS_FROM_BYTES else None
    sha256, size = _stream_sha256(s3, bucket, key, head, progress)

    problems = []
    declared = source.get("declared_sha256")
    if declared and sha256 != declared:
        problems.append(f"it hashes to {sha256}, not to the declared {declared}")
    declared_size = source.get("declared_size_bytes")
    if declared_size is not None and size != declared_size:
        problems.append(f"it is {size} bytes, not the declared {declared_size}")
    if size != head.size:
        problems.append(f"{size} bytes were read but S3 reports {head.size}")
    if head.s3_sha256 and head.s3_sha256 != sha256:
        problems.append(f"S3's stored SHA-256 is {head.s3_sha256}")
    with ctx.unit_of_work() as uow:
        artifact = uow.session.get(EvidenceArtifact, artifact_id)
        assert artifact is not None
        if declared:
            artifact.sha256_copy = sha256
        else:
            artifact.sha256_source = sha256
        artifact.size_bytes = size
        artifact.updated_at = ctx.clock()
        hashes: dict[str, Any] = {"sha256": sha256, "size_bytes": size, "of": "object"}
        if head.checksums:
            hashes["s3_checksums"] = head.checksums
        CustodyStep(ctx, inv, run).record(
            CustodyEventType.HASHED,
            session=uow.session,
            artifact_id=artifact_id,
            location=located,
            hashes=hashes,
        )
        reason = None
        if problems:
            reason = f"{key} (version {head.version_id}): " + "; ".join(problems)
            artifact.status = ArtifactStatus.MISMATCH
            artifact.flag_reason = reason[:2000]
            CustodyStep(ctx, inv, run).record(
                CustodyEventType.FLAGGED,
                session=uow.session,
                actor="system",
                artifact_id=artifact_id,
                location=located,
                hashes={"declared": declared, "object": sha256, "s3": head.s3_sha256},
                details={"reason": reason},
            )
        else:
            artifact.status = ArtifactStatus.VERIFIED
        uow.session.add(
            _event(
                ctx,
                run,
                {"key": key, "artifact": artifact_id, "status": str(artifact.status), "sha256": sha256},
            )
        )
    return reason


def register_objects(ctx: StepContext, inv: Investigation, params: Params, run: StepRun) -> None:
    """Every key is recorded before the operation fails: a mismatch (flagged) fails it as evidence_mismatch,
    a missing or unreadable object as evidence_unreadable."""
    bucket = (inv.outputs or {}).get("evidenceBucket")
    if not bucket:
        raise StepFailed("evidence_unreadable", f"investigation {inv.id} has no evidence bucket")
    s3 = aws_clients.client(
        ctx.settings, "s3", inv.region, role_arn=inv.assume_role_arn, session_name=f"forensics-{inv.id}"
    )
    flagged: list[str] = []
    unreadable: list[str] = []
    for key in dict.fromkeys(params.get("keys") or []):
        try:
            reason = _register_one(ctx, inv, run, s3, bucket, str(key))
        except _Unreadable as exc:
            unreadable.append(str(exc))
            with ctx.unit_of_work() as uow:
                uow.session.add(_event(ctx, run, {"key": key, "status": "unreadable", "reason": str(exc)}))
            continue
        if reason is not None:
            flagged.append(reason)
    with ctx.unit_of_work() as uow:
        ledger.mirror(uow.session, s3, bucket, inv.id)
    if flagged:
        raise StepFailed("evidence_mismatch", "; ".join([*flagged, *unreadable]))
    if unreadable:
        raise StepFailed("evidence_unreadable", "; ".join(unreadable))
