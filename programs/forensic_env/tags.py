"""The common tags every taggable resource of a clean room carries (docs/contracts.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from programs.forensic_env.config import EnvironmentConfig

TAG_INVESTIGATION = "forensics:investigation-id"
TAG_TICKET = "forensics:ticket"
TAG_MANAGED_BY = "managed-by"
MANAGED_BY = "forensic-cleanroom"
TAG_TTL_HOURS = "forensics:ttl-hours"
TAG_READ_ONLY = "forensics:read-only"

# Keys the program owns; config `tags` may not override them.
RESERVED_TAG_KEYS: tuple[str, ...] = (TAG_INVESTIGATION, TAG_TICKET, TAG_MANAGED_BY, TAG_TTL_HOURS)


def common_tags(cfg: EnvironmentConfig) -> dict[str, str]:
    """Config `tags` first, then the program's own keys (validation already refuses overlaps)."""
    tags = dict(cfg.tags)
    tags.update(
        {
            TAG_INVESTIGATION: cfg.investigation_id,
            TAG_TICKET: cfg.ticket,
            TAG_MANAGED_BY: MANAGED_BY,
            TAG_TTL_HOURS: str(cfg.ttl_hours),
        }
    )
    return tags


def tags_for(
    cfg: EnvironmentConfig, name: str | None = None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Common tags plus a `Name` (when given) and resource-specific extras."""
    tags = common_tags(cfg)
    if name:
        tags["Name"] = name
    tags.update(extra or {})
    return tags
