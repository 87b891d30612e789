"""The program the bootstrap runs per forensic account and region (stack account-<accountId>-<region>)."""

from __future__ import annotations

import pulumi

from programs.forensic_account.alerts import LoginAlerts
from programs.forensic_account.audit_key import AuditKey
from programs.forensic_account.config import ANCHOR_RETENTION_DAYS, AccountConfig, load_config
from programs.forensic_account.deploy_role import DeployRole
from programs.forensic_account.golden_image import GoldenImage
from programs.forensic_account.locked_bucket import LockedBucket
from programs.forensic_account.recorder import ConfigRecording
from programs.forensic_account.signing import SigningKey
from programs.forensic_account.trail import AuditTrail

# The stack outputs the bootstrap reads (the day-zero contract).
OUTPUT_NAMES: tuple[str, ...] = (
    "accountId",
    "region",
    "deployRoleArn",
    "permissionsBoundaryArn",
    "signingKeyArn",
    "signingKeyAlias",
    "anchorBucket",
    "trailName",
    "trailBucket",
    "alertTopicArn",
    "alertQueueUrl",
)


def build(cfg: AccountConfig) -> dict[str, pulumi.Input[object]]:
    deploy = DeployRole("deploy", cfg)
    signing = SigningKey("signing", cfg, deploy.role)
    audit_key = AuditKey("audit", cfg, deploy.role)
    anchors = LockedBucket("anchors", cfg.anchor_bucket_name, ANCHOR_RETENTION_DAYS, "anchors", audit_key.key)
    trail = AuditTrail("trail", cfg, audit_key.key)
    ConfigRecording("config", cfg, trail.store.bucket.id, opts=pulumi.ResourceOptions(depends_on=[trail]))
    alerts = LoginAlerts("alerts", cfg)
    GoldenImage("golden-image", cfg)
    return {
        "accountId": cfg.account_id,
        "region": cfg.region,
        "deployRoleArn": deploy.role.arn,
        "permissionsBoundaryArn": deploy.boundary.arn,
        "signingKeyArn": signing.key.arn,
        "signingKeyAlias": signing.alias.name,
        "anchorBucket": anchors.bucket.id,
        "trailName": trail.trail.name,
        "trailBucket": trail.store.bucket.id,
        "alertTopicArn": alerts.topic.arn,
        "alertQueueUrl": alerts.queue.url,
    }


def forensic_account() -> None:
    """Validate the config (ConfigError before any resource), build the baseline, export the contract."""
    outputs = build(load_config())
    for name in OUTPUT_NAMES:
        pulumi.export(name, outputs[name])
