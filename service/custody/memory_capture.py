"""Memory capture of an instance in a source account: the ``memory`` action's work step.

Through SSM Run Command in the source account (its evidence role: ``ssm:SendCommand``,
``ssm:GetCommandInvocation``), with the project's document (``documents/capture-memory.json`` of
programs/source_account, whose program creates it in every source account; the local seed does here):

1. The capture tool is staged in the investigation's evidence bucket (forensic account) under
   ``tools/memory/<sha256>`` and handed to the instance as a presigned GET: the instance needs no internet,
   and the tool it runs is kept with the evidence. The tool is AVML: a static binary that reads memory
   through /proc/kcore, /dev/crash or /dev/mem, so nothing is built per kernel (LiME is a kernel module that
   must be compiled for the exact kernel of each affected instance, and loading it changes the kernel).
2. ``capture``: the instance fetches the tool, runs it only if it hashes to the pinned SHA-256, writes the
   image to /var/tmp and reports the image's SHA-256 and size.
3. ``upload``: the service presigns a PUT into ``incoming/memory/<artifact>/`` that signs
   ``x-amz-checksum-sha256`` with the instance's hash; the instance streams the image with that header, so
   S3 refuses any other bytes. A refused upload fails the operation and nothing is recorded as evidence.
4. The service re-hashes the stored object (streamed) and compares it with the instance's hash and S3's
   stored checksum. Only then is the artifact recorded (kind ``memory``): instance hash (``sha256_source``),
   service hash (``sha256_copy``), size, the command ids and who asked, with custody events acquired /
   uploaded / hashed (and flagged on a mismatch); the ledger is mirrored. The freeze manifest, the report and
   ``forensics verify`` treat it as every artifact and object version.

A single presigned PUT carries at most 5 GiB (S3's limit): larger images are refused before the upload.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from typing import Any

from botocore.exceptions import ClientError

from programs.source_account import response
from service import aws_clients
from service.config import Settings
from service.custody import ledger
from service.custody.acquisition import _progress_writer, _source_client, check_request, check_source
from service.custody.models import ArtifactStatus, CustodyEventType, EvidenceArtifact
from service.custody.schemas import MAX_UPLOAD_BYTES
from service.custody.uploads import _head, _sigv4_presign, _stream_sha256, _Unreadable
from service.errors import InvalidInput
from service.investigations.actions import Params, StepContext, StepFailed, StepRun
from service.investigations.models import Investigation
from service.operations.models import OperationEvent

KIND = "memory"
MEMORY_PREFIX = "incoming/memory/"
TOOLS_PREFIX = "tools/memory/"
URL_SECONDS = 15 * 60
WAIT_SECONDS = 3600.0
POLL_SECONDS = 2.0
RUNNING = ("Pending", "InProgress", "Delayed")
CODE = "memory_capture_failed"
SHA256 = re.compile(r"[0-9a-f]{64}")


def document_content() -> str:
    """The project's memory-capture SSM document, as day zero creates it in each source account."""
    return response.memory_document_content()


def check(inv: Investigation, params: Params, settings: Settings) -> None:
    """Refused before anything runs: as an acquisition (region, a configured source account, the account's
    own instance), and a service with no capture tool to stage."""
    check_request(inv, params, settings)
    if settings.memory_tool is None:
        raise InvalidInput(
            "no memory capture tool is configured "
            "(FORENSICS_MEMORY_TOOL_PATH and FORENSICS_MEMORY_TOOL_SHA256)"
        )
    check_source(inv, params, settings)


def _event(ctx: StepContext, run: StepRun, payload: dict[str, Any]) -> None:
    with ctx.unit_of_work() as uow:
        uow.session.add(
            OperationEvent(
                operation_id=run.operation_id, type="memory_capture", payload=payload, created_at=ctx.clock()
            )
        )


def _stage_tool(s3: Any, bucket: str, settings: Settings) -> tuple[str, str]:
    """(presigned GET of the staged tool, its pinned SHA-256): put once per tool version."""
    tool = settings.memory_tool
    assert tool is not None  # checked when the request was made
    path, sha256 = tool
    key = f"{TOOLS_PREFIX}{sha256}"
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError:
        # The bucket refuses writes without an integrity checksum; this one is the pinned hash, so a tool
        # file that changed since it was pinned is refused by S3 here, before any instance sees it.
        try:
            s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=path.read_bytes(),
                ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256)).decode(),
            )
        except (OSError, ClientError) as exc:
            raise StepFailed(CODE, f"the capture tool {path} could not be staged in {bucket}: {exc}") from exc
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=URL_SECONDS
    )
    return str(url), sha256


def _run_command(
    ssm: Any, document: str, instance_id: str, parameters: dict[str, str], what: str
) -> dict[str, Any]:
    """Send the document with ``parameters``; wait for the invocation; its last JSON report line (with
    ``command_id``). Any failure is a StepFailed saying what the instance said."""
    try:
        command = ssm.send_command(
            InstanceIds=[instance_id],
            DocumentName=document,
            Parameters={key: [value] for key, value in parameters.items()},
            Comment=f"forensics: memory {what}",
        )["Command"]
    except ClientError as exc:
        raise StepFailed(
            CODE, f"the memory {what} command could not be sent to {instance_id}: {exc}"
        ) from exc
    command_id = str(command["CommandId"])
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            invocation = ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code != "InvocationDoesNotExist" or time.monotonic() > deadline:
                raise StepFailed(
                    CODE, f"the memory {what} command {command_id} could not be read: {exc}"
                ) from exc
            invocation = {"Status": "Pending"}
        if invocation["Status"] not in RUNNING:
            break
        if time.monotonic() > deadline:
            raise StepFailed(CODE, f"the memory {what} command {command_id} did not finish in time")
        time.sleep(POLL_SECONDS)
    report: dict[str, Any] | None = None
    for line in (invocation.get("StandardOutputContent") or "").splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict) and parsed.get("capture") == parameters["captureId"]:
            report = parsed
    errors = (invocation.get("StandardErrorContent") or "").strip().splitlines()
    if report is None or invocation["Status"] != "Success" or report.get("ok") is not True:
        said = (report or {}).get("error") or (errors[-1] if errors else f"it ended {invocation['Status']}")
        raise StepFailed(CODE, f"memory {what} on {instance_id} failed (command {command_id}): {said}")
    return {**report, "command_id": command_id}


def capture_memory(ctx: StepContext, inv: Investigation, params: Params, run: StepRun) -> None:
    """The work step. How it ended is announced by the action table (``announce``), with ``run.facts``:
    the instance, and once recorded the artifact and both hashes."""
    run.facts["instance"] = str(params.get("instance_id"))
    _capture(ctx, inv, params, run)


def _capture(ctx: StepContext, inv: Investigation, params: Params, run: StepRun) -> None:
    settings = ctx.settings
    if not aws_clients.available(settings):
        raise StepFailed(CODE, "there is no AWS to capture memory from (local mode without the local AWS)")
    bucket = (inv.outputs or {}).get("evidenceBucket")
    if not bucket:
        raise StepFailed(CODE, f"investigation {inv.id} has no evidence bucket")
    instance_id = str(params["instance_id"])
    artifact_id = f"ev-{uuid.uuid4().hex[:12]}"
    key = f"{MEMORY_PREFIX}{artifact_id}/{instance_id}.lime"
    s3 = aws_clients.client(
        settings, "s3", inv.region, role_arn=inv.assume_role_arn, session_name=f"forensics-{inv.id}"
    )
    s3.meta.events.register_first("choose-signer.s3", _sigv4_presign)  # presigned GET and PUT alike
    ssm = _source_client(settings, inv, params, "ssm")
    document = settings.memory_document_name

    tool_url, tool_sha256 = _stage_tool(s3, bucket, settings)
    _event(ctx, run, {"capture": artifact_id, "step": "tool staged", "tool_sha256": tool_sha256})
    base = {"captureId": artifact_id}
    captured = _run_command(
        ssm,
        document,
        instance_id,
        {**base, "action": "capture", "toolUrl": tool_url, "toolSha256": tool_sha256},
        "capture",
    )
    instance_sha256, size = str(captured.get("sha256", "")).lower(), captured.get("size_bytes")
    if not SHA256.fullmatch(instance_sha256) or not isinstance(size, int) or size < 0:
        raise StepFailed(
            CODE,
            f"the memory capture on {instance_id} reported no image hash and size: {str(captured)[:500]}",
        )
    _event(
        ctx, run, {"capture": artifact_id, "step": "captured", "sha256": instance_sha256, "size_bytes": size}
    )
    if size > MAX_UPLOAD_BYTES:
        raise StepFailed(
            CODE,
            f"the memory image of {instance_id} is {size} bytes, more than one presigned PUT carries "
            f"({MAX_UPLOAD_BYTES}); it stays at {captured.get('path')} on the instance",
        )
    checksum = base64.b64encode(bytes.fromhex(instance_sha256)).decode()
    upload_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": key, "ChecksumSHA256": checksum}, ExpiresIn=URL_SECONDS
    )
    try:
        uploaded = _run_command(
            ssm,
            document,
            instance_id,
            {**base, "action": "upload", "uploadUrl": str(upload_url), "checksum": checksum},
            "upload",
        )
    except StepFailed as exc:
        raise StepFailed(
            CODE,
            f"{exc} (the image hashed to {instance_sha256} on the instance; "
            "nothing was recorded as evidence)",
        ) from exc
    _event(ctx, run, {"capture": artifact_id, "step": "uploaded", "key": key})

    progress = _progress_writer(ctx, run, artifact_id, "memory image")
    try:
        head = _head(s3, bucket, key)
        service_sha256, read = _stream_sha256(s3, bucket, key, head, progress)
    except _Unreadable as exc:
        raise StepFailed(CODE, f"the uploaded memory image cannot be read back: {exc}") from exc
    problems = []
    if service_sha256 != instance_sha256:
        problems.append(f"it hashes to {service_sha256}, not to the instance's {instance_sha256}")
    if read != size or head.size != size:
        problems.append(f"{read} bytes were read (S3 reports {head.size}), the instance wrote {size}")
    if head.s3_sha256 and head.s3_sha256 != service_sha256:
        problems.append(f"S3's stored SHA-256 is {head.s3_sha256}")
    _record(
        ctx, inv, run, params, s3, artifact_id, bucket, key, head.version_id, instance_sha256, service_sha256,
        read, captured, uploaded, tool_sha256, head.checksums, problems,
    )  # fmt: skip
    run.facts.update(
        {
            "artifact": artifact_id,
            "key": key,
            "size bytes": read,
            "SHA-256 on the instance": instance_sha256,
            "SHA-256 re-hashed by the service": service_sha256,
        }
    )
    if problems:
        raise StepFailed("evidence_mismatch", f"memory image {key}: " + "; ".join(problems))


def _record(
    ctx: StepContext,
    inv: Investigation,
    run: StepRun,
    params: Params,
    s3: Any,
    artifact_id: str,
    bucket: str,
    key: str,
    version_id: str | None,
    instance_sha256: str,
    service_sha256: str,
    size: int,
    captured: dict[str, Any],
    uploaded: dict[str, Any],
    tool_sha256: str,
    checksums: dict[str, str],
    problems: list[str],
) -> None:
    account, instance_id = str(params["source_account_id"]), str(params["instance_id"])
    commands = {"capture": captured["command_id"], "upload": uploaded["command_id"]}
    at_source = {"account": account, "region": inv.region, "instance_id": instance_id}
    stored = {
        "account": inv.account_id,
        "region": inv.region,
        "bucket": bucket,
        "key": key,
        "version_id": version_id,
    }
    with ctx.unit_of_work() as uow:
        now = ctx.clock()
        artifact = EvidenceArtifact(
            id=artifact_id,
            investigation_id=inv.id,
            kind=KIND,
            status=ArtifactStatus.MISMATCH if problems else ArtifactStatus.VERIFIED,
            source={
                "account_id": account,
                "region": inv.region,
                "instance_id": instance_id,
                "bucket": bucket,
                "key": key,
                "version_id": version_id,
                "ssm_document": ctx.settings.memory_document_name,
                "ssm_command_ids": commands,
                "tool_sha256": tool_sha256,
            },
            description=params.get("description"),
            sha256_source=instance_sha256,
            sha256_copy=service_sha256,
            size_bytes=size,
            flag_reason=("; ".join(problems))[:2000] if problems else None,
            operation_id=run.operation_id,
            acquired_by=run.requested_by,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(artifact)
        uow.session.flush()
        common: dict[str, Any] = {
            "investigation_id": inv.id,
            "artifact_id": artifact_id,
            "operation_id": run.operation_id,
        }
        ledger.record(
            uow.session,
            ctx.clock,
            event=CustodyEventType.ACQUIRED,
            actor=run.requested_by,
            location=at_source,
            hashes={"sha256": instance_sha256, "size_bytes": size, "of": "instance"},
            details={
                "via": "SSM Run Command",
                "document": ctx.settings.memory_document_name,
                "command_id": commands["capture"],
                "tool_sha256": tool_sha256,
            },
            **common,
        )
        ledger.record(
            uow.session,
            ctx.clock,
            event=CustodyEventType.UPLOADED,
            actor=run.requested_by,
            location=stored,
            details={"command_id": commands["upload"], "checksum_sha256_signed": True, "size_bytes": size},
            **common,
        )
        ledger.record(
            uow.session,
            ctx.clock,
            event=CustodyEventType.HASHED,
            actor=run.requested_by,
            location=stored,
            hashes={"sha256": service_sha256, "size_bytes": size, "of": "object", "s3_checksums": checksums},
            **common,
        )
        if problems:
            ledger.record(
                uow.session,
                ctx.clock,
                event=CustodyEventType.FLAGGED,
                actor="system",
                location=stored,
                hashes={"instance": instance_sha256, "object": service_sha256},
                details={"reason": "; ".join(problems)},
                **common,
            )
    with ctx.unit_of_work() as uow:
        ledger.mirror(uow.session, s3, bucket, inv.id)
