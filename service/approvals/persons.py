"""Who a principal is. The two-person rule counts people, not tokens or chat accounts: every check of "is
this a different person" goes through ``person_of``."""

from __future__ import annotations

import re

from service.auth.service import Principal
from service.config import Settings

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
