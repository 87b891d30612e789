"""The organization program (management or delegated administrator account): one stack, `organization`."""

from __future__ import annotations

import pulumi

from programs.organization.config import load_config
from programs.organization.guardrails import ForensicsOu

# The stack outputs the bootstrap reads.
OUTPUT_NAMES: tuple[str, ...] = ("forensicsOuId", "policyIds", "attachedTargets")


def organization() -> None:
    cfg = load_config()
    outputs = ForensicsOu("forensics", cfg).outputs()
    for name in OUTPUT_NAMES:
        pulumi.export(name, outputs[name])
