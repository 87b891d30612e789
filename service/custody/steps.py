"""Custody's entries in the action table (acquire, register, memory, logs) and the custody work inside the
lifecycle's own actions (the evidence mounts at open, the seal of a freeze, the record of a release, the
inventory and certificate of a destroy). Loaded with every feature by ``service.features``."""

from __future__ import annotations

from typing import Any

from service.auth.roles import Permission
from service.config import Settings
from service.custody import acquisition, log_collection, memory_capture, sealing, uploads
from service.custody.schemas import AcquireRequest, LogsRequest, MemoryCaptureRequest, RegisterObjectsRequest
from service.investigation_states import Status
from service.investigations.actions import (
    ActionSpec,
    Params,
    Slot,
    Step,
    StepContext,
    StepRun,
    fresh_engine_step,
    provide_after_success,
    provide_work,
    register,
)
from service.investigations.models import Investigation
from service.operations.states import Action
from service.orchestration.messages import OperationKind, OperationResult

# The lifecycle's own actions


def _seal_freeze(
    ctx: StepContext, inv: Investigation, _params: Params, result: OperationResult, run: StepRun
) -> dict[str, Any]:
    return sealing.seal_freeze(ctx, inv, run.operation_id, result.outputs)


def _record_release(
    ctx: StepContext, inv: Investigation, _params: Params, result: OperationResult, run: StepRun
) -> dict[str, Any]:
    sealing.record_release(ctx, inv, run.operation_id, result.outputs.get("evidenceBucket"))
    return {}


def _certify_destroy(
    ctx: StepContext, inv: Investigation, params: Params, _result: OperationResult, run: StepRun
) -> dict[str, Any]:
    return sealing.certify_destroy(
        ctx, inv, run, retain_evidence=bool(params.get("retain_evidence_bucket", True))
    )


provide_work(Slot.CHECK_EVIDENCE_MOUNTS, acquisition.check_boot_mounts)
provide_work(Slot.INVENTORY_FOR_CERTIFICATE, sealing.take_inventory)
provide_after_success(Slot.SEAL_FREEZE, _seal_freeze)
provide_after_success(Slot.RECORD_RELEASE, _record_release)
provide_after_success(Slot.CERTIFY_DESTROY, _certify_destroy)


# Evidence acquisition (service/custody/acquisition.py holds the work).


def _acquire_steps(inv: Investigation, _params: Params, settings: Settings) -> list[Step]:
    return [
        Step(label="acquire (snapshot, share, hash source)", work=acquisition.acquire_source),
        fresh_engine_step(OperationKind.UP, "up (copy re-encrypted)"),
        Step(label="hash copy", work=acquisition.verify_copies),
        fresh_engine_step(OperationKind.UP, "up (attach verified copy)"),
        Step(label="record attachment", work=acquisition.record_attachments),
    ]


def _check_acquire(inv: Investigation, params: Params, settings: Settings) -> None:
    acquisition.check_request(inv, params, settings)
    acquisition.check_source(inv, params, settings)


register(
    ActionSpec(
        name=Action.ACQUIRE,
        summary=(
            "Acquire evidence from an affected account in the same region: snapshot, share, hash the full "
            "disk image, copy re-encrypted with the investigation key, verify the copy's hash, attach it."
        ),
        permission=Permission.ACQUIRE,
        params_model=AcquireRequest,
        steps=_acquire_steps,
        kind=OperationKind.UP,
        validate=_check_acquire,
        route="evidence",
        refusals={
            Status.FROZEN: "investigation {id} is frozen; evidence cannot be added under legal hold",
            Status.OPENING: "investigation {id} is still opening; acquire evidence once it is ready",
        },
    )
)


# Files handed in through the evidence bucket (service/custody/uploads.py holds the work).


def _register_steps(inv: Investigation, _params: Params, settings: Settings) -> list[Step]:
    return [Step(label="hash and record uploaded objects", work=uploads.register_objects)]


def _check_register(inv: Investigation, params: Params, settings: Settings) -> None:
    uploads.check_keys(params.get("keys") or [])


register(
    ActionSpec(
        name=Action.REGISTER,
        summary=(
            "Record files in incoming/evidence-artifacts/ as evidence: stream each object's latest version, "
            "record its SHA-256 in the custody chain, and check it against the hash declared for an upload."
        ),
        permission=Permission.ACQUIRE,
        params_model=RegisterObjectsRequest,
        steps=_register_steps,
        validate=_check_register,
        # Each object is recorded in one transaction and recorded objects are skipped: a rerun converges.
        retry_after_interrupt=True,
        route="evidence/objects",
        refusals={
            Status.FROZEN: "investigation {id} is frozen; evidence cannot be added under legal hold",
            Status.OPENING: "investigation {id} is still opening; register evidence once it is ready",
        },
    )
)


# Memory capture of an instance in a source account (service/custody/memory_capture.py holds the work).


def _memory_steps(inv: Investigation, _params: Params, settings: Settings) -> list[Step]:
    return [
        Step(
            label="capture memory (SSM Run Command), upload, re-hash, record",
            work=memory_capture.capture_memory,
        )
    ]


def _check_memory(inv: Investigation, params: Params, settings: Settings) -> None:
    memory_capture.check(inv, params, settings)


register(
    ActionSpec(
        name=Action.MEMORY,
        summary=(
            "Capture an instance's memory in an affected account through SSM Run Command (AVML, staged in "
            "the evidence bucket, its SHA-256 checked on the instance): the image is hashed on the instance, "
            "uploaded with that hash as S3's checksum, re-hashed by the service and recorded in custody."
        ),
        permission=Permission.ACQUIRE,
        params_model=MemoryCaptureRequest,
        steps=_memory_steps,
        validate=_check_memory,
        # A second capture is a different image (memory changes): a crash leaves it to a person.
        retry_after_interrupt=False,
        announce=True,
        refusals={
            Status.FROZEN: "investigation {id} is frozen; evidence cannot be added under legal hold",
            Status.OPENING: "investigation {id} is still opening; capture memory once it is ready",
        },
    )
)


# Logs about an affected instance for a window (service/custody/log_collection.py holds the work).


def _logs_steps(inv: Investigation, _params: Params, settings: Settings) -> list[Step]:
    return [
        Step(label="collect logs (CloudTrail, flow logs, Config, findings)", work=log_collection.collect_logs)
    ]


def _check_logs(inv: Investigation, params: Params, settings: Settings) -> None:
    log_collection.check_request(inv, params, settings)


register(
    ActionSpec(
        name=Action.LOGS,
        summary=(
            "Collect the logs about an affected instance for a window (default: the 24 hours before the "
            "request): CloudTrail, VPC Flow Logs, AWS Config history, Security Hub and GuardDuty findings, "
            "one hashed JSON Lines artifact per source in the evidence bucket."
        ),
        permission=Permission.ACQUIRE,
        params_model=LogsRequest,
        steps=_logs_steps,
        validate=_check_logs,
        announce=True,
        refusals={
            Status.FROZEN: "investigation {id} is frozen; evidence cannot be added under legal hold",
            Status.OPENING: "investigation {id} is still opening; collect logs once it is ready",
        },
    )
)
