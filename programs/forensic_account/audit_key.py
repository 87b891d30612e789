"""The symmetric key the audit buckets (anchors, trail logs) are encrypted with: CloudTrail and Config write
through it, the service writes and reads anchors through the deploy role, only break-glass administers it."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from programs.forensic_account.config import AccountConfig
from programs.forensic_account.tags import baseline_tags

ADMIN_ACTIONS = (
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:PutKeyPolicy",
    "kms:ListResourceTags",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
    "kms:EnableKeyRotation",
    "kms:EnableKey",
    "kms:DisableKey",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    # Reading the trail's log files and the anchors is break-glass work too.
    "kms:Decrypt",
)


def audit_key_statements(cfg: AccountConfig, deploy_role_arn: pulumi.Input[str]) -> list[dict[str, Any]]:
    return [
        {
            "Sid": "BreakGlassAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": cfg.break_glass_role_arn},
            "Action": list(ADMIN_ACTIONS),
            "Resource": "*",
        },
        {
            "Sid": "TrailEncrypts",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": ["kms:GenerateDataKey", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceArn": cfg.trail_arn}},
        },
        {
            "Sid": "ConfigEncrypts",
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": cfg.account_id}},
        },
        {
            "Sid": "ServiceWritesAnchors",
            "Effect": "Allow",
            "Principal": {"AWS": deploy_role_arn},
            "Action": ["kms:GenerateDataKey", "kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
        },
    ]


class AuditKey(pulumi.ComponentResource):
    key: aws.kms.Key

    def __init__(
        self,
        name: str,
        cfg: AccountConfig,
        deploy_role: aws.iam.Role,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("forensics:baseline:AuditKey", name, None, opts)
        self.key = aws.kms.Key(
            f"{name}-key",
            description="Encrypts the audit anchors and the CloudTrail log files",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=pulumi.Output.json_dumps(
                {"Version": "2012-10-17", "Statement": audit_key_statements(cfg, deploy_role.arn)}
            ),
            tags=baseline_tags("audit-key"),
            opts=pulumi.ResourceOptions(parent=self, protect=True, depends_on=[deploy_role]),
        )
        self.register_outputs({"keyArn": self.key.arn})
