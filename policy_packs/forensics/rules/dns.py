"""DNS exfiltration: every VPC resolves through a Route 53 Resolver DNS Firewall that blocks every name the
clean room does not need.

The Amazon resolver answers any name by asking the internet's name servers, so a name made of evidence
(``<data>.attacker.example``) carries it out past security groups, routes and flow logs. A rule group stops
that only if, in priority order, the names it lets through before its final BLOCK over every name (``*``) are
AWS's own (under ``amazonaws.com``, or the VPC's ``*.internal`` host names): those zones are answered by AWS,
never delegated to a server someone else reads.
"""

from __future__ import annotations

from typing import Any

from .base import (
    ReportFn,
    Rule,
    as_list,
    get,
    identifiers,
    is_unknown,
    label,
    props_of,
    resolve_targets,
    resources_of,
    target_key,
    urn_of,
)

VPC = "aws:ec2/vpc:Vpc"
DOMAIN_LIST = "aws:route53/resolverFirewallDomainList:ResolverFirewallDomainList"
RULE_GROUP = "aws:route53/resolverFirewallRuleGroup:ResolverFirewallRuleGroup"
FIREWALL_RULE = "aws:route53/resolverFirewallRule:ResolverFirewallRule"
ASSOCIATION = "aws:route53/resolverFirewallRuleGroupAssociation:ResolverFirewallRuleGroupAssociation"

EVERY_NAME = "*"
# Block responses that answer the query at the firewall (OVERRIDE answers with a name of the rule's choosing).
BLOCKING_RESPONSES = frozenset({"NXDOMAIN", "NODATA"})
# Zones AWS answers itself: a name under them is never sent to a server outside AWS. Service names must be
# strictly inside (``*.amazonaws.com`` would be every AWS customer's names too); the VPC's private host
# names may be allowed whole.
AWS_SERVICE_ZONES = ("amazonaws.com", "amazonaws.com.cn")
VPC_HOST_ZONES = ("ec2.internal", "compute.internal")


def _aws_name(domain: str) -> bool:
    """A name, or ``*.`` its subdomains, inside AWS's own zones."""
    name = domain.strip().lower().rstrip(".").removeprefix("*.")
    if "*" in name:
        return False
    inside = any(name.endswith(f".{zone}") for zone in AWS_SERVICE_ZONES)
    return inside or any(name == zone or name.endswith(f".{zone}") for zone in VPC_HOST_ZONES)


class _Stack:
    def __init__(self, args: Any) -> None:
        self.vpcs = resources_of(args, VPC)
        self.lists = resources_of(args, DOMAIN_LIST)
        self.groups = resources_of(args, RULE_GROUP)
        self.rules = resources_of(args, FIREWALL_RULE)
        self.associations = resources_of(args, ASSOCIATION)
        self.vpc_ids = {target_key(v): identifiers(props_of(v), "id", "vpcId") for v in self.vpcs}
        # Rules and associations name lists and groups by id, never by ARN: an ARN among a target's
        # identifiers would make an id that refers to it look like a name of something outside the stack.
        self.list_ids = {target_key(d): identifiers(props_of(d), "id") for d in self.lists}
        self.group_ids = {target_key(g): identifiers(props_of(g), "id") for g in self.groups}

    def domains(self, rule: Any) -> list[list[str] | None]:
        """The names of each domain list the rule may use: one list when its reference resolves, every list
        of the stack when nothing tells which; None for a list whose names cannot be known (outside the
        stack, or not known yet)."""
        matched, unresolved = resolve_targets(rule, "firewallDomainListId", self.lists, self.list_ids)
        if not matched:
            matched = self.lists if unresolved else []
        if not matched:
            return [None]
        found: list[list[str] | None] = []
        for domain_list in matched:
            domains = get(props_of(domain_list), "domains")
            known = not is_unknown(domains) and all(isinstance(d, str) for d in as_list(domains))
            found.append([str(d) for d in as_list(domains)] if known else None)
        return found

    def rules_of(self, group: Any) -> list[Any]:
        """The group's rules; one whose group cannot be told counts for every group (it may be an ALLOW)."""
        found = []
        for rule in self.rules:
            matched, unresolved = resolve_targets(rule, "firewallRuleGroupId", self.groups, self.group_ids)
            if group in matched or (unresolved and not matched):
                found.append(rule)
        return found

    def group_problem(self, group: Any) -> str | None:
        """Why the group lets some name out; None when it blocks every name not AWS's own."""
        rules = self.rules_of(group)
        priorities = [get(props_of(r), "priority") for r in rules]
        if any(not isinstance(p, (int, float)) or isinstance(p, bool) for p in priorities):
            return "a rule's priority is not known, so the order rules apply in is not either"
        for rule, _ in sorted(zip(rules, priorities, strict=True), key=lambda pair: pair[1]):
            props = props_of(rule)
            action, candidates = get(props, "action"), self.domains(rule)
            if action == "BLOCK":
                everything = all(names is not None and EVERY_NAME in names for names in candidates)
                if everything and get(props, "blockResponse") in BLOCKING_RESPONSES:
                    return None
                continue  # a narrower block (or an override) stops some names, not the rest
            if any(names is None for names in candidates):
                return f"{label(rule)} ({action}) applies before the final block to names not known"
            wide = [d for names in candidates for d in names or [] if not _aws_name(d)]
            if wide:
                return (
                    f"{label(rule)} ({action}) lets {', '.join(repr(d) for d in wide)} through before any "
                    "block of every name"
                )
        return "no BLOCK rule over every name ('*') with blockResponse NXDOMAIN or NODATA"

    def associations_of(self, vpc: Any) -> list[Any]:
        found = []
        for association in self.associations:
            matched, unresolved = resolve_targets(association, "vpcId", self.vpcs, self.vpc_ids)
            if vpc in matched or (unresolved and not matched):
                found.append(association)
        return found


def check_dns_firewall_for_every_vpc(args: Any, report: ReportFn) -> None:
    stack = _Stack(args)
    problems: dict[str, str | None] = {target_key(g): stack.group_problem(g) for g in stack.groups}
    for vpc in stack.vpcs:
        reasons = []
        for association in stack.associations_of(vpc):
            matched, _ = resolve_targets(association, "firewallRuleGroupId", stack.groups, stack.group_ids)
            if not matched:
                reasons.append(f"{label(association)} names a rule group the stack does not declare")
                continue
            found = [problems[target_key(g)] for g in matched]
            if all(p is None for p in found):
                break
            reasons += [f"{label(g)}: {p}" for g, p in zip(matched, found, strict=True) if p]
        else:
            detail = "; ".join(reasons) if reasons else "no rule group is associated with it"
            report(
                f"{label(vpc)} resolves names without a DNS Firewall that blocks every name the clean room "
                f"does not need ({detail})",
                urn_of(vpc),
            )


RULES = [
    Rule(
        name="dns-firewall-for-every-vpc",
        description="Every VPC has a Route 53 Resolver DNS Firewall rule group association whose group, in "
        "priority order, lets through only AWS's own names (under amazonaws.com or the VPC's *.internal "
        "host names) before a BLOCK rule over every name ('*') answering NXDOMAIN or NODATA.",
        remediation=(
            "declare a ResolverFirewallDomainList of the endpoints' service names, an ALLOW rule over it, a "
            "lower-priority BLOCK rule (blockResponse NXDOMAIN) over a domain list ['*'], and a "
            "ResolverFirewallRuleGroupAssociation(vpc_id=<vpc>.id) of their rule group"
        ),
        check=check_dns_firewall_for_every_vpc,
        kind="stack",
        resource_types=(VPC, DOMAIN_LIST, RULE_GROUP, FIREWALL_RULE, ASSOCIATION),
    ),
]
