"""Least privilege: no wildcard allows, no AWS managed admin policies, separation of duties between roles."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from programs.forensic_env.trust import GRANT_SID_PREFIX, INVESTIGATION_SESSION_TAG

from .action_catalogue import (
    beyond_reading,
    has_wildcard,
    matches_all_of,
    matching,
    reads_only,
    resource_less,
)
from .base import (
    UNKNOWN,
    ReportFn,
    Rule,
    Statement,
    account_condition,
    as_list,
    identifiers,
    is_public_principal,
    is_unknown,
    is_wildcard_action,
    is_wildcard_resource,
    label,
    parse_policy_document,
    principal_values,
    props_of,
    resolve_targets,
    resources_of,
    service_wildcard_grants,
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
# The legacy bucket types take the bucket policy inline too.
INLINE_BUCKET_POLICY_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
KMS_KEY = "aws:kms/key:Key"
KMS_KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
# Every way of attaching a managed policy, and the property holding its ARN(s).
POLICY_ATTACHMENT_TYPES = (
    ROLE_POLICY_ATTACHMENT,
    "aws:iam/policyAttachment:PolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
)
EXCLUSIVE_ATTACHMENTS = "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
MANAGED_POLICY_ARN_PROPS: dict[str, str] = {
    **{rtype: "policyArn" for rtype in POLICY_ATTACHMENT_TYPES},
    ROLE: "managedPolicyArns",
    EXCLUSIVE_ATTACHMENTS: "policyArns",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": "policyArns",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": "policyArns",
    # IAM Identity Center permission sets: whoever is assigned the set gets the policy in the account.
    "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment": "managedPolicyArn",
    "aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive": "managedPolicyArns",
}

ROLE_TAG = "forensics:role"
ROLE_KINDS = ("responder", "investigator", "custodian", "analyst")

_ROOT_PRINCIPAL = re.compile(r"^(arn:aws[a-z-]*:iam::\d{12}:root|\d{12})$")

# AWS managed policies that are admin-equivalent for a clean room, by path/name under `policy/` (matched
# without regard to case or partition). Maintained by hand: add a policy when AWS publishes one that grants
# `*`, IAM or identity administration (a way to grant oneself anything), or control of the network isolation.
ADMIN_EQUIVALENT_MANAGED_POLICIES: dict[str, str] = {
    "AdministratorAccess": "Action '*' on Resource '*'",
    "AdministratorAccess-Amplify": "administers Amplify, CloudFormation and IAM roles it creates and passes",
    "AdministratorAccess-AWSElasticBeanstalk": "creates and passes IAM roles, runs arbitrary CloudFormation",
    "PowerUserAccess": "every action outside IAM and Organizations: internet gateways, every bucket and key",
    "IAMFullAccess": "iam:* lets a principal attach AdministratorAccess to itself",
    "AWSOrganizationsFullAccess": "controls the SCPs that fence the account, and can move it out",
    "AWSSSOMasterAccountAdministrator": "assigns any permission set (AdministratorAccess included) to anyone",
    "AWSSSOMemberAccountAdministrator": "assigns any permission set (AdministratorAccess included) to anyone",
    "AWSSSODirectoryAdministrator": "adds anyone to groups that already hold admin permission sets",
    "job-function/SystemAdministrator": "broad EC2/Lambda/CloudFormation control with iam:PassRole",
    "job-function/NetworkAdministrator": "creates internet and NAT gateways, routes, peering",
}
# Any `...FullAccess` policy is `<service>:*` on `*`: the managed spelling of what iam-no-wildcards refuses in
# an inline policy (AmazonS3FullAccess reads and writes every bucket in and out of the account, for example).
_FULL_ACCESS = re.compile(r"^[\w-]*FullAccess[\w-]*$", re.IGNORECASE)
_AWS_MANAGED_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/(.+)$", re.IGNORECASE)
_ADMIN_NAMES = {name.lower() for name in ADMIN_EQUIVALENT_MANAGED_POLICIES}


# --------------------------------------------------------------------------------------------- wildcards
def _names_root(principal: Any) -> bool:
    return any(isinstance(v, str) and _ROOT_PRINCIPAL.match(v.strip()) for v in principal_values(principal))


# What anyone may do with a signing key's public half: verify signatures offline.
PUBLIC_KEY_READS = frozenset({"kms:getpublickey", "kms:describekey"})


def _org_public_key_read(stmt: Statement, key_policy: bool) -> bool:
    """A key policy's Principal '*' that only reads the public key and is held to one account or
    organization (aws:PrincipalOrgID / aws:PrincipalAccount): how a signing key lets the organization
    verify its statements without naming every role in it."""
    return (
        key_policy
        and bool(stmt.actions)
        and all(isinstance(a, str) and a.strip().lower() in PUBLIC_KEY_READS for a in stmt.actions)
        and account_condition(stmt.condition) not in (None, "unknown")
    )


def _requires_request_tag(condition: Any) -> bool:
    """A Null aws:RequestTag/<key> = false (or StringEquals on one): the call must tag what it creates."""
    if not isinstance(condition, dict):
        return False
    for operator, block in condition.items():
        if not isinstance(operator, str) or not isinstance(block, dict):
            continue
        for key, value in block.items():
            if not isinstance(key, str) or not key.lower().startswith("aws:requesttag/"):
                continue
            if operator.lower() == "null" and all(str(v).lower() == "false" for v in as_list(value)):
                return True
            if operator.lower() == "stringequals" and as_list(value):
                return True
    return False


def _needs_every_resource(stmt: Statement) -> bool:
    """Resource "*" is the only way to allow actions AWS authorizes on no resource type. Accepted for those
    alone when each only reads (describe, list, lookup), or when the statement makes the call tag what it
    creates (kms:CreateKey with an aws:RequestTag condition)."""
    actions = [a for a in stmt.actions if isinstance(a, str) and not is_unknown(a)]
    if not actions or len(actions) != len(stmt.actions) or not all(resource_less(a) for a in actions):
        return False
    return all(reads_only(a) for a in actions) or _requires_request_tag(stmt.condition)


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
    if resource_policy and is_public_principal(stmt.principal) and not _org_public_key_read(stmt, key_policy):
        problems.append(f"{where} allows Principal '*'")
    if key_policy:
        # A key policy names who may use and manage the key: no kms:* for anyone (break-glass gets its
        # actions spelled out), and nothing for the account root, which would hand the key to every IAM admin
        # of the account (they could decrypt frozen disks or schedule the key's deletion).
        problems.extend(f"{where} {problem}" for problem in _key_action_problems(stmt.actions))
        if _names_root(stmt.principal):
            problems.append(
                f"{where} grants the account root (every IAM admin of the account) use of the key"
            )
        return problems
    wildcard_actions = [str(a) for a in stmt.actions if is_wildcard_action(a)]
    if wildcard_actions:
        spelled = "" if wildcard_actions == ["*"] else f" ({', '.join(wildcard_actions)})"
        problems.append(f"{where} allows Action '*'{spelled}")
    wildcard_resources = [str(r) for r in stmt.resources if is_wildcard_resource(r)]
    if wildcard_resources and stmt.resources == ["*"] and _needs_every_resource(stmt):
        wildcard_resources = []
    if wildcard_resources:
        spelled = "" if wildcard_resources == ["*"] else f" ({', '.join(wildcard_resources)})"
        problems.append(f"{where} allows on Resource '*'{spelled}")
    else:
        for grant in service_wildcard_grants(stmt):
            problems.append(
                f"{where} allows {grant}: a service-wide wildcard on every resource of the service"
            )
    return problems


def _key_action_problems(actions: list[Any]) -> list[str]:
    """Wildcards in a key policy, judged by the KMS actions they match: one matching every action is kms:*
    however it is spelled (`kms:?*`, `kms:**`, `*`); one matching any action that does more than read
    (`kms:*Key*` takes in ScheduleKeyDeletion, PutKeyPolicy, Decrypt...) hides what it grants. Wildcards
    over read-only actions (`kms:Describe*`, `kms:List*`) stay allowed."""
    problems: list[str] = []
    for action in actions:
        if not isinstance(action, str) or is_unknown(action) or not has_wildcard(action):
            continue
        matched = matching(action, "kms")
        if matches_all_of(action, "kms"):
            problems.append(f"allows {action} (every KMS action): spell out each principal's key actions")
            continue
        changing = beyond_reading(matched, "kms")
        if changing:
            shown = ", ".join(changing[:6]) + (", ..." if len(changing) > 6 else "")
            problems.append(
                f"allows {action}, which matches {len(changing)} KMS actions beyond reading ({shown}): "
                "spell out each principal's key actions"
            )
    return problems


def _document_problems(value: Any, key_policy: bool = False, resource_policy: bool = False) -> list[str]:
    doc = parse_policy_document(value)
    if doc is UNKNOWN or doc is None:
        return []
    problems: list[str] = []
    for stmt in statements(doc):
        problems.extend(_statement_problems(stmt, key_policy, resource_policy))
    return problems


def _trust_policy_problems(value: Any, person_role: bool = False) -> list[str]:
    """Who may become the role. Never everyone and never an account root (anyone in the account with
    sts:AssumeRole); for the four people's roles, every way in needs MFA or a source identity (the person,
    for CloudTrail) and the investigation's session tag."""
    doc = parse_policy_document(value)
    if doc is UNKNOWN or doc is None:
        return []
    problems: list[str] = []
    for stmt in statements(doc):
        if not stmt.is_allow:
            continue
        if is_public_principal(stmt.principal):
            problems.append("the assume-role policy lets Principal '*' assume the role")
        if _names_root(stmt.principal):
            problems.append("the assume-role policy trusts an account root (anyone in that account)")
        if not person_role or _is_service_principal_only(stmt.principal):
            continue
        if _is_grant(stmt):
            problems.extend(_grant_problems(stmt))
        elif not _person_conditions(stmt):
            problems.append(
                "a person's role is assumable without MFA or a source identity and the "
                "aws:RequestTag/forensics-investigation session tag"
            )
    return problems


_SESSION_TAG_KEY = f"aws:requesttag/{INVESTIGATION_SESSION_TAG}"
# Time-limited access: STS itself refuses the role from the expiry on, whatever becomes of the service.
_EXPIRY_OPERATORS = ("DateLessThan", "DateLessThanEquals")
_TIME_KEYS = ("aws:currenttime", "aws:epochtime")


def _conditions(stmt: Statement) -> list[tuple[str, str, Any]]:
    """(operator, key in lower case, value) for every test in the statement's Condition."""
    condition = stmt.raw.get("Condition")
    if not isinstance(condition, dict):
        return []
    return [
        (str(operator), str(key).lower(), value)
        for operator, block in condition.items()
        if isinstance(block, dict)
        for key, value in block.items()
    ]


def _is_grant(stmt: Statement) -> bool:
    """A just-in-time grant: marked as one by its Sid, limited in time, or naming one particular person
    (standing statements accept any source identity). Each of those alone makes it answer to the grant
    rules, so a grant cannot pass as standing access by dropping its expiry."""
    sid = stmt.raw.get("Sid")
    if isinstance(sid, str) and sid.lower().startswith(GRANT_SID_PREFIX.lower()):
        return True
    for operator, key, _ in _conditions(stmt):
        if key in _TIME_KEYS or operator.startswith("Date"):
            return True
        if key == "sts:sourceidentity" and operator.startswith("String"):
            return True
    return False


def _is_time(value: Any) -> bool:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return True
    if not isinstance(value, str) or not value.strip():
        return False
    try:
        datetime.fromisoformat(value.strip())
    except ValueError:
        return value.strip().isdigit()
    return True


def _grant_problems(stmt: Statement) -> list[str]:
    """A grant must end (DateLessThan on aws:CurrentTime, a time IAM can read), be for one named person (the
    required source identity, so every action of the session carries who did it) and for this
    investigation (the session tag)."""
    sid = stmt.raw.get("Sid")
    where = f"grant {sid!r}" if isinstance(sid, str) else "a just-in-time grant"
    found = _conditions(stmt)
    problems: list[str] = []
    expiries = [v for op, key, v in found if op in _EXPIRY_OPERATORS and key == "aws:currenttime"]
    if not expiries:
        problems.append(f"{where} never expires: it needs a DateLessThan condition on aws:CurrentTime")
    elif not all(_is_time(v) for e in expiries for v in as_list(e)) or not all(as_list(e) for e in expiries):
        problems.append(f"{where} expires at {expiries!r}, which is not a time IAM can compare")
    persons = [v for op, key, v in found if op == "StringEquals" and key == "sts:sourceidentity"]
    named = [as_list(v) for v in persons]
    if not named or any(
        len(values) != 1 or not isinstance(values[0], str) or not values[0].strip() or "*" in values[0]
        for values in named
    ):
        problems.append(
            f"{where} names no one person: it needs StringEquals sts:SourceIdentity with the person's id"
        )
    if not _pins_session_tag(found):
        problems.append(f"{where} lacks the aws:RequestTag/{INVESTIGATION_SESSION_TAG} session tag")
    return problems


def _is_service_principal_only(principal: Any) -> bool:
    return isinstance(principal, dict) and set(principal) == {"Service"}


def _person_conditions(stmt: Statement) -> bool:
    """A standing way into a person's role: MFA really required, or a source identity required, and the
    session tag pinned to a value. Judged by meaning, not by which keys are mentioned."""
    found = _conditions(stmt)
    return (_requires_mfa(found) or _requires_source_identity(found)) and _pins_session_tag(found)


def _values(value: Any) -> list[Any]:
    return as_list(value) if isinstance(value, list | tuple) else [value]


def _requires_mfa(found: list[tuple[str, str, Any]]) -> bool:
    """`Bool aws:MultiFactorAuthPresent true` only: `BoolIfExists` lets long-term keys (no key at all) in,
    and `Null ... true` means the key is absent, which is no MFA."""
    return any(
        op.strip().lower() == "bool"
        and key == "aws:multifactorauthpresent"
        and _values(value)
        and all(str(v).strip().lower() == "true" for v in _values(value))
        for op, key, value in found
    )


def _requires_source_identity(found: list[tuple[str, str, Any]]) -> bool:
    """`Null sts:SourceIdentity false` (it must be set: CloudTrail names the person), or a pinned value."""
    for op, key, value in found:
        if key != "sts:sourceidentity":
            continue
        if op.strip().lower() == "null" and all(str(v).strip().lower() == "false" for v in _values(value)):
            return True
        if _pinned(op, value):
            return True
    return False


def _pins_session_tag(found: list[tuple[str, str, Any]]) -> bool:
    return any(key == _SESSION_TAG_KEY and _pinned(op, value) for op, key, value in found)


def _pinned(operator: str, value: Any) -> bool:
    """A string test that holds for named values only: StringEquals with non-empty values that are not
    patterns; never StringLike (`*` matches anything) nor `...IfExists` (passes when the key is missing)."""
    if operator.strip().lower() != "stringequals":
        return False
    values = _values(value)
    return bool(values) and all(
        isinstance(v, str) and v.strip() != "" and not has_wildcard(v) and not is_unknown(v) for v in values
    )


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
        tags = props.get("tags")
        person = isinstance(tags, dict) and tags.get(ROLE_TAG) in ROLE_KINDS
        found.extend(_trust_policy_problems(props.get("assumeRolePolicy"), person_role=person))
    elif rtype in (ROLE_POLICY, IAM_POLICY, USER_POLICY, GROUP_POLICY):
        found.extend(_document_problems(props.get("policy")))
    elif rtype == BUCKET_POLICY or rtype in INLINE_BUCKET_POLICY_TYPES:
        found.extend(_document_problems(props.get("policy"), resource_policy=True))
    elif rtype in (KMS_KEY, KMS_KEY_POLICY):
        found.extend(_document_problems(props.get("policy"), key_policy=True, resource_policy=True))
    for problem in found:
        report(f"{rtype} '{args.name}': {problem}")


# ------------------------------------------------------------------------------------- managed admin
def managed_admin_reason(arn: Any) -> str | None:
    """Why an AWS managed policy ARN is refused (admin-equivalent or a *FullAccess wildcard), else None."""
    if not isinstance(arn, str) or is_unknown(arn):
        return None
    match = _AWS_MANAGED_POLICY_ARN.match(arn.strip())
    if match is None:
        return None
    path = match.group(1)
    if path.lower() in _ADMIN_NAMES:
        name = next(n for n in ADMIN_EQUIVALENT_MANAGED_POLICIES if n.lower() == path.lower())
        return f"admin-equivalent: {ADMIN_EQUIVALENT_MANAGED_POLICIES[name]}"
    if path.rsplit("/", 1)[-1].lower().startswith("administratoraccess"):  # AdministratorAccess-<service>
        return "admin-equivalent: an AdministratorAccess variant"
    if _FULL_ACCESS.match(path.rsplit("/", 1)[-1]):
        return "a *FullAccess policy: every action of a service on every resource"
    return None


def is_managed_admin_policy(arn: Any) -> bool:
    return managed_admin_reason(arn) is not None


def check_no_aws_managed_admin(args: Any, report: ReportFn) -> None:
    prop = MANAGED_POLICY_ARN_PROPS.get(args.resource_type)
    if prop is None:
        return
    value = props_of(args).get(prop)
    for arn in [] if is_unknown(value) else as_list(value):
        reason = managed_admin_reason(arn)
        if reason:
            report(f"{args.resource_type} '{args.name}' attaches the AWS managed policy {arn} ({reason})")


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
        description="IAM, bucket and key policies have no Allow with Action '*', Resource '*' (or an ARN "
        "matching everything), a service's every action on all its resources (s3:* on arn:aws:s3:::*), "
        "NotAction or NotResource (Deny statements are exempt; Resource '*' is accepted for actions AWS "
        "authorizes on no resource type, when they only read or the statement requires an aws:RequestTag); "
        "key policies grant no kms:* and nothing "
        "to an account root; trust policies never name an account root, and the four people's roles need "
        "MFA or a source identity plus the investigation's session tag; a just-in-time grant (Sid "
        f"{GRANT_SID_PREFIX}..., a time condition or a named source identity) needs DateLessThan on "
        "aws:CurrentTime, StringEquals sts:SourceIdentity for one person, and the session tag.",
        remediation="list the exact actions and resource ARNs each statement needs; express broad "
        "restrictions as Deny statements",
        check=check_iam_no_wildcards,
        resource_types=(
            ROLE,
            ROLE_POLICY,
            IAM_POLICY,
            USER_POLICY,
            GROUP_POLICY,
            BUCKET_POLICY,
            *INLINE_BUCKET_POLICY_TYPES,
            KMS_KEY,
        ),
    ),
    Rule(
        name="no-aws-managed-admin",
        description="No admin-equivalent AWS managed policy (AdministratorAccess, PowerUserAccess, "
        "IAMFullAccess, the SSO administrator and network/system administrator job functions...) and no "
        "*FullAccess policy is attached to anything, through any attachment type (role, user, group, "
        "policy attachments, their exclusive forms, a role's managedPolicyArns, Identity Center permission "
        "sets).",
        remediation="replace the managed policy with a least-privilege inline RolePolicy",
        check=check_no_aws_managed_admin,
        resource_types=tuple(MANAGED_POLICY_ARN_PROPS),
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
