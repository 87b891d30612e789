"""Seed the local AWS with what a real forensics account has before an incident.

A golden AMI (tagged, and published in the SSM parameter the program reads by default) and a sample evidence
snapshot, so a newcomer can open an investigation against moto straight away.
"""

from __future__ import annotations

import json
from typing import TypedDict

from service import aws_clients
from service.config import Settings

GOLDEN_AMI_NAME = "forensics-golden-workstation"
GOLDEN_AMI_TAG = ("forensics:golden-ami", "true")


class SeedResult(TypedDict):
    amiId: str
    ssmParameter: str
    snapshotId: str


def seed(settings: Settings) -> SeedResult:
    """Idempotent: an existing golden AMI and sample snapshot are reused. Every forensic account of the
    settings gets its own (each region's account is what a clean room there deploys into); the result is the
    default region's."""
    results = {
        region: seed_account(settings, region, account.deploy_role_arn)
        for region, account in settings.accounts.items()
    }
    return results.get(settings.aws_region) or next(iter(results.values()))


def seed_account(settings: Settings, region: str, deploy_role_arn: str | None) -> SeedResult:
    if deploy_role_arn:
        _ensure_deploy_role(settings, region, deploy_role_arn)
    ec2 = aws_clients.client(settings, "ec2", region, role_arn=deploy_role_arn)
    ssm = aws_clients.client(settings, "ssm", region, role_arn=deploy_role_arn)
    zone = f"{region}a"

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


def _ensure_deploy_role(settings: Settings, region: str, role_arn: str) -> None:
    """The forensic account's deploy role, trusted by the service's own account (what an operator sets up
    once per account; here in the local AWS, acting in that account through the role itself)."""
    # In the service's own account the role is made with the service's credentials (and trusts exactly
    # that identity); in another account the local AWS lets the role be assumed before it exists.
    caller = aws_clients.client(settings, "sts", region).get_caller_identity()
    own_account = role_arn.split(":")[4] == caller["Account"]
    iam = aws_clients.client(settings, "iam", region, role_arn=None if own_account else role_arn)
    name = role_arn.rsplit("/", 1)[1]
    try:
        iam.get_role(RoleName=name)
    except iam.exceptions.NoSuchEntityException:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": caller["Arn"]},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
