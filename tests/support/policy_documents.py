"""IAM policy documents as the tests read them, in whatever shape IAM or a program hands them over: JSON text
or parsed, one statement or a list of them, one value or a list of values (IAM accepts each)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from programs.forensic_env.trust import GRANT_SID_PREFIX


def as_list(value: Any) -> list[Any]:
    """A policy element (an Action, a Resource, a condition's values) as a list."""
    return value if isinstance(value, list) else [value]


def parsed(document: str | Mapping[str, Any]) -> dict[str, Any]:
    """A policy document, parsed when IAM hands it over as JSON text."""
    return dict(json.loads(document) if isinstance(document, str) else document)


def statements_of(document: str | Mapping[str, Any]) -> list[dict[str, Any]]:
    """A document's statements, as a list even where the document holds one."""
    return as_list(parsed(document)["Statement"])


def trust_statements(iam: Any, role_arn: str) -> list[dict[str, Any]]:
    """The statements of a role's trust policy as IAM holds it."""
    role = iam.get_role(RoleName=role_arn.rsplit("/", 1)[1])["Role"]
    return statements_of(role["AssumeRolePolicyDocument"])


def grant_statements(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The just-in-time grants among a trust policy's statements (programs/forensic_env/trust.py)."""
    return [s for s in found if str(s.get("Sid", "")).startswith(GRANT_SID_PREFIX)]
