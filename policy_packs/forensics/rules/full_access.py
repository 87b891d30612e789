"""No identity, resource, key or organization policy anywhere Allows every action (`*`, `*:*`): whatever
the resource, that is administrator access (or, as an SCP, the lifting of every guardrail)."""

from __future__ import annotations

from typing import Any

from .base import (
    ReportFn,
    Rule,
    as_list,
    is_unknown,
    is_wildcard_action,
    parse_policy_document,
    props_of,
    statements,
)

# Resource type -> the properties holding policy documents.
DOCUMENT_PROPS: dict[str, tuple[str, ...]] = {
    "aws:iam/role:Role": ("assumeRolePolicy",),
    "aws:iam/rolePolicy:RolePolicy": ("policy",),
    "aws:iam/policy:Policy": ("policy",),
    "aws:iam/userPolicy:UserPolicy": ("policy",),
    "aws:iam/groupPolicy:GroupPolicy": ("policy",),
    "aws:s3/bucketPolicy:BucketPolicy": ("policy",),
    "aws:kms/key:Key": ("policy",),
    "aws:kms/keyPolicy:KeyPolicy": ("policy",),
    "aws:organizations/policy:Policy": ("content",),
}


def _full_access(value: Any) -> list[str]:
    doc = parse_policy_document(value)
    if not isinstance(doc, dict):
        return []
    found: list[str] = []
    for stmt in statements(doc):
        if stmt.is_allow:
            found.extend(str(a) for a in stmt.actions if is_wildcard_action(a))
    return found


def check_no_full_access(args: Any, report: ReportFn) -> None:
    props = props_of(args)
    documents: list[tuple[str, Any]] = [(p, props.get(p)) for p in DOCUMENT_PROPS.get(args.resource_type, ())]
    if args.resource_type == "aws:iam/role:Role" and not is_unknown(props.get("inlinePolicies")):
        for item in as_list(props.get("inlinePolicies")):
            if isinstance(item, dict):
                documents.append((f"inline policy {item.get('name')!r}", item.get("policy")))
    for where, value in documents:
        for action in _full_access(value):
            report(f"{args.resource_type} '{args.name}': {where} Allows every action ({action!r})")


RULES = [
    Rule(
        name="no-full-access-allow",
        description="No policy document (IAM, bucket, key, organizations SCP) has an Allow of every action "
        "('*' or '*:*'), on any resource.",
        remediation="list the exact actions needed; an SCP guards with Deny statements (AWS's own "
        "FullAWSAccess stays the only Allow)",
        check=check_no_full_access,
        resource_types=tuple(DOCUMENT_PROPS),
    ),
]
