"""The deploy role the service assumes in this account, and the boundary of every role it makes."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from programs.forensic_account.config import (
    BOUNDARY_POLICY_NAME,
    DEPLOY_POLICY_NAME,
    DEPLOY_ROLE_NAME,
    AccountConfig,
)
from programs.forensic_account.permissions import (
    boundary_statements,
    deploy_statements,
    deploy_trust_statements,
    document,
)
from programs.forensic_account.tags import baseline_tags


class DeployRole(pulumi.ComponentResource):
    role: aws.iam.Role
    boundary: aws.iam.Policy
    policy: aws.iam.RolePolicy

    def __init__(self, name: str, cfg: AccountConfig, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("forensics:baseline:DeployRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.boundary = aws.iam.Policy(
            f"{name}-boundary",
            name=BOUNDARY_POLICY_NAME,
            description="Caps every role the forensics deploy role creates (clean-room roles)",
            policy=document(boundary_statements(cfg)),
            tags=baseline_tags("deploy", BOUNDARY_POLICY_NAME),
            opts=child,
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            name=DEPLOY_ROLE_NAME,
            description="Assumed by the forensics service to build, freeze and destroy clean rooms",
            assume_role_policy=document(deploy_trust_statements(cfg)),
            max_session_duration=3600,
            tags=baseline_tags("deploy", DEPLOY_ROLE_NAME),
            opts=child,
        )
        self.policy = aws.iam.RolePolicy(
            f"{name}-policy",
            name=DEPLOY_POLICY_NAME,
            role=self.role.id,
            policy=document(deploy_statements(cfg)),
            opts=child,
        )
        self.register_outputs({"roleArn": self.role.arn, "boundaryArn": self.boundary.arn})
