"""The service control policies of the forensics OU: what no one in a forensic account may do, whatever their
IAM permissions say (SCPs cap every principal of a member account, its root user included).

Four policies, because AWS allows five SCPs on an OU and AWS's own FullAWSAccess is the fifth.
Each document is written compact (AWS counts every character of an SCP, whitespace included, up to 5,120).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

SCP_TYPE = "SERVICE_CONTROL_POLICY"
SCP_MAX_CHARS = 5120

REGION_LOCK = "forensics-region-lock"
AUDIT_PROTECTION = "forensics-audit-protection"
ACCOUNT_LOCK = "forensics-account-lock"
EVIDENCE_PROTECTION = "forensics-evidence-protection"
SCP_NAMES: tuple[str, ...] = (REGION_LOCK, AUDIT_PROTECTION, ACCOUNT_LOCK, EVIDENCE_PROTECTION)

DESCRIPTIONS: Mapping[str, str] = {
    REGION_LOCK: "Each forensic account acts only in its own region (global services exempted)",
    AUDIT_PROTECTION: "CloudTrail and AWS Config cannot be stopped, deleted or changed",
    ACCOUNT_LOCK: "No root user, no leaving the organization",
    EVIDENCE_PROTECTION: "Object Lock configuration and forensic keys' deletion only by break-glass",
}

# The global services AWS Organizations' documented Region-deny SCP exempts (their endpoints live in
# us-east-1, so denying other regions would deny them everywhere); see the README's organization section.
GLOBAL_SERVICE_ACTIONS: tuple[str, ...] = (
    "a4b:*",
    "acm:*",
    "aws-marketplace-management:*",
    "aws-marketplace:*",
    "aws-portal:*",
    "budgets:*",
    "ce:*",
    "chime:*",
    "cloudfront:*",
    "config:*",
    "cur:*",
    "directconnect:*",
    "ec2:DescribeRegions",
    "ec2:DescribeTransitGateways",
    "ec2:DescribeVpnGateways",
    "fms:*",
    "globalaccelerator:*",
    "health:*",
    "iam:*",
    "importexport:*",
    "kms:*",
    "mobileanalytics:*",
    "networkmanager:*",
    "organizations:*",
    "pricing:*",
    "route53:*",
    "route53domains:*",
    "route53-recovery-cluster:*",
    "route53-recovery-control-config:*",
    "route53-recovery-readiness:*",
    "s3:GetAccountPublic*",
    "s3:ListAllMyBuckets",
    "s3:ListMultiRegionAccessPoints",
    "s3:PutAccountPublic*",
    "shield:*",
    "sts:*",
    "support:*",
    "trustedadvisor:*",
    "waf-regional:*",
    "waf:*",
    "wafv2:*",
    "wellarchitected:*",
)

TRAIL_ACTIONS: tuple[str, ...] = (
    "cloudtrail:StopLogging",
    "cloudtrail:DeleteTrail",
    "cloudtrail:UpdateTrail",
    "cloudtrail:PutEventSelectors",
    "cloudtrail:PutInsightSelectors",
)
CONFIG_ACTIONS: tuple[str, ...] = (
    "config:StopConfigurationRecorder",
    "config:DeleteConfigurationRecorder",
    "config:PutConfigurationRecorder",
    "config:DeleteDeliveryChannel",
    "config:PutDeliveryChannel",
    "config:DeleteRetentionConfiguration",
)
LEAVE_ACTIONS: tuple[str, ...] = ("organizations:LeaveOrganization",)
OBJECT_LOCK_ACTIONS: tuple[str, ...] = ("s3:PutBucketObjectLockConfiguration",)
KEY_DELETION_ACTIONS: tuple[str, ...] = ("kms:ScheduleKeyDeletion",)


def _document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def region_lock(accounts_by_region: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """One statement per region: its accounts (``aws:PrincipalAccount``) are denied every request for
    another region, except the global services' actions."""
    statements = []
    for n, (region, accounts) in enumerate(sorted(accounts_by_region.items()), start=1):
        statements.append(
            {
                "Sid": f"OnlyItsRegion{n}",
                "Effect": "Deny",
                "NotAction": list(GLOBAL_SERVICE_ACTIONS),
                "Resource": "*",
                "Condition": {
                    "StringNotEquals": {"aws:RequestedRegion": [region]},
                    "StringEquals": {"aws:PrincipalAccount": sorted(accounts)},
                },
            }
        )
    return _document(statements)


def audit_protection() -> dict[str, Any]:
    return _document(
        [
            {"Sid": "TrailStaysOn", "Effect": "Deny", "Action": list(TRAIL_ACTIONS), "Resource": "*"},
            {"Sid": "ConfigStaysOn", "Effect": "Deny", "Action": list(CONFIG_ACTIONS), "Resource": "*"},
        ]
    )


def account_lock() -> dict[str, Any]:
    return _document(
        [
            {
                "Sid": "NoRootUser",
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringLike": {"aws:PrincipalArn": ["arn:aws:iam::*:root"]}},
            },
            {
                "Sid": "NoLeavingTheOrganization",
                "Effect": "Deny",
                "Action": list(LEAVE_ACTIONS),
                "Resource": "*",
            },
        ]
    )


def evidence_protection(break_glass_role_arns: Sequence[str]) -> dict[str, Any]:
    unless_break_glass = {"ArnNotLike": {"aws:PrincipalArn": sorted(break_glass_role_arns)}}
    return _document(
        [
            {
                "Sid": "ObjectLockOnlyByBreakGlass",
                "Effect": "Deny",
                "Action": list(OBJECT_LOCK_ACTIONS),
                "Resource": "*",
                "Condition": unless_break_glass,
            },
            {
                "Sid": "KeyDeletionOnlyByBreakGlass",
                "Effect": "Deny",
                "Action": list(KEY_DELETION_ACTIONS),
                "Resource": "*",
                "Condition": unless_break_glass,
            },
        ]
    )


def text(document: Mapping[str, Any]) -> str:
    """The document as sent to AWS: compact, within the SCP size limit."""
    value = json.dumps(document, separators=(",", ":"))
    if len(value) > SCP_MAX_CHARS:
        raise ValueError(f"an SCP would be {len(value)} characters, over AWS's {SCP_MAX_CHARS}")
    return value


def documents(
    accounts_by_region: Mapping[str, Sequence[str]], break_glass_role_arns: Sequence[str]
) -> dict[str, str]:
    """Every SCP of the OU by name, as text."""
    return {
        REGION_LOCK: text(region_lock(accounts_by_region)),
        AUDIT_PROTECTION: text(audit_protection()),
        ACCOUNT_LOCK: text(account_lock()),
        EVIDENCE_PROTECTION: text(evidence_protection(break_glass_role_arns)),
    }
