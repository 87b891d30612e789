"""The source-account program's settings (the project's own config namespace), validated before anything is
built: `validate_config` is pure, `load_config` reads the stack config and calls it."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Config keys live in the project's namespace (Pulumi.yaml `name`).
NAMESPACE = "forensics-source-account"
CONFIG_KEYS: tuple[str, ...] = ("accountId", "servicePrincipalArns", "externalId", "forensicAccountIds")

_ACCOUNT_RE = re.compile(r"^[0-9]{12}$")
# A named role or user of the service (never an account root: everyone there with sts:AssumeRole).
_PRINCIPAL_RE = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9_+=,.@/-]+$")
# STS's ExternalId alphabet; at least 16 characters so it cannot be guessed (AWS takes 2..1224).
EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9+=,.@:/-]{16,1224}$"
_EXTERNAL_ID_RE = re.compile(EXTERNAL_ID_PATTERN)


class ConfigError(ValueError):
    """A setting is missing or invalid; the message starts with the setting's full key."""

    def __init__(self, key: str, detail: str) -> None:
        self.key = f"{NAMESPACE}:{key}"
        super().__init__(f"{self.key}: {detail}")


@dataclass(frozen=True)
class SourceAccountConfig:
    account_id: str
    service_principal_arns: tuple[str, ...]
    external_id: str
    forensic_account_ids: tuple[str, ...]


def _list(raw: Mapping[str, Any], key: str) -> list[str]:
    value = raw.get(key)
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else []
        except ValueError:
            raise ConfigError(key, f"{value!r} is not a JSON list") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(key, "must be a list of strings")
    if not value:
        raise ConfigError(key, "must name at least one")
    if len(set(value)) != len(value):
        raise ConfigError(key, "lists an entry more than once")
    return [v.strip() for v in value]


def validate_config(raw: Mapping[str, Any]) -> SourceAccountConfig:
    values = {k.split(":", 1)[1] if k.startswith(f"{NAMESPACE}:") else k: v for k, v in raw.items()}
    unknown = sorted(set(values) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(unknown[0], "is not a setting of the source-account program")
    account_id = values.get("accountId")
    if not isinstance(account_id, str) or not _ACCOUNT_RE.match(account_id.strip()):
        raise ConfigError("accountId", f"{account_id!r} is not a 12-digit AWS account id")
    principals = _list(values, "servicePrincipalArns")
    for arn in principals:
        if not _PRINCIPAL_RE.match(arn):
            raise ConfigError(
                "servicePrincipalArns", f"{arn!r} is not an IAM role or user ARN (never a root)"
            )
    external_id = values.get("externalId")
    if not isinstance(external_id, str) or not _EXTERNAL_ID_RE.match(external_id):
        raise ConfigError(
            "externalId", f"must be 16 to 1224 characters of A-Z a-z 0-9 +=,.@:/- ({EXTERNAL_ID_PATTERN})"
        )
    forensic = _list(values, "forensicAccountIds")
    for account in forensic:
        if not _ACCOUNT_RE.match(account):
            raise ConfigError("forensicAccountIds", f"{account!r} is not a 12-digit AWS account id")
    if account_id.strip() in forensic:
        raise ConfigError("forensicAccountIds", "a source account cannot be its own forensic account")
    return SourceAccountConfig(account_id.strip(), tuple(principals), external_id, tuple(forensic))


def load_config() -> SourceAccountConfig:
    import pulumi  # the pure validator above must not need the engine

    cfg = pulumi.Config(NAMESPACE)
    return validate_config({key: value for key in CONFIG_KEYS if (value := cfg.get(key)) is not None})
