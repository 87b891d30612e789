"""Seed the local AWS with what a real forensics account has before an incident.

A golden AMI (tagged, and published in the SSM parameter the program reads by default) and a sample evidence
snapshot holding a small ext4 disk image (``sample_disk``), so a newcomer can open an investigation against
moto straight away and see the evidence mounted.
"""

from __future__ import annotations

import json
import logging
from typing import TypedDict

from programs.forensic_account.config import ANCHOR_RETENTION_DAYS
from programs.source_account.permissions import EVIDENCE_POLICY_NAME, evidence_policy
from service import aws_clients
from service.config import Settings
from service.containment import isolation
from service.custody import disk_image
from tools.local_aws.sample_disk import sample_image

logger = logging.getLogger(__name__)

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
    for source in settings.sources.values():
        _ensure_snapshot_role(settings, source.snapshot_role_arn)
        for region in settings.accounts:
            _ensure_memory_document(settings, region, source.snapshot_role_arn)
    # After the accounts: the bucket is made through the default region's deploy role.
    _ensure_anchor_bucket(settings)
    return results.get(settings.aws_region) or next(iter(results.values()))


def seed_account(settings: Settings, region: str, deploy_role_arn: str | None) -> SeedResult:
    if deploy_role_arn:
        _ensure_deploy_role(settings, region, deploy_role_arn)
    _ensure_signing_key(settings, region, deploy_role_arn)
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
        # A disk with a file system on it, written through the EBS direct APIs as an image would be.
        ebs = aws_clients.client(settings, "ebs", region, role_arn=deploy_role_arn)
        with sample_image() as image:
            snapshot_id = disk_image.write_image(
                ebs,
                image,
                description="Sample evidence: disk image of a compromised host",
                tags={"forensics:sample-evidence": "true", "Name": "sample-compromised-host-disk"},
            )
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


def _ensure_snapshot_role(settings: Settings, role_arn: str) -> None:
    """The snapshot role of a source (affected) account, trusted by the service's identity: what an operator
    sets up once per account that evidence may come from (here, in the local AWS, through the role itself)."""
    caller = aws_clients.client(settings, "sts").get_caller_identity()
    name = role_arn.rsplit("/", 1)[1]
    try:
        iam = aws_clients.client(settings, "iam", role_arn=role_arn)
        iam.get_role(RoleName=name)
        isolation.make_deny_all_profile(iam)
        return
    except Exception as exc:  # botocore's errors
        if getattr(exc, "response", {}).get("Error", {}).get("Code") != "NoSuchEntity":
            # A local AWS that enforces IAM lets nobody into an account through a role that does not exist
            # yet (as AWS does): such a run has no sample source account, and acquisitions from it fail.
            logger.warning("sample source account not prepared: %s cannot be used (%s)", role_arn, exc)
            return
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": caller["Arn"]}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    # The permissions are the source-account program's (programs/source_account/permissions.py), one list.
    policy = evidence_policy(
        role_arn.split(":")[4],
        (account.account_id for account in settings.accounts.values()),
        settings.memory_document_name,
    )
    iam.put_role_policy(RoleName=name, PolicyName=EVIDENCE_POLICY_NAME, PolicyDocument=json.dumps(policy))
    # The account's baseline also holds containment's deny-all instance profile (the evidence role only reads
    # it).
    isolation.make_deny_all_profile(iam)


def _ensure_memory_document(settings: Settings, region: str, role_arn: str) -> None:
    """The project's memory-capture document in a source account (on AWS the day-zero programs create it:
    the evidence role may run it, never write it); here through the role itself, as the role is made."""
    from service.custody import memory_capture

    name = settings.memory_document_name
    try:
        ssm = aws_clients.client(settings, "ssm", region, role_arn=role_arn)
        try:
            current = ssm.get_document(Name=name)["Content"]
        except ssm.exceptions.InvalidDocument:
            current = None
        if current is None:
            ssm.create_document(
                Name=name,
                Content=memory_capture.document_content(),
                DocumentType="Command",
                DocumentFormat="JSON",
            )
    except Exception as exc:  # botocore's errors: an enforcing local AWS has no way into the account yet
        logger.warning("memory document not created in %s (%s): %s", role_arn, region, exc)


def _ensure_signing_key(settings: Settings, region: str, deploy_role_arn: str | None) -> None:
    """The account's statement-signing key (ECC_NIST_P256, SIGN_VERIFY) under the configured alias. A key id
    or ARN cannot be created on demand (KMS chooses ids): such a key must already exist."""
    kms = aws_clients.client(settings, "kms", region, role_arn=deploy_role_arn)
    key_id = settings.signing_key_id
    try:
        kms.describe_key(KeyId=key_id)
        return
    except kms.exceptions.NotFoundException:
        if not key_id.startswith("alias/"):
            raise RuntimeError(
                f"signing key {key_id} does not exist in {region}: only an alias can be seeded"
            ) from None
    created = kms.create_key(
        KeySpec="ECC_NIST_P256",
        KeyUsage="SIGN_VERIFY",
        Description="Signs freeze manifests, teardown certificates and audit anchors",
    )
    kms.create_alias(AliasName=key_id, TargetKeyId=created["KeyMetadata"]["KeyId"])


def _ensure_anchor_bucket(settings: Settings) -> None:
    """The audit-anchor bucket in the default region's forensic account: Object Lock (so versioned) with a
    COMPLIANCE default retention, so no anchor can be deleted or overwritten, not even by its owner."""
    bucket = settings.anchor_bucket
    if not bucket:
        return
    region = settings.aws_region
    account = settings.account_for(region)
    s3 = aws_clients.client(settings, "s3", region, role_arn=account.deploy_role_arn if account else None)
    try:
        s3.head_bucket(Bucket=bucket)
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] not in ("404", "NoSuchBucket"):
            raise
        location = (
            {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True, **location)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    try:
        current = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] != "ObjectLockConfigurationNotFoundError":
            raise
        current = {}
    if current.get("ObjectLockEnabled") != "Enabled":
        raise RuntimeError(f"anchor bucket {bucket} exists without Object Lock: its anchors could be deleted")
    retention = current.get("Rule", {}).get("DefaultRetention", {})
    if (retention.get("Mode"), retention.get("Days")) != ("COMPLIANCE", ANCHOR_RETENTION_DAYS):
        rule = {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": ANCHOR_RETENTION_DAYS}}
        s3.put_object_lock_configuration(
            Bucket=bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": rule}
        )
