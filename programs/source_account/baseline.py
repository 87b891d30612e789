"""The source account's response baseline as resources (the names and documents are ``response``'s, which
the service reads without importing Pulumi)."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from programs.forensic_account.tags import baseline_tags
from programs.source_account.response import (
    DENY_ALL,
    DENY_ALL_POLICY,
    DENY_ALL_PROFILE,
    EC2_TRUST,
    MEMORY_DOCUMENT_NAME,
    memory_document_content,
)

# What made it and which part of the baseline it is (the pack requires both of a day-zero stack).
TAGS = {**baseline_tags("incident-response"), "forensics:purpose": "incident-response"}


class ResponseBaseline(pulumi.ComponentResource):
    """The deny-all instance profile and the memory-capture document of one source account."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("forensics:source:ResponseBaseline", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.deny_all_role = aws.iam.Role(
            f"{name}-deny-all-role",
            name=DENY_ALL_PROFILE,
            description="Forensic containment: an instance holding this profile may call nothing",
            assume_role_policy=json.dumps(EC2_TRUST),
            tags=TAGS,
            opts=child,
        )
        self.deny_all_policy = aws.iam.RolePolicy(
            f"{name}-deny-all-policy",
            role=self.deny_all_role.name,
            name=DENY_ALL_POLICY,
            policy=json.dumps(DENY_ALL),
            opts=child,
        )
        self.deny_all_profile = aws.iam.InstanceProfile(
            f"{name}-deny-all-profile",
            name=DENY_ALL_PROFILE,
            role=self.deny_all_role.name,
            tags=TAGS,
            opts=child,
        )
        self.memory_document = aws.ssm.Document(
            f"{name}-memory-document",
            name=MEMORY_DOCUMENT_NAME,
            document_type="Command",
            document_format="JSON",
            content=memory_document_content(),
            tags=TAGS,
            opts=child,
        )
        self.register_outputs(
            {"denyAllProfileArn": self.deny_all_profile.arn, "memoryDocument": self.memory_document.name}
        )
