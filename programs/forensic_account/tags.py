"""Tags of every day-zero resource: what made it, and that it is part of the baseline (not a clean room)."""

from __future__ import annotations

from programs.forensic_env.tags import MANAGED_BY, TAG_MANAGED_BY

TAG_BASELINE = "forensics:baseline"


def baseline_tags(part: str, name: str | None = None) -> dict[str, str]:
    tags = {TAG_MANAGED_BY: MANAGED_BY, TAG_BASELINE: part}
    if name:
        tags["Name"] = name
    return tags
