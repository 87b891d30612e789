"""The memory capture tool the local service stages: the local AWS's stand-in for AVML (``avml_standin.sh``),
pinned to its own SHA-256.

The service knows only its configuration (``FORENSICS_MEMORY_TOOL_PATH`` and ``FORENSICS_MEMORY_TOOL_SHA256``,
README "Memory capture"); the tooling that runs it against the local AWS (``make run``, ``make local-aws``'s
env file, the test suite) gives it this stand-in there, the way an operator gives it an AVML release.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

STANDIN = Path(__file__).resolve().with_name("avml_standin.sh")
PATH_VARIABLE = "FORENSICS_MEMORY_TOOL_PATH"
SHA256_VARIABLE = "FORENSICS_MEMORY_TOOL_SHA256"


def environment() -> dict[str, str]:
    """The stand-in as the service's settings read it from the environment."""
    return {PATH_VARIABLE: str(STANDIN), SHA256_VARIABLE: hashlib.sha256(STANDIN.read_bytes()).hexdigest()}


def configure(env: dict[str, str] | Mapping[str, str]) -> dict[str, str]:
    """The variables to add to ``env`` so the local service stages the stand-in: none when either is already
    set (a tool the operator configured, or half of one, which the service refuses as it would anywhere)."""
    if PATH_VARIABLE in env or SHA256_VARIABLE in env:
        return {}
    return environment()
