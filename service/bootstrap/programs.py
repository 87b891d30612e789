"""The day-zero programs, in the order the bootstrap runs them (the AWS guidance: each account's baseline
first, the organization's restrictive policies last), each with its stacks' config, built from the service's
settings, and the settings its outputs imply. This table is the only place that says so."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from programs.forensic_account import config as forensic_account
from programs.forensic_env.config import BREAK_GLASS_ROLE_NAME
from programs.organization import config as organization
from programs.source_account import config as source_account
from programs.source_account import rollout
from service.config import ForensicAccount, Settings, SourceAccount
from service.errors import InvalidInput


@dataclass(frozen=True)
class BootstrapOptions:
    """What the settings do not say: the approved base image of the golden-AMI pipeline, and whether the
    pipeline is built at all (the local AWS has no Image Builder)."""

    base_image_id: str = ""
    golden_image_pipeline: bool = True
    organization_id: str = ""
    # The role the bootstrap assumes in each source account to build its evidence role there (the
    # organization's member-account access role, or one the operator names).
    member_role_name: str = "OrganizationAccountAccessRole"
    # Where the forensics OU goes: a root (r-...) or OU (ou-...) id; "" = the organization's root.
    organization_parent_id: str = ""


@dataclass(frozen=True)
class StackPlan:
    """One stack of one day-zero program: its name and its config (keys without the namespace)."""

    stack_name: str
    region: str
    config: dict[str, Any]
    # The role the engine assumes to act in the stack's account ("" = the operator's own identity there).
    assume_role_arn: str = ""


# Outputs of every stack of a program -> FORENSICS_* settings (name -> value as the env file holds it).
SettingsFn = Callable[[Settings, list[tuple[StackPlan, Mapping[str, Any]]]], dict[str, str]]


@dataclass(frozen=True)
class DayZeroProgram:
    name: str
    # `module:function` of the program (the engine child loads it); its directory holds its Pulumi.yaml.
    program: str
    namespace: str
    plans: Callable[[Settings, BootstrapOptions], list[StackPlan]]
    settings: SettingsFn
    output_names: tuple[str, ...] = field(default_factory=tuple)
    # How many of its stacks run at once (each stack is its own account: nothing shared between them).
    parallel: int = 1


def service_principals(settings: Settings) -> list[str]:
    """Who assumes the deploy roles: the configured service principals, never an account root (the pack
    refuses a trust naming one, locally too, where the service's default credentials are the root's)."""
    if settings.service_principal_arns:
        return list(settings.service_principal_arns)
    raise InvalidInput(
        "FORENSICS_SERVICE_PRINCIPAL_ARNS is empty: the deploy roles would trust nobody (set the service's "
        "own role ARN before bootstrapping)"
    )


def forensic_account_regions(settings: Settings) -> dict[str, str]:
    """Each forensic account's one region (account id -> region). The AWS guidance is one forensic account
    per region, and the forensic-account program holds to it: its IAM names (deploy role, boundary) are
    account-wide and its trail multi-region, so a second region's stack in the same account would fail
    half-way in AWS, and the organization's region lock keeps each account to one region. A plan mapping two
    regions to one account is refused here, before any stack runs. (Only the bootstrap asks this: the
    service itself may be configured with one account for several regions.)"""
    regions: dict[str, list[str]] = {}
    for region, account in sorted(settings.accounts.items()):
        regions.setdefault(account.account_id, []).append(region)
    shared = {account: served for account, served in regions.items() if len(served) > 1}
    if shared:
        listed = "; ".join(
            f"forensic account {account} is mapped to {' and '.join(served)}"
            for account, served in sorted(shared.items())
        )
        raise InvalidInput(
            f"{listed} in FORENSICS_FORENSIC_ACCOUNTS: the bootstrap builds one forensic account per region, "
            "as the AWS guidance advises (its deploy role and boundary are account-wide IAM names, its "
            "trail is multi-region, and the organization's SCPs keep each forensic account to its one "
            "region); give each region its own account"
        )
    return {account: served[0] for account, served in regions.items()}


def forensic_account_plans(settings: Settings, options: BootstrapOptions) -> list[StackPlan]:
    forensic_account_regions(settings)
    alias = settings.signing_key_id
    if not alias.startswith("alias/"):
        raise InvalidInput(
            f"FORENSICS_SIGNING_KEY_ID={alias}: the bootstrap creates the signing key under an alias "
            "(alias/forensics-...), not a key id"
        )
    plans = []
    for region, account in sorted(settings.accounts.items()):
        anchor = settings.anchor_bucket if region == settings.aws_region else None
        config = {
            "accountId": account.account_id,
            "region": region,
            "servicePrincipalArns": service_principals(settings),
            "externalId": account.external_id or "",
            "organizationId": options.organization_id,
            "breakGlassRoleArn": settings.break_glass_role_arn or "",
            "signingKeyAlias": alias,
            "anchorBucketName": anchor or "",
            "goldenImagePipeline": options.golden_image_pipeline,
            "baseImageId": options.base_image_id,
        }
        try:
            forensic_account.validate_config(config)
        except forensic_account.ConfigError as exc:
            raise InvalidInput(f"forensic account {account.account_id} ({region}): {exc}") from None
        plans.append(StackPlan(f"account-{account.account_id}-{region}", region, config))
    return plans


def forensic_account_settings(
    settings: Settings, stacks: list[tuple[StackPlan, Mapping[str, Any]]]
) -> dict[str, str]:
    accounts: dict[str, dict[str, Any]] = {}
    anchor = ""
    for plan, outputs in stacks:
        account = ForensicAccount(
            account_id=outputs["accountId"],
            deploy_role_arn=outputs["deployRoleArn"],
            external_id=plan.config["externalId"] or None,
            permissions_boundary_arn=outputs["permissionsBoundaryArn"],
            trail_name=outputs["trailName"],
            alert_topic_arn=outputs["alertTopicArn"],
            alert_queue_url=outputs["alertQueueUrl"],
        )
        accounts[outputs["region"]] = account.model_dump(mode="json", exclude_none=True)
        if outputs["region"] == settings.aws_region:
            anchor = outputs["anchorBucket"]
    result = {
        "FORENSICS_FORENSIC_ACCOUNTS": json.dumps(accounts, sort_keys=True),
        # The alias is the same in every forensic account: one setting names each account's own key.
        "FORENSICS_SIGNING_KEY_ID": str(stacks[0][1]["signingKeyAlias"])
        if stacks
        else settings.signing_key_id,
    }
    if anchor:
        result["FORENSICS_AUDIT_ANCHOR_BUCKET"] = anchor
    return result


FORENSIC_ACCOUNT = DayZeroProgram(
    name="forensic_account",
    program="programs.forensic_account.program:forensic_account",
    namespace=forensic_account.NAMESPACE,
    plans=forensic_account_plans,
    settings=forensic_account_settings,
)


def source_account_plans(settings: Settings, options: BootstrapOptions) -> list[StackPlan]:
    """One stack per configured source account (programs/source_account/rollout.py says why not a
    StackSet), built through the member-account role; the external id must already be in the settings (the
    service and the account's trust share it; the bootstrap never invents one, so a re-run is a no-op)."""
    forensic_ids = sorted({account.account_id for account in settings.accounts.values()})
    plans = []
    for account_id, source in sorted(settings.sources.items()):
        config = {
            "accountId": account_id,
            "servicePrincipalArns": service_principals(settings),
            "externalId": source.external_id or "",
            "forensicAccountIds": forensic_ids,
        }
        try:
            source_account.validate_config(config)
        except source_account.ConfigError as exc:
            raise InvalidInput(
                f"source account {account_id}: {exc} (set external_id in FORENSICS_SOURCE_ACCOUNTS)"
            ) from None
        plans.append(
            StackPlan(
                rollout.stack_name(account_id),
                settings.aws_region,
                config,
                assume_role_arn=f"arn:aws:iam::{account_id}:role/{options.member_role_name}",
            )
        )
    return plans


def source_account_settings(
    settings: Settings, stacks: list[tuple[StackPlan, Mapping[str, Any]]]
) -> dict[str, str]:
    if not stacks:
        return {}
    sources = {
        str(outputs["accountId"]): SourceAccount(
            snapshot_role_arn=str(outputs["evidenceRoleArn"]), external_id=str(outputs["externalId"])
        ).model_dump(mode="json", exclude_none=True)
        for _plan, outputs in stacks
    }
    return {"FORENSICS_SOURCE_ACCOUNTS": json.dumps(sources, sort_keys=True)}


SOURCE_ACCOUNT = DayZeroProgram(
    name="source_account",
    program="programs.source_account.program:source_account",
    namespace=source_account.NAMESPACE,
    plans=source_account_plans,
    settings=source_account_settings,
    parallel=rollout.MAX_PARALLEL_STACKS,
)


def organization_plans(settings: Settings, options: BootstrapOptions) -> list[StackPlan]:
    """The forensics OU, its SCPs and the forensic accounts moved under it: one stack, run from the
    management (or delegated administrator) account as the operator's own identity, last. Only with an
    organization (``organization_id``): an operator without one has no OU to build, and says so by giving
    none (the signing key then trusts no organization either)."""
    if not options.organization_id:
        return []
    regions = forensic_account_regions(settings)
    break_glass = settings.break_glass_role_arn or (
        f"arn:aws:iam::{settings.aws_account_id}:role/{BREAK_GLASS_ROLE_NAME}"
    )
    config = {
        "forensicAccountIds": sorted(regions),
        "parentId": options.organization_parent_id,
        "breakGlassRoleArn": break_glass,
        "allowedRegions": regions,
    }
    try:
        organization.validate_config(config)
    except organization.ConfigError as exc:
        raise InvalidInput(f"organization: {exc}") from None
    return [StackPlan(ORGANIZATION_STACK, settings.aws_region, config)]


def organization_settings(
    settings: Settings, stacks: list[tuple[StackPlan, Mapping[str, Any]]]
) -> dict[str, str]:
    """None: the service reads nothing of the OU (its id and SCP ids are the stack's outputs, shown by the
    bootstrap); the SCPs act on the accounts whatever the service knows."""
    return {}


ORGANIZATION_STACK = "organization"
ORGANIZATION = DayZeroProgram(
    name="organization",
    program="programs.organization.program:organization",
    namespace=organization.NAMESPACE,
    plans=organization_plans,
    settings=organization_settings,
)

# In the order they run, as the AWS guidance orders it: each account's baseline first (forensic accounts,
# then the source accounts' evidence roles), the organization's restrictive policies last (the forensic
# accounts are moved under the OU only once its SCPs are attached, programs/organization/guardrails.py).
PROGRAMS: tuple[DayZeroProgram, ...] = (FORENSIC_ACCOUNT, SOURCE_ACCOUNT, ORGANIZATION)
