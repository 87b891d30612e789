"""dns-firewall-for-every-vpc: a VPC whose names are not fenced by a DNS Firewall can tunnel data out."""

from __future__ import annotations

from tests.policy.harness import (
    DNS_ASSOCIATION,
    DNS_LIST,
    DNS_RULE,
    U_STR,
    Res,
    clean_room,
    dns_firewall,
    replace,
    run_everything,
    run_stack,
    without,
)

RULE = "dns-firewall-for-every-vpc"


def test_the_clean_room_firewall_passes() -> None:
    assert run_stack(RULE, clean_room()) == []
    assert RULE not in run_everything(clean_room())


def test_a_stack_without_the_firewall_is_refused() -> None:
    names = [r.name for r in dns_firewall()]
    (found,) = run_stack(RULE, without(clean_room(), *names))
    assert "aws:ec2/vpc:Vpc 'vpc'" in found.message
    assert "no rule group is associated with it" in found.message
    assert found.urn is not None and found.urn.endswith("::vpc")


def test_a_group_that_allows_everything_is_refused() -> None:
    """No block rule at all: the group allows its list and resolves every other name as usual."""
    (found,) = run_stack(RULE, without(clean_room(), "dns-block"))
    assert "no BLOCK rule over every name" in found.message


def test_an_allow_everything_rule_before_the_block_is_refused() -> None:
    rule = Res(
        DNS_RULE,
        "dns-allow-all",
        {
            "firewallRuleGroupId": "rslvr-frg-1",
            "firewallDomainListId": "rslvr-fdl-star",
            "priority": 50,
            "action": "ALLOW",
        },
    )
    star = Res(DNS_LIST, "dns-star", {"id": "rslvr-fdl-star", "domains": ["*"]})
    (found,) = run_stack(RULE, [*clean_room(), star, rule])
    assert "dns-allow-all" in found.message and "'*'" in found.message


def test_allowing_a_name_outside_aws_or_all_of_amazonaws_is_refused() -> None:
    for domain in ("*.attacker.example", "*.amazonaws.com", "*.com", "example.org"):
        stack = replace(
            clean_room(), "dns-allowed", domains=["ssm.us-east-1.amazonaws.com", domain], id="rslvr-fdl-a"
        )
        (found,) = run_stack(RULE, stack)
        assert repr(domain) in found.message, domain


def test_the_allow_must_come_before_the_block_in_priority_order() -> None:
    """A wide ALLOW after the block of every name never applies: the block answers first."""
    stack = replace(clean_room(), "dns-allowed", domains=["*.attacker.example"], id="rslvr-fdl-a")
    stack = replace(stack, "dns-allow", priority=300)
    assert run_stack(RULE, stack) == []


def test_a_block_that_overrides_or_misses_names_does_not_count() -> None:
    assert run_stack(RULE, replace(clean_room(), "dns-block", blockResponse="OVERRIDE"))
    narrow = replace(clean_room(), "dns-everything", domains=["*.example"], id="rslvr-fdl-e")
    assert run_stack(RULE, narrow)
    assert run_stack(RULE, replace(clean_room(), "dns-block", action="ALERT", blockResponse=None))


def test_an_association_with_another_vpc_or_an_outside_group_does_not_count() -> None:
    (found,) = run_stack(RULE, replace(clean_room(), "dns-association", vpcId="vpc-other"))
    assert "no rule group is associated" in found.message
    (found,) = run_stack(RULE, replace(clean_room(), "dns-association", firewallRuleGroupId="rslvr-frg-x"))
    assert "names a rule group the stack does not declare" in found.message


def test_a_second_vpc_needs_its_own_association() -> None:
    rogue = Res("aws:ec2/vpc:Vpc", "rogue", {"id": "vpc-2", "cidrBlock": "10.9.0.0/16"})
    (found,) = run_stack(RULE, [*clean_room(), rogue])
    assert "'rogue'" in found.message
    assert run_stack(RULE, [*clean_room(), rogue, *dns_firewall("vpc-2", "-2")]) == []


def test_preview_ties_rules_and_associations_by_dependencies() -> None:
    """At preview the ids are unknown: the engine's property dependencies say what refers to what."""
    stack = [r for r in clean_room() if r.rtype not in (DNS_RULE, DNS_ASSOCIATION) and "dns-" not in r.name]
    vpc = Res("aws:ec2/vpc:Vpc", "vpc", {"id": U_STR, "cidrBlock": "10.77.0.0/16"})
    stack = [vpc if r.name == "vpc" else r for r in stack]
    lists = [
        Res(DNS_LIST, "ok", {"id": U_STR, "domains": ["ssm.us-east-1.amazonaws.com"]}),
        Res(DNS_LIST, "all", {"id": U_STR, "domains": ["*"]}),
    ]
    group = Res("aws:route53/resolverFirewallRuleGroup:ResolverFirewallRuleGroup", "g", {"id": U_STR})

    def rule(name: str, domain_list: str, priority: int, action: str, **extra: str) -> Res:
        props = {"firewallRuleGroupId": U_STR, "firewallDomainListId": U_STR, "priority": priority}
        deps = {"firewallRuleGroupId": ["g"], "firewallDomainListId": [domain_list]}
        return Res(DNS_RULE, name, {**props, "action": action, **extra}, deps=deps)

    association = Res(
        DNS_ASSOCIATION,
        "assoc",
        {"firewallRuleGroupId": U_STR, "vpcId": U_STR, "priority": 101},
        deps={"firewallRuleGroupId": ["g"], "vpcId": ["vpc"]},
    )
    good = [rule("allow", "ok", 100, "ALLOW"), rule("block", "all", 200, "BLOCK", blockResponse="NXDOMAIN")]
    assert run_stack(RULE, [*stack, *lists, group, *good, association]) == []
    bad = [rule("allow", "all", 100, "ALLOW"), rule("block", "all", 200, "BLOCK", blockResponse="NXDOMAIN")]
    assert run_stack(RULE, [*stack, *lists, group, *bad, association])


def test_after_creation_ids_are_tied_by_dependencies_not_arns() -> None:
    """As the engine shows a deployed stack: ids known, the lists' and group's ARNs in their properties
    (no ``id``), and the references' property dependencies."""
    arn = "arn:aws:route53resolver:us-east-1:123456789012:"
    stack = [r for r in clean_room() if "dns-" not in r.name]
    lists = [
        Res(
            DNS_LIST,
            "ok",
            {"arn": f"{arn}firewall-domain-list/a", "domains": ["ssm.us-east-1.amazonaws.com"]},
        ),
        Res(DNS_LIST, "all", {"arn": f"{arn}firewall-domain-list/e", "domains": ["*"]}),
    ]
    group = Res(
        "aws:route53/resolverFirewallRuleGroup:ResolverFirewallRuleGroup",
        "g",
        {"arn": f"{arn}firewall-rule-group/g"},
    )

    def rule(name: str, domain_list: str, priority: int, action: str, **extra: str) -> Res:
        props = {"firewallRuleGroupId": "rslvr-frg-g", "firewallDomainListId": f"rslvr-fdl-{domain_list}"}
        deps = {"firewallRuleGroupId": ["g"], "firewallDomainListId": [domain_list]}
        return Res(DNS_RULE, name, {**props, "priority": priority, "action": action, **extra}, deps=deps)

    association = Res(
        DNS_ASSOCIATION,
        "assoc",
        {"firewallRuleGroupId": "rslvr-frg-g", "vpcId": "vpc-1", "priority": 101},
        deps={"firewallRuleGroupId": ["g"], "vpcId": ["vpc"]},
    )
    good = [rule("allow", "ok", 100, "ALLOW"), rule("block", "all", 200, "BLOCK", blockResponse="NXDOMAIN")]
    assert run_stack(RULE, [*stack, *lists, group, *good, association]) == []
    bad = [rule("allow", "all", 100, "ALLOW"), rule("block", "all", 200, "BLOCK", blockResponse="NXDOMAIN")]
    assert run_stack(RULE, [*stack, *lists, group, *bad, association])
