"""Seed the local AWS with what a real forensics account has before an incident.

A golden AMI (tagged, and published in the SSM parameter the program reads by default) and a sample evidence
snapshot, so a newcomer can open an investigation against moto straight away.
"""

from __future__ import annotations

from typing import Any, TypedDict

from service.config import Settings

GOLDEN_AMI_NAME = "forensics-golden-workstation"
GOLDEN_AMI_TAG = ("forensics:golden-ami", "true")


class SeedResult(TypedDict):
    amiId: str
    ssmParameter: str
    snapshotId: str


def _client(settings: Settings, service: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=settings.aws_endpoint_url,
        region_name=settings.aws_region,
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=settings.aws_secret_access_key.get_secret_value(),
        verify=settings.aws_verify_tls,
    )


def seed(settings: Settings) -> SeedResult:
    """Idempotent: an existing golden AMI and sample snapshot are reused."""
    ec2 = _client(settings, "ec2")
    ssm = _client(settings, "ssm")
    zone = f"{settings.aws_region}a"

    images = ec2.describe_images(
        Owners=["self"], Filters=[{"Name": f"tag:{GOLDEN_AMI_TAG[0]}", "Values": [GOLDEN_AMI_TAG[1]]}]
    )["Images"]
    if images:
        ami_id = images[0]["ImageId"]
    else:
        root = ec2.create_volume(AvailabilityZone=zone, Size=8)
        root_snapshot = ec2.create_snapshot(VolumeId=root["VolumeId"], Description="golden AMI root")
        ami_id = ec2.register_image(
            Name=GOLDEN_AMI_NAME,
            Description="Hardened forensic workstation (SIFT-style tooling), rebuilt monthly",
            Architecture="x86_64",
            RootDeviceName="/dev/xvda",
            VirtualizationType="hvm",
            BlockDeviceMappings=[
                {
                    "DeviceName": "/dev/xvda",
                    "Ebs": {"SnapshotId": root_snapshot["SnapshotId"], "VolumeSize": 8},
                }
            ],
        )["ImageId"]
        ec2.create_tags(Resources=[ami_id], Tags=[{"Key": GOLDEN_AMI_TAG[0], "Value": GOLDEN_AMI_TAG[1]}])
        ec2.delete_volume(VolumeId=root["VolumeId"])

    ssm.put_parameter(
        Name=settings.golden_ami_ssm_parameter,
        Value=ami_id,
        Type="String",
        Overwrite=True,
        Description="Current golden forensic workstation AMI",
    )

    snapshots = ec2.describe_snapshots(
        OwnerIds=["self"], Filters=[{"Name": "tag:forensics:sample-evidence", "Values": ["true"]}]
    )["Snapshots"]
    if snapshots:
        snapshot_id = snapshots[0]["SnapshotId"]
    else:
        volume = ec2.create_volume(AvailabilityZone=zone, Size=4)
        snapshot_id = ec2.create_snapshot(
            VolumeId=volume["VolumeId"],
            Description="Sample evidence: disk image of a compromised host",
            TagSpecifications=[
                {
                    "ResourceType": "snapshot",
                    "Tags": [
                        {"Key": "forensics:sample-evidence", "Value": "true"},
                        {"Key": "Name", "Value": "sample-compromised-host-disk"},
                    ],
                }
            ],
        )["SnapshotId"]
        ec2.delete_volume(VolumeId=volume["VolumeId"])
    return {"amiId": ami_id, "ssmParameter": settings.golden_ami_ssm_parameter, "snapshotId": snapshot_id}
