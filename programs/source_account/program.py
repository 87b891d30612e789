"""The source-account program: one stack per account evidence may come from (`source-<accountId>`)."""

from __future__ import annotations

import pulumi

from programs.source_account.baseline import ResponseBaseline
from programs.source_account.config import load_config
from programs.source_account.role import EvidenceRole

# The stack outputs the bootstrap reads.
OUTPUT_NAMES: tuple[str, ...] = ("accountId", "evidenceRoleArn", "externalId")


def source_account() -> None:
    cfg = load_config()
    role = EvidenceRole("evidence", cfg)
    ResponseBaseline("response")
    pulumi.export("accountId", cfg.account_id)
    pulumi.export("evidenceRoleArn", role.arn)
    pulumi.export("externalId", cfg.external_id)
