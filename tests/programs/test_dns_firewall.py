"""The clean room resolves through a Resolver DNS Firewall: its own names allowed, every other NXDOMAIN."""

from __future__ import annotations

import pytest

from programs.forensic_env.network import GATEWAY_ENDPOINTS, INTERFACE_ENDPOINTS, allowed_dns_names
from tests.programs.harness import REGION, SNAPSHOTS, ProgramRun, run_program

LIST = "aws:route53/resolverFirewallDomainList:ResolverFirewallDomainList"
GROUP = "aws:route53/resolverFirewallRuleGroup:ResolverFirewallRuleGroup"
RULE = "aws:route53/resolverFirewallRule:ResolverFirewallRule"
ASSOCIATION = "aws:route53/resolverFirewallRuleGroupAssociation:ResolverFirewallRuleGroupAssociation"


@pytest.fixture(scope="module")
def env() -> ProgramRun:
    return run_program(evidenceSnapshotIds=SNAPSHOTS)


def test_the_vpc_resolves_through_a_firewall_that_blocks_every_other_name(env: ProgramRun) -> None:
    group = env.one(GROUP)
    association = env.one(ASSOCIATION)
    assert association.inputs["vpcId"] == env.one("aws:ec2/subnet:Subnet", "private-a").inputs["vpcId"]
    assert association.inputs["firewallRuleGroupId"] == f"{group.name}-id"
    assert 101 <= association.inputs["priority"] <= 9899

    lists = {r.name: r for r in env.of_type(LIST)}
    rules = sorted(env.of_type(RULE), key=lambda r: r.inputs["priority"])
    assert len(rules) == 2
    allow, block = rules
    assert all(r.inputs["firewallRuleGroupId"] == f"{group.name}-id" for r in rules)
    assert allow.inputs["action"] == "ALLOW"
    assert block.inputs["action"] == "BLOCK" and block.inputs["blockResponse"] == "NXDOMAIN"
    block_list = next(r for r in lists.values() if f"{r.name}-id" == block.inputs["firewallDomainListId"])
    assert block_list.inputs["domains"] == ["*"]  # the last rule matches every name
    allow_list = next(r for r in lists.values() if f"{r.name}-id" == allow.inputs["firewallDomainListId"])
    assert "*" not in allow_list.inputs["domains"]


def test_the_allowed_names_are_the_endpoints_of_the_program(env: ProgramRun) -> None:
    allow_list = next(r for r in env.of_type(LIST) if "allowed" in r.name)
    domains = allow_list.inputs["domains"]
    assert domains == allowed_dns_names(REGION)
    services = {
        e.inputs["serviceName"].split(".")[-1] for e in env.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    }
    assert services == set(GATEWAY_ENDPOINTS) | set(INTERFACE_ENDPOINTS)
    for service in services:
        assert f"{service}.{REGION}.amazonaws.com" in domains
        assert f"*.{service}.{REGION}.amazonaws.com" in domains
    # Nothing that reaches an authority outside AWS: no bare wildcard, no public suffix, no reverse zones.
    assert not [d for d in domains if d in ("*", "*.com", "*.amazonaws.com") or "arpa" in d]
