"""Encrypted snapshots across accounts in the local AWS, checked with boto3: what AWS refuses is refused
(an ``aws/ebs`` snapshot cannot be shared; a customer-key snapshot cannot be copied or made a volume of by an
account its key is not shared with), and what AWS allows works once the key is shared."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from service.config import DEFAULT_ACCOUNT_ID, LOCAL_SOURCE_ACCOUNT
from tests.support.aws import client_as
from tests.support.disk_images import SOURCE_ADMIN
from tools.local_aws.aws import LocalAws


def _encrypted_snapshot(ec2: Any, key_id: str | None) -> str:
    options: dict[str, Any] = {"Encrypted": True, **({"KmsKeyId": key_id} if key_id else {})}
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1, **options)
    snapshot = ec2.create_snapshot(VolumeId=volume["VolumeId"], Description="encrypted source disk")
    return str(snapshot["SnapshotId"])


def test_a_snapshot_under_the_aws_managed_key_cannot_be_shared(local_aws: LocalAws) -> None:
    ec2 = client_as(local_aws, SOURCE_ADMIN, "ec2")
    snapshot_id = _encrypted_snapshot(ec2, None)
    (described,) = ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"]
    key = client_as(local_aws, SOURCE_ADMIN, "kms").describe_key(KeyId=described["KmsKeyId"])["KeyMetadata"]
    assert key["KeyManager"] == "AWS"
    with pytest.raises(ClientError) as refused:
        ec2.modify_snapshot_attribute(
            SnapshotId=snapshot_id,
            Attribute="createVolumePermission",
            OperationType="add",
            UserIds=[DEFAULT_ACCOUNT_ID],
        )
    assert refused.value.response["Error"]["Code"] == "InvalidParameter"
    assert "AWS Managed CMK can't be shared" in refused.value.response["Error"]["Message"]
    attribute = ec2.describe_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission")
    assert attribute["CreateVolumePermissions"] == []


def test_a_customer_key_snapshot_is_usable_by_another_account_only_with_its_key(local_aws: LocalAws) -> None:
    ec2 = client_as(local_aws, SOURCE_ADMIN, "ec2")
    kms = client_as(local_aws, SOURCE_ADMIN, "kms")
    key_id = kms.create_key(Description="affected account disks")["KeyMetadata"]["Arn"]
    snapshot_id = _encrypted_snapshot(ec2, key_id)
    ec2.modify_snapshot_attribute(
        SnapshotId=snapshot_id,
        Attribute="createVolumePermission",
        OperationType="add",
        UserIds=[DEFAULT_ACCOUNT_ID],
    )
    forensic = local_aws.client("ec2")  # the forensic account's administrator
    # Shared, so visible; but its key is not shared: no copy, no volume.
    assert forensic.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]["Encrypted"] is True
    with pytest.raises(ClientError) as copy_refused:
        forensic.copy_snapshot(SourceSnapshotId=snapshot_id, SourceRegion="us-east-1", Encrypted=True)
    assert copy_refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert key_id in copy_refused.value.response["Error"]["Message"]
    with pytest.raises(ClientError):
        forensic.create_volume(AvailabilityZone="us-east-1a", SnapshotId=snapshot_id)

    # A grant on the key for the forensic account is what AWS needs, and all it needs.
    kms.create_grant(
        KeyId=key_id,
        GranteePrincipal=f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:root",
        Operations=["Decrypt", "DescribeKey", "CreateGrant", "ReEncryptFrom"],
    )
    copy = forensic.copy_snapshot(SourceSnapshotId=snapshot_id, SourceRegion="us-east-1", Encrypted=True)
    (copied,) = forensic.describe_snapshots(SnapshotIds=[copy["SnapshotId"]])["Snapshots"]
    assert copied["OwnerId"] == DEFAULT_ACCOUNT_ID and copied["Encrypted"] is True


def test_encrypted_blocks_are_read_only_by_whom_the_key_lets_decrypt(local_aws: LocalAws) -> None:
    """EBS direct reads of an encrypted snapshot need kms:Decrypt on its key: a key whose policy names
    nobody in the account refuses them."""
    ec2 = client_as(local_aws, SOURCE_ADMIN, "ec2")
    kms = client_as(local_aws, SOURCE_ADMIN, "kms")
    ebs = client_as(local_aws, SOURCE_ADMIN, "ebs")
    open_key = kms.create_key(Description="readable")["KeyMetadata"]["Arn"]
    readable = _encrypted_snapshot(ec2, open_key)
    assert ebs.list_snapshot_blocks(SnapshotId=readable)["Blocks"] == []
    closed_policy = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::'
        + LOCAL_SOURCE_ACCOUNT
        + ':role/someone-else"},"Action":"kms:*","Resource":"*"}]}'
    )
    closed_key = kms.create_key(Description="someone else's", Policy=closed_policy)["KeyMetadata"]["Arn"]
    unreadable = _encrypted_snapshot(ec2, closed_key)
    with pytest.raises(ClientError) as refused:
        ebs.list_snapshot_blocks(SnapshotId=unreadable)
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"


def test_a_snapshot_started_encrypted_is_under_its_key(local_aws: LocalAws) -> None:
    """StartSnapshot's Encrypted/KmsKeyArn are honoured (moto made such a snapshot plain)."""
    ebs = client_as(local_aws, SOURCE_ADMIN, "ebs")
    ec2 = client_as(local_aws, SOURCE_ADMIN, "ec2")
    key = client_as(local_aws, SOURCE_ADMIN, "kms").create_key(Description="written")["KeyMetadata"]["Arn"]
    started = ebs.start_snapshot(VolumeSize=1, Encrypted=True, KmsKeyArn=key)
    assert started["KmsKeyArn"] == key
    (snapshot,) = ec2.describe_snapshots(SnapshotIds=[started["SnapshotId"]])["Snapshots"]
    assert snapshot["Encrypted"] is True and snapshot["KmsKeyId"] == key
    by_default = ebs.start_snapshot(VolumeSize=1, Encrypted=True)
    (default,) = ec2.describe_snapshots(SnapshotIds=[by_default["SnapshotId"]])["Snapshots"]
    assert default["Encrypted"] is True and default["KmsKeyId"].startswith("arn:aws:kms:")
    with pytest.raises(ClientError) as refused:
        ebs.start_snapshot(VolumeSize=1, KmsKeyArn=key)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
