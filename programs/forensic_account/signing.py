"""The statement-signing key: only the service (through the deploy role) signs; anyone in the organization
(or, without one, in this account) reads the public key to verify; only break-glass administers it."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from programs.forensic_account.config import AccountConfig
from programs.forensic_account.tags import baseline_tags

KEY_ADMIN_ACTIONS = (
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:PutKeyPolicy",
    "kms:ListResourceTags",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
    "kms:EnableKey",
    "kms:DisableKey",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:GetPublicKey",
)


def key_policy_statements(cfg: AccountConfig, deploy_role_arn: pulumi.Input[str]) -> list[dict[str, Any]]:
    readers: dict[str, Any] = (
        {"StringEquals": {"aws:PrincipalOrgID": cfg.organization_id}}
        if cfg.organization_id
        else {"StringEquals": {"aws:PrincipalAccount": cfg.account_id}}
    )
    return [
        {
            "Sid": "BreakGlassAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": cfg.break_glass_role_arn},
            "Action": list(KEY_ADMIN_ACTIONS),
            "Resource": "*",
        },
        {
            "Sid": "OnlyTheServiceSigns",
            "Effect": "Allow",
            "Principal": {"AWS": deploy_role_arn},
            "Action": ["kms:Sign", "kms:GetPublicKey", "kms:DescribeKey"],
            "Resource": "*",
        },
        {
            "Sid": "OrganizationVerifies",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:GetPublicKey", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": readers,
        },
    ]


class SigningKey(pulumi.ComponentResource):
    key: aws.kms.Key
    alias: aws.kms.Alias

    def __init__(
        self,
        name: str,
        cfg: AccountConfig,
        deploy_role: aws.iam.Role,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("forensics:baseline:SigningKey", name, None, opts)
        self.key = aws.kms.Key(
            f"{name}-key",
            description="Signs freeze manifests, teardown certificates and audit anchors",
            customer_master_key_spec="ECC_NIST_P256",
            key_usage="SIGN_VERIFY",
            deletion_window_in_days=30,
            policy=pulumi.Output.json_dumps(
                {"Version": "2012-10-17", "Statement": key_policy_statements(cfg, deploy_role.arn)}
            ),
            tags=baseline_tags("signing"),
            opts=pulumi.ResourceOptions(parent=self, protect=True, depends_on=[deploy_role]),
        )
        self.alias = aws.kms.Alias(
            f"{name}-alias",
            name=cfg.signing_key_alias,
            target_key_id=self.key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"keyArn": self.key.arn})
