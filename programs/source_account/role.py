"""The evidence role of a source account: the permissions and trust of ``permissions``, nothing else."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from programs.forensic_account.tags import baseline_tags
from programs.source_account.config import SourceAccountConfig
from programs.source_account.permissions import (
    EVIDENCE_POLICY_NAME,
    EVIDENCE_ROLE_NAME,
    evidence_policy,
    evidence_trust,
)

# What made it and which part of the baseline it is (the pack requires both of a day-zero stack).
TAGS = {**baseline_tags("evidence-acquisition"), "forensics:purpose": "evidence-acquisition"}


class EvidenceRole(pulumi.ComponentResource):
    """The role the service assumes (with the external id) to acquire evidence from this account."""

    def __init__(self, name: str, cfg: SourceAccountConfig, opts: pulumi.ResourceOptions | None = None):
        super().__init__("forensics:source:EvidenceRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role = aws.iam.Role(
            f"{name}-role",
            name=EVIDENCE_ROLE_NAME,
            description="Forensic evidence acquisition by the forensic clean-room service (external id)",
            assume_role_policy=json.dumps(evidence_trust(cfg.service_principal_arns, cfg.external_id)),
            max_session_duration=3600,
            tags=TAGS,
            opts=child,
        )
        self.policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.name,
            name=EVIDENCE_POLICY_NAME,
            policy=json.dumps(evidence_policy(cfg.account_id, cfg.forensic_account_ids)),
            opts=child,
        )
        self.arn = self.role.arn
        self.register_outputs({"arn": self.arn})
