"""Encryption at rest with the investigation's customer managed key, and key rotation."""

from __future__ import annotations

from typing import Any

from .base import ReportFn, Rule, as_bool, as_list, is_set, is_unknown, props_of

INSTANCE = "aws:ec2/instance:Instance"
VOLUME = "aws:ebs/volume:Volume"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
KMS_KEY = "aws:kms/key:Key"


def _device_problem(device: Any, where: str) -> str | None:
    if is_unknown(device):
        return None
    if not isinstance(device, dict):
        return f"{where} is not declared (its encryption would depend on account defaults)"
    encrypted = device.get("encrypted")
    problems = []
    if not is_unknown(encrypted) and as_bool(encrypted) is not True:
        problems.append("encrypted is not true")
    if not is_set(device.get("kmsKeyId")):
        problems.append("kmsKeyId is not set")
    return f"{where}: {' and '.join(problems)}" if problems else None


def check_ebs_encrypted_with_cmk(args: Any, report: ReportFn) -> None:
    props = props_of(args)
    rtype = args.resource_type
    found: list[str | None] = []
    if rtype == INSTANCE:
        found.append(_device_problem(props.get("rootBlockDevice"), "rootBlockDevice"))
        devices = props.get("ebsBlockDevices")
        if not is_unknown(devices):
            for index, device in enumerate(as_list(devices)):
                found.append(_device_problem(device, f"ebsBlockDevices[{index}]"))
    elif rtype == VOLUME:
        found.append(_device_problem(props, "the volume"))
    elif rtype == LAUNCH_TEMPLATE:
        mappings = props.get("blockDeviceMappings")
        if not is_unknown(mappings):
            for index, mapping in enumerate(as_list(mappings)):
                if isinstance(mapping, dict) and mapping.get("ebs") is not None:
                    found.append(_device_problem(mapping.get("ebs"), f"blockDeviceMappings[{index}].ebs"))
    else:
        return
    for problem in found:
        if problem:
            report(f"{rtype} '{args.name}' {problem}")


def check_kms_rotation(args: Any, report: ReportFn) -> None:
    if args.resource_type != KMS_KEY:
        return
    rotation = props_of(args).get("enableKeyRotation")
    if is_unknown(rotation):
        return
    if as_bool(rotation) is not True:
        report(f"KMS key '{args.name}' does not set enableKeyRotation=true")


RULES = [
    Rule(
        name="ebs-encrypted-with-cmk",
        description="Every EBS volume (instance root and data devices, standalone volumes) is encrypted "
        "with a customer managed KMS key.",
        remediation="set encrypted=True and kms_key_id=<investigation key ARN> on root_block_device, "
        "every ebs_block_device and every aws.ebs.Volume",
        check=check_ebs_encrypted_with_cmk,
        resource_types=(INSTANCE, VOLUME, LAUNCH_TEMPLATE),
    ),
    Rule(
        name="kms-rotation",
        description="Customer managed KMS keys have automatic key rotation enabled.",
        remediation="set enable_key_rotation=True on aws.kms.Key",
        check=check_kms_rotation,
        resource_types=(KMS_KEY,),
    ),
]
