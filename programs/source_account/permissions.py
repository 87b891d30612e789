"""What the service may do in a source (affected) account: the evidence role's permissions, defined here only.

The program (``role.py``) puts this document on the role it builds, and the local AWS's hand-made sample
source account (``tools.local_aws.seed``) uses the same lists, so there is one answer to "what can the service
do to an account evidence comes from". Add an action here when an acquisition step needs it (containment,
memory, logs), with the statement that scopes it; nothing else grants the role anything.

What acquisition needs, and nothing more: see the instance and its volumes, snapshot them, read the
snapshot's blocks to hash it at source, share the snapshot with a forensic account. Encrypted sources add:
tell an AWS managed key from a customer key, grant a forensic account the use of a customer key, and (for
aws/ebs, which cannot be shared) copy the snapshot under a key made for the purpose. Nothing here changes or
deletes the account's own resources: no TerminateInstances, no DeleteSnapshot, no DeleteVolume, no IAM
writes. Containment is the one part that changes an instance on purpose (and its release undoes exactly that).

Every action AWS authorizes on a resource names it, in this account (``arn:aws:ec2:*:<account>:instance/*``,
its volumes, security groups, network ACLs, interfaces, subnets, VPCs, Auto Scaling groups, target groups and
load balancers, instance profiles, roles, log groups, Config recorder, GuardDuty detector, Security Hub hub,
KMS keys) or as AWS names it without an account (``arn:aws:ec2:*::snapshot/*``, S3 objects). ``Resource "*"``
is left only to the calls AWS authorizes on no resource type (the Service Authorization Reference: every
Describe/List call here, cloudtrail:LookupEvents, config:GetResourceConfigHistory, guardduty's list and
finding reads, ssm:GetCommandInvocation, kms:CreateKey), as the policy pack's iam-no-wildcards demands.
Conditions narrow what the role can hand out or change: a snapshot is shared only with the forensic accounts
(never made public), a key grant names only a forensic account, a key is used only through EC2, a role is
passed only to EC2, the only tags it writes are containment's on an instance and its own on what it creates,
and a key it makes carries the investigation's tag.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from programs.source_account.response import CONTAINMENT_TAGS, DENY_ALL_PROFILE, MEMORY_DOCUMENT_NAME

# The role's name in every source account (the service's SourceAccount settings name its ARN).
EVIDENCE_ROLE_NAME = "forensics-evidence-reader"
# The name of its inline policy.
EVIDENCE_POLICY_NAME = "forensic-acquisition"

# Calls AWS authorizes on no resource type (Service Authorization Reference): Resource "*" is the only way to
# allow them, and each only reads. What they are for: acquisition sees the instance, its volumes and their
# snapshots; containment reads the instance's profile association, groups, ACLs, Auto Scaling group and load
# balancers before it changes anything; log collection looks up CloudTrail, flow logs, Config history and
# GuardDuty findings; memory capture reads its command's result.
DESCRIBE_ACTIONS: tuple[str, ...] = (
    "ec2:DescribeInstances",
    "ec2:DescribeVolumes",
    "ec2:DescribeSnapshots",
    "ec2:DescribeIamInstanceProfileAssociations",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeNetworkAcls",
    "ec2:DescribeFlowLogs",
    "autoscaling:DescribeAutoScalingInstances",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeLoadBalancers",
    "cloudtrail:LookupEvents",
    "config:GetResourceConfigHistory",
    "guardduty:ListDetectors",
    "guardduty:ListFindings",
    "guardduty:GetFindings",
    "ssm:GetCommandInvocation",
)
# Snapshot a volume of the account (the new snapshot is named without an account, as AWS names snapshots).
SNAPSHOT_ACTIONS: tuple[str, ...] = ("ec2:CreateSnapshot",)
# Copy a snapshot under a key made for the purpose (aws/ebs snapshots cannot be shared).
COPY_ACTIONS: tuple[str, ...] = ("ec2:CopySnapshot",)
# Tags only as part of making something (TagSpecifications): a snapshot or its copy, the isolation group, the
# deny-all network ACL.
TAG_ON_CREATE_ACTIONS: tuple[str, ...] = ("ec2:CreateTags",)
TAGGING_CREATE_ACTIONS: tuple[str, ...] = (
    "CreateSnapshot",
    "CopySnapshot",
    "CreateSecurityGroup",
    "CreateNetworkAcl",
)
SHARE_ACTIONS: tuple[str, ...] = ("ec2:ModifySnapshotAttribute",)
READ_BLOCK_ACTIONS: tuple[str, ...] = ("ebs:ListSnapshotBlocks", "ebs:GetSnapshotBlock")
# Memory capture (service/custody/memory_capture.py): run the project's memory document on an instance of
# the account (the document is day zero's: the role may run it, never write it).
RUN_COMMAND_ACTIONS: tuple[str, ...] = ("ssm:SendCommand",)
# Log collection (service/custody/log_sources.py), the calls AWS authorizes on a resource of the account.
LOG_READ_ACTIONS: tuple[str, ...] = (
    "iam:GetInstanceProfile",
    "logs:FilterLogEvents",
    "config:DescribeConfigurationRecorderStatus",
    "guardduty:GetDetector",
    "securityhub:GetFindings",
)
# Flow-log files delivered to S3, in whichever bucket (often a central logging account's): only the objects
# under the account's own AWSLogs/<account>/vpcflowlogs/ prefix, and listing only under it.
FLOW_LOG_FILE_ACTIONS: tuple[str, ...] = ("s3:GetObject",)
FLOW_LOG_LIST_ACTIONS: tuple[str, ...] = ("s3:ListBucket",)

# Containment (service/containment): protect, take out of service and isolate the instance, and undo exactly
# that on release. Nothing here stops or terminates an instance, and the role writes no IAM (a role it could
# both write and pass would lead to any permission): the deny-all instance profile is the account's baseline,
# only read and checked here.
INSTANCE_ACTIONS: tuple[str, ...] = (
    "ec2:DescribeInstanceAttribute",
    "ec2:ModifyInstanceAttribute",
    "ec2:AssociateIamInstanceProfile",
    "ec2:ReplaceIamInstanceProfileAssociation",
    "ec2:DisassociateIamInstanceProfile",
)
# Containment's own tags on the instance (service/containment/changes.py), written and removed on release.
INSTANCE_TAG_ACTIONS: tuple[str, ...] = ("ec2:CreateTags", "ec2:DeleteTags")
# The isolation group (no rules: a new group's allow-all egress is revoked) and the deny-all network ACL.
NETWORK_ACTIONS: tuple[str, ...] = (
    "ec2:ModifyNetworkInterfaceAttribute",
    "ec2:CreateSecurityGroup",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:CreateNetworkAcl",
    "ec2:DeleteNetworkAclEntry",
    "ec2:ReplaceNetworkAclAssociation",
)
AUTO_SCALING_ACTIONS: tuple[str, ...] = ("autoscaling:DetachInstances", "autoscaling:AttachInstances")
TARGET_GROUP_ACTIONS: tuple[str, ...] = (
    "elasticloadbalancing:DeregisterTargets",
    "elasticloadbalancing:RegisterTargets",
)
# Classic load balancers.
LOAD_BALANCER_ACTIONS: tuple[str, ...] = (
    "elasticloadbalancing:DeregisterInstancesFromLoadBalancer",
    "elasticloadbalancing:RegisterInstancesWithLoadBalancer",
)
# Checking the deny-all profile's role holds exactly the deny-all policy (service/containment/isolation.py).
DENY_ALL_CHECK_ACTIONS: tuple[str, ...] = (
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
)
# Swapping an instance's profile passes its role: the deny-all one on containment, the instance's own (any
# role of the account) on release. Only to EC2.
PASS_ROLE_ACTIONS: tuple[str, ...] = ("iam:PassRole",)
CONTAINMENT_ACTIONS: tuple[str, ...] = (
    *INSTANCE_ACTIONS,
    *INSTANCE_TAG_ACTIONS,
    *NETWORK_ACTIONS,
    *AUTO_SCALING_ACTIONS,
    *TARGET_GROUP_ACTIONS,
    *LOAD_BALANCER_ACTIONS,
    *DENY_ALL_CHECK_ACTIONS,
)

# Encrypted sources: tell an AWS managed key from a customer key, grant a forensic account the use of a
# customer key, and (aws/ebs) make a key for the re-encrypted copy, tagged with the investigation.
KEY_READ_ACTIONS: tuple[str, ...] = ("kms:DescribeKey",)
KEY_CREATE_ACTIONS: tuple[str, ...] = ("kms:CreateKey",)
# Tagging a key as it is made needs kms:TagResource on the new key too (KMS's rule for CreateKey with Tags).
KEY_TAG_ACTIONS: tuple[str, ...] = ("kms:TagResource",)
KEY_INVESTIGATION_TAG = "forensics:investigation"
KEY_GRANT_ACTIONS: tuple[str, ...] = ("kms:CreateGrant",)
# Used by EC2 and the EBS direct APIs on the role's behalf (copying, reading encrypted blocks) only.
KEY_USE_ACTIONS: tuple[str, ...] = ("kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKeyWithoutPlaintext")
KEY_USE_VIA_SERVICE = "ec2.*.amazonaws.com"

# Every action the role is allowed, in one list (what the tests read), each once.
ACQUISITION_ACTIONS: tuple[str, ...] = tuple(
    dict.fromkeys(
        (
            *DESCRIBE_ACTIONS,
            *SNAPSHOT_ACTIONS,
            *COPY_ACTIONS,
            *TAG_ON_CREATE_ACTIONS,
            *SHARE_ACTIONS,
            *READ_BLOCK_ACTIONS,
            *RUN_COMMAND_ACTIONS,
            *LOG_READ_ACTIONS,
            *FLOW_LOG_FILE_ACTIONS,
            *FLOW_LOG_LIST_ACTIONS,
            *CONTAINMENT_ACTIONS,
            *PASS_ROLE_ACTIONS,
            *KEY_READ_ACTIONS,
            *KEY_CREATE_ACTIONS,
            *KEY_TAG_ACTIONS,
            *KEY_GRANT_ACTIONS,
            *KEY_USE_ACTIONS,
        )
    )
)


def _ec2(account: str, *kinds: str) -> list[str]:
    return [f"arn:aws:ec2:*:{account}:{kind}/*" for kind in kinds]


# EBS snapshots are named without an account (arn:aws:ec2:<region>::snapshot/<id>).
SNAPSHOTS = "arn:aws:ec2:*::snapshot/*"


def evidence_policy(
    source_account_id: str,
    forensic_account_ids: Iterable[str],
    memory_document: str = MEMORY_DOCUMENT_NAME,
) -> dict[str, Any]:
    """The evidence role's permissions document in ``source_account_id``; ``forensic_account_ids`` are the
    only accounts a snapshot may be shared with and a key grant may name; ``memory_document`` the one SSM
    document it may run (the account's baseline makes it)."""
    account = source_account_id
    if not re.fullmatch(r"[0-9]{12}", account):
        raise ValueError(f"{account!r} is not a 12-digit AWS account id")
    accounts = sorted(set(forensic_account_ids))
    if not accounts:
        raise ValueError("the evidence role needs at least one forensic account to share evidence with")
    keys = [f"arn:aws:kms:*:{account}:key/*"]
    tags_the_investigation = {"Null": {f"aws:RequestTag/{KEY_INVESTIGATION_TAG}": "false"}}

    def allow(sid: str, actions: tuple[str, ...], resources: list[str], **condition: Any) -> dict[str, Any]:
        statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": list(actions)}
        statement["Resource"] = resources
        if condition:
            statement["Condition"] = condition
        return statement

    return {
        "Version": "2012-10-17",
        "Statement": [
            allow("DescribeWhatNeedsNoResource", DESCRIBE_ACTIONS, ["*"]),
            allow("SnapshotTheAccountsVolumes", SNAPSHOT_ACTIONS, [*_ec2(account, "volume"), SNAPSHOTS]),
            allow("CopyItsSnapshots", COPY_ACTIONS, [SNAPSHOTS]),
            allow(
                "TagOnlyWhatItCreates",
                TAG_ON_CREATE_ACTIONS,
                [SNAPSHOTS, *_ec2(account, "security-group", "network-acl")],
                StringEquals={"ec2:CreateAction": list(TAGGING_CREATE_ACTIONS)},
            ),
            allow(
                "ShareOnlyWithForensicAccounts",
                SHARE_ACTIONS,
                [SNAPSHOTS],
                StringEquals={"ec2:Add/userId": accounts},
            ),
            allow("ReadBlocksToHash", READ_BLOCK_ACTIONS, [SNAPSHOTS]),
            allow(
                "RunOnlyTheMemoryDocument",
                RUN_COMMAND_ACTIONS,
                [f"arn:aws:ssm:*:{account}:document/{memory_document}", *_ec2(account, "instance")],
            ),
            allow(
                "ReadTheInstancesLogs",
                LOG_READ_ACTIONS,
                [
                    f"arn:aws:iam::{account}:instance-profile/*",
                    f"arn:aws:logs:*:{account}:log-group:*",
                    f"arn:aws:config:*:{account}:configuration-recorder/*",
                    f"arn:aws:guardduty:*:{account}:detector/*",
                    f"arn:aws:securityhub:*:{account}:hub/default",
                    f"arn:aws:securityhub:*:{account}:hubv2/*",
                ],
            ),
            allow(
                "ReadOnlyTheAccountsFlowLogFiles",
                FLOW_LOG_FILE_ACTIONS,
                [f"arn:aws:s3:::*/AWSLogs/{account}/vpcflowlogs/*"],
            ),
            allow(
                "ListOnlyTheAccountsFlowLogFiles",
                FLOW_LOG_LIST_ACTIONS,
                ["arn:aws:s3:::*"],
                StringLike={"s3:prefix": f"*AWSLogs/{account}/vpcflowlogs/*"},
            ),
            allow("ProtectAndRestoreInstances", INSTANCE_ACTIONS, _ec2(account, "instance")),
            allow(
                "TagInstancesOnlyWithContainmentsTags",
                INSTANCE_TAG_ACTIONS,
                _ec2(account, "instance"),
                **{"ForAllValues:StringEquals": {"aws:TagKeys": list(CONTAINMENT_TAGS)}},
            ),
            allow(
                "IsolateTheNetwork",
                NETWORK_ACTIONS,
                _ec2(account, "network-interface", "security-group", "network-acl", "subnet", "vpc"),
            ),
            allow(
                "TakeOutOfService",
                AUTO_SCALING_ACTIONS,
                [f"arn:aws:autoscaling:*:{account}:autoScalingGroup:*:autoScalingGroupName/*"],
            ),
            allow(
                "LeaveAndRejoinTargetGroups",
                TARGET_GROUP_ACTIONS,
                [f"arn:aws:elasticloadbalancing:*:{account}:targetgroup/*/*"],
            ),
            allow(
                "LeaveAndRejoinClassicLoadBalancers",
                LOAD_BALANCER_ACTIONS,
                [f"arn:aws:elasticloadbalancing:*:{account}:loadbalancer/*"],
            ),
            allow(
                "CheckTheDenyAllRole",
                DENY_ALL_CHECK_ACTIONS,
                [f"arn:aws:iam::{account}:role/{DENY_ALL_PROFILE}"],
            ),
            allow(
                "PassProfilesOnlyToEc2",
                PASS_ROLE_ACTIONS,
                [f"arn:aws:iam::{account}:role/*"],
                StringEquals={"iam:PassedToService": "ec2.amazonaws.com"},
            ),
            allow("KnowTheAccountsKeys", KEY_READ_ACTIONS, keys),
            allow("MakeKeysTaggedWithTheInvestigation", KEY_CREATE_ACTIONS, ["*"], **tags_the_investigation),
            allow(
                "TagKeysOnlyWithTheInvestigation",
                KEY_TAG_ACTIONS,
                keys,
                **tags_the_investigation,
                **{"ForAllValues:StringEquals": {"aws:TagKeys": [KEY_INVESTIGATION_TAG]}},
            ),
            allow(
                "GrantKeysOnlyToForensicAccounts",
                KEY_GRANT_ACTIONS,
                keys,
                StringEquals={"kms:GranteePrincipal": [f"arn:aws:iam::{a}:root" for a in accounts]},
            ),
            allow(
                "UseKeysOnlyThroughEc2",
                KEY_USE_ACTIONS,
                keys,
                StringLike={"kms:ViaService": KEY_USE_VIA_SERVICE},
            ),
        ],
    }


def evidence_trust(service_principal_arns: Iterable[str], external_id: str) -> dict[str, Any]:
    """Who may become the evidence role: the service's own principals only, and only with the external id
    (so no other tenant of the service's account can point it at this account: the confused deputy)."""
    principals = sorted(set(service_principal_arns))
    if not principals:
        raise ValueError("the evidence role needs at least one service principal to trust")
    if not external_id:
        raise ValueError("the evidence role's trust needs an external id")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TheServiceWithItsExternalId",
                "Effect": "Allow",
                "Principal": {"AWS": principals},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }
