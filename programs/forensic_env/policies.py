"""Small helpers for IAM policy documents (JSON built from Outputs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

Statement = dict[str, Any]

# The only wildcard statement the program writes: a Deny of everything (the frozen state). Deny statements are
# exempt from the "no `*` action / resource" rule, which is about what a role is *allowed* to do.
DENY_ALL: Statement = {"Sid": "FrozenDenyAll", "Effect": "Deny", "Action": "*", "Resource": "*"}


def document(statements: Sequence[Statement]) -> pulumi.Output[str]:
    """A policy document; statements may hold Outputs anywhere."""
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(sid: str, actions: Sequence[str], resources: Sequence[Any], **extra: Any) -> Statement:
    statement: Statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": list(actions),
        "Resource": list(resources),
    }
    statement.update(extra)
    return statement


def assume_role(principal: dict[str, Any], condition: dict[str, Any] | None = None) -> pulumi.Output[str]:
    statement: Statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return document([statement])
