"""All forensic clean room rules.

`RULES` / `REGISTRY` hold the plain `Rule` objects (name, description, remediation, check function, kind)
that the unit tests drive directly; `ALL_POLICIES` holds the pulumi_policy policy objects the pack serves.
"""

from __future__ import annotations

from pulumi_policy.policy import Policy

from . import (
    ami,
    compute,
    day_zero,
    dns,
    encryption,
    evidence_trust,
    full_access,
    guardrails,
    iam,
    instance_types,
    network,
    storage,
    tagging,
)
from .base import UNKNOWN, Rule, is_unknown, plain

RULES: list[Rule] = [
    *network.RULES,
    *dns.RULES,
    *compute.RULES,
    *instance_types.RULES,
    *encryption.RULES,
    *storage.RULES,
    *iam.RULES,
    *tagging.RULES,
    *ami.RULES,
    *guardrails.RULES,
    *full_access.RULES,
    *evidence_trust.RULES,
    *day_zero.RULES,
]

REGISTRY: dict[str, Rule] = {rule.name: rule for rule in RULES}
if len(REGISTRY) != len(RULES):  # pragma: no cover - a programming error
    raise RuntimeError("duplicate policy names in the forensic pack")

ALL_POLICIES: list[Policy] = [rule.to_policy() for rule in RULES]

__all__ = ["ALL_POLICIES", "REGISTRY", "RULES", "UNKNOWN", "Rule", "is_unknown", "plain"]
