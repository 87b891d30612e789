"""Seed the local AWS with what the world has before an incident.

What ``make run`` seeds by hand (``tools.local_aws.day_zero``, after the bootstrap built the accounts): the
golden AMI (tagged, and published in the SSM parameter the program reads by default: the golden-image
pipeline's output, which needs Image Builder) and, in the source account, a sample compromised host whose
disk holds a small ext4 image (``sample_disk``), with a snapshot of it.

``seed``/``seed_account`` are the suite's fixtures: they also make what the day-zero programs build, on a
local AWS that tests use without the bootstrap (``make run`` never calls them), FROM THE PROGRAMS' OWN
DOCUMENTS: the deploy role with the policy, boundary and trust ``programs/forensic_account/permissions.py``
decides (no administrator rights), the evidence role with ``programs/source_account/permissions.py``'s
policy, the signing key and the anchor bucket. Running the three programs on every test worker would cost
day zero's ~100 s each; the programs themselves are proven on the engine by
tests/bootstrap/test_local_day_zero_engine.py and test_deploy_role_engine.py, and ``seed`` only restates
their documents, so a permission the clean room needs and the program lacks fails the suite here too.

Everything is made by the operator: with the operator's own credentials in their own account, and in another
account through the member-account role an operator enters it by (``OrganizationAccountAccessRole``:
``LocalAws(member_accounts=...)`` makes it where Organizations' CreateAccount did not). The settings given
are the service's: the roles trust the identity they act as, and when that is the service user
(``tools.local_aws.service_user``, the suite's shared local AWS) the seed then grants it
``service_identity.service_policy`` over what it made; the operator is the administrator of the local AWS
the settings point at (``operator_settings``). The deploy role could
not make the signing key's alias, the golden-image parameter or the anchor bucket (its guardrails deny them),
as on AWS, where the program makes them.

Two differences from the program, on purpose, both wider in name only: the suite gives every test its own
audit-anchor bucket (a shared one would hold other tests' anchors), so the seeded policy names the anchor
buckets by their prefix (``forensics-audit-anchors-*``) where the program names its one bucket; and one role
serves every region the worker's tests map to an account (IAM names are global; the program makes one stack
per account and region), so its ARNs name any region (``*``) where the program's name its own.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, TypedDict

from pydantic import SecretStr

from programs.forensic_account.config import (
    ANCHOR_RETENTION_DAYS,
    BOUNDARY_POLICY_NAME,
    DEFAULT_SIGNING_KEY_ALIAS,
    DEPLOY_POLICY_NAME,
    AccountConfig,
    validate_config,
)
from programs.forensic_account.permissions import (
    boundary_statements,
    deploy_statements,
    deploy_trust_statements,
    document,
)
from programs.source_account.permissions import EVIDENCE_POLICY_NAME, evidence_policy, evidence_trust
from service import aws_clients
from service.config import Settings
from service.containment import isolation
from service.custody import disk_image
from tools.local_aws import service_user
from tools.local_aws.aws import LocalAws
from tools.local_aws.organization_accounts import MEMBER_ROLE_NAME
from tools.local_aws.sample_disk import sample_image

GOLDEN_AMI_NAME = "forensics-golden-workstation"
GOLDEN_AMI_TAG = ("forensics:golden-ami", "true")
# Every test's own anchor bucket is named under this prefix (tests/support/settings.py, tests/conftest.py).
SUITE_ANCHOR_BUCKETS = "forensics-audit-anchors-*"


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
    _ensure_anchor_bucket(settings)
    grant_service(settings)
    return results.get(settings.aws_region) or next(iter(results.values()))


def operator_settings(settings: Settings) -> Settings:
    """``settings`` acting as the operator: with the administrator's keys of the local AWS they point at
    when this process started it (the suite's: its settings act as the service user), else as they are
    (``make run``'s day zero hands the operator's own settings)."""
    aws = LocalAws.started_at(settings.aws_endpoint_url)
    if aws is None or aws.access_key_id == settings.aws_access_key_id:
        return settings
    return settings.model_copy(
        update={
            "aws_access_key_id": aws.access_key_id,
            "aws_secret_access_key": SecretStr(aws.secret_access_key),
        }
    )


def _operator_client(settings: Settings, service: str, region: str | None = None, **options: Any) -> Any:
    return aws_clients.client(operator_settings(settings), service, region, **options)


def grant_service(settings: Settings) -> None:
    """When ``settings`` act as the service user (the suite's shared local AWS), the operator grants it what
    ``service_identity.service_policy`` says for them (the seeded roles, and the alert queues and state
    bucket they configure); settings acting as anyone else are left as they are."""
    caller = str(aws_clients.client(settings, "sts").get_caller_identity()["Arn"])
    if service_user.is_service_user(caller):
        service_user.grant(operator_settings(settings), settings)


def seed_account(settings: Settings, region: str, deploy_role_arn: str | None) -> SeedResult:
    """The suite's forensic account (``make run`` builds its accounts with the bootstrap instead:
    ``tools.local_aws.day_zero``): the deploy role and signing key, the golden image and a sample snapshot,
    made by the operator (``deploy_role_arn`` None: no deploy role, as when the bootstrap made it)."""
    account = settings.account_for(region)
    account_id = deploy_role_arn.split(":")[4] if deploy_role_arn else None
    operator = operator_role(settings, account_id or (account.account_id if account else None))
    if deploy_role_arn:
        _ensure_deploy_role(settings, region, deploy_role_arn, operator)
    _ensure_signing_key(settings, region, operator)
    ami_id = seed_golden_image(settings, region, operator)
    snapshot_id = _sample_snapshot(settings, region, operator)
    return {"amiId": ami_id, "ssmParameter": settings.golden_ami_ssm_parameter, "snapshotId": snapshot_id}


class SampleHost(TypedDict):
    instanceId: str
    volumeId: str
    snapshotId: str


def seed_sample_host(settings: Settings, region: str, role_arn: str | None) -> SampleHost:
    """An affected account's compromised host, as the world has it before any investigation: an instance
    with a data volume holding a small ext4 file system, and a snapshot of that disk (the evidence a
    responder names). Idempotent (found by its tags); made through ``role_arn`` (the operator's way into the
    account: on day zero, the organization's member-account role)."""
    ec2 = _operator_client(settings, "ec2", region, role_arn=role_arn)
    snapshot_id = _sample_snapshot(settings, region, role_arn)
    host = {"Name": "tag:forensics:sample-host", "Values": ["true"]}
    running = [
        instance
        for reservation in ec2.describe_instances(Filters=[host])["Reservations"]
        for instance in reservation["Instances"]
        if instance["State"]["Name"] != "terminated"
    ]
    volumes = ec2.describe_volumes(Filters=[host])["Volumes"]
    if running and volumes:
        return {
            "instanceId": running[0]["InstanceId"],
            "volumeId": volumes[0]["VolumeId"],
            "snapshotId": snapshot_id,
        }
    zone = f"{region}a"
    tags = [
        {"Key": "forensics:sample-host", "Value": "true"},
        {"Key": "Name", "Value": "sample-compromised-host"},
    ]
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(
        ImageId=image,
        InstanceType="t3.micro",
        MinCount=1,
        MaxCount=1,
        Placement={"AvailabilityZone": zone},
        TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
    )["Instances"][0]
    volume = ec2.create_volume(
        AvailabilityZone=zone,
        SnapshotId=snapshot_id,
        TagSpecifications=[{"ResourceType": "volume", "Tags": tags}],
    )
    ec2.attach_volume(VolumeId=volume["VolumeId"], InstanceId=instance["InstanceId"], Device="/dev/sdf")
    return {"instanceId": instance["InstanceId"], "volumeId": volume["VolumeId"], "snapshotId": snapshot_id}


def seed_golden_image(settings: Settings, region: str, role_arn: str | None) -> str:
    """The approved golden workstation image, tagged, and the SSM parameter the clean room reads it from
    (the golden-image pipeline's output, which the local AWS cannot build: it has no Image Builder)."""
    ec2 = _operator_client(settings, "ec2", region, role_arn=role_arn)
    ssm = _operator_client(settings, "ssm", region, role_arn=role_arn)
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
    return str(ami_id)


def _sample_snapshot(settings: Settings, region: str, role_arn: str | None) -> str:
    """A snapshot of a compromised host's disk (a small ext4 file system), found again by its tag."""
    ec2 = _operator_client(settings, "ec2", region, role_arn=role_arn)
    snapshots = ec2.describe_snapshots(
        OwnerIds=["self"], Filters=[{"Name": "tag:forensics:sample-evidence", "Values": ["true"]}]
    )["Snapshots"]
    if snapshots:
        snapshot_id = snapshots[0]["SnapshotId"]
    else:
        # A disk with a file system on it, written through the EBS direct APIs as an image would be.
        ebs = _operator_client(settings, "ebs", region, role_arn=role_arn)
        with sample_image() as image:
            snapshot_id = disk_image.write_image(
                ebs,
                image,
                description="Sample evidence: disk image of a compromised host",
                tags={"forensics:sample-evidence": "true", "Name": "sample-compromised-host-disk"},
            )
    return str(snapshot_id)


def operator_role(settings: Settings, account_id: str | None) -> str | None:
    """How the operator acts in ``account_id``: with the settings' own credentials in their own account
    (None), else through the account's member-account role."""
    own = _operator_client(settings, "sts").get_caller_identity()["Account"]
    if account_id is None or account_id == own:
        return None
    return f"arn:aws:iam::{account_id}:role/{MEMBER_ROLE_NAME}"


def service_principal(settings: Settings) -> str:
    """The IAM principal the settings' credentials are, as a trust policy names it: an assumed role's role,
    and moto's placeholder caller (a local AWS that judges nothing) its account's root."""
    identity = aws_clients.client(settings, "sts").get_caller_identity()
    arn, account = str(identity["Arn"]), str(identity["Account"])
    if ":assumed-role/" in arn:
        return f"arn:aws:iam::{account}:role/{arn.split(':assumed-role/', 1)[1].split('/', 1)[0]}"
    return arn if arn.startswith("arn:aws:iam::") else f"arn:aws:iam::{account}:root"


def deploy_role_config(settings: Settings, region: str, deploy_role_arn: str) -> AccountConfig:
    """The forensic account program's settings for this account, as the bootstrap would pass them: the
    service's identity (the settings' credentials) is the principal its deploy role trusts."""
    caller = service_principal(settings)
    account_id = deploy_role_arn.split(":")[4]
    configured = next((a for a in settings.accounts.values() if a.deploy_role_arn == deploy_role_arn), None)
    alias = settings.signing_key_id if settings.signing_key_id.startswith("alias/forensics-") else None
    cfg = validate_config(
        {
            "accountId": account_id,
            "region": region,
            "servicePrincipalArns": [*settings.service_principals, caller],
            "externalId": (configured.external_id if configured else None) or "",
            "signingKeyAlias": alias or DEFAULT_SIGNING_KEY_ALIAS,
            "goldenAmiSsmParameter": settings.golden_ami_ssm_parameter,
            "goldenImagePipeline": False,
        }
    )
    # IAM is global: one role serves every region a worker's tests map to this account (the program's stack
    # is one per account and region), so its ARNs name any region; and every test has its own anchor bucket.
    return dataclasses.replace(cfg, region="*", anchor_bucket_name=SUITE_ANCHOR_BUCKETS)


def _ensure_deploy_role(settings: Settings, region: str, role_arn: str, operator: str | None = None) -> None:
    """The forensic account's deploy role and the boundary of the roles it makes, from the program's own
    documents (``programs.forensic_account.permissions``); its policy is put again on every seed, so a
    changed program takes effect."""
    cfg = deploy_role_config(settings, region, role_arn)
    iam = _operator_client(settings, "iam", region, role_arn=operator)
    name = role_arn.rsplit("/", 1)[1]
    try:
        iam.get_policy(PolicyArn=cfg.boundary_policy_arn)
    except iam.exceptions.NoSuchEntityException:
        iam.create_policy(PolicyName=BOUNDARY_POLICY_NAME, PolicyDocument=document(boundary_statements(cfg)))
    trust = document(deploy_trust_statements(cfg))
    try:
        iam.get_role(RoleName=name)
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust)
    except iam.exceptions.NoSuchEntityException:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust, MaxSessionDuration=3600)
    iam.put_role_policy(
        RoleName=name, PolicyName=DEPLOY_POLICY_NAME, PolicyDocument=document(deploy_statements(cfg))
    )


def _ensure_snapshot_role(settings: Settings, role_arn: str) -> None:
    """The evidence role of a source (affected) account, with the source-account program's policy
    (programs/source_account/permissions.py) and trust, made by the operator through the account's
    member-account role."""
    account_id = role_arn.split(":")[4]
    iam = _operator_client(settings, "iam", role_arn=operator_role(settings, account_id))
    principals = list(dict.fromkeys([*settings.service_principals, service_principal(settings)]))
    source = settings.sources.get(account_id)
    external_id = source.external_id if source else None
    trust: dict[str, Any] = (
        evidence_trust(principals, external_id)
        if external_id
        else {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "sts:AssumeRole"}],
        }
    )
    name = role_arn.rsplit("/", 1)[1]
    try:
        iam.get_role(RoleName=name)
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
    except iam.exceptions.NoSuchEntityException:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    # The permissions are the source-account program's (programs/source_account/permissions.py), one list.
    policy = evidence_policy(
        account_id,
        (account.account_id for account in settings.accounts.values()),
        settings.memory_document_name,
    )
    iam.put_role_policy(RoleName=name, PolicyName=EVIDENCE_POLICY_NAME, PolicyDocument=json.dumps(policy))
    # The account's baseline also holds containment's deny-all instance profile (the evidence role only reads
    # it).
    isolation.make_deny_all_profile(iam)


def _ensure_memory_document(settings: Settings, region: str, role_arn: str) -> None:
    """The project's memory-capture document in a source account (on AWS the day-zero programs create it:
    the evidence role may run it, never write it), made by the operator."""
    from service.custody import memory_capture

    name = settings.memory_document_name
    ssm = _operator_client(settings, "ssm", region, role_arn=operator_role(settings, role_arn.split(":")[4]))
    try:
        ssm.get_document(Name=name)
    except ssm.exceptions.InvalidDocument:
        ssm.create_document(
            Name=name,
            Content=memory_capture.document_content(),
            DocumentType="Command",
            DocumentFormat="JSON",
        )


def _ensure_signing_key(settings: Settings, region: str, operator: str | None) -> None:
    """The account's statement-signing key (ECC_NIST_P256, SIGN_VERIFY) under the configured alias. A key id
    or ARN cannot be created on demand (KMS chooses ids): such a key must already exist."""
    kms = _operator_client(settings, "kms", region, role_arn=operator)
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
    s3 = _operator_client(
        settings, "s3", region, role_arn=operator_role(settings, account.account_id if account else None)
    )
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
