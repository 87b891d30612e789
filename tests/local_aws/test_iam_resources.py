"""The local AWS judges identity policies on the resource ARNs and condition keys AWS authorizes a request on
(tools/local_aws/iam_resources.py): checked with boto3 against a local AWS that enforces IAM, through roles
whose only permissions are the statement under test."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest

from programs.forensic_account.config import AccountConfig
from programs.forensic_account.permissions import deploy_statements
from tests.support.aws import denied, refusal, role_session
from tools.local_aws.aws import LocalAws
from tools.local_aws.iam_resources import is_mapped

# One worker runs the module, so its own local AWS (`enforcing_aws`, a module fixture, about 4 CPU-s to start
# and stop) is started once, not once per worker that gets one of its tests.
pytestmark = pytest.mark.xdist_group(name="iam-resources")
ACCOUNT = "123456789012"
_names = itertools.count()


def _role_with(aws: LocalAws, statements: list[dict[str, Any]]) -> Any:
    """A fresh role holding exactly these statements, and a session factory for it."""
    iam = aws.client("iam")
    name = f"judged-{next(_names)}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": aws.admin_arn}, "Action": "sts:AssumeRole"}],
    }
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=name,
        PolicyName="only",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )
    return role_session(aws, arn, "judged")


@pytest.fixture(scope="module")
def volumes(enforcing_aws: LocalAws) -> Iterator[tuple[str, str]]:
    ec2 = enforcing_aws.client("ec2")
    zone = f"{enforcing_aws.region}a"
    made = [ec2.create_volume(AvailabilityZone=zone, Size=1)["VolumeId"] for _ in range(2)]
    yield made[0], made[1]


def test_a_statement_on_one_volume_arn_allows_that_volume_only(
    enforcing_aws: LocalAws, volumes: tuple[str, str]
) -> None:
    allowed, other = volumes
    region = enforcing_aws.region
    ec2 = _role_with(
        enforcing_aws,
        [
            {
                "Effect": "Allow",
                "Action": "ec2:CreateSnapshot",
                "Resource": [
                    f"arn:aws:ec2:{region}:{ACCOUNT}:volume/{allowed}",
                    f"arn:aws:ec2:{region}::snapshot/*",
                ],
            }
        ],
    )("ec2")
    snapshot = ec2.create_snapshot(VolumeId=allowed)["SnapshotId"]
    owner = enforcing_aws.client("ec2").describe_snapshots(SnapshotIds=[snapshot])["Snapshots"][0]
    assert owner["VolumeId"] == allowed
    refused = refusal(ec2.create_snapshot, VolumeId=other)
    assert refused.code == "AccessDenied" and "ec2:CreateSnapshot" in refused.message, refused
    assert not [
        s
        for s in enforcing_aws.client("ec2").describe_snapshots(OwnerIds=["self"])["Snapshots"]
        if s["VolumeId"] == other
    ]


def test_every_resource_of_the_call_must_be_allowed(
    enforcing_aws: LocalAws, volumes: tuple[str, str]
) -> None:
    """CreateSnapshot is authorized on the volume and the new snapshot: the volume alone is not enough."""
    allowed, _ = volumes
    ec2 = _role_with(
        enforcing_aws,
        [
            {
                "Effect": "Allow",
                "Action": "ec2:CreateSnapshot",
                "Resource": f"arn:aws:ec2:{enforcing_aws.region}:{ACCOUNT}:volume/{allowed}",
            }
        ],
    )("ec2")
    assert denied(ec2.create_snapshot, VolumeId=allowed) == "AccessDenied"


def test_resource_tag_conditions_read_the_resource_s_tags(enforcing_aws: LocalAws) -> None:
    admin = enforcing_aws.client("ec2")
    zone = f"{enforcing_aws.region}a"
    tagged = admin.create_volume(
        AvailabilityZone=zone,
        Size=1,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "investigation", "Value": "inv-1"}]}],
    )["VolumeId"]
    other = admin.create_volume(
        AvailabilityZone=zone,
        Size=1,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "investigation", "Value": "inv-2"}]}],
    )["VolumeId"]
    untagged = admin.create_volume(AvailabilityZone=zone, Size=1)["VolumeId"]
    ec2 = _role_with(
        enforcing_aws,
        [
            {
                "Effect": "Allow",
                "Action": "ec2:DeleteVolume",
                "Resource": f"arn:aws:ec2:{enforcing_aws.region}:{ACCOUNT}:volume/*",
                "Condition": {"StringEquals": {"aws:ResourceTag/investigation": "inv-1"}},
            }
        ],
    )("ec2")
    assert denied(ec2.delete_volume, VolumeId=other) == "AccessDenied"
    assert denied(ec2.delete_volume, VolumeId=untagged) == "AccessDenied"
    ec2.delete_volume(VolumeId=tagged)
    left = {v["VolumeId"] for v in admin.describe_volumes()["Volumes"]}
    assert tagged not in left and {other, untagged} <= left


def test_request_tag_conditions_read_the_call_s_tags(enforcing_aws: LocalAws) -> None:
    ec2 = _role_with(
        enforcing_aws,
        [
            {
                "Effect": "Allow",
                "Action": "ec2:CreateVolume",
                "Resource": f"arn:aws:ec2:{enforcing_aws.region}:{ACCOUNT}:volume/*",
                "Condition": {
                    "StringEquals": {"aws:RequestTag/investigation": "inv-1"},
                    "ForAllValues:StringEquals": {"aws:TagKeys": ["investigation", "Name"]},
                },
            }
        ],
    )("ec2")
    zone = f"{enforcing_aws.region}a"

    def tags(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
        return [{"ResourceType": "volume", "Tags": [{"Key": k, "Value": v} for k, v in pairs]}]

    assert denied(ec2.create_volume, AvailabilityZone=zone, Size=1) == "AccessDenied"
    assert (
        denied(
            ec2.create_volume,
            AvailabilityZone=zone,
            Size=1,
            TagSpecifications=tags(("investigation", "inv-2")),
        )
        == "AccessDenied"
    )
    assert (
        denied(
            ec2.create_volume,
            AvailabilityZone=zone,
            Size=1,
            TagSpecifications=tags(("investigation", "inv-1"), ("owner", "someone")),
        )
        == "AccessDenied"
    )
    made = ec2.create_volume(
        AvailabilityZone=zone, Size=1, TagSpecifications=tags(("investigation", "inv-1"), ("Name", "copy"))
    )["VolumeId"]
    found = enforcing_aws.client("ec2").describe_volumes(VolumeIds=[made])["Volumes"][0]
    assert {"Key": "investigation", "Value": "inv-1"} in found["Tags"]


def test_create_role_is_judged_on_its_permissions_boundary(enforcing_aws: LocalAws) -> None:
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/forensics-boundary"
    iam = _role_with(
        enforcing_aws,
        [
            {
                "Effect": "Allow",
                "Action": "iam:CreateRole",
                "Resource": f"arn:aws:iam::{ACCOUNT}:role/forensics-*",
                "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}},
            }
        ],
    )("iam")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    refused = refusal(iam.create_role, RoleName="forensics-unbound", AssumeRolePolicyDocument=trust)
    assert refused.code == "AccessDenied" and "iam:CreateRole" in refused.message, refused
    assert (
        denied(
            iam.create_role,
            RoleName="forensics-other-bound",
            AssumeRolePolicyDocument=trust,
            PermissionsBoundary=f"arn:aws:iam::{ACCOUNT}:policy/other",
        )
        == "AccessDenied"
    )
    # The right boundary, outside the role names the statement allows.
    assert (
        denied(
            iam.create_role,
            RoleName="admin-like",
            AssumeRolePolicyDocument=trust,
            PermissionsBoundary=boundary,
        )
        == "AccessDenied"
    )
    made = iam.create_role(
        RoleName="forensics-bound", AssumeRolePolicyDocument=trust, PermissionsBoundary=boundary
    )
    assert made["Role"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/forensics-bound"
    names = {r["RoleName"] for r in enforcing_aws.client("iam").list_roles()["Roles"]}
    assert "forensics-bound" in names
    assert not {"forensics-unbound", "forensics-other-bound", "admin-like"} & names


def test_an_explicit_deny_on_the_resource_wins(enforcing_aws: LocalAws, volumes: tuple[str, str]) -> None:
    allowed, other = volumes
    region = enforcing_aws.region
    ec2 = _role_with(
        enforcing_aws,
        [
            {"Effect": "Allow", "Action": "ec2:CreateSnapshot", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "ec2:CreateSnapshot",
                "Resource": f"arn:aws:ec2:{region}:{ACCOUNT}:volume/{other}",
            },
        ],
    )("ec2")
    ec2.create_snapshot(VolumeId=allowed)
    assert denied(ec2.create_snapshot, VolumeId=other) == "AccessDenied"


def test_an_unmapped_action_under_an_arn_scoped_statement_is_refused(enforcing_aws: LocalAws) -> None:
    """DescribeRegions is judged on "*" (AWS gives it no resource type): an ARN-scoped Allow never grants
    it, so a gap in the table fails a call instead of passing it."""
    assert not is_mapped("ec2:DescribeRegions")
    ec2 = _role_with(
        enforcing_aws,
        [
            {
                "Effect": "Allow",
                "Action": "ec2:DescribeRegions",
                "Resource": f"arn:aws:ec2:{enforcing_aws.region}:{ACCOUNT}:*",
            }
        ],
    )("ec2")
    assert denied(ec2.describe_regions) == "AccessDenied"


def test_every_action_of_the_deploy_role_s_arn_scoped_statements_is_mapped() -> None:
    cfg = AccountConfig(
        account_id=ACCOUNT,
        region="eu-west-1",
        service_principal_arns=(f"arn:aws:iam::{ACCOUNT}:user/forensics-service",),
        external_id="ext",
        organization_id="o-example",
        break_glass_role_arn=f"arn:aws:iam::{ACCOUNT}:role/break-glass",
        signing_key_alias="alias/forensics-signing",
        anchor_bucket_name="forensics-anchors",
        golden_ami_ssm_parameter="/forensics/golden-ami",
        golden_image_pipeline=False,
        base_image_id="ami-12345678",
    )
    unmapped = sorted(
        {
            action
            for statement in deploy_statements(cfg)
            if statement["Effect"] == "Allow" and statement["Resource"] != ["*"]
            for action in statement["Action"]
            if not is_mapped(action)
        }
    )
    assert not unmapped, f"the local AWS would judge these on '*', never matching their ARNs: {unmapped}"


def test_sqs_queue_requests_are_judged_on_the_queue_s_arn(enforcing_aws: LocalAws) -> None:
    # What the service's own identity reads its login alerts with (service/bootstrap/service_identity.py);
    # moto judges SQS on the queue's ARN itself.
    sqs = enforcing_aws.client("sqs")
    mine = sqs.create_queue(QueueName="judged-alerts")["QueueUrl"]
    other = sqs.create_queue(QueueName="judged-other")["QueueUrl"]
    sqs.send_message(QueueUrl=mine, MessageBody="x")
    reader = _role_with(
        enforcing_aws,
        [
            {
                "Effect": "Allow",
                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"],
                "Resource": f"arn:aws:sqs:{enforcing_aws.region}:{ACCOUNT}:judged-alerts",
            }
        ],
    )("sqs")
    (message,) = reader.receive_message(QueueUrl=mine)["Messages"]
    reader.delete_message(QueueUrl=mine, ReceiptHandle=message["ReceiptHandle"])
    refused = refusal(reader.receive_message, QueueUrl=other)
    assert refused.code == "AccessDenied" and "judged-other" in refused.message, refused
    assert denied(reader.purge_queue, QueueUrl=mine) == "AccessDenied"
