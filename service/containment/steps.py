"""The ``contain`` and ``release-containment`` actions: their work steps (task-level functions over boto3,
through the source account's snapshot role) and their entries in the action table (at the end; loaded with
every feature by ``service.features``).

Contain, in the order of the AWS guidance and AWS's Automated Forensic Orchestrator: record the instance's
state as an artifact (hashed, in the custody chain), protect it from termination and stop, detach it from its
Auto Scaling group, deregister it from its target groups and classic load balancers, swap its security groups
(on every network interface) for the VPC's isolation group and, on request, its subnets' network ACLs for a
deny-all one, swap its instance profile for the deny-all one, tag it. Nothing is stopped or terminated. Each
step is a custody event and a progress event.

Release restores what the record holds (read back from the evidence bucket and re-hashed first), then reads
the instance again and fails unless every recorded attribute is as it was.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import aws_clients
from service.auth.roles import Permission
from service.config import Settings
from service.containment import changes
from service.containment import state as instance_state
from service.containment.schemas import ContainRequest, ReleaseContainmentRequest
from service.custody import acquisition, ledger
from service.custody.custody_step import CustodyStep
from service.custody.models import ArtifactStatus, CustodyEventType, EvidenceArtifact
from service.custody.sealing import hash_object_version
from service.investigation_states import Status
from service.investigations.actions import (
    ActionSpec,
    Params,
    Step,
    StepContext,
    StepFailed,
    StepRun,
    register,
)
from service.investigations.models import Investigation
from service.operations.models import OperationEvent
from service.operations.states import Action

RECORD_PREFIX = "containment/"
# The artifact's source says whether the containment it records is in force.
IN_FORCE, RELEASED = "in_force", "released"


def source_clients(ctx: StepContext, inv: Investigation, params: Params) -> instance_state.SourceClients:
    if not aws_clients.available(ctx.settings):
        raise StepFailed("containment_failed", "there is no AWS to contain the instance in (no endpoint)")
    source = ctx.settings.sources[str(params["source_account_id"])]

    def make(service: str) -> Any:
        return aws_clients.client(
            ctx.settings,
            service,
            inv.region,
            role_arn=source.snapshot_role_arn,
            session_name=f"forensics-{inv.id}",
        )

    return instance_state.SourceClients(
        ec2=make("ec2"),
        autoscaling=make("autoscaling"),
        elbv2=make("elbv2"),
        elb=make("elb"),
        iam=make("iam"),
    )


def _evidence_s3(ctx: StepContext, inv: Investigation) -> tuple[Any, str]:
    bucket = (inv.outputs or {}).get("evidenceBucket")
    if not bucket:
        raise StepFailed(
            "containment_failed", f"investigation {inv.id} has no evidence bucket for the record"
        )
    s3 = aws_clients.client(
        ctx.settings, "s3", inv.region, role_arn=inv.assume_role_arn, session_name=f"forensics-{inv.id}"
    )
    return s3, str(bucket)


def _where(inv: Investigation, params: Params) -> dict[str, Any]:
    return {
        "account": str(params["source_account_id"]),
        "region": inv.region,
        "instance_id": str(params["instance_id"]),
    }


def _step_done(
    ctx: StepContext,
    inv: Investigation,
    params: Params,
    run: StepRun,
    event: CustodyEventType,
    step: str,
    details: dict[str, Any],
) -> None:
    """One containment (or release) step: a custody event and a progress event, in one transaction."""
    with ctx.unit_of_work() as uow:
        CustodyStep(ctx, inv, run).record(
            event,
            session=uow.session,
            artifact_id=run.notes.get("record_artifact"),
            location=_where(inv, params),
            details={"step": step, **details},
        )
        uow.session.add(
            OperationEvent(
                operation_id=run.operation_id,
                type="containment_step",
                payload={"step": step, "instance_id": params["instance_id"], **details},
                created_at=ctx.clock(),
            )
        )


def _guarded(step: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A failing AWS call fails the operation with the step it stopped at (what is done stays recorded)."""

    def wrap(fn: Callable[..., None]) -> Callable[..., None]:
        def run(ctx: StepContext, inv: Investigation, params: Params, run: StepRun) -> None:
            try:
                fn(ctx, inv, params, run)
            except StepFailed:
                raise
            except Exception as exc:  # botocore's errors: denied, not found, throttled
                raise StepFailed(
                    "containment_failed",
                    f"{step} of instance {params.get('instance_id')} failed: {type(exc).__name__}: {exc}",
                ) from exc

        run.__name__ = fn.__name__
        run.__doc__ = fn.__doc__
        return run

    return wrap


def _in_force(session: Session, inv_id: str, instance_id: str) -> EvidenceArtifact | None:
    rows = session.execute(
        select(EvidenceArtifact)
        .where(EvidenceArtifact.investigation_id == inv_id, EvidenceArtifact.kind == "object")
        .order_by(EvidenceArtifact.created_at.desc(), EvidenceArtifact.id.desc())
    ).scalars()
    for artifact in rows:
        held = artifact.source or {}
        if held.get("containment") == IN_FORCE and held.get("instance_id") == instance_id:
            return artifact
    return None


# Contain


@_guarded("recording the instance's state")
def record_state(ctx: StepContext, inv: Investigation, params: Params, run: StepRun) -> None:
    """The record comes first, before anything changes: written to the evidence bucket under legal hold,
    read back and hashed, an artifact with its custody events."""
    instance_id = str(params["instance_id"])
    with ctx.unit_of_work() as uow:
        held = _in_force(uow.session, inv.id, instance_id)
    if held is not None:
        raise StepFailed(
            "already_contained",
            f"instance {instance_id} is contained already (record {held.id}); release it before containing "
            "it again",
        )
    clients = source_clients(ctx, inv, params)
    state = instance_state.read(
        clients, instance_id, with_subnet_acls=bool(params.get("isolate_subnet_with_nacl"))
    )
    if instance_state.TAG_CONTAINED in state["tags"]:
        # Its present security groups and profile are another containment's: recorded as the original, a
        # release would restore the isolation.
        raise StepFailed(
            "already_contained",
            f"instance {instance_id} carries {instance_state.TAG_CONTAINED} (investigation "
            f"{state['tags'].get(instance_state.TAG_INVESTIGATION)}): it is contained already",
        )
    if state["state"] in ("shutting-down", "terminated"):
        raise StepFailed("containment_failed", f"instance {instance_id} is {state['state']}")
    artifact_id = f"ev-{uuid.uuid4().hex[:12]}"
    recorded_at = ctx.clock()
    record = {
        "kind": "containment-record",
        "investigationId": inv.id,
        "artifactId": artifact_id,
        "recordedAt": recorded_at.isoformat(),
        "requestedBy": run.requested_by,
        "account": str(params["source_account_id"]),
        "region": inv.region,
        "queries": [q.format(instance=instance_id) for q in instance_state.QUERIES],
        "state": state,
    }
    body = json.dumps(record, indent=2, sort_keys=True, default=str).encode()
    s3, bucket = _evidence_s3(ctx, inv)
    key = f"{RECORD_PREFIX}{instance_id}/{artifact_id}.json"
    put = s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=body,
        ContentType="application/json",
        ChecksumAlgorithm="SHA256",
        ObjectLockLegalHoldStatus="ON",
    )
    version_id = put.get("VersionId")
    stored = hash_object_version(s3, bucket, key, version_id) if version_id else None
    written = hashlib.sha256(body).hexdigest()
    if stored != written:
        raise StepFailed(
            "evidence_mismatch", f"the containment record {key} reads back as {stored}, written as {written}"
        )
    located = {"account": inv.account_id, "region": inv.region, "bucket": bucket, "key": key}
    with ctx.unit_of_work() as uow:
        now = ctx.clock()
        uow.session.add(
            EvidenceArtifact(
                id=artifact_id,
                investigation_id=inv.id,
                kind="object",
                status=ArtifactStatus.VERIFIED,
                source={
                    "bucket": bucket,
                    "key": key,
                    "version_id": version_id,
                    "account_id": str(params["source_account_id"]),
                    "region": inv.region,
                    "instance_id": instance_id,
                    "containment": IN_FORCE,
                    "query": record["queries"],
                },
                description=f"state of instance {instance_id} before containment",
                sha256_source=written,
                size_bytes=len(body),
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
            location=_where(inv, params),
            details={"what": "instance state before containment", "query": record["queries"]},
        )
        CustodyStep(ctx, inv, run).record(
            CustodyEventType.HASHED,
            session=uow.session,
            artifact_id=artifact_id,
            location={**located, "version_id": version_id},
            hashes={"sha256": written, "size_bytes": len(body), "of": "object"},
        )
    run.notes["record_artifact"] = artifact_id
    run.notes["state"] = state
    _step_done(ctx, inv, params, run, CustodyEventType.CONTAINED, "recorded", {"record": key})


def _recorded(run: StepRun) -> dict[str, Any]:
    recorded: dict[str, Any] = run.notes["state"]
    return recorded


@_guarded("protecting the instance")
def protect(ctx: StepContext, inv: Investigation, params: Params, run: StepRun) -> None:
    done = changes.protect(source_clients(ctx, inv, params).ec2, str(params["instance_id"]))
    _step_done(ctx, inv, params, run, CustodyEventType.CONTAINED, "protected", done)


@_guarded("taking the instance out of service")
def take_out_of_service(ctx: StepContext, inv: Investigation, params: Params, run: StepRun) -> None:
    clients = source_clients(ctx, inv, params)
    done = changes.take_out_of_service(clients, str(params["instance_id"]), _recorded(run))
    _step_done(ctx, inv, params, run, CustodyEventType.CONTAINED, "out_of_service", done)


@_guarded("isolating the instance's network")
def isolate_network(ctx: StepContext, inv: Investigation, params: Params, run: StepRun) -> None:
    ec2 = source_clients(ctx, inv, params).ec2
    with_acl = bool(params.get("isolate_subnet_with_nacl"))
    done = changes.isolate_network(ec2, _recorded(run), inv.id, with_acl=with_acl)
    _step_done(ctx, inv, params, run, CustodyEventType.CONTAINED, "isolated", done)


@_guarded("swapping the instance profile")
def deny_credentials(ctx: StepContext, inv: Investigation, params: Params, run: StepRun) -> None:
    done = changes.deny_credentials(source_clients(ctx, inv, params), str(params["instance_id"]))
    _step_done(ctx, inv, params, run, CustodyEventType.CONTAINED, "credentials_denied", done)


@_guarded("tagging the instance")
def tag(ctx: StepContext, inv: Investigation, params: Params, run: StepRun) -> None:
    ec2 = source_clients(ctx, inv, params).ec2
    tags = changes.tag(ec2, str(params["instance_id"]), inv.id, str(run.notes["record_artifact"]))
    _step_done(ctx, inv, params, run, CustodyEventType.CONTAINED, "tagged", {"tags": tags})
    s3, bucket = _evidence_s3(ctx, inv)
    with ctx.unit_of_work() as uow:
        ledger.mirror(uow.session, s3, bucket, inv.id)


# Release


@_guarded("reading the containment record")
def load_record(ctx: StepContext, inv: Investigation, params: Params, run: StepRun) -> None:
    """The record in force for this instance, read back from the evidence bucket; its SHA-256 must be the one
    recorded at acquisition, else nothing is restored from it."""
    instance_id = str(params["instance_id"])
    with ctx.unit_of_work() as uow:
        artifact = _in_force(uow.session, inv.id, instance_id)
        if artifact is None:
            raise StepFailed(
                "not_contained",
                f"investigation {inv.id} has no containment of instance {instance_id} in force",
            )
        source, expected, artifact_id = dict(artifact.source), artifact.sha256_source, artifact.id
    if source.get("account_id") != str(params["source_account_id"]):
        raise StepFailed(
            "not_contained",
            f"instance {instance_id} was contained in account {source.get('account_id')}, not "
            f"{params['source_account_id']}",
        )
    s3, _bucket = _evidence_s3(ctx, inv)
    body = s3.get_object(Bucket=source["bucket"], Key=source["key"], VersionId=source["version_id"])["Body"]
    data = body.read()
    digest = hashlib.sha256(data).hexdigest()
    run.notes["record_artifact"] = artifact_id
    if digest != expected:
        with ctx.unit_of_work() as uow:
            CustodyStep(ctx, inv, run).record(
                CustodyEventType.FLAGGED,
                session=uow.session,
                actor="system",
                artifact_id=artifact_id,
                location={
                    "bucket": source["bucket"],
                    "key": source["key"],
                    "version_id": source["version_id"],
                },
                hashes={"recorded": expected, "read": digest},
                details={"reason": "the containment record differs from what was recorded; nothing restored"},
            )
        raise StepFailed(
            "evidence_mismatch",
            f"containment record {source['key']} hashes to {digest}, recorded as {expected}: "
            "nothing restored",
        )
    record = json.loads(data)
    if record["state"]["instanceId"] != instance_id:
        raise StepFailed("evidence_mismatch", f"record {artifact_id} is not of instance {instance_id}")
    run.notes["state"] = record["state"]


@_guarded("restoring the instance")
def restore(ctx: StepContext, inv: Investigation, params: Params, run: StepRun) -> None:
    clients = source_clients(ctx, inv, params)
    done = changes.restore(clients, str(params["instance_id"]), _recorded(run))
    _step_done(ctx, inv, params, run, CustodyEventType.RESTORED, "restored", done)


@_guarded("checking the restored instance")
def check_restored(ctx: StepContext, inv: Investigation, params: Params, run: StepRun) -> None:
    """Read again: every recorded attribute must be as it was; then the record is no longer in force."""
    recorded = _recorded(run)
    clients = source_clients(ctx, inv, params)
    now = instance_state.read(
        clients,
        str(params["instance_id"]),
        with_subnet_acls=recorded.get("subnetNetworkAcls") is not None,
    )
    before, after = instance_state.comparable(recorded), instance_state.comparable(now)
    differs = {
        k: {"recorded": before[k], "now": after[k]} for k in instance_state.RESTORED if before[k] != after[k]
    }
    if differs:
        _step_done(ctx, inv, params, run, CustodyEventType.FLAGGED, "restore_differs", {"differs": differs})
        raise StepFailed(
            "release_incomplete",
            f"instance {params['instance_id']} differs from its record after the release: "
            + json.dumps(differs, default=str),
        )
    with ctx.unit_of_work() as uow:
        artifact = uow.session.get(EvidenceArtifact, run.notes["record_artifact"])
        assert artifact is not None
        artifact.source = {
            **artifact.source,
            "containment": RELEASED,
            "released_by_operation": run.operation_id,
        }
        artifact.updated_at = ctx.clock()
    _step_done(
        ctx,
        inv,
        params,
        run,
        CustodyEventType.RESTORED,
        "verified",
        {"compared": list(instance_state.RESTORED)},
    )
    s3, bucket = _evidence_s3(ctx, inv)
    with ctx.unit_of_work() as uow:
        ledger.mirror(uow.session, s3, bucket, inv.id)


# Containment of an affected instance in a source account (service/containment holds the work).


def _contain_steps(inv: Investigation, _params: Params, settings: Settings) -> list[Step]:
    return [
        Step(label="record the instance's state", work=record_state),
        Step(label="termination and stop protection", work=protect),
        Step(label="out of its Auto Scaling group and load balancers", work=take_out_of_service),
        Step(label="isolation security group (and network ACL)", work=isolate_network),
        Step(label="deny-all instance profile", work=deny_credentials),
        Step(label="tag", work=tag),
    ]


def _release_containment_steps(inv: Investigation, _params: Params, settings: Settings) -> list[Step]:
    return [
        Step(label="read and re-hash the containment record", work=load_record),
        Step(label="restore what was recorded", work=restore),
        Step(label="compare with the record", work=check_restored),
    ]


def _check_instance(inv: Investigation, params: Params, settings: Settings) -> None:
    # The same source rules as an acquisition: the room's region, a configured source account, its own
    # instance as its snapshot role sees it.
    acquisition.check_request(inv, params, settings)
    acquisition.check_source(inv, params, settings)


def _release_containment_second_person(_params: Params, _settings: Settings) -> str:
    return "release-containment puts an affected instance back on its network, with its credentials"


_CONTAIN_REFUSALS = {
    Status.OPENING: "investigation {id} is still opening; contain once its clean room is ready",
    Status.FROZEN: "investigation {id} is frozen; its custody chain takes no new evidence under legal hold",
}

register(
    ActionSpec(
        name=Action.CONTAIN,
        summary=(
            "Contain an instance of an affected account: record its state (an artifact), protect it from "
            "termination and stop, detach it from its Auto Scaling group, deregister it from its load "
            "balancers, swap its security groups for an isolation group with no rules (optionally its "
            "subnets' network ACLs for a deny-all one) and its instance profile for a deny-all one, tag it. "
            "Nothing is stopped or terminated."
        ),
        permission=Permission.CONTAIN,
        params_model=ContainRequest,
        steps=_contain_steps,
        validate=_check_instance,
        route="containment",
        refusals=_CONTAIN_REFUSALS,
        announce=True,
    )
)
register(
    ActionSpec(
        name=Action.RELEASE_CONTAINMENT,
        summary=(
            "Undo a containment: restore exactly what its record holds (security groups, instance profile, "
            "Auto Scaling group, target groups and load balancers, protections, tags, network ACLs), then "
            "compare the instance with the record. A second person approves."
        ),
        permission=Permission.CONTAIN,
        params_model=ReleaseContainmentRequest,
        steps=_release_containment_steps,
        validate=_check_instance,
        route="release-containment",
        refusals=_CONTAIN_REFUSALS,
        second_person=_release_containment_second_person,
        announce=True,
    )
)
