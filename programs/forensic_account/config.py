"""The forensic account's day-zero settings: read from the project's config namespace, validated before
anything is built. `validate_config` is pure: the bootstrap checks what it passes with the same rules."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from programs.forensic_env.config import (
    AMI_SSM_PREFIX,
    BREAK_GLASS_ROLE_NAME,
    DEFAULT_AMI_SSM_PARAMETER,
)

NAMESPACE = "forensics-forensic-account"
# The names the service already uses for these (service/config.py restates the first two as its defaults).
DEPLOY_ROLE_NAME = "forensics-deploy"
DEFAULT_SIGNING_KEY_ALIAS = "alias/forensics-signing"
BOUNDARY_POLICY_NAME = "forensics-cleanroom-boundary"
DEPLOY_POLICY_NAME = "forensics-deploy"
TRAIL_NAME = "forensics-audit"
ALERT_TOPIC_NAME = "forensics-login-alerts"
# The queue the service reads the alerts from (SNS -> SQS, raw delivery off: each body is an SNS envelope).
ALERT_QUEUE_NAME = "forensics-login-alerts"
LOGIN_RULE_NAME = "forensics-login"
CONFIG_RECORDER_NAME = "forensics"
# Anchors are kept this long under COMPLIANCE retention: nobody, the account root included, deletes one
# (they must outlive anyone who could rewrite the audit log; S3 allows up to 100 years). The local seed's
# anchor bucket uses the same.
ANCHOR_RETENTION_DAYS = 3650
# The trail's own log files: COMPLIANCE too, a year (CloudTrail digest files prove the chain over that span).
TRAIL_RETENTION_DAYS = 365

DEFAULTS: dict[str, Any] = {
    "accountId": None,
    "region": None,
    "servicePrincipalArns": None,
    "externalId": "",
    "organizationId": "",
    "breakGlassRoleArn": "",
    "signingKeyAlias": DEFAULT_SIGNING_KEY_ALIAS,
    "anchorBucketName": "",
    "goldenAmiSsmParameter": DEFAULT_AMI_SSM_PARAMETER,
    "goldenImagePipeline": True,
    "baseImageId": "",
}
CONFIG_KEYS: tuple[str, ...] = tuple(DEFAULTS)

_ACCOUNT_RE = re.compile(r"^[0-9]{12}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")
_PRINCIPAL_RE = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:(root|(role|user)/[A-Za-z0-9_+=,.@/-]+)$")
_ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]+$")
# sts:ExternalId: 2-1224 characters of this set (AWS STS AssumeRole).
_EXTERNAL_ID_RE = re.compile(r"^[A-Za-z0-9+=,.@:/-]{2,1224}$")
_ORG_RE = re.compile(r"^o-[a-z0-9]{10,32}$")
_ALIAS_RE = re.compile(r"^alias/forensics-[A-Za-z0-9/_-]{1,200}$")
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_AMI_ID_RE = re.compile(r"^ami-[0-9a-f]{8,17}$")
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


class ConfigError(ValueError):
    """A setting is missing or invalid; the message starts with the setting's full key."""

    def __init__(self, key: str, detail: str) -> None:
        self.key = f"{NAMESPACE}:{key}"
        self.detail = detail
        super().__init__(f"{self.key}: {detail}")


@dataclass(frozen=True)
class AccountConfig:
    account_id: str
    region: str
    service_principal_arns: tuple[str, ...]
    external_id: str
    organization_id: str
    break_glass_role_arn: str
    signing_key_alias: str
    anchor_bucket_name: str
    golden_ami_ssm_parameter: str
    golden_image_pipeline: bool
    base_image_id: str

    @property
    def partition(self) -> str:
        return "aws"

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:{self.partition}:{service}:{self.region if region else ''}:"
            f"{self.account_id if account else ''}:{resource}"
        )

    @property
    def deploy_role_arn(self) -> str:
        return self.arn("iam", f"role/{DEPLOY_ROLE_NAME}", region=False)

    @property
    def boundary_policy_arn(self) -> str:
        return self.arn("iam", f"policy/{BOUNDARY_POLICY_NAME}", region=False)

    @property
    def trail_name(self) -> str:
        return TRAIL_NAME

    @property
    def trail_arn(self) -> str:
        return self.arn("cloudtrail", f"trail/{TRAIL_NAME}")

    @property
    def trail_bucket_name(self) -> str:
        return f"forensics-trail-{self.account_id}-{self.region}"

    @property
    def alert_topic_arn(self) -> str:
        return self.arn("sns", ALERT_TOPIC_NAME)

    @property
    def alert_queue_arn(self) -> str:
        return self.arn("sqs", ALERT_QUEUE_NAME)

    @property
    def login_rule_arn(self) -> str:
        return self.arn("events", f"rule/{LOGIN_RULE_NAME}")


def _value(raw: Mapping[str, Any], key: str) -> Any:
    value = raw.get(key)
    return DEFAULTS[key] if value is None else value


def _string(raw: Mapping[str, Any], key: str) -> str:
    value = _value(raw, key)
    if value is None:
        raise ConfigError(key, "is required")
    if not isinstance(value, str):
        raise ConfigError(key, f"expected a string, got {type(value).__name__} {value!r}")
    return value.strip()


def _required(raw: Mapping[str, Any], key: str, pattern: re.Pattern[str], what: str) -> str:
    value = _string(raw, key)
    if not value:
        raise ConfigError(key, "is required")
    if not pattern.match(value):
        raise ConfigError(key, f"{value!r} is not {what}")
    return value


def _optional(raw: Mapping[str, Any], key: str, pattern: re.Pattern[str], what: str) -> str:
    value = _string(raw, key)
    if value and not pattern.match(value):
        raise ConfigError(key, f"{value!r} is not {what}")
    return value


def _bool(raw: Mapping[str, Any], key: str) -> bool:
    value = _value(raw, key)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise ConfigError(key, f"{value!r} is not a boolean (true/false)")


def _principals(raw: Mapping[str, Any]) -> tuple[str, ...]:
    value = _value(raw, "servicePrincipalArns")
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else []
        except json.JSONDecodeError as exc:
            raise ConfigError("servicePrincipalArns", f"is not valid JSON ({exc.msg})") from None
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError("servicePrincipalArns", "expected a list of ARNs")
    if not value:
        raise ConfigError("servicePrincipalArns", "is required: nobody could assume the deploy role")
    for arn in value:
        if not _PRINCIPAL_RE.match(arn.strip()):
            raise ConfigError("servicePrincipalArns", f"{arn!r} is not an IAM root, role or user ARN")
    return tuple(dict.fromkeys(arn.strip() for arn in value))


def validate_config(raw: Mapping[str, Any]) -> AccountConfig:
    """Validate settings given without namespace ("accountId") or with it; lists may arrive as JSON text.
    Raises ConfigError (a ValueError) naming the first bad setting."""
    values: dict[str, Any] = {}
    for key, value in raw.items():
        short = key.split(":", 1)[1] if key.startswith(f"{NAMESPACE}:") else key
        if short not in DEFAULTS:
            raise ConfigError(short, "is not a setting of the forensic account program")
        values[short] = value
    account_id = _required(values, "accountId", _ACCOUNT_RE, "a 12-digit AWS account id")
    region = _required(values, "region", _REGION_RE, "an AWS region")
    break_glass = _optional(values, "breakGlassRoleArn", _ROLE_ARN_RE, "an IAM role ARN") or (
        f"arn:aws:iam::{account_id}:role/{BREAK_GLASS_ROLE_NAME}"
    )
    ssm_parameter = _string(values, "goldenAmiSsmParameter")
    if not ssm_parameter.startswith(AMI_SSM_PREFIX) or len(ssm_parameter) <= len(AMI_SSM_PREFIX):
        raise ConfigError("goldenAmiSsmParameter", f"{ssm_parameter!r} must be under {AMI_SSM_PREFIX}")
    pipeline = _bool(values, "goldenImagePipeline")
    base_image = _optional(values, "baseImageId", _AMI_ID_RE, "an AMI id (ami-xxxxxxxx)")
    if pipeline and not base_image:
        raise ConfigError("baseImageId", "is required by the golden image pipeline (its approved base image)")
    return AccountConfig(
        account_id=account_id,
        region=region,
        service_principal_arns=_principals(values),
        external_id=_optional(values, "externalId", _EXTERNAL_ID_RE, "an sts:ExternalId (2-1224 chars)"),
        organization_id=_optional(values, "organizationId", _ORG_RE, "an organization id (o-...)"),
        break_glass_role_arn=break_glass,
        signing_key_alias=_required(values, "signingKeyAlias", _ALIAS_RE, "an alias/forensics-... KMS alias"),
        anchor_bucket_name=_optional(values, "anchorBucketName", _BUCKET_RE, "an S3 bucket name")
        or f"forensics-audit-anchors-{account_id}",
        golden_ami_ssm_parameter=ssm_parameter,
        golden_image_pipeline=pipeline,
        base_image_id=base_image,
    )


def load_config() -> AccountConfig:
    """Read the stack config and validate it; nothing is built before this."""
    import pulumi  # the pure validator above must not need the engine

    cfg = pulumi.Config(NAMESPACE)
    raw = {key: value for key in CONFIG_KEYS if (value := cfg.get(key)) is not None}
    return validate_config(raw)
