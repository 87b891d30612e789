"""Who a principal is. The two-person rule counts people, not tokens or chat accounts: every check of "is
this a different person" goes through ``person_of``, and whoever asks for what needs a second person, or
decides it, must be one of the configured people (``require_person``): an unmapped token or chat account
would otherwise count as a second person while being the requester under another name.

The people are the persons ``person_aliases`` maps to and those ``person_principals`` names. A principal is
one of them when its name (a chat principal: its user id) is an alias, or is a person's own id. A service
principal (a token for a machine, named ``service:<name>``) is nobody: it never asks for or decides what
needs a person."""

from __future__ import annotations

import re

from service.auth.service import Principal
from service.config import Settings
from service.errors import Forbidden, InvalidInput

# Tokens for machines (an integration, a pipeline) are named with this prefix: not a person.
SERVICE_PRINCIPAL_PREFIX = "service:"

# How service/integrations/slack.py names a chat user: slack:<user id>(<display name>).
_CHAT_PRINCIPAL = re.compile(r"^slack:(?P<user>[^()\s]+)(?:\(.*\))?$")


def person_of(settings: Settings, principal: Principal | str) -> str:
    """The person id behind a principal (or a principal name): ``person_aliases`` maps token principals,
    chat user ids and chat principals to one person; an unmapped principal is its own person. A chat user
    is known by their user id: the display name in the principal is theirs to change."""
    name = principal.name if isinstance(principal, Principal) else principal
    aliases = settings.person_aliases
    if name in aliases:
        return aliases[name]
    chat = _CHAT_PRINCIPAL.match(name)
    if chat is None:
        return name
    user = chat.group("user")
    return aliases.get(f"slack:{user}") or aliases.get(user) or f"slack:{user}"


def people(settings: Settings) -> frozenset[str]:
    """The configured people: every person the aliases map to, and every person with an AWS principal."""
    return frozenset(settings.person_aliases.values()) | frozenset(settings.person_principals)


def known_person(settings: Settings, principal: Principal | str) -> str | None:
    """The configured person behind a principal, or None when it maps to nobody configured."""
    name = principal.name if isinstance(principal, Principal) else principal
    if name.startswith(SERVICE_PRINCIPAL_PREFIX):
        return None
    aliases = settings.person_aliases
    if name in aliases:
        return aliases[name]
    chat = _CHAT_PRINCIPAL.match(name)
    if chat is not None:
        user = chat.group("user")
        mapped = aliases.get(f"slack:{user}") or aliases.get(user)
        if mapped is not None:
            return mapped
        name = f"slack:{user}"
    return name if name in people(settings) else None


def is_service_principal(name: str) -> bool:
    return name.startswith(SERVICE_PRINCIPAL_PREFIX) and len(name) > len(SERVICE_PRINCIPAL_PREFIX)


def require_token_principal(settings: Settings, name: str) -> None:
    """Tokens are minted for people (so that a token is always someone the two-person rule can count) or
    for service principals, never for a name nobody configured."""
    if is_service_principal(name) or known_person(settings, name) is not None:
        return
    raise InvalidInput(
        f"{name} is neither a configured person nor a service principal: map it to a person in "
        f"FORENSICS_PERSON_ALIASES (or FORENSICS_PERSON_PRINCIPALS), or name a machine's token "
        f"{SERVICE_PRINCIPAL_PREFIX}<name>",
        details={"fields": [{"field": "principal", "message": "not a configured person", "type": "person"}]},
    )


def require_person(settings: Settings, principal: Principal, doing: str) -> str:
    """The person behind ``principal``; refused (403) when it is none of the configured people, since the
    two-person rule cannot tell whether it is the other person or the same one under another name."""
    person = known_person(settings, principal)
    if person is None:
        raise Forbidden(
            f"{principal.name} is not mapped to a person, so it cannot {doing}: the two-person rule counts "
            "people. An operator maps it in FORENSICS_PERSON_ALIASES (or FORENSICS_PERSON_PRINCIPALS)",
            details={"principal": principal.name, "rule": "two_person"},
        )
    return person
