"""The organization program's settings (the project's own config namespace), validated before anything is
built: `validate_config` is pure, `load_config` reads the stack config and calls it."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

NAMESPACE = "forensics-organization"
CONFIG_KEYS: tuple[str, ...] = ("forensicAccountIds", "parentId", "breakGlassRoleArn", "allowedRegions")

_ACCOUNT_RE = re.compile(r"^[0-9]{12}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")
# A root (r-xxxx) or an organizational unit (ou-xxxx-xxxxxxxx), as Organizations spells their ids.
_PARENT_RE = re.compile(r"^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$")
_ROLE_ARN_RE = re.compile(
    r"^arn:(aws[a-z-]*):iam::([0-9]{12}):role/((?:[A-Za-z0-9_+=,.@-]+/)*)([A-Za-z0-9_+=,.@-]+)$"
)


class ConfigError(ValueError):
    """A setting is missing or invalid; the message starts with the setting's full key."""

    def __init__(self, key: str, detail: str) -> None:
        self.key = f"{NAMESPACE}:{key}"
        super().__init__(f"{self.key}: {detail}")


@dataclass(frozen=True)
class OrganizationConfig:
    forensic_account_ids: tuple[str, ...]
    # "" = the organization's root.
    parent_id: str
    break_glass_role_arn: str
    # accountId -> the one region that account may use.
    allowed_regions: Mapping[str, str]

    @property
    def break_glass_role_arns(self) -> tuple[str, ...]:
        """The break-glass role in every forensic account (same path and name as the configured one): an SCP
        judges the principal of the account it acts in, so each account's own break-glass role is named."""
        match = _ROLE_ARN_RE.match(self.break_glass_role_arn)
        assert match is not None  # validated
        partition, _, path, name = match.groups()
        arns = {self.break_glass_role_arn}
        arns.update(
            f"arn:{partition}:iam::{account}:role/{path}{name}" for account in self.forensic_account_ids
        )
        return tuple(sorted(arns))

    @property
    def accounts_by_region(self) -> dict[str, tuple[str, ...]]:
        regions: dict[str, list[str]] = {}
        for account in self.forensic_account_ids:
            regions.setdefault(self.allowed_regions[account], []).append(account)
        return {region: tuple(sorted(accounts)) for region, accounts in sorted(regions.items())}


def _json(raw: Mapping[str, Any], key: str, kind: type) -> Any:
    value = raw.get(key)
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else kind()
        except ValueError:
            raise ConfigError(key, f"{value!r} is not JSON") from None
    if value is None:
        value = kind()
    if not isinstance(value, kind):
        raise ConfigError(key, f"must be a {'list' if kind is list else 'map'}")
    return value


def validate_config(raw: Mapping[str, Any]) -> OrganizationConfig:
    values = {k.split(":", 1)[1] if k.startswith(f"{NAMESPACE}:") else k: v for k, v in raw.items()}
    unknown = sorted(set(values) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(unknown[0], "is not a setting of the organization program")

    accounts = _json(values, "forensicAccountIds", list)
    if not accounts:
        raise ConfigError("forensicAccountIds", "must name at least one forensic account")
    for account in accounts:
        if not isinstance(account, str) or not _ACCOUNT_RE.match(account):
            raise ConfigError("forensicAccountIds", f"{account!r} is not a 12-digit AWS account id")
    if len(set(accounts)) != len(accounts):
        raise ConfigError("forensicAccountIds", "lists an account more than once")

    parent = values.get("parentId") or ""
    if not isinstance(parent, str) or (parent and not _PARENT_RE.match(parent)):
        raise ConfigError("parentId", f"{parent!r} is not a root (r-...) or organizational unit (ou-...) id")

    break_glass = values.get("breakGlassRoleArn")
    if not isinstance(break_glass, str) or not _ROLE_ARN_RE.match(break_glass):
        raise ConfigError("breakGlassRoleArn", f"{break_glass!r} is not an IAM role ARN")

    regions = _json(values, "allowedRegions", dict)
    for account, region in regions.items():
        if account not in accounts:
            raise ConfigError("allowedRegions", f"{account!r} is not one of forensicAccountIds")
        if not isinstance(region, str) or not _REGION_RE.match(region):
            raise ConfigError("allowedRegions", f"{region!r} (for {account}) is not an AWS region")
    missing = [a for a in accounts if a not in regions]
    if missing:
        raise ConfigError(
            "allowedRegions", f"no region for {', '.join(missing)}: each account keeps to its own"
        )
    return OrganizationConfig(tuple(accounts), parent, break_glass, dict(regions))


def load_config() -> OrganizationConfig:
    import pulumi  # the pure validator above must not need the engine

    cfg = pulumi.Config(NAMESPACE)
    return validate_config({key: value for key in CONFIG_KEYS if (value := cfg.get(key)) is not None})
