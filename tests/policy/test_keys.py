"""Customer managed keys, whatever the spelling: an AWS managed key (`alias/aws/...`, bare or as an ARN) is
not one (ebs-encrypted-with-cmk, evidence-bucket-hardened, logs-encrypted-with-cmk); snapshot and AMI copies
and snapshot imports are held to the volume rule; log groups need a customer key."""

from __future__ import annotations

from typing import Any

import pytest

from .harness import (
    ACCOUNT,
    KEY_ARN,
    U_STR,
    Res,
    blocked,
    clean_room,
    replace,
    run_resource,
    run_stack,
)

VOLUME = "aws:ebs/volume:Volume"
INSTANCE = "aws:ec2/instance:Instance"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SNAPSHOT_COPY = "aws:ebs/snapshotCopy:SnapshotCopy"
SNAPSHOT_IMPORT = "aws:ebs/snapshotImport:SnapshotImport"
AMI_COPY = "aws:ec2/amiCopy:AmiCopy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

AWS_MANAGED = [
    "alias/aws/ebs",
    "ALIAS/AWS/EBS",
    f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/aws/ebs",
    f"arn:aws-us-gov:kms:us-gov-west-1:{ACCOUNT}:alias/aws/ebs",
]


# ------------------------------------------------------------------------------- AWS managed aliases
@pytest.mark.parametrize("key", AWS_MANAGED)
@pytest.mark.parametrize(
    ("rtype", "props"),
    [
        (VOLUME, lambda k: {"encrypted": True, "kmsKeyId": k}),
        (INSTANCE, lambda k: {"rootBlockDevice": {"encrypted": True, "kmsKeyId": k}}),
        (TEMPLATE, lambda k: {"blockDeviceMappings": [{"ebs": {"encrypted": True, "kmsKeyId": k}}]}),
        (SNAPSHOT_COPY, lambda k: {"sourceSnapshotId": "snap-1", "encrypted": True, "kmsKeyId": k}),
    ],
    ids=["volume", "instance", "template", "snapshot-copy"],
)
def test_aws_managed_ebs_key_is_not_a_customer_key(rtype: str, props: Any, key: str) -> None:
    found = run_resource("ebs-encrypted-with-cmk", rtype, props(key), "x")
    assert found and "AWS managed key" in found[0].message
    assert "ebs-encrypted-with-cmk" in blocked(Res(rtype, "x", props(key)))


@pytest.mark.parametrize("key", ["alias/aws/s3", f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/aws/s3"])
def test_aws_managed_s3_key_is_not_a_customer_key(key: str) -> None:
    rules = [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key}}]
    resources = replace(clean_room(), "evidence-sse", rules=rules)
    (found,) = run_stack("evidence-bucket-hardened", resources)
    assert "AWS managed key" in found.message
    assert "evidence-bucket-hardened" in blocked(base=resources)


def test_customer_key_spellings_pass() -> None:
    for key in (KEY_ARN, "alias/forensics-case-1", f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/forensics", U_STR):
        assert run_resource("ebs-encrypted-with-cmk", VOLUME, {"encrypted": True, "kmsKeyId": key}) == []
        assert run_resource("logs-encrypted-with-cmk", LOG_GROUP, {"kmsKeyId": key}) == []


# --------------------------------------------------------------------------- snapshot and AMI copies
@pytest.mark.parametrize("rtype", [SNAPSHOT_COPY, SNAPSHOT_IMPORT, AMI_COPY])
def test_copies_encrypted_with_a_customer_key_pass(rtype: str) -> None:
    assert run_resource("ebs-encrypted-with-cmk", rtype, {"encrypted": True, "kmsKeyId": KEY_ARN}) == []


@pytest.mark.parametrize(
    ("rtype", "props", "expected"),
    [
        (SNAPSHOT_COPY, {"sourceSnapshotId": "snap-1", "sourceRegion": "us-east-1"}, "encrypted is not true"),
        (SNAPSHOT_COPY, {"sourceSnapshotId": "snap-1", "encrypted": True}, "kmsKeyId is not set"),
        (SNAPSHOT_COPY, {"encrypted": False, "kmsKeyId": KEY_ARN}, "encrypted is not true"),
        (SNAPSHOT_IMPORT, {"diskContainer": {"format": "VMDK"}, "encrypted": True}, "kmsKeyId is not set"),
        (AMI_COPY, {"sourceAmiId": "ami-1", "sourceAmiRegion": "us-east-1"}, "encrypted is not true"),
        (AMI_COPY, {"encrypted": True, "kmsKeyId": "alias/aws/ebs"}, "AWS managed key"),
    ],
)
def test_unencrypted_copies_are_violations(rtype: str, props: dict[str, Any], expected: str) -> None:
    (found,) = run_resource("ebs-encrypted-with-cmk", rtype, props, "copy")
    assert expected in found.message, found.message
    assert "ebs-encrypted-with-cmk" in blocked(Res(rtype, "copy", props))


# -------------------------------------------------------------------------------- logs-encrypted-with-cmk
@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"name": "/forensics/case-1/x"}, "kmsKeyId is not set"),
        ({"name": "/forensics/case-1/x", "kmsKeyId": ""}, "kmsKeyId is not set"),
        ({"name": "/forensics/case-1/x", "kmsKeyId": "alias/aws/logs"}, "AWS managed key"),
        (
            {"name": "/forensics/case-1/x", "kmsKeyId": f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/aws/logs"},
            "AWS managed key",
        ),
    ],
)
def test_log_group_without_a_customer_key_is_a_violation(props: dict[str, Any], expected: str) -> None:
    (found,) = run_resource("logs-encrypted-with-cmk", LOG_GROUP, props, "logs")
    assert expected in found.message and "Remediation:" in found.message
    resources = replace(clean_room(), "flow-logs", kmsKeyId=props.get("kmsKeyId"))  # None: no key at all
    assert "logs-encrypted-with-cmk" in blocked(base=resources)
