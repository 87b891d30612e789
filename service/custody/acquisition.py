"""Evidence acquisition: the ``acquire`` action's work steps (task-level functions over boto3).

1. In the source account (through its snapshot role): snapshot the instance's volumes or take the named
   snapshot, hash its full disk image (EBS direct APIs), make it usable by the investigation's forensic
   account as its encryption requires (``source_keys``: its key granted, or a re-encrypted copy, hashed too),
   and share it.
2. ``up``: the program copies it, re-encrypted with the investigation's key (declared, so the policy pack
   judges the copy), not yet attached.
3. Hash the copy; it must equal the source, else the artifact is flagged and the operation fails.
4. ``up``: a volume made from the verified copy is attached to the workstation, read-only.
Every step is a custody event. The original is never attached anywhere.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any, Literal

from sqlalchemy import select

from service import aws_clients
from service.clock import Clock
from service.config import Settings
from service.custody import disk_image, ledger, mounting, source_keys
from service.custody.custody_step import CustodyStep
from service.custody.models import ArtifactStatus, CustodyEventType, EvidenceArtifact
from service.errors import DiskImageError, InvalidInput, MountFailed
from service.investigations.actions import Params, StepContext, StepFailed, StepRun
from service.investigations.models import Investigation
from service.operations.models import OperationEvent

SNAPSHOT_WAIT_SECONDS = 600.0


def check_request(inv: Investigation, params: Params, settings: Settings) -> None:
    """Refused before anything runs: another region (evidence stays in its jurisdiction) or an account the
    operator has not set up as a source."""
    region = params.get("region")
    if region != inv.region:
        raise InvalidInput(
            f"evidence in {region} cannot be acquired into investigation {inv.id}, whose clean room is in "
            f"{inv.region}: evidence does not leave its region; open an investigation in {region}",
            details={"fields": [{"field": "region", "message": f"must be {inv.region}", "type": "region"}]},
        )
    account = params.get("source_account_id")
    if account in {forensic.account_id for forensic in settings.accounts.values()}:
        # Its snapshots are clean rooms' copies and freeze snapshots: another investigation's evidence,
        # whatever else the settings say about the account.
        raise InvalidInput(
            f"account {account} is a forensic account (FORENSICS_FORENSIC_ACCOUNTS): its snapshots are "
            "clean rooms' evidence copies and freeze snapshots, never evidence for an investigation",
            details={
                "fields": [{"field": "source_account_id", "message": "a forensic account", "type": "source"}]
            },
        )
    if account not in settings.sources:
        raise InvalidInput(
            f"account {account} is not a configured evidence source (FORENSICS_SOURCE_ACCOUNTS)",
            details={
                "fields": [
                    {"field": "source_account_id", "message": "not a source account", "type": "source"}
                ]
            },
        )


def check_source(inv: Investigation, params: Params, settings: Settings) -> None:
    """Refused before anything runs: a source the account does not own (a public snapshot, one another
    account shared with it) or cannot see, read through the source account's snapshot role."""
    if not aws_clients.available(settings):
        return  # no AWS to ask (local mode without the local AWS); the acquisition checks again
    account = str(params["source_account_id"])
    what = (
        f"snapshot {params['snapshot_id']}"
        if params.get("snapshot_id")
        else f"instance {params['instance_id']}"
    )
    try:
        owners = _owners(_source_client(settings, inv, params, "ec2"), params)
    except Exception as exc:  # boto's ClientError: not found, or not visible to the snapshot role
        raise InvalidInput(
            f"{what} cannot be read in source account {account} ({type(exc).__name__}: {exc})",
            details={"fields": [{"field": "source", "message": "not found", "type": "source"}]},
        ) from exc
    if owners != {account}:
        raise InvalidInput(
            f"{what} belongs to {', '.join(sorted(map(str, owners))) or 'nobody'}, not to source account "
            f"{account}: only the affected account's own resources are evidence (a public or shared "
            "snapshot is not)",
            details={"fields": [{"field": "source", "message": "not the account's own", "type": "source"}]},
        )


def _owners(ec2: Any, params: Params) -> set[str]:
    if params.get("snapshot_id"):
        found = ec2.describe_snapshots(SnapshotIds=[params["snapshot_id"]])["Snapshots"]
        return {str(s.get("OwnerId")) for s in found}
    reservations = ec2.describe_instances(InstanceIds=[params["instance_id"]])["Reservations"]
    return {str(r.get("OwnerId")) for r in reservations}


def _source_client(settings: Settings, inv: Investigation, params: Params, service: str) -> Any:
    source = settings.sources[str(params["source_account_id"])]
    return aws_clients.client(
        settings, service, inv.region, role_arn=source.snapshot_role_arn, session_name=f"forensics-{inv.id}"
    )


def _wait_completed(ec2: Any, snapshot_ids: list[str], clock_limit: float = SNAPSHOT_WAIT_SECONDS) -> None:
    deadline = time.monotonic() + clock_limit
    while True:
        found = ec2.describe_snapshots(SnapshotIds=snapshot_ids)["Snapshots"]
        states = {s["SnapshotId"]: s["State"] for s in found}
        if any(state == "error" for state in states.values()):
            raise StepFailed("acquisition_failed", f"snapshot failed in the source account: {states}")
        if all(state == "completed" for state in states.values()):
            return
        if time.monotonic() > deadline:
            raise StepFailed("acquisition_failed", f"snapshots did not complete in time: {states}")
        time.sleep(2)


def source_snapshots(ec2: Any, params: Params, investigation_id: str) -> list[dict[str, Any]]:
    """The snapshots to acquire, as {snapshot_id, volume_id, instance_id, device}; an instance's volumes are
    snapshotted now (crash-consistent, tagged with the investigation)."""
    try:
        if params.get("snapshot_id"):
            found = ec2.describe_snapshots(SnapshotIds=[params["snapshot_id"]])["Snapshots"]
            snapshot = found[0]
            if snapshot.get("OwnerId") != params["source_account_id"]:
                raise StepFailed(
                    "acquisition_failed",
                    f"snapshot {snapshot['SnapshotId']} belongs to {snapshot.get('OwnerId')}, not to source "
                    f"account {params['source_account_id']}",
                )
            _wait_completed(ec2, [snapshot["SnapshotId"]])
            return [{"snapshot_id": snapshot["SnapshotId"], "volume_id": snapshot.get("VolumeId")}]
        reservations = ec2.describe_instances(InstanceIds=[params["instance_id"]])["Reservations"]
    except StepFailed:
        raise
    except Exception as exc:  # boto's ClientError: not found, or not visible to the snapshot role
        raise StepFailed("acquisition_failed", f"the source cannot be read: {exc}") from exc
    instance = reservations[0]["Instances"][0]
    taken = []
    for mapping in instance.get("BlockDeviceMappings", []):
        volume_id = mapping.get("Ebs", {}).get("VolumeId")
        if not volume_id:
            continue
        snapshot = ec2.create_snapshot(
            VolumeId=volume_id,
            Description=f"forensic acquisition for {investigation_id}",
            TagSpecifications=[
                {
                    "ResourceType": "snapshot",
                    "Tags": [
                        {"Key": "forensics:investigation", "Value": investigation_id},
                        {"Key": "forensics:source-instance", "Value": instance["InstanceId"]},
                    ],
                }
            ],
        )
        taken.append(
            {
                "snapshot_id": snapshot["SnapshotId"],
                "volume_id": volume_id,
                "instance_id": instance["InstanceId"],
                "device": mapping.get("DeviceName"),
            }
        )
    if not taken:
        raise StepFailed("acquisition_failed", f"instance {instance['InstanceId']} has no EBS volumes")
    _wait_completed(ec2, [t["snapshot_id"] for t in taken])
    return taken


def _progress_writer(
    ctx: StepContext, run: StepRun, artifact_id: str, what: str
) -> Callable[[int, int], None]:
    """Hashing a large disk takes minutes: record progress as operation events, every 5% at most."""
    last = [-1]

    def progress(done: int, total: int) -> None:
        percent = int(done * 100 / total) if total else 100
        if percent < last[0] + 5 and percent != 100:
            return
        last[0] = percent
        with ctx.unit_of_work() as uow:
            uow.session.add(
                OperationEvent(
                    operation_id=run.operation_id,
                    type="evidence_progress",
                    payload={
                        "artifact": artifact_id,
                        "hashing": what,
                        "done_bytes": done,
                        "total_bytes": total,
                    },
                    created_at=ctx.clock(),
                )
            )

    return progress


def _hash(ctx: StepContext, run: StepRun, ebs: Any, snapshot_id: str, artifact_id: str, what: str) -> Any:
    try:
        return disk_image.hash_snapshot(
            ebs,
            snapshot_id,
            workers=ctx.settings.hash_workers,
            progress=_progress_writer(ctx, run, artifact_id, what),
        )
    except DiskImageError as exc:
        raise StepFailed(
            "evidence_unreadable", f"{what} snapshot {snapshot_id} of {artifact_id}: {exc}"
        ) from exc


def _artifacts(session: Any, inv_id: str, operation_id: str) -> list[EvidenceArtifact]:
    return list(
        session.execute(
            select(EvidenceArtifact)
            .where(EvidenceArtifact.investigation_id == inv_id, EvidenceArtifact.operation_id == operation_id)
            .order_by(EvidenceArtifact.created_at, EvidenceArtifact.id)
        ).scalars()
    )


def _fail_artifacts(ctx: StepContext, inv: Investigation, run: StepRun, reason: str) -> None:
    with ctx.unit_of_work() as uow:
        for artifact in _artifacts(uow.session, inv.id, run.operation_id):
            if artifact.status == ArtifactStatus.ACQUIRING:
                artifact.status = ArtifactStatus.FAILED
                artifact.flag_reason = reason[:2000]
                artifact.updated_at = ctx.clock()


def _shareable(
    ctx: StepContext,
    inv: Investigation,
    run: StepRun,
    ec2: Any,
    kms: Any,
    ebs: Any,
    artifact_id: str,
    snapshot_id: str,
    where: dict[str, str],
    source_hash: str,
) -> str:
    """The snapshot to share for this source, as its encryption requires (``source_keys``): the source
    itself (unencrypted, or its customer key granted to the forensic account), or a copy in the source
    account under a key made for the purpose, hashed against the source. Each step is a custody event."""
    forensic = ctx.settings.account_for(inv.region)
    assert forensic is not None
    key = source_keys.key_of(ec2, kms, snapshot_id)
    if not key.encrypted:
        return snapshot_id
    assert key.key_id is not None
    grant = None if key.aws_managed else source_keys.grant_to(kms, key.key_id, forensic.account_id, inv.id)
    if grant is not None:
        _key_shared(ctx, inv, run, artifact_id, where, key.key_id, grant, snapshot_id)
        return snapshot_id
    # aws/ebs (never usable by another account), or a customer key the snapshot role may not grant.
    purpose_key = source_keys.make_key(kms, where["account"], inv.id)
    copy_id = source_keys.reencrypt(ec2, snapshot_id, purpose_key, inv.region, inv.id)
    _wait_completed(ec2, [copy_id])
    CustodyStep(ctx, inv, run).record(
        CustodyEventType.COPIED,
        artifact_id=artifact_id,
        location={
            **where,
            "source_snapshot_id": snapshot_id,
            "source_kms_key": key.key_id,
            "copy_snapshot_id": copy_id,
            "kms_key": purpose_key,
            "why": "the source key cannot be shared with the forensic account",
        },
    )
    digest = _hash(ctx, run, ebs, copy_id, artifact_id, "re-encrypted source")
    with ctx.unit_of_work() as uow:
        CustodyStep(ctx, inv, run).record(
            CustodyEventType.HASHED,
            session=uow.session,
            artifact_id=artifact_id,
            location={**where, "snapshot_id": copy_id},
            hashes={"sha256": digest.sha256, "size_bytes": digest.size_bytes, "of": "re-encrypted source"},
        )
        artifact = uow.session.get(EvidenceArtifact, artifact_id)
        assert artifact is not None
        artifact.source = {**artifact.source, "reencrypted_snapshot_id": copy_id, "kms_key_id": purpose_key}
    if digest.sha256 != source_hash:
        raise StepFailed(
            "evidence_mismatch",
            f"the re-encrypted copy {copy_id} of {snapshot_id} hashes to {digest.sha256}, the source to "
            f"{source_hash}: nothing was shared",
        )
    grant = source_keys.grant_to(kms, purpose_key, forensic.account_id, inv.id)
    if grant is None:
        raise StepFailed("acquisition_failed", f"the snapshot role cannot grant the use of {purpose_key}")
    _key_shared(ctx, inv, run, artifact_id, where, purpose_key, grant, copy_id)
    return copy_id


def _key_shared(
    ctx: StepContext,
    inv: Investigation,
    run: StepRun,
    artifact_id: str,
    where: dict[str, str],
    key_id: str,
    grant_id: str,
    snapshot_id: str,
) -> None:
    forensic = ctx.settings.account_for(inv.region)
    CustodyStep(ctx, inv, run).record(
        CustodyEventType.SHARED,
        artifact_id=artifact_id,
        location={
            **where,
            "snapshot_id": snapshot_id,
            "kms_key": key_id,
            "kms_grant_id": grant_id,
            "shared_with": forensic.account_id if forensic else None,
        },
    )


def acquire_source(ctx: StepContext, inv: Investigation, params: Params, run: StepRun) -> None:
    """Step 1: snapshot/share/hash in the source account; declare each artifact's copy (not attached)."""
    settings = ctx.settings
    forensic = settings.account_for(inv.region)
    if forensic is None:
        raise StepFailed("acquisition_failed", f"no forensic account is configured for {inv.region}")
    account = str(params["source_account_id"])
    ec2 = _source_client(settings, inv, params, "ec2")
    ebs = _source_client(settings, inv, params, "ebs")
    found = source_snapshots(ec2, params, inv.id)
    where = {"account": account, "region": inv.region}
    artifacts: list[tuple[str, dict[str, Any]]] = []
    with ctx.unit_of_work() as uow:
        for source in found:
            artifact_id = f"ev-{uuid.uuid4().hex[:12]}"
            now = ctx.clock()
            uow.session.add(
                EvidenceArtifact(
                    id=artifact_id,
                    investigation_id=inv.id,
                    kind="snapshot",
                    status=ArtifactStatus.ACQUIRING,
                    source={"account_id": account, "region": inv.region, **source},
                    description=params.get("description"),
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
                location={**where, **{k: v for k, v in source.items() if v}},
            )
            artifacts.append((artifact_id, source))
    kms = _source_client(settings, inv, params, "kms")
    try:
        for artifact_id, source in artifacts:
            snapshot_id = source["snapshot_id"]
            digest = _hash(ctx, run, ebs, snapshot_id, artifact_id, "source")
            with ctx.unit_of_work() as uow:
                artifact = uow.session.get(EvidenceArtifact, artifact_id)
                assert artifact is not None
                artifact.sha256_source = digest.sha256
                artifact.size_bytes = digest.size_bytes
                artifact.updated_at = ctx.clock()
                CustodyStep(ctx, inv, run).record(
                    CustodyEventType.HASHED,
                    session=uow.session,
                    artifact_id=artifact_id,
                    location={**where, "snapshot_id": snapshot_id},
                    hashes={"sha256": digest.sha256, "size_bytes": digest.size_bytes, "of": "source"},
                )
            shared_id = _shareable(
                ctx, inv, run, ec2, kms, ebs, artifact_id, snapshot_id, where, digest.sha256
            )
            ec2.modify_snapshot_attribute(
                SnapshotId=shared_id,
                Attribute="createVolumePermission",
                OperationType="add",
                UserIds=[forensic.account_id],
            )
            with ctx.unit_of_work() as uow:
                CustodyStep(ctx, inv, run).record(
                    CustodyEventType.SHARED,
                    session=uow.session,
                    artifact_id=artifact_id,
                    location={**where, "snapshot_id": shared_id, "shared_with": forensic.account_id},
                )
                declared = uow.session.get(Investigation, inv.id)
                assert declared is not None
                declared.evidence = [
                    *(declared.evidence or []),
                    {"id": artifact_id, "snapshotId": shared_id, "attach": False},
                ]
    except StepFailed as exc:
        _fail_artifacts(ctx, inv, run, str(exc))
        raise
    except Exception as exc:
        _fail_artifacts(ctx, inv, run, f"{type(exc).__name__}: {exc}")
        raise StepFailed("acquisition_failed", f"{type(exc).__name__}: {exc}") from exc


def _declared_outputs(run: StepRun) -> dict[str, Any]:
    outputs = run.previous.outputs if run.previous is not None else {}
    evidence = outputs.get("evidence") or {}
    return evidence if isinstance(evidence, dict) else {}


def verify_copies(ctx: StepContext, inv: Investigation, params: Params, run: StepRun) -> None:
    """Step 3: hash each copy made by the program; equal to the source -> declared attached; else flagged."""
    declared = _declared_outputs(run)
    forensic = ctx.settings.account_for(inv.region)
    ebs = aws_clients.client(ctx.settings, "ebs", inv.region, role_arn=inv.assume_role_arn)
    where = {"account": forensic.account_id if forensic else inv.account_id, "region": inv.region}
    with ctx.unit_of_work() as uow:
        pending = [
            (a.id, a.sha256_source)
            for a in _artifacts(uow.session, inv.id, run.operation_id)
            if a.status == ArtifactStatus.ACQUIRING
        ]
    mismatched = []
    for artifact_id, source_hash in pending:
        copy_id = (declared.get(artifact_id) or {}).get("copySnapshotId")
        if not copy_id:
            _fail_artifacts(ctx, inv, run, f"the stack declares no copy of {artifact_id}")
            raise StepFailed("acquisition_failed", f"the stack has no copy of {artifact_id} in its outputs")
        with ctx.unit_of_work() as uow:
            artifact = uow.session.get(EvidenceArtifact, artifact_id)
            assert artifact is not None
            artifact.copy_snapshot_id = copy_id
            CustodyStep(ctx, inv, run).record(
                CustodyEventType.COPIED,
                session=uow.session,
                artifact_id=artifact_id,
                location={
                    **where,
                    "source_snapshot_id": artifact.source.get("snapshot_id"),
                    "copy_snapshot_id": copy_id,
                    "kms_key": (run.previous.outputs.get("kmsKeyArn") if run.previous else None),
                },
            )
        digest = _hash(ctx, run, ebs, copy_id, artifact_id, "copy")
        matches = digest.sha256 == source_hash
        with ctx.unit_of_work() as uow:
            artifact = uow.session.get(EvidenceArtifact, artifact_id)
            declared_inv = uow.session.get(Investigation, inv.id)
            assert artifact is not None and declared_inv is not None
            artifact.sha256_copy = digest.sha256
            artifact.updated_at = ctx.clock()
            CustodyStep(ctx, inv, run).record(
                CustodyEventType.HASHED,
                session=uow.session,
                artifact_id=artifact_id,
                location={**where, "snapshot_id": copy_id},
                hashes={"sha256": digest.sha256, "size_bytes": digest.size_bytes, "of": "copy"},
            )
            if matches:
                artifact.status = ArtifactStatus.VERIFIED
                declared_inv.evidence = [
                    {**entry, "attach": True} if entry.get("id") == artifact_id else entry
                    for entry in declared_inv.evidence or []
                ]
            else:
                reason = (
                    f"copy {copy_id} hashes to {digest.sha256} but its source "
                    f"{artifact.source.get('snapshot_id')} to {source_hash}: not attached"
                )
                artifact.status = ArtifactStatus.MISMATCH
                artifact.flag_reason = reason
                CustodyStep(ctx, inv, run).record(
                    CustodyEventType.FLAGGED,
                    session=uow.session,
                    actor="system",
                    artifact_id=artifact_id,
                    location={**where, "snapshot_id": copy_id},
                    hashes={"source": source_hash, "copy": digest.sha256},
                    details={"reason": reason},
                )
                mismatched.append(reason)
    if mismatched:
        _mirror(ctx, inv, run)
        raise StepFailed("evidence_mismatch", "; ".join(mismatched))


def record_attachments(ctx: StepContext, inv: Investigation, params: Params, run: StepRun) -> None:
    """Step 5: each verified artifact's volume, as the stack reports it, is a custody event; then it is
    mounted read-only on the workstation (the mount document), and the mount script's report decides."""
    declared = _declared_outputs(run)
    outputs = run.previous.outputs if run.previous is not None else {}
    attached: list[tuple[str, str, str]] = []
    with ctx.unit_of_work() as uow:
        for artifact in _artifacts(uow.session, inv.id, run.operation_id):
            if artifact.status != ArtifactStatus.VERIFIED:
                continue
            entry = declared.get(artifact.id) or {}
            if not entry.get("volumeId"):
                raise StepFailed("acquisition_failed", f"the stack attached no volume for {artifact.id}")
            artifact.volume_id = entry["volumeId"]
            artifact.device = entry.get("device")
            artifact.updated_at = ctx.clock()
            CustodyStep(ctx, inv, run).record(
                CustodyEventType.ATTACHED,
                session=uow.session,
                artifact_id=artifact.id,
                location={
                    "account": inv.account_id,
                    "region": inv.region,
                    "volume_id": entry["volumeId"],
                    "copy_snapshot_id": artifact.copy_snapshot_id,
                    "instance_id": outputs.get("instanceId"),
                    "device": entry.get("device"),
                },
            )
            attached.append(
                (artifact.id, str(entry.get("device") or ""), str(artifact.source.get("snapshot_id")))
            )
    try:
        for artifact_id, device, snapshot in attached:
            mount(ctx, inv, run, outputs, artifact_id, device, snapshot, action="mount")
    finally:
        _mirror(ctx, inv, run)


def mount(
    ctx: StepContext,
    inv: Investigation,
    run: StepRun,
    outputs: Params,
    artifact_id: str,
    device: str,
    snapshot: str,
    *,
    action: Literal["mount", "report"],
) -> None:
    """Mounts (or, for evidence the boot script mounted, reads the report of) one device; records the
    mount, or flags the artifact and fails the operation with the script's message."""
    ssm = aws_clients.client(ctx.settings, "ssm", inv.region, role_arn=inv.assume_role_arn)
    where = {"account": inv.account_id, "region": inv.region, "instance_id": outputs.get("instanceId")}
    try:
        report = mounting.run(
            ssm,
            str(outputs.get("mountDocument")),
            str(outputs.get("instanceId")),
            action=action,
            letter=device[-1],
            snapshot=snapshot,
        )
    except MountFailed as exc:
        with ctx.unit_of_work() as uow:
            artifact = uow.session.get(EvidenceArtifact, artifact_id)
            if artifact is not None:
                artifact.flag_reason = f"not mounted: {exc}"[:2000]
                artifact.updated_at = ctx.clock()
                CustodyStep(ctx, inv, run).record(
                    CustodyEventType.FLAGGED,
                    session=uow.session,
                    actor="system",
                    artifact_id=artifact_id,
                    location={**where, "device": device},
                    details={"reason": f"not mounted read-only: {exc}"},
                )
        raise StepFailed(
            "evidence_mount_failed",
            f"evidence {artifact_id} (snapshot {snapshot}) was not mounted read-only: {exc}",
        ) from exc
    with ctx.unit_of_work() as uow:
        if uow.session.get(EvidenceArtifact, artifact_id) is not None:
            CustodyStep(ctx, inv, run).record(
                CustodyEventType.MOUNTED,
                session=uow.session,
                actor="system",
                artifact_id=artifact_id,
                location={**where, "device": device},
                details=report.to_json(),
            )


def check_boot_mounts(ctx: StepContext, inv: Investigation, params: Params, run: StepRun) -> None:
    """After the opening `up`: the evidence given at open was mounted by the boot script; its report for each
    device must say mounted read-only, or the clean room is not ready."""
    if not aws_clients.available(ctx.settings):
        return  # no AWS to ask (local mode without the local AWS: nothing was really deployed either)
    outputs = run.previous.outputs if run.previous is not None else {}
    declared = _declared_outputs(run)
    for snapshot in inv.evidence_snapshot_ids or []:
        device = str((declared.get(snapshot) or {}).get("device") or "")
        if not device:
            raise StepFailed("evidence_mount_failed", f"the stack attached no device for evidence {snapshot}")
        mount(ctx, inv, run, outputs, snapshot, device, snapshot, action="report")


def _mirror(ctx: StepContext, inv: Investigation, run: StepRun) -> None:
    bucket = (run.previous.outputs if run.previous else {}).get("evidenceBucket") or (inv.outputs or {}).get(
        "evidenceBucket"
    )
    if not bucket:
        return
    s3 = aws_clients.client(ctx.settings, "s3", inv.region, role_arn=inv.assume_role_arn)
    with ctx.unit_of_work() as uow:
        ledger.mirror(uow.session, s3, bucket, inv.id)


def record_for_all(
    session: Any,
    clock: Clock,
    inv: Investigation,
    event: CustodyEventType,
    actor: str,
    *,
    status: ArtifactStatus | None = None,
    location: dict[str, Any] | None = None,
    operation_id: str | None = None,
) -> int:
    """A custody event for every artifact of the investigation (freeze, release, destroy); returns a count."""
    rows = session.execute(
        select(EvidenceArtifact)
        .where(EvidenceArtifact.investigation_id == inv.id)
        .order_by(EvidenceArtifact.created_at, EvidenceArtifact.id)
    ).scalars()
    count = 0
    for artifact in rows:
        if artifact.status in (ArtifactStatus.FAILED, ArtifactStatus.DESTROYED):
            continue
        ledger.record(
            session,
            clock,
            investigation_id=inv.id,
            event=event,
            actor=actor,
            artifact_id=artifact.id,
            location={"account": inv.account_id, "region": inv.region, **(location or {})},
            hashes={"sha256": artifact.sha256_copy or artifact.sha256_source},
            operation_id=operation_id,
        )
        if status is not None:
            artifact.status = status
        count += 1
    return count
