"""Builds the `forensic-cleanroom` policy pack. `__main__.py` calls `build_pack()`; tests use `pack_kwargs()`.

Constructing a `PolicyPack` starts the analyzer's gRPC server and blocks, so only the engine should do it.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, PolicyPack

from .rules import ALL_POLICIES

PACK_NAME = "forensic-cleanroom"
PACK_DESCRIPTION = (
    "Mandatory guardrails for per-investigation forensic clean rooms: isolation (fenced VPC endpoints "
    "included), encryption, evidence integrity, least privilege, tagging and golden AMI freshness."
)


def pack_kwargs() -> dict[str, Any]:
    return {
        "name": PACK_NAME,
        "policies": list(ALL_POLICIES),
        "enforcement_level": EnforcementLevel.MANDATORY,
        "description": PACK_DESCRIPTION,
        "provider": "aws",
    }


def build_pack(factory: Any = PolicyPack) -> Any:
    """Builds (and, with the real PolicyPack, serves) the pack."""
    return factory(**pack_kwargs())
