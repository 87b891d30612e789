"""The inline program the Automation API runs for every investigation stack."""

from __future__ import annotations

import pulumi

from programs.forensic_env.config import load_config
from programs.forensic_env.environment import ForensicEnvironment

# Exactly the stack outputs of docs/contracts.md.
OUTPUT_NAMES: tuple[str, ...] = (
    "investigationId",
    "ticket",
    "vpcId",
    "subnetIds",
    "securityGroupId",
    "endpointIds",
    "instanceId",
    "instanceProfileArn",
    "responderRoleArn",
    "investigatorRoleArn",
    "custodianRoleArn",
    "analystRoleArn",
    "evidenceBucket",
    "evidenceBucketArn",
    "kmsKeyArn",
    "kmsKeyId",
    "flowLogGroup",
    "sessionLogGroup",
    "mountDocument",
    "alertTopicArn",
    "amiId",
    "amiAgeDays",
    "evidenceVolumeIds",
    "evidence",
    "frozen",
    "freezeSnapshotIds",
)


def forensic_environment() -> None:
    """Validate the `forensics:` config (ConfigError before any resource), build the clean room, export."""
    cfg = load_config()
    env = ForensicEnvironment("cleanroom", cfg)
    outputs = env.outputs()
    for name in OUTPUT_NAMES:
        pulumi.export(name, outputs[name])
