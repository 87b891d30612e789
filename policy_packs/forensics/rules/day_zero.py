"""Rules for the day-zero programs (programs/forensic_account): every role the deploy role can create carries
the permissions boundary, nobody may remove one, and the account's trail validates its log files and covers
every region. (No `*:*` and no admin-equivalent managed policy: iam-no-wildcards and no-aws-managed-admin,
which judge every policy of every stack.)"""

from __future__ import annotations

import os
import re
from typing import Any

from .action_catalogue import has_wildcard, matching
from .base import (
    ReportFn,
    Rule,
    as_bool,
    as_list,
    is_unknown,
    parse_policy_document,
    props_of,
    statements,
)
from .base import Statement as PolicyStatement
from .iam import GROUP_POLICY, IAM_POLICY, ROLE, ROLE_POLICY, USER_POLICY

TRAIL = "aws:cloudtrail/trail:Trail"
# The permissions boundary the account's deploy role requires of every role it creates, as the service
# declares it for the stack (never the program).
ENV_PERMISSIONS_BOUNDARY = "FORENSICS_POLICY_PERMISSIONS_BOUNDARY"
# Granting either lets a principal give a role its permissions: both must pin the boundary.
BOUNDED_ACTIONS = ("CreateRole", "PutRolePermissionsBoundary")
# Granting this lets a principal lift a boundary: never allowed.
UNBOUNDING_ACTIONS = ("DeleteRolePermissionsBoundary",)
_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:policy/[A-Za-z0-9_+=,.@/-]+$")


def _grants(stmt: PolicyStatement, names: tuple[str, ...]) -> list[str]:
    """The IAM actions among `names` the statement's Action patterns match (wildcards judged by the
    catalogue: `iam:*`, `iam:Create*`, `*` all count)."""
    found: list[str] = []
    for action in stmt.actions:
        if not isinstance(action, str) or is_unknown(action):
            continue
        text = action.strip()
        service, _, name = text.partition(":")
        if has_wildcard(text):
            if service and not has_wildcard(service) and service.lower() != "iam":
                continue
            matched = {m.split(":", 1)[-1].lower() for m in matching(f"iam:{name or '*'}", "iam")}
            found.extend(n for n in names if n.lower() in matched)
        elif service.lower() == "iam":
            found.extend(n for n in names if n.lower() == name.lower())
    return sorted(set(found))


def _pins_boundary(condition: Any) -> bool:
    """StringEquals (or ArnEquals) iam:PermissionsBoundary with concrete policy ARNs, nothing looser."""
    if not isinstance(condition, dict):
        return False
    for operator, block in condition.items():
        if not isinstance(operator, str) or operator.strip().lower() not in ("stringequals", "arnequals"):
            continue
        if not isinstance(block, dict):
            continue
        for key, value in block.items():
            if isinstance(key, str) and key.strip().lower() == "iam:permissionsboundary":
                values = as_list(value)
                return bool(values) and all(
                    isinstance(v, str) and _POLICY_ARN.match(v.strip()) is not None for v in values
                )
    return False


def boundary_problems(document: Any) -> list[str]:
    doc = parse_policy_document(document)
    if not isinstance(doc, dict):
        return []
    problems: list[str] = []
    for stmt in statements(doc):
        if not stmt.is_allow:
            continue
        sid = stmt.raw.get("Sid")
        where = f"statement {sid!r}" if isinstance(sid, str) else "an Allow statement"
        bounded = _grants(stmt, BOUNDED_ACTIONS)
        if bounded and not _pins_boundary(stmt.condition):
            problems.append(
                f"{where} allows {', '.join('iam:' + a for a in bounded)} without a StringEquals "
                "iam:PermissionsBoundary condition naming the boundary policy"
            )
        unbounding = _grants(stmt, UNBOUNDING_ACTIONS)
        if unbounding:
            problems.append(f"{where} allows {', '.join('iam:' + a for a in unbounding)}")
    return problems


def check_roles_bounded(args: Any, report: ReportFn) -> None:
    props = props_of(args)
    found: list[str] = []
    if args.resource_type == ROLE:
        for item in [] if is_unknown(props.get("inlinePolicies")) else as_list(props.get("inlinePolicies")):
            if isinstance(item, dict):
                found.extend(
                    f"inline policy {item.get('name')!r}: {p}" for p in boundary_problems(item.get("policy"))
                )
    elif args.resource_type in (ROLE_POLICY, IAM_POLICY, USER_POLICY, GROUP_POLICY):
        found.extend(boundary_problems(props.get("policy")))
    for problem in found:
        report(f"{args.resource_type} '{args.name}': {problem}")


def check_role_carries_boundary(args: Any, report: ReportFn) -> None:
    """A role the deploy role would create without the boundary fails at `up` with AccessDenied, after
    whatever came before it was made: refused at preview instead."""
    required = os.environ.get(ENV_PERMISSIONS_BOUNDARY)
    if args.resource_type != ROLE or not required:
        return
    boundary = props_of(args).get("permissionsBoundary")
    if is_unknown(boundary) or boundary == required:
        return
    report(
        f"role '{args.name}' has permissions boundary {boundary or 'none'!s}, not the account's {required} "
        "(the deploy role creates no role without it)"
    )


def check_trail_validated(args: Any, report: ReportFn) -> None:
    if args.resource_type != TRAIL:
        return
    props = props_of(args)
    for prop, what in (
        ("enableLogFileValidation", "log-file validation is off (nothing proves a log file unchanged)"),
        ("isMultiRegionTrail", "the trail covers one region only (the CloudTrail reader is blind elsewhere)"),
    ):
        value = props.get(prop)
        if not is_unknown(value) and as_bool(value) is not True:
            report(f"trail '{args.name}': {what}")
    logging = props.get("enableLogging")
    if not is_unknown(logging) and as_bool(logging) is False:
        report(f"trail '{args.name}': logging is switched off")


RULES = [
    Rule(
        name="roles-bounded",
        description="A policy that allows iam:CreateRole or iam:PutRolePermissionsBoundary (however "
        "spelled: iam:*, iam:Create*, *) pins StringEquals iam:PermissionsBoundary to a managed policy "
        "ARN in the same statement, and no policy allows iam:DeleteRolePermissionsBoundary: every role "
        "the deploy role creates is capped by the boundary.",
        remediation="add Condition StringEquals iam:PermissionsBoundary = <the boundary policy ARN> to the "
        "statement, and remove iam:DeleteRolePermissionsBoundary",
        check=check_roles_bounded,
        resource_types=(ROLE, ROLE_POLICY, IAM_POLICY, USER_POLICY, GROUP_POLICY),
    ),
    Rule(
        name="role-carries-boundary",
        description="Where the service declares the account's permissions boundary "
        f"({ENV_PERMISSIONS_BOUNDARY}), every IAM role carries exactly that boundary.",
        remediation="set permissions_boundary on the role to the account's boundary policy ARN "
        "(the program's permissionsBoundaryArn)",
        check=check_role_carries_boundary,
        resource_types=(ROLE,),
    ),
    Rule(
        name="trail-validated",
        description="Every CloudTrail trail validates its log files, covers every region and is logging.",
        remediation="set enableLogFileValidation=true, isMultiRegionTrail=true and enableLogging=true",
        check=check_trail_validated,
        resource_types=(TRAIL,),
    ),
]
