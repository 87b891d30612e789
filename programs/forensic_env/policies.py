"""Small helpers for IAM policy documents (JSON built from Outputs)."""

from __future__ import annotations

import json
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


def plain_document(statements: Sequence[Statement]) -> str:
    """A policy document of plain values (no Outputs), as JSON: known at preview, so the policy pack judges
    it before anything is created."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(sid: str, actions: Sequence[str], resources: Sequence[Any], **extra: Any) -> Statement:
    statement: Statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": list(actions),
        "Resource": list(resources),
    }
    statement.update(extra)
    return statement


def principal_account(account_id: str) -> dict[str, Any]:
    """The condition that limits a resource policy's statement to principals of one account."""
    return {"StringEquals": {"aws:PrincipalAccount": account_id}}


def assume_role(principal: dict[str, Any], condition: dict[str, Any] | None = None) -> pulumi.Output[str]:
    statement: Statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return document([statement])
