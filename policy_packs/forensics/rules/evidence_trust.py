"""The evidence role of a source account is trusted only by the service's named principals, and only with
the external id (so nobody else can point the service, or the role, at that account)."""

from __future__ import annotations

from typing import Any

from programs.source_account.permissions import EVIDENCE_ROLE_NAME

from .action_catalogue import has_wildcard
from .base import (
    ReportFn,
    Rule,
    get,
    is_unknown,
    parse_policy_document,
    props_of,
    statements,
)

ROLE = "aws:iam/role:Role"
PURPOSE_TAG = ("forensics:purpose", "evidence-acquisition")
_NAMED_PRINCIPAL = ("role/", "user/")


def _is_evidence_role(props: dict[str, Any]) -> bool:
    tags = props.get("tags")
    tagged = isinstance(tags, dict) and tags.get(PURPOSE_TAG[0]) == PURPOSE_TAG[1]
    return tagged or props.get("name") == EVIDENCE_ROLE_NAME


def _external_id(condition: Any) -> Any:
    if not isinstance(condition, dict):
        return None
    for operator, block in condition.items():
        if isinstance(operator, str) and operator.lower() == "stringequals" and isinstance(block, dict):
            for key, value in block.items():
                if isinstance(key, str) and key.lower() == "sts:externalid":
                    return value
    return None


def _problems(statement: Any) -> list[str]:
    problems: list[str] = []
    principal = statement.principal
    if not isinstance(principal, dict) or set(principal) != {"AWS"}:
        problems.append(f"trusts {principal!r}: only the service's IAM roles or users (Principal AWS) may")
    else:
        for arn in principal["AWS"] if isinstance(principal["AWS"], list) else [principal["AWS"]]:
            if is_unknown(arn):
                continue
            if not isinstance(arn, str) or has_wildcard(arn) or not any(p in arn for p in _NAMED_PRINCIPAL):
                problems.append(f"trusts {arn!r}, not a named role or user of the service")
    external_id = _external_id(statement.condition)
    values = external_id if isinstance(external_id, list) else [external_id]
    if (
        external_id is None
        or not values
        or any(not is_unknown(v) and (not isinstance(v, str) or not v or has_wildcard(v)) for v in values)
    ):
        problems.append("can be assumed without StringEquals sts:ExternalId (an exact external id)")
    return problems


def check_evidence_role_trust(args: Any, report: ReportFn) -> None:
    if args.resource_type != ROLE:
        return
    props = props_of(args)
    if not _is_evidence_role(props):
        return
    doc = parse_policy_document(get(props, "assumeRolePolicy"))
    if not isinstance(doc, dict):
        return
    for statement in statements(doc):
        if statement.is_allow:
            for problem in _problems(statement):
                report(f"evidence role '{args.name}' {problem}")


RULES = [
    Rule(
        name="evidence-role-trust",
        description=f"The evidence role of a source account ({EVIDENCE_ROLE_NAME}, or tagged "
        f"{PURPOSE_TAG[0]}={PURPOSE_TAG[1]}) trusts only named IAM roles or users of the service, each "
        "way in conditioned on StringEquals sts:ExternalId with an exact value.",
        remediation="trust only the service's principals (servicePrincipalArns) with the externalId "
        "condition (programs/source_account/permissions.py evidence_trust)",
        check=check_evidence_role_trust,
        resource_types=(ROLE,),
    ),
]
