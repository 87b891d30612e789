"""validate_config: pure validation, no engine."""

from __future__ import annotations

from typing import Any

import pytest

from programs.forensic_env import ConfigError, EnvironmentConfig, validate_config
from programs.forensic_env.config import DEFAULT_AMI_SSM_PARAMETER, AmiSource

VALID: dict[str, Any] = {"investigationId": "case-42", "ticket": "SEC-123"}


def test_defaults() -> None:
    cfg = validate_config(VALID)
    assert isinstance(cfg, EnvironmentConfig)
    assert cfg.investigation_id == "case-42" and cfg.ticket == "SEC-123"
    assert cfg.instance_type == "t3.large"
    assert cfg.vpc_cidr == "10.77.0.0/16"
    assert cfg.ami_source == AmiSource("ssm", DEFAULT_AMI_SSM_PARAMETER)
    assert cfg.max_ami_age_days == 30 and cfg.ttl_hours == 72
    assert cfg.evidence_snapshot_ids == ()
    assert cfg.account_id == "123456789012"
    assert cfg.trusted_principals == ()  # nobody but break-glass, never the account root
    assert cfg.break_glass_role_arn == "arn:aws:iam::123456789012:role/forensics-break-glass"
    assert cfg.object_lock_mode == "GOVERNANCE" and cfg.object_lock_retention_days == 30
    assert cfg.retain_evidence_bucket is True and cfg.frozen is False
    assert cfg.region == "us-east-1" and cfg.assume_role_arn is None


def test_engine_strings_are_parsed() -> None:
    """The engine hands the program strings: lists and maps as JSON, numbers and booleans as text."""
    cfg = validate_config(
        {
            "forensics:investigationId": "case-42",
            "forensics:ticket": "SEC-123",
            "evidenceSnapshotIds": '["snap-0123456789abcdef0"]',
            "tags": '{"team": "dfir"}',
            "maxAmiAgeDays": "14",
            "frozen": "true",
            "retainEvidenceBucket": "false",
            "trustedPrincipals": '["arn:aws:iam::210987654321:role/IR"]',
            "accountId": "210987654321",
            "objectLockMode": "COMPLIANCE",
            "amiTag": "golden=true",
        },
        region="eu-west-1",
    )
    assert cfg.evidence_snapshot_ids == ("snap-0123456789abcdef0",)
    assert dict(cfg.tags) == {"team": "dfir"}
    assert cfg.max_ami_age_days == 14 and cfg.frozen is True and cfg.retain_evidence_bucket is False
    assert cfg.trusted_principals == ("arn:aws:iam::210987654321:role/IR",)
    assert cfg.object_lock_mode == "COMPLIANCE"
    assert cfg.ami_source == AmiSource("tag", "golden=true") and cfg.ami_source.tag == ("golden", "true")
    assert cfg.region == "eu-west-1"


def test_config_is_frozen() -> None:
    cfg = validate_config(VALID)
    with pytest.raises(AttributeError):
        cfg.frozen = True  # type: ignore[misc]


def test_ami_sources() -> None:
    assert validate_config({**VALID, "amiId": "ami-0123456789abcdef0"}).ami_source == AmiSource(
        "id", "ami-0123456789abcdef0"
    )
    # The default parameter alongside an explicit id is not a second choice (Pulumi.yaml applies defaults).
    both = {**VALID, "amiId": "ami-0123456789abcdef0", "amiSsmParameter": DEFAULT_AMI_SSM_PARAMETER}
    assert validate_config(both).ami_source.kind == "id"
    assert validate_config({**VALID, "amiSsmParameter": "/forensics/golden-ami/x"}).ami_source == AmiSource(
        "ssm", "/forensics/golden-ami/x"
    )
    # Empty strings mean "not set".
    assert validate_config({**VALID, "amiId": "", "amiTag": ""}).ami_source.kind == "ssm"


BAD: list[tuple[dict[str, Any], str, str]] = [
    ({"vpcCidr": "10.0.0.0/33"}, "forensics:vpcCidr", "'10.0.0.0/33' is not a valid IPv4 CIDR"),
    ({"vpcCidr": "10.0.0.1/16"}, "forensics:vpcCidr", "not a valid IPv4 CIDR"),
    ({"vpcCidr": "fd00::/64"}, "forensics:vpcCidr", "not a valid IPv4 CIDR"),
    ({"vpcCidr": "10.0.0.0/8"}, "forensics:vpcCidr", "between /16 and /24"),
    ({"vpcCidr": "10.0.0.0/28"}, "forensics:vpcCidr", "between /16 and /24"),
    ({"instanceType": "large"}, "forensics:instanceType", "family.size"),
    ({"instanceType": "T3.Large"}, "forensics:instanceType", "family.size"),
    ({"investigationId": None}, "forensics:investigationId", "is required"),
    ({"investigationId": ""}, "forensics:investigationId", "is required"),
    ({"ticket": None}, "forensics:ticket", "is required"),
    ({"ticket": "  "}, "forensics:ticket", "is required"),
    ({"investigationId": "Case_42"}, "forensics:investigationId", "must match"),
    ({"investigationId": "ab"}, "forensics:investigationId", "must match"),
    ({"investigationId": "-abc"}, "forensics:investigationId", "must match"),
    ({"investigationId": "a" * 42}, "forensics:investigationId", "must match"),
    (
        {"amiId": "ami-0123456789abcdef0", "amiTag": "golden=true"},
        "forensics:amiTag",
        "exactly one golden AMI source",
    ),
    (
        {"amiId": "ami-0123456789abcdef0", "amiSsmParameter": "/forensics/golden-ami/other"},
        "forensics:amiSsmParameter",
        "exactly one golden AMI source",
    ),
    ({"amiSsmParameter": ""}, "forensics:amiSsmParameter", "no golden AMI source"),
    # Any other parameter would let a caller point the workstation at an image they published.
    ({"amiSsmParameter": "/attacker/ami"}, "forensics:amiSsmParameter", "must be a parameter under"),
    ({"amiOwners": ["*"]}, "forensics:amiOwners", "not 'self' or a 12-digit account id"),
    ({"amiId": "img-123"}, "forensics:amiId", "not an AMI id"),
    ({"amiTag": "golden"}, "forensics:amiTag", "Key=Value"),
    ({"amiTag": "=true"}, "forensics:amiTag", "Key=Value"),
    ({"objectLockMode": "governance"}, "forensics:objectLockMode", "GOVERNANCE or COMPLIANCE"),
    ({"objectLockMode": "LEGAL"}, "forensics:objectLockMode", "GOVERNANCE or COMPLIANCE"),
    ({"objectLockRetentionDays": 0}, "forensics:objectLockRetentionDays", "positive"),
    ({"objectLockRetentionDays": "-5"}, "forensics:objectLockRetentionDays", "positive"),
    ({"ttlHours": 0}, "forensics:ttlHours", "positive"),
    ({"ttlHours": "soon"}, "forensics:ttlHours", "not an integer"),
    ({"maxAmiAgeDays": -1}, "forensics:maxAmiAgeDays", "positive"),
    ({"maxAmiAgeDays": True}, "forensics:maxAmiAgeDays", "not an integer"),
    ({"evidenceSnapshotIds": ["vol-123"]}, "forensics:evidenceSnapshotIds", "not an EBS snapshot id"),
    ({"evidenceSnapshotIds": "snap-0123456789abcdef0"}, "forensics:evidenceSnapshotIds", "not valid JSON"),
    (
        {"evidenceSnapshotIds": ["snap-0123456789abcdef0", "snap-0123456789abcdef0"]},
        "forensics:evidenceSnapshotIds",
        "more than once",
    ),
    (
        {"evidenceSnapshotIds": [f"snap-{i:017x}" for i in range(12)]},
        "forensics:evidenceSnapshotIds",
        "at most 11",
    ),
    ({"tags": {"forensics:ticket": "x"}}, "forensics:tags", "cannot be overridden"),
    ({"tags": {"aws:owner": "x"}}, "forensics:tags", "not a valid tag key"),
    ({"tags": ["a"]}, "forensics:tags", "expected a map"),
    ({"trustedPrincipals": ["alice"]}, "forensics:trustedPrincipals", "not an IAM role or user ARN"),
    (
        {"trustedPrincipals": ["arn:aws:iam::123456789012:root"]},
        "forensics:trustedPrincipals",
        "a root is refused",
    ),
    ({"accountId": "1234"}, "forensics:accountId", "12-digit"),
    (
        {"assumeRoleArn": "arn:aws:iam::123456789012:user/bob"},
        "forensics:assumeRoleArn",
        "not an IAM role ARN",
    ),
    ({"frozen": "maybe"}, "forensics:frozen", "not a boolean"),
    ({"retainEvidenceBucket": 2}, "forensics:retainEvidenceBucket", "not a boolean"),
    ({"vpcCIDR": "10.0.0.0/16"}, "forensics:vpcCIDR", "not a setting"),
]


@pytest.mark.parametrize(("change", "key", "detail"), BAD, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD)])
def test_invalid_settings_name_the_setting(change: dict[str, Any], key: str, detail: str) -> None:
    raw = {k: v for k, v in {**VALID, **change}.items() if v is not None}
    with pytest.raises(ConfigError) as caught:
        validate_config(raw)
    message = str(caught.value)
    assert message.startswith(f"{key}: "), message
    assert detail in message
    assert caught.value.key == key
    assert isinstance(caught.value, ValueError)


def test_exact_cidr_message() -> None:
    with pytest.raises(ConfigError, match=r"^forensics:vpcCidr: '10\.0\.0\.0/33' is not a valid IPv4 CIDR$"):
        validate_config({**VALID, "vpcCidr": "10.0.0.0/33"})


def test_bad_region() -> None:
    with pytest.raises(ConfigError, match=r"^aws:region: "):
        validate_config(VALID, region="mars")
