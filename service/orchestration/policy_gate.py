"""The policy gate every deployment passes: which packs judge an operation, and whether they can be loaded.

The forensics pack is mandatory for the forensic program (``Settings.policy_packs`` always holds it first);
configuration only adds packs. A service whose packs cannot be loaded refuses to start, rather than finding
out at the first deployment (or, worse, deploying with fewer checks).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from service.config import FORENSICS_POLICY_PACK, Settings, with_forensics_pack

PACK_MANIFEST = "PulumiPolicy.yaml"


def packs_for(settings: Settings, requested: list[str], *, forensic_program: bool) -> list[str]:
    """The packs an operation runs under. The forensic program: the settings' packs (forensics first) plus
    any the request adds. Another program (a test fixture's) may name its own packs instead."""
    if requested and not forensic_program:
        return list(requested)
    packs = with_forensics_pack([*settings.policy_packs, *(Path(p) for p in requested)])
    return [str(p) for p in packs]


def load_problems(settings: Settings) -> list[str]:
    """Why the configured packs cannot judge a deployment (empty: they can)."""
    problems = []
    for pack in settings.policy_packs:
        if not (Path(pack) / PACK_MANIFEST).is_file():
            problems.append(f"policy pack {pack} has no {PACK_MANIFEST}: it cannot be loaded")
    try:
        module = importlib.import_module("policy_packs.forensics.pack")
        policies = module.pack_kwargs()["policies"]
    except Exception as exc:  # whatever breaks the import breaks the engine's load of the pack too
        problems.append(f"the forensics policy pack ({FORENSICS_POLICY_PACK}) cannot be loaded: {exc!r}")
    else:
        if not policies:
            problems.append(f"the forensics policy pack ({FORENSICS_POLICY_PACK}) holds no policies")
    return problems
