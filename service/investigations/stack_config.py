"""An investigation as the forensic program's stack config (docs/contracts.md), and its validation."""

from __future__ import annotations

from typing import Any

from policy_packs.forensics.rules.ami import ENV_AMI_JUDGED_AT
from policy_packs.forensics.rules.day_zero import ENV_PERMISSIONS_BOUNDARY
from programs.forensic_env.config import ConfigError, validate_config
from service.clock import as_utc
from service.config import Settings
from service.errors import InvalidInput
from service.investigations.models import Investigation
from service.orchestration.messages import ConfigValue


def stack_name(investigation_id: str) -> str:
    return f"inv-{investigation_id}"


def raw_config(inv: Investigation, **overrides: Any) -> dict[str, Any]:
    """Namespace-free program config; ``overrides`` (frozen, retainEvidenceBucket) win."""
    config: dict[str, Any] = {
        "investigationId": inv.id,
        "ticket": inv.ticket,
        "ttlHours": inv.ttl_hours,
        "tags": dict(inv.tags or {}),
        "evidenceSnapshotIds": list(inv.evidence_snapshot_ids or []),
        "frozen": inv.frozen,
        "retainEvidenceBucket": inv.retain_evidence_bucket,
    }
    if inv.evidence:
        # Acquired evidence: each copied into the clean room, attached once its copy's hash is verified.
        config["evidence"] = [dict(entry) for entry in inv.evidence]
    if inv.grants:
        # Just-in-time access (service/access); the program leaves all but the custodian's out while frozen.
        config["grants"] = program_grants(inv.grants)
    ami = inv.golden_ami or {}
    if ami.get("ami_id"):
        config["amiId"] = ami["ami_id"]
    elif ami.get("tag"):
        config["amiTag"] = ami["tag"]
    elif ami.get("ssm_parameter"):
        config["amiSsmParameter"] = ami["ssm_parameter"]
    if inv.instance_type:
        config["instanceType"] = inv.instance_type
    if inv.account_id:
        config["accountId"] = inv.account_id
    if inv.assume_role_arn:
        config["assumeRoleArn"] = inv.assume_role_arn
    config.update(overrides)
    return config


# A program grant entry; the declared state also keeps the access request each came from (requestId).
GRANT_FIELDS = ("role", "principalArn", "person", "expiresAt")
# Given only for a grant bound to a session of a shared role.
GRANT_OPTIONAL_FIELDS = ("sessionName",)


def program_grants(declared: list[Any] | None) -> list[dict[str, Any]]:
    """The program's ``grants`` from an investigation's declared grants."""
    return [
        {
            **{key: entry[key] for key in GRANT_FIELDS},
            **{key: entry[key] for key in GRANT_OPTIONAL_FIELDS if entry.get(key)},
        }
        for entry in declared or []
    ]


def trust_config(settings: Settings, inv: Investigation) -> dict[str, Any]:
    """Who the stack trusts, decided by the operator's settings and never by a caller: the service's own
    identity in the investigation's account (the deploy role it assumes there, else its configured
    principals: it works inside the evidence bucket, legal hold), the people who may assume the four roles,
    the break-glass role, whose images may be golden AMIs, and the permissions boundary every role of the
    stack carries (the account's, from the bootstrap)."""
    config: dict[str, Any] = {}
    account = settings.account_for(inv.region)
    if account is not None and account.permissions_boundary_arn:
        config["permissionsBoundaryArn"] = account.permissions_boundary_arn
    service = [inv.assume_role_arn] if inv.assume_role_arn else settings.service_principals
    if service:
        config["servicePrincipals"] = list(service)
    if settings.human_principal_arns:
        config["trustedPrincipals"] = list(settings.human_principal_arns)
    if settings.break_glass_role_arn:
        config["breakGlassRoleArn"] = settings.break_glass_role_arn
    config["amiOwners"] = list(settings.golden_ami_owner_accounts)
    return config


def to_stack_config(raw: dict[str, Any]) -> dict[str, ConfigValue]:
    return {key: ConfigValue(value) for key, value in raw.items()}


def provider_config(inv: Investigation, settings: Settings) -> dict[str, ConfigValue]:
    """Per-investigation provider config on top of what the orchestration derives from Settings: the region,
    and the deploy role of the region's forensic account (pulumi-aws ``assumeRoles``) with the external id
    its trust requires."""
    config = {"aws:region": ConfigValue(inv.region)}
    if inv.assume_role_arn:
        role = {"roleArn": inv.assume_role_arn, "sessionName": f"forensics-{inv.id}"[:64]}
        external_id = settings.external_id_for(inv.assume_role_arn)
        if external_id:
            role["externalId"] = external_id
        config["aws:assumeRoles"] = ConfigValue([role])
    return config


def policy_env(inv: Investigation, settings: Settings) -> dict[str, str]:
    """What the policy pack is told about this clean room by the service: the golden AMI is judged as of
    the clean room's opening, so an image that was fresh then never stops a later freeze or release; and the
    permissions boundary the account's deploy role requires of every role it creates."""
    env = {ENV_AMI_JUDGED_AT: as_utc(inv.created_at).isoformat()}
    account = settings.account_for(inv.region)
    if account is not None and account.permissions_boundary_arn:
        env[ENV_PERMISSIONS_BOUNDARY] = account.permissions_boundary_arn
    return env


def validate(raw: dict[str, Any], region: str | None = None) -> None:
    """Checks config with the program's own validator, without the engine, so a request the program would
    refuse is a 422 naming the setting rather than a failed deployment."""
    try:
        validate_config(raw, region=region)
    except ConfigError as exc:
        raise InvalidInput(
            f"invalid stack config: {exc}",
            details={"fields": [{"field": exc.key, "message": exc.detail, "type": "config"}]},
        ) from exc
