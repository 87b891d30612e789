"""The teardown certificate's evidence: the forensic program deployed and destroyed on the real engine, then
every resource of its stack export checked against the local AWS with the deploy role's clients."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError

from programs.forensic_env import RESOURCE_TYPES
from service import aws_clients
from service.config import Settings
from service.custody import teardown
from service.custody.teardown import StackResource
from service.orchestration import stacks
from service.orchestration.messages import ConfigValue, OperationKind, OperationRequest
from tools.local_aws.aws import LocalAws
from tools.local_aws.seed import operator_settings, seed

# Kept by a destroy with retainEvidenceBucket: the bucket with its configuration and objects, the key, and
# the evidence snapshot copies.
RETAINED_TYPES = {
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketObjectv2:BucketObjectv2",
    "aws:kms/key:Key",
    "aws:ebs/snapshotCopy:SnapshotCopy",
}


def _run(settings: Settings, kind: OperationKind, config: dict[str, Any]) -> None:
    request = OperationRequest(
        kind=kind,
        stack_name=f"inv-{config['investigationId']}",
        config={k: ConfigValue(v) for k, v in config.items()},
    )
    # The program deployed as the operator, as a program test does; the checks below act as the deploy role.
    result = stacks.run_operation(operator_settings(settings), request)
    assert result.succeeded, (kind, result.error, result.policy_violations)


def _deploy_role_clients(settings: Settings) -> teardown.Clients:
    role = settings.accounts[settings.aws_region].deploy_role_arn

    def clients(service: str) -> Any:
        return aws_clients.client(settings, service, role_arn=role)

    return clients


@pytest.mark.engine
def test_every_resource_of_a_destroyed_stack_is_shown_gone_or_retained(engine_settings: Settings) -> None:
    settings = engine_settings
    seeded = seed(settings)
    config = {
        "investigationId": "td-cert",
        "ticket": "SEC-7001",
        "accountId": settings.aws_account_id,
        "amiId": seeded["amiId"],
        "evidenceSnapshotIds": [seeded["snapshotId"]],
        "retainEvidenceBucket": True,
    }
    _run(settings, OperationKind.UP, config)
    export = stacks.export_stack(settings, "inv-td-cert")
    resources = teardown.inventory(export)
    clients = _deploy_role_clients(settings)

    # Deployed: the same checks see every resource there (each check can tell "there" from "gone").
    before = teardown.check_gone(clients, resources)
    assert not [c for c in before if c.status not in ("present", "retained")], before
    assert {c.type for c in before if c.status == "retained"} == RETAINED_TYPES
    unexpected = teardown.problems(before)
    assert len(unexpected) == sum(1 for c in before if c.status == "present")

    _run(settings, OperationKind.DESTROY, config)
    checks = teardown.check_gone(clients, resources)

    assert teardown.problems(checks) == []
    by_status = Counter(c.status for c in checks)
    assert set(by_status) == {"gone", "retained"}, by_status
    for check in checks:
        expected = "retained" if check.type in RETAINED_TYPES else "gone"
        assert check.status == expected, check
        assert check.retained is (expected == "retained")
        assert teardown.check_json(check)["gone"] is (expected == "gone")
    # Every type the program deploys by default was inventoried and checked.
    assert {c.type for c in checks} >= set(RESOURCE_TYPES) - {"aws:ebs/snapshot:Snapshot"}

    evidence = {c.type: c.evidence for c in checks}
    assert evidence["aws:kms/key:Key"].startswith("kms:DescribeKey ")
    assert evidence["aws:kms/key:Key"].endswith("-> Enabled (retained)")
    assert evidence["aws:ec2/vpc:Vpc"].endswith("-> InvalidVpcID.NotFound")
    assert evidence["aws:ec2/instance:Instance"].endswith("-> terminated")
    assert evidence["aws:s3/bucket:Bucket"].endswith("-> 200 (retained)")
    assert evidence["aws:iam/rolePolicy:RolePolicy"].endswith("-> NoSuchEntity")
    assert (
        "association.route-table-association-id="
        in evidence["aws:ec2/routeTableAssociation:RouteTableAssociation"]
    )
    (copy,) = [c for c in checks if c.type == "aws:ebs/snapshotCopy:SnapshotCopy"]
    assert copy.evidence.startswith(f"ec2:DescribeSnapshots {copy.id} -> completed")


def test_a_resource_still_there_and_a_retained_one_deleted_are_problems(local_aws: LocalAws) -> None:
    ec2, s3 = local_aws.client("ec2"), local_aws.client("s3")
    vpc_id = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    bucket = f"td-missing-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.delete_bucket(Bucket=bucket)
    leftover = StackResource("urn:pulumi:s::p::aws:ec2/vpc:Vpc::net", "aws:ec2/vpc:Vpc", vpc_id, False)
    lost = StackResource(
        "urn:pulumi:s::p::aws:s3/bucket:Bucket::evidence",
        "aws:s3/bucket:Bucket",
        bucket,
        True,
        {"bucket": bucket},
    )
    try:
        present, missing = teardown.check_gone(local_aws.client, [leftover, lost])
    finally:
        ec2.delete_vpc(VpcId=vpc_id)

    assert present.status == "present"
    assert present.evidence == f"ec2:DescribeVpcs {vpc_id} -> available"
    assert missing.status == "missing"
    assert missing.evidence == f"s3:HeadBucket {bucket} -> 404 (retained, but gone)"
    found = teardown.problems([present, missing])
    assert len(found) == 2
    assert vpc_id in found[0] and "should be gone but is still there" in found[0]
    assert bucket in found[1] and "should have been retained but no longer exists" in found[1]

    # Once the VPC is deleted, the same check shows it gone.
    (gone,) = teardown.check_gone(local_aws.client, [leftover])
    assert (gone.status, gone.evidence) == ("gone", f"ec2:DescribeVpcs {vpc_id} -> InvalidVpcID.NotFound")


def test_a_key_scheduled_for_deletion_is_as_gone_as_a_key_gets(local_aws: LocalAws) -> None:
    kms = local_aws.client("kms")
    key_id = kms.create_key(Description="teardown check")["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    key = StackResource(f"urn:key::{key_id}", "aws:kms/key:Key", key_id, False)

    (gone,) = teardown.check_gone(local_aws.client, [key])
    assert gone.status == "gone"
    assert gone.evidence.startswith(f"kms:DescribeKey {key_id} -> PendingDeletion (scheduled for deletion")
    assert "cannot be deleted at once" in gone.evidence
    (missing,) = teardown.check_gone(local_aws.client, [StackResource(key.urn, key.type, key.id, True)])
    assert missing.status == "missing" and missing.evidence.endswith("(retained, but gone)")


def test_bucket_parts_are_judged_by_what_s3_answers_for_them(local_aws: LocalAws) -> None:
    s3 = local_aws.client("s3")
    bucket = f"td-parts-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="kept/", Body=b"")
    s3.put_object(Bucket=bucket, Key="dropped/", Body=b"")
    s3.delete_object(Bucket=bucket, Key="dropped/")  # a delete marker over the only version

    def part(type_: str, id_: str, retained: bool, **outputs: str) -> StackResource:
        return StackResource(
            f"urn:{type_}::{id_}", f"aws:s3/{type_}", id_, retained, {"bucket": bucket, **outputs}
        )

    checks = teardown.check_gone(
        local_aws.client,
        [
            part("bucketVersioning:BucketVersioning", bucket, True),
            part("bucketPolicy:BucketPolicy", bucket, False),
            part("bucketPublicAccessBlock:BucketPublicAccessBlock", bucket, False),
            part(
                "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                bucket,
                False,
            ),
            part("bucketObjectv2:BucketObjectv2", "kept/", True, key="kept/"),
            part("bucketObjectv2:BucketObjectv2", "dropped/", True, key="dropped/"),
            part("bucketObjectv2:BucketObjectv2", "dropped/", False, key="dropped/"),
        ],
    )
    assert [c.status for c in checks] == [
        "retained",
        "gone",
        "gone",
        "gone",
        "retained",
        "missing",
        "present",
    ]
    assert checks[1].evidence == f"s3:GetBucketPolicy {bucket} -> NoSuchBucketPolicy"
    assert checks[2].evidence == f"s3:GetPublicAccessBlock {bucket} -> NoSuchPublicAccessBlockConfiguration"
    assert "delete marker" in checks[5].evidence and "delete marker" in checks[6].evidence

    # Suspending versioning is what removing the versioning resource does: gone, and a retained one missing.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    (suspended,) = teardown.check_gone(
        local_aws.client, [part("bucketVersioning:BucketVersioning", bucket, True)]
    )
    assert (suspended.status, suspended.evidence) == (
        "missing",
        f"s3:GetBucketVersioning {bucket} -> Suspended (retained, but gone)",
    )


class _Refusing:
    """A client for any service whose every call is refused, as AWS refuses a role without the permission."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __getattr__(self, action: str) -> Any:
        def refuse(*_args: Any, **_kwargs: Any) -> Any:
            raise ClientError({"Error": {"Code": self.code, "Message": "not for you"}}, action)

        return refuse


@pytest.mark.parametrize(
    "code", ["AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Throttling"]
)
def test_a_refused_describe_is_unchecked_never_gone(code: str) -> None:
    resources = [
        StackResource("urn:a", "aws:ec2/vpc:Vpc", "vpc-1", False),
        StackResource("urn:b", "aws:s3/bucket:Bucket", "b", True, {"bucket": "b"}),
        StackResource("urn:c", "aws:iam/rolePolicy:RolePolicy", "r:p", False),
        StackResource("urn:d", "aws:kms/alias:Alias", "alias/x", False),
        StackResource("urn:e", "aws:s3/bucketObjectv2:BucketObjectv2", "k/", False, {"bucket": "b"}),
    ]
    checks = teardown.check_gone(lambda service: _Refusing(code), resources)
    assert [c.status for c in checks] == ["unchecked"] * len(resources)
    assert checks[0].evidence == f"ec2:DescribeVpcs vpc-1 -> {code}: not for you"
    assert checks[2].evidence == f"iam:GetRolePolicy r/p -> {code}: not for you"
    assert len(teardown.problems(checks)) == len(resources)
    assert all("could not be shown gone or retained" in p for p in teardown.problems(checks))


def test_an_unknown_type_is_unchecked_and_every_program_type_has_a_check() -> None:
    (check,) = teardown.check_gone(
        lambda service: pytest.fail("no call expected"),
        [StackResource("urn:x", "aws:lambda/function:Function", "f", False)],
    )
    assert check.status == "unchecked"
    assert "no describe call is known for aws:lambda/function:Function" in check.evidence
    assert set(RESOURCE_TYPES) <= set(teardown.CHECKERS)


def test_inventory_lists_custom_resources_with_their_retention() -> None:
    stack = "urn:pulumi:inv::forensics::pulumi:pulumi:Stack::forensics-inv"
    export = {
        "version": 3,
        "deployment": {
            "manifest": {},
            "resources": [
                {"urn": stack, "custom": False, "type": "pulumi:pulumi:Stack"},
                {
                    "urn": "urn:pulumi:inv::forensics::pulumi:providers:aws::default",
                    "custom": True,
                    "id": "0b8a",
                    "type": "pulumi:providers:aws",
                },
                {
                    "urn": "urn:pulumi:inv::forensics::forensics:index:EvidenceStore::evidence",
                    "custom": False,
                    "type": "forensics:index:EvidenceStore",
                    "parent": stack,
                },
                {
                    "urn": "urn:pulumi:inv::forensics::forensics:index:EvidenceStore$aws:s3/bucket:Bucket::b",
                    "custom": True,
                    "id": "evidence-bucket",
                    "type": "aws:s3/bucket:Bucket",
                    "retainOnDelete": True,
                    "protect": True,
                    "inputs": {"bucket": "evidence-bucket"},
                    "outputs": {
                        "bucket": "evidence-bucket",
                        "arn": "arn:aws:s3:::evidence-bucket",
                        "tags": {},
                    },
                },
                {
                    "urn": "urn:pulumi:inv::forensics::aws:ec2/volumeAttachment:VolumeAttachment::att",
                    "custom": True,
                    "id": "vai-1",
                    "type": "aws:ec2/volumeAttachment:VolumeAttachment",
                    "outputs": {
                        "volumeId": "vol-1",
                        "instanceId": "i-1",
                        "deviceName": "/dev/sdf",
                        "forceDetach": False,
                        "userData": {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"},
                    },
                },
            ],
        },
    }
    assert teardown.inventory(export) == [
        StackResource(
            urn="urn:pulumi:inv::forensics::forensics:index:EvidenceStore$aws:s3/bucket:Bucket::b",
            type="aws:s3/bucket:Bucket",
            id="evidence-bucket",
            retained=True,
            outputs={"arn": "arn:aws:s3:::evidence-bucket", "bucket": "evidence-bucket"},
        ),
        StackResource(
            urn="urn:pulumi:inv::forensics::aws:ec2/volumeAttachment:VolumeAttachment::att",
            type="aws:ec2/volumeAttachment:VolumeAttachment",
            id="vai-1",
            retained=False,
            outputs={"volumeId": "vol-1", "instanceId": "i-1", "deviceName": "/dev/sdf"},
        ),
    ]
    assert teardown.inventory({"version": 3, "deployment": {"manifest": {}}}) == []
    with pytest.raises(ValueError, match="not a stack export"):
        teardown.inventory({"resources": []})
