"""Least privilege: no wildcard allows, no AWS managed admin policies, separation of duties between roles."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any

from .base import (
    UNKNOWN,
    ReportFn,
    Rule,
    Statement,
    as_list,
    identifiers,
    is_unknown,
    label,
    parse_policy_document,
    props_of,
    resolve_targets,
    resources_of,
    statements,
    target_key,
    urn_of,
)

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_POLICY = "aws:iam/policy:Policy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
KMS_KEY = "aws:kms/key:Key"
KMS_KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY_ATTACHMENT_TYPES = (
    ROLE_POLICY_ATTACHMENT,
    "aws:iam/policyAttachment:PolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
)
EXCLUSIVE_ATTACHMENTS = "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"

ROLE_TAG = "forensics:role"
ROLE_KINDS = ("responder", "investigator", "custodian", "analyst")

_ROOT_PRINCIPAL = re.compile(r"^(arn:aws[a-z-]*:iam::\d{12}:root|\d{12})$")
_MANAGED_ADMIN = re.compile(
    r"^arn:aws[a-z-]*:iam::aws:policy/(?:[\w+=,.@-]+/)*"
    r"(AdministratorAccess[\w-]*|PowerUserAccess|IAMFullAccess|[\w-]*FullAccess[\w-]*)$"
)
_WILDCARD_ACTIONS = ("*", "*:*")


# --------------------------------------------------------------------------------------------- wildcards
def _principal_values(principal: Any) -> list[Any]:
    if isinstance(principal, dict):
        values: list[Any] = []
        for value in principal.values():
            values.extend(as_list(value))
        return values
    return as_list(principal)


def _is_public_principal(principal: Any) -> bool:
    return any(v == "*" for v in _principal_values(principal))


def _only_root_principal(principal: Any) -> bool:
    values = _principal_values(principal)
    if not values:
        return False
    return all(isinstance(v, str) and _ROOT_PRINCIPAL.match(v) is not None for v in values)


def _statement_problems(stmt: Statement, key_policy: bool, resource_policy: bool) -> list[str]:
    if not stmt.is_allow:
        return []  # Deny statements are exempt: a deny-all is how the service freezes access
    problems: list[str] = []
    sid = stmt.raw.get("Sid") or stmt.raw.get("sid")
    where = f"statement {sid!r}" if isinstance(sid, str) else "an Allow statement"
    if stmt.not_actions:
        problems.append(f"{where} uses NotAction in an Allow")
    if stmt.not_resources:
        problems.append(f"{where} uses NotResource in an Allow")
    if resource_policy and _is_public_principal(stmt.principal):
        problems.append(f"{where} allows Principal '*'")
    wildcard_actions = [a for a in stmt.actions if a in _WILDCARD_ACTIONS]
    if key_policy:
        service_wide = [a for a in stmt.actions if isinstance(a, str) and a.lower() in ("*", "*:*", "kms:*")]
        if service_wide and not _only_root_principal(stmt.principal):
            problems.append(
                f"{where} allows {', '.join(service_wide)} to a principal other than the account root"
            )
    else:
        if wildcard_actions:
            problems.append(f"{where} allows Action '*'")
        if "*" in stmt.resources:
            problems.append(f"{where} allows on Resource '*'")
    return problems


def _document_problems(value: Any, key_policy: bool = False, resource_policy: bool = False) -> list[str]:
    doc = parse_policy_document(value)
    if doc is UNKNOWN or doc is None:
        return []
    problems: list[str] = []
    for stmt in statements(doc):
        problems.extend(_statement_problems(stmt, key_policy, resource_policy))
    return problems


def _trust_policy_problems(value: Any) -> list[str]:
    doc = parse_policy_document(value)
    if doc is UNKNOWN or doc is None:
        return []
    return [
        "the assume-role policy lets Principal '*' assume the role"
        for stmt in statements(doc)
        if stmt.is_allow and _is_public_principal(stmt.principal)
    ]


def check_iam_no_wildcards(args: Any, report: ReportFn) -> None:
    props = props_of(args)
    rtype = args.resource_type
    found: list[str] = []
    if rtype == ROLE:
        inline = props.get("inlinePolicies")
        if not is_unknown(inline):
            for item in as_list(inline):
                if isinstance(item, dict):
                    name = item.get("name")
                    for problem in _document_problems(item.get("policy")):
                        found.append(f"inline policy {name!r}: {problem}")
        found.extend(_trust_policy_problems(props.get("assumeRolePolicy")))
    elif rtype in (ROLE_POLICY, IAM_POLICY, USER_POLICY, GROUP_POLICY):
        found.extend(_document_problems(props.get("policy")))
    elif rtype == BUCKET_POLICY:
        found.extend(_document_problems(props.get("policy"), resource_policy=True))
    elif rtype in (KMS_KEY, KMS_KEY_POLICY):
        found.extend(_document_problems(props.get("policy"), key_policy=True, resource_policy=True))
    for problem in found:
        report(f"{rtype} '{args.name}': {problem}")


# ------------------------------------------------------------------------------------- managed admin
def is_managed_admin_policy(arn: Any) -> bool:
    return isinstance(arn, str) and not is_unknown(arn) and _MANAGED_ADMIN.match(arn.strip()) is not None


def check_no_aws_managed_admin(args: Any, report: ReportFn) -> None:
    props = props_of(args)
    rtype = args.resource_type
    arns: list[Any] = []
    if rtype in POLICY_ATTACHMENT_TYPES:
        arns = [props.get("policyArn")]
    elif rtype == ROLE:
        arns = as_list(props.get("managedPolicyArns"))
    elif rtype == EXCLUSIVE_ATTACHMENTS:
        arns = as_list(props.get("policyArns"))
    for arn in arns:
        if is_managed_admin_policy(arn):
            report(f"{rtype} '{args.name}' attaches the AWS managed policy {arn}")


# -------------------------------------------------------------------------------- separation of duties
S3_DELETES = ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:DeleteBucket")
LOCK_MANAGEMENT = ("s3:PutObjectRetention", "s3:PutObjectLegalHold")
NOBODY = ("s3:BypassGovernanceRetention", "s3:PutBucketObjectLockConfiguration", "s3:DeleteBucket")

FORBIDDEN_ACTIONS: dict[str, tuple[str, ...]] = {
    "responder": (*S3_DELETES, *LOCK_MANAGEMENT, *NOBODY),
    "investigator": (*S3_DELETES, *LOCK_MANAGEMENT, *NOBODY),
    "analyst": ("s3:PutObject", *S3_DELETES, *LOCK_MANAGEMENT, *NOBODY),
    "custodian": NOBODY,
}
ANALYST_READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")
ANALYST_READ_PREFIX = "active-investigation/reports/"


@dataclass
class _RoleInfo:
    resource: Any
    kind: str | None
    statements: list[tuple[str, Statement]] = field(default_factory=list)


def role_kind(resource: Any) -> str | None:
    """The forensic duty of a role: its `forensics:role` tag (any value; only the four duties are checked),
    else a duty word in its name."""
    props = props_of(resource)
    for key in ("tags", "tagsAll"):
        tags = props.get(key)
        if isinstance(tags, dict):
            value = tags.get(ROLE_TAG)
            if isinstance(value, str) and not is_unknown(value):
                return value.strip().lower()
    names = [props.get("name"), getattr(resource, "name", None)]
    for name in names:
        if isinstance(name, str) and not is_unknown(name):
            low = name.lower()
            for kind in ROLE_KINDS:
                if kind in low:
                    return kind
    return None


def _grants(patterns: list[Any], action: str) -> bool:
    target = action.lower()
    return any(
        isinstance(p, str) and not is_unknown(p) and fnmatch.fnmatchcase(target, p.lower()) for p in patterns
    )


def _object_key_pattern(resource: str) -> str | None:
    """`arn:aws:s3:::bucket/key/*` -> `key/*`; bucket ARNs (no object part) -> None."""
    if resource == "*":
        return "*"
    match = re.match(r"^arn:aws[a-z-]*:s3:::[^/]+/(.*)$", resource)
    return match.group(1) if match else None


def _analyst_read_problem(stmt: Statement) -> str | None:
    if not any(_grants(stmt.actions, a) for a in ANALYST_READ_ACTIONS):
        return None
    if stmt.not_resources:
        return "s3:GetObject with NotResource"
    bad: list[str] = []
    for resource in stmt.resources:
        if not isinstance(resource, str) or is_unknown(resource):
            continue
        key = _object_key_pattern(resource)
        if resource.startswith("arn:") and ":s3:::" not in resource:
            continue  # not an S3 ARN: GetObject does not apply
        if key is None and resource != "*":
            continue  # a bucket ARN: GetObject grants nothing on it
        if key is not None and key.startswith(ANALYST_READ_PREFIX):
            continue
        bad.append(resource)
    if bad:
        return f"s3:GetObject on {', '.join(bad)} (analysts may read only {ANALYST_READ_PREFIX}*)"
    return None


def check_separation_of_duties(args: Any, report: ReportFn) -> None:
    roles = resources_of(args, ROLE)
    if not roles:
        return
    infos = {target_key(r): _RoleInfo(r, role_kind(r)) for r in roles}
    role_ids = {target_key(r): identifiers(props_of(r), "name", "id", "arn") for r in roles}

    for role in roles:
        props = props_of(role)
        inline = props.get("inlinePolicies")
        for item in as_list(inline) if not is_unknown(inline) else []:
            if isinstance(item, dict):
                doc = parse_policy_document(item.get("policy"))
                for stmt in statements(doc):
                    infos[target_key(role)].statements.append((f"inline policy {item.get('name')!r}", stmt))

    for role_policy in resources_of(args, ROLE_POLICY):
        matched, _ = resolve_targets(role_policy, "role", roles, role_ids)
        doc = parse_policy_document(props_of(role_policy).get("policy"))
        for role in matched:
            for stmt in statements(doc):
                infos[target_key(role)].statements.append((label(role_policy), stmt))

    policies = resources_of(args, IAM_POLICY)
    policy_ids = {target_key(p): identifiers(props_of(p), "arn", "id") for p in policies}
    for attachment in resources_of(args, ROLE_POLICY_ATTACHMENT):
        matched_roles, _ = resolve_targets(attachment, "role", roles, role_ids)
        matched_policies, _ = resolve_targets(attachment, "policyArn", policies, policy_ids)
        for policy in matched_policies:
            doc = parse_policy_document(props_of(policy).get("policy"))
            for role in matched_roles:
                for stmt in statements(doc):
                    infos[target_key(role)].statements.append((label(policy), stmt))

    for info in infos.values():
        role = info.resource
        if info.kind is None:
            continue
        if info.kind not in ROLE_KINDS:
            continue  # not one of the four duties (e.g. the workstation's instance role)
        forbidden = FORBIDDEN_ACTIONS[info.kind]
        for source, stmt in info.statements:
            if not stmt.is_allow:
                continue
            if stmt.not_actions:
                report(f"{info.kind} role {label(role)}: {source} allows NotAction", urn_of(role))
                continue
            granted = [a for a in forbidden if _grants(stmt.actions, a)]
            if granted:
                report(
                    f"{info.kind} role {label(role)}: {source} allows {', '.join(granted)}, "
                    f"which the {info.kind} duty must not have",
                    urn_of(role),
                )
            if info.kind == "analyst":
                problem = _analyst_read_problem(stmt)
                if problem:
                    report(f"analyst role {label(role)}: {source} allows {problem}", urn_of(role))


RULES = [
    Rule(
        name="iam-no-wildcards",
        description="IAM, bucket and key policies have no Allow with Action '*', Resource '*', NotAction or "
        "NotResource (Deny statements are exempt; key policies may grant kms:* only to the account root).",
        remediation="list the exact actions and resource ARNs each statement needs; express broad "
        "restrictions as Deny statements",
        check=check_iam_no_wildcards,
        resource_types=(ROLE, ROLE_POLICY, IAM_POLICY, USER_POLICY, GROUP_POLICY, BUCKET_POLICY, KMS_KEY),
    ),
    Rule(
        name="no-aws-managed-admin",
        description="No AWS managed admin policy (AdministratorAccess, PowerUserAccess, IAMFullAccess or any "
        "*FullAccess) is attached to anything.",
        remediation="replace the managed policy with a least-privilege inline RolePolicy",
        check=check_no_aws_managed_admin,
        resource_types=(ROLE, EXCLUSIVE_ATTACHMENTS, *POLICY_ATTACHMENT_TYPES),
    ),
    Rule(
        name="separation-of-duties",
        description="Forensic duties stay separate: analysts read only reports, investigators and responders "
        "cannot delete or change retention, only the custodian manages legal hold and retention, and nobody "
        "may bypass governance retention, change Object Lock configuration or delete the bucket.",
        remediation=(
            f"tag each role with {ROLE_TAG}=<responder|investigator|custodian|analyst> and remove the "
            "listed actions from its policies (legal hold/retention belong to the custodian only)"
        ),
        check=check_separation_of_duties,
        kind="stack",
        resource_types=(ROLE, ROLE_POLICY, ROLE_POLICY_ATTACHMENT, IAM_POLICY),
    ),
]
