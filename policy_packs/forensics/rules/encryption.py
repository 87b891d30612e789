"""Encryption at rest with the investigation's customer managed key, and key rotation.

A customer managed key is one the account controls: `alias/aws/...` (the AWS managed keys for EBS, S3,
logs...) is not, whatever the spelling (bare alias or alias ARN).
"""

from __future__ import annotations

from typing import Any

from .base import ReportFn, Rule, as_bool, is_unknown, key_problem, props_of
from .launch import LAUNCH_SPEC_TYPES, LaunchSpec, launch_specs

VOLUME = "aws:ebs/volume:Volume"
# Copies and imports make new EBS data (or images of it) and choose their own encryption.
SNAPSHOT_COPY = "aws:ebs/snapshotCopy:SnapshotCopy"
SNAPSHOT_IMPORT = "aws:ebs/snapshotImport:SnapshotImport"
AMI_COPY = "aws:ec2/amiCopy:AmiCopy"
ENCRYPTED_COPY_TYPES = (SNAPSHOT_COPY, SNAPSHOT_IMPORT, AMI_COPY)
KMS_KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

_NO_KMS_SETTING = "has no KMS key setting (launch configurations cannot name one): use a launch template"


def _device_problem(device: Any, where: str, kms_settable: bool = True) -> str | None:
    if is_unknown(device):
        return None
    if not isinstance(device, dict):
        return f"{where} is not declared (its encryption would depend on the AMI and account defaults)"
    encrypted = device.get("encrypted")
    problems = []
    if not is_unknown(encrypted) and as_bool(encrypted) is not True:
        problems.append("encrypted is not true")
    key = key_problem(device.get("kmsKeyId")) if kms_settable else _NO_KMS_SETTING
    if key:
        problems.append(key)
    return f"{where}: {' and '.join(problems)}" if problems else None


def _launch_problems(spec: LaunchSpec) -> list[str | None]:
    found: list[str | None] = []
    if spec.root_device is not None:
        path, device = spec.root_device
        found.append(_device_problem(device, path, spec.kms_settable))
    for path, device in spec.devices:
        found.append(_device_problem(device, path, spec.kms_settable))
    return [f"{spec.where} {problem}" if problem else None for problem in found]


def check_ebs_encrypted_with_cmk(args: Any, report: ReportFn) -> None:
    props = props_of(args)
    rtype = args.resource_type
    found: list[str | None] = []
    if rtype in LAUNCH_SPEC_TYPES:
        for spec in launch_specs(rtype, args.name, props):
            found.extend(_launch_problems(spec))
    elif rtype == VOLUME:
        problem = _device_problem(props, "the volume")
        found.append(f"{rtype} '{args.name}' {problem}" if problem else None)
    elif rtype in ENCRYPTED_COPY_TYPES:
        problem = _device_problem(props, "the copy" if rtype != SNAPSHOT_IMPORT else "the import")
        found.append(f"{rtype} '{args.name}' {problem}" if problem else None)
    for message in found:
        if message:
            report(message)


def check_kms_rotation(args: Any, report: ReportFn) -> None:
    if args.resource_type != KMS_KEY:
        return
    props = props_of(args)
    spec = props.get("customerMasterKeySpec") or props.get("keySpec")
    if isinstance(spec, str) and not is_unknown(spec) and spec != "SYMMETRIC_DEFAULT":
        return  # KMS rotates only symmetric encryption keys: a signing key's rotation is a new key
    rotation = props.get("enableKeyRotation")
    if is_unknown(rotation):
        return
    if as_bool(rotation) is not True:
        report(f"KMS key '{args.name}' does not set enableKeyRotation=true")


def check_logs_encrypted_with_cmk(args: Any, report: ReportFn) -> None:
    if args.resource_type != LOG_GROUP:
        return
    problem = key_problem(props_of(args).get("kmsKeyId"))
    if problem:
        report(f"log group '{args.name}': {problem} (CloudWatch Logs would use its service-owned key)")


RULES = [
    Rule(
        name="ebs-encrypted-with-cmk",
        description="Every EBS volume is encrypted with a customer managed KMS key: standalone volumes, the "
        "root and data devices of instances, spot requests, launch templates, launch configurations and spot "
        "fleets, and snapshot copies, snapshot imports and AMI copies (an alias/aws/* key does not count).",
        remediation="set encrypted=True and kms_key_id=<investigation key ARN> on root_block_device, every "
        "ebs_block_device, every launch template block device mapping, every aws.ebs.Volume and every "
        "snapshot or AMI copy",
        check=check_ebs_encrypted_with_cmk,
        resource_types=(*LAUNCH_SPEC_TYPES, VOLUME, *ENCRYPTED_COPY_TYPES),
    ),
    Rule(
        name="kms-rotation",
        description="Customer managed symmetric KMS keys have automatic key rotation enabled (KMS rotates no "
        "asymmetric key).",
        remediation="set enable_key_rotation=True on aws.kms.Key",
        check=check_kms_rotation,
        resource_types=(KMS_KEY,),
    ),
    Rule(
        name="logs-encrypted-with-cmk",
        description="Every CloudWatch log group is encrypted with a customer managed KMS key (kmsKeyId set, "
        "not an alias/aws/* key).",
        remediation="set kms_key_id=<investigation key ARN> on every aws.cloudwatch.LogGroup (the key policy "
        "must let logs.<region>.amazonaws.com use it for the group)",
        check=check_logs_encrypted_with_cmk,
        resource_types=(LOG_GROUP,),
    ),
]
