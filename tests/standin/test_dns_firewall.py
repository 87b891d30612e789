"""The stand-in's DNS Firewall types (create/read/diff/update/delete), checked against the local AWS's
Resolver firewall with boto3. The APIs are the launcher's (moto has none): installed in this process, where
the suite's moto server runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.standin import Clients, Driver
from tools.local_aws.resolver_firewall import patch_resolver_firewall

TAGS = {"forensics:investigation-id": "inv1", "managed-by": "forensic-cleanroom"}
LIST = "aws:route53/resolverFirewallDomainList:ResolverFirewallDomainList"
GROUP = "aws:route53/resolverFirewallRuleGroup:ResolverFirewallRuleGroup"
RULE = "aws:route53/resolverFirewallRule:ResolverFirewallRule"
ASSOCIATION = "aws:route53/resolverFirewallRuleGroupAssociation:ResolverFirewallRuleGroupAssociation"


@pytest.fixture(scope="module", autouse=True)
def resolver_firewall() -> Iterator[None]:
    patch_resolver_firewall()
    yield


def test_a_firewall_for_a_vpc(driver: Driver, aws: Clients) -> None:
    resolver = aws("route53resolver")
    vpc_id = aws("ec2").create_vpc(CidrBlock="10.55.0.0/16")["Vpc"]["VpcId"]

    allowed_id, allowed = driver.create(
        LIST, "allowed", {"name": "allowed", "domains": ["ssm.us-east-1.amazonaws.com"], "tags": TAGS}
    )
    assert allowed_id.startswith("rslvr-fdl-") and allowed["arn"].endswith(f"/{allowed_id}")
    assert allowed["tagsAll"] == TAGS
    every_id, every = driver.create(LIST, "every", {"name": "every", "domains": ["*"], "tags": TAGS})
    group_id, group = driver.create(GROUP, "group", {"name": "fw", "tags": TAGS})
    assert group["ownerId"] and group["shareStatus"] == "NOT_SHARED"

    rule_inputs = {
        "name": "block",
        "firewallRuleGroupId": group_id,
        "firewallDomainListId": every_id,
        "priority": 200,
        "action": "BLOCK",
        "blockResponse": "NXDOMAIN",
    }
    rule_id, rule = driver.create(RULE, "block", rule_inputs)
    assert rule_id == f"{group_id}:{every_id}"
    allow_id, _ = driver.create(
        RULE,
        "allow",
        {
            "name": "allow",
            "firewallRuleGroupId": group_id,
            "firewallDomainListId": allowed_id,
            "priority": 100,
            "action": "ALLOW",
        },
    )
    association_id, association = driver.create(
        ASSOCIATION,
        "assoc",
        {"name": "fw", "firewallRuleGroupId": group_id, "vpcId": vpc_id, "priority": 101, "tags": TAGS},
    )
    assert association["mutationProtection"] == "DISABLED"

    # AWS holds what the provider said it made.
    (found,) = resolver.list_firewall_rule_group_associations(VpcId=vpc_id)["FirewallRuleGroupAssociations"]
    assert (found["Id"], found["FirewallRuleGroupId"]) == (association_id, group_id)
    rules = resolver.list_firewall_rules(FirewallRuleGroupId=group_id)["FirewallRules"]
    assert [(r["Priority"], r["Action"]) for r in rules] == [(100, "ALLOW"), (200, "BLOCK")]

    # Diff: the group or VPC of an association, a rule's list, a list's name replace; the rest updates.
    assert driver.diff(
        ASSOCIATION, "assoc", association_id, association, {**association, "vpcId": "vpc-x"}
    ).replaces
    assert driver.diff(RULE, "block", rule_id, rule, {**rule_inputs, "firewallDomainListId": "x"}).replaces
    changed = driver.diff(RULE, "block", rule_id, rule, {**rule_inputs, "blockResponse": "NODATA"})
    assert changed.changes and not changed.replaces
    assert not driver.diff(RULE, "block", rule_id, rule, rule_inputs).changes
    assert not driver.diff(
        LIST, "allowed", allowed_id, allowed, {"name": "allowed", **_keep(allowed)}
    ).changes

    # Update: the rule's answer, the list's names, the association's priority.
    rule = driver.update(RULE, "block", rule_id, rule, {**rule_inputs, "blockResponse": "NODATA"})
    assert rule["blockResponse"] == "NODATA"
    names = ["ssm.us-east-1.amazonaws.com", "kms.us-east-1.amazonaws.com"]
    allowed = driver.update(
        LIST, "allowed", allowed_id, allowed, {"name": "allowed", "domains": names, "tags": TAGS}
    )
    assert resolver.list_firewall_domains(FirewallDomainListId=allowed_id)["Domains"] == names
    association = driver.update(
        ASSOCIATION, "assoc", association_id, association, {**_inputs(association), "priority": 300}
    )
    assert (
        resolver.get_firewall_rule_group_association(FirewallRuleGroupAssociationId=association_id)[
            "FirewallRuleGroupAssociation"
        ]["Priority"]
        == 300
    )

    # Read after the association went behind the provider's back: gone (the engine plans its re-creation).
    resolver.disassociate_firewall_rule_group(FirewallRuleGroupAssociationId=association_id)
    assert driver.read(ASSOCIATION, "assoc", association_id, association)[0] == ""

    driver.delete(RULE, "block", rule_id, rule)
    driver.delete(RULE, "allow", allow_id, {})
    driver.delete(LIST, "every", every_id, every)
    driver.delete(LIST, "allowed", allowed_id, allowed)
    driver.delete(GROUP, "group", group_id, group)
    assert group_id not in [g["Id"] for g in resolver.list_firewall_rule_groups()["FirewallRuleGroups"]]
    driver.delete(GROUP, "group", group_id, group)  # deleting what is gone is not an error


def test_an_association_with_a_vpc_that_does_not_exist_fails(driver: Driver) -> None:
    group_id, _ = driver.create(GROUP, "lonely", {"name": "lonely", "tags": TAGS})
    with pytest.raises(Exception, match="ResourceNotFoundException"):
        driver.create(
            ASSOCIATION,
            "nowhere",
            {"name": "n", "firewallRuleGroupId": group_id, "vpcId": "vpc-0123456789abcdef0", "priority": 101},
        )


def _keep(state: dict[str, Any]) -> dict[str, Any]:
    return {"domains": state["domains"], "tags": state["tags"]}


def _inputs(state: dict[str, Any]) -> dict[str, Any]:
    names = ("name", "firewallRuleGroupId", "vpcId", "priority", "mutationProtection", "tags")
    return {k: state[k] for k in names if k in state}
