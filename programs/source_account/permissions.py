"""What the service may do in a source (affected) account: the evidence role's permissions, defined here only.

The program (``role.py``) puts this document on the role it builds, and the local AWS's hand-made sample
source account (``service.local.seed``) uses the same lists, so there is one answer to "what can the service
do to an account evidence comes from". Add an action here when an acquisition step needs it (containment,
memory, logs), with the statement that scopes it; nothing else grants the role anything.

What acquisition needs, and nothing more: see the instance and its volumes, snapshot them, read the
snapshot's blocks to hash it at source, share the snapshot with a forensic account. Encrypted sources add:
tell an AWS managed key from a customer key, grant a forensic account the use of a customer key, and (for
aws/ebs, which cannot be shared) copy the snapshot under a key made for the purpose. Nothing here changes or
deletes the account's own resources: no TerminateInstances, no DeleteSnapshot, no DeleteVolume, no IAM
writes. Containment is the one part that changes an instance on purpose (and its release undoes exactly that).

Resources are ``*`` where EC2, EBS and KMS name none for these calls (Describe*, CreateKey) or where the
snapshot or key is not known before the call; the conditions narrow what the role can hand out: a snapshot
is shared only with the forensic accounts (never made public), a key grant names only a forensic account,
and the key's cryptographic use is only through EC2 on the role's behalf.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# The role's name in every source account (the service's SourceAccount settings name its ARN).
EVIDENCE_ROLE_NAME = "forensics-evidence-reader"
# The name of its inline policy.
EVIDENCE_POLICY_NAME = "forensic-acquisition"

DESCRIBE_ACTIONS: tuple[str, ...] = (
    "ec2:DescribeInstances",
    "ec2:DescribeVolumes",
    "ec2:DescribeSnapshots",
)
SNAPSHOT_ACTIONS: tuple[str, ...] = (
    "ec2:CreateSnapshot",
    "ec2:CopySnapshot",
)
# Tags only as part of making a snapshot or its copy (TagSpecifications), never on anything else.
TAG_ON_CREATE_ACTIONS: tuple[str, ...] = ("ec2:CreateTags",)
TAGGING_CREATE_ACTIONS: tuple[str, ...] = ("CreateSnapshot", "CopySnapshot")
SHARE_ACTIONS: tuple[str, ...] = ("ec2:ModifySnapshotAttribute",)
READ_BLOCK_ACTIONS: tuple[str, ...] = ("ebs:ListSnapshotBlocks", "ebs:GetSnapshotBlock")
KEY_ACTIONS: tuple[str, ...] = ("kms:DescribeKey", "kms:CreateKey")
KEY_GRANT_ACTIONS: tuple[str, ...] = ("kms:CreateGrant",)
# Used by EC2 and the EBS direct APIs on the role's behalf (copying, reading encrypted blocks) only.
KEY_USE_ACTIONS: tuple[str, ...] = ("kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKeyWithoutPlaintext")
KEY_USE_VIA_SERVICE = "ec2.*.amazonaws.com"
# Memory capture (service/custody/memory_capture.py): run the project's memory document on the instance and
# read the invocation's result; no sessions, no other SSM call (the document itself is day zero's: the role
# may run it, never write it). On AWS, SendCommand can be narrowed to the document's ARN and the account's
# instances; the local AWS judges SSM calls against "*" only, so the list is granted on "*" here.
RUN_COMMAND_ACTIONS: tuple[str, ...] = ("ssm:SendCommand", "ssm:GetCommandInvocation")
# Log collection (service/custody/log_sources.py): the instance profile's role, CloudTrail events, the
# flow logs covering its interfaces and their records (CloudWatch Logs or the delivery bucket), Config
# history, Security Hub and GuardDuty findings. Read-only, each exactly one call the collection makes. The
# flow-log bucket is not known before the flow log is described, so the S3 reads are on "*": an operator who
# knows the account's flow-log bucket narrows them to it.
LOG_READ_ACTIONS: tuple[str, ...] = (
    "iam:GetInstanceProfile",
    "cloudtrail:LookupEvents",
    "ec2:DescribeFlowLogs",
    "logs:FilterLogEvents",
    "s3:ListBucket",
    "s3:GetObject",
    "config:DescribeConfigurationRecorderStatus",
    "config:GetResourceConfigHistory",
    "securityhub:GetFindings",
    "guardduty:ListDetectors",
    "guardduty:GetDetector",
    "guardduty:ListFindings",
    "guardduty:GetFindings",
)

# Containment (service/containment): read what it changes, then protect, take out of service and isolate
# the instance, and undo exactly that on release. Nothing here stops or terminates an instance, and the role
# writes no IAM (a role it could both write and pass would lead to any permission): the deny-all instance
# profile is the account's baseline, only read and checked here.
CONTAINMENT_ACTIONS: tuple[str, ...] = (
    "ec2:DescribeInstanceAttribute",
    "ec2:DescribeIamInstanceProfileAssociations",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeNetworkAcls",
    "ec2:ModifyInstanceAttribute",
    "ec2:ModifyNetworkInterfaceAttribute",
    "ec2:AssociateIamInstanceProfile",
    "ec2:ReplaceIamInstanceProfileAssociation",
    "ec2:DisassociateIamInstanceProfile",
    "ec2:DeleteTags",
    # The isolation group (no rules: a new group's allow-all egress is revoked) and the deny-all network ACL.
    "ec2:CreateSecurityGroup",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:CreateNetworkAcl",
    "ec2:DeleteNetworkAclEntry",
    "ec2:ReplaceNetworkAclAssociation",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DetachInstances",
    "autoscaling:AttachInstances",
    # Target groups and classic load balancers share the elasticloadbalancing prefix.
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DeregisterTargets",
    "elasticloadbalancing:RegisterTargets",
    "elasticloadbalancing:DeregisterInstancesFromLoadBalancer",
    "elasticloadbalancing:RegisterInstancesWithLoadBalancer",
    "iam:GetInstanceProfile",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
)
# Swapping an instance's profile passes its role: the deny-all one on containment, the instance's own on
# release. Only to EC2.
PASS_ROLE_ACTIONS: tuple[str, ...] = ("iam:PassRole",)

# Every action the role is allowed, in one list (what seed.py and the tests read).
ACQUISITION_ACTIONS: tuple[str, ...] = (
    *DESCRIBE_ACTIONS,
    *SNAPSHOT_ACTIONS,
    *TAG_ON_CREATE_ACTIONS,
    *SHARE_ACTIONS,
    *READ_BLOCK_ACTIONS,
    *KEY_ACTIONS,
    *KEY_GRANT_ACTIONS,
    *RUN_COMMAND_ACTIONS,
    *LOG_READ_ACTIONS,
    *CONTAINMENT_ACTIONS,
    *PASS_ROLE_ACTIONS,
)


def evidence_policy(forensic_account_ids: Iterable[str]) -> dict[str, Any]:
    """The evidence role's permissions document; ``forensic_account_ids`` are the only accounts a snapshot
    may be shared with and a key grant may name."""
    accounts = sorted(set(forensic_account_ids))
    if not accounts:
        raise ValueError("the evidence role needs at least one forensic account to share evidence with")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "SeeTheEvidence", "Effect": "Allow", "Action": list(DESCRIBE_ACTIONS), "Resource": "*"},
            {
                "Sid": "SnapshotTheEvidence",
                "Effect": "Allow",
                "Action": list(SNAPSHOT_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "TagOnlyWhatItSnapshots",
                "Effect": "Allow",
                "Action": list(TAG_ON_CREATE_ACTIONS),
                "Resource": "*",
                "Condition": {"StringEquals": {"ec2:CreateAction": list(TAGGING_CREATE_ACTIONS)}},
            },
            {
                "Sid": "ShareOnlyWithForensicAccounts",
                "Effect": "Allow",
                "Action": list(SHARE_ACTIONS),
                "Resource": "*",
                "Condition": {"StringEquals": {"ec2:Add/userId": accounts}},
            },
            {
                "Sid": "ReadBlocksToHash",
                "Effect": "Allow",
                "Action": list(READ_BLOCK_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "RunTheMemoryDocument",
                "Effect": "Allow",
                "Action": list(RUN_COMMAND_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "ReadTheInstancesLogs",
                "Effect": "Allow",
                "Action": list(LOG_READ_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "ContainAndRelease",
                "Effect": "Allow",
                "Action": list(CONTAINMENT_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "PassProfilesOnlyToEc2",
                "Effect": "Allow",
                "Action": list(PASS_ROLE_ACTIONS),
                "Resource": "*",
                "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            },
            {"Sid": "KnowAndMakeKeys", "Effect": "Allow", "Action": list(KEY_ACTIONS), "Resource": "*"},
            {
                "Sid": "GrantKeysOnlyToForensicAccounts",
                "Effect": "Allow",
                "Action": list(KEY_GRANT_ACTIONS),
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"kms:GranteePrincipal": [f"arn:aws:iam::{a}:root" for a in accounts]}
                },
            },
            {
                "Sid": "UseKeysOnlyThroughEc2",
                "Effect": "Allow",
                "Action": list(KEY_USE_ACTIONS),
                "Resource": "*",
                "Condition": {"StringLike": {"kms:ViaService": KEY_USE_VIA_SERVICE}},
            },
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
