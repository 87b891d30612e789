"""Which kind of stack the pack judges: a clean room (the default) or a day-zero stack (service/bootstrap).
The service says so through the engine child's environment, never the program (a clean room cannot claim to
be a baseline to shed the investigation tags)."""

from __future__ import annotations

import os

ENV_STACK_KIND = "FORENSICS_POLICY_STACK_KIND"
DAY_ZERO = "day-zero"


def is_day_zero() -> bool:
    return os.environ.get(ENV_STACK_KIND) == DAY_ZERO
