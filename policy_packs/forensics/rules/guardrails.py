"""The organization's guardrails: a service control policy the stack declares is attached to an
organizational unit the stack declares (an SCP attached to nothing guards nothing)."""

from __future__ import annotations

from typing import Any

from .base import (
    ReportFn,
    Rule,
    get,
    identifiers,
    label,
    props_of,
    resolve_targets,
    resources_of,
    target_key,
    urn_of,
)

OU = "aws:organizations/organizationalUnit:OrganizationalUnit"
ORG_POLICY = "aws:organizations/policy:Policy"
ORG_POLICY_ATTACHMENT = "aws:organizations/policyAttachment:PolicyAttachment"
SCP_TYPE = "SERVICE_CONTROL_POLICY"


def _is_scp(policy: Any) -> bool:
    kind = get(props_of(policy), "type")
    return kind in (None, SCP_TYPE)  # pulumi-aws defaults the type to SERVICE_CONTROL_POLICY


def _ids(resource: Any) -> set[str]:
    """The ids an attachment names a policy or OU by. Once created, the engine shows the resource's outputs,
    which hold its ARN and not its id: Organizations ends both ARNs with the id
    (``arn:aws:organizations::<management>:policy/o-.../service_control_policy/p-...``,
    ``.../ou/o-.../ou-...``)."""
    found = identifiers(props_of(resource), "id", "arn")
    arn = get(props_of(resource), "arn")
    if isinstance(arn, str) and arn in found and "/" in arn:
        found.add(arn.rsplit("/", 1)[1])
    return found


def check_scps_attached(args: Any, report: ReportFn) -> None:
    policies = [p for p in resources_of(args, ORG_POLICY) if _is_scp(p)]
    if not policies:
        return
    units = resources_of(args, OU)
    policy_ids = {target_key(p): _ids(p) for p in policies}
    unit_ids = {target_key(u): _ids(u) for u in units}
    attached: set[str] = set()
    for attachment in resources_of(args, ORG_POLICY_ATTACHMENT):
        named, unresolved = resolve_targets(attachment, "policyId", policies, policy_ids)
        to_units, units_unresolved = resolve_targets(attachment, "targetId", units, unit_ids)
        if not (to_units or (units_unresolved and units)):
            continue
        attached.update(target_key(p) for p in (policies if unresolved else named))
    for policy in policies:
        if target_key(policy) not in attached:
            report(
                f"{label(policy)} is a service control policy attached to no organizational unit of the "
                "stack",
                urn_of(policy),
            )


RULES = [
    Rule(
        name="scps-attached",
        description="Every service control policy the stack declares is attached (organizations "
        "PolicyAttachment) to an organizational unit the stack declares.",
        remediation="attach each SCP to the forensics OU with an aws.organizations.PolicyAttachment",
        check=check_scps_attached,
        kind="stack",
        resource_types=(OU, ORG_POLICY, ORG_POLICY_ATTACHMENT),
    ),
]
