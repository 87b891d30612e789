"""The local AWS keeps Route 53 Resolver DNS Firewall resources as AWS does (moto 5.2.5 has none): ids and
ARNs, rules in priority order, associations only with VPCs that exist, and AWS's refusals."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tools.local_aws.aws import LocalAws


@pytest.fixture
def resolver(local_aws: LocalAws) -> Any:
    return local_aws.client("route53resolver")


@pytest.fixture
def vpc(local_aws: LocalAws) -> str:
    return str(local_aws.client("ec2").create_vpc(CidrBlock="10.66.0.0/16")["Vpc"]["VpcId"])


def _request() -> str:
    return str(uuid.uuid4())


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _firewall(resolver: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    allowed = resolver.create_firewall_domain_list(CreatorRequestId=_request(), Name="allowed")[
        "FirewallDomainList"
    ]
    resolver.update_firewall_domains(
        FirewallDomainListId=allowed["Id"], Operation="REPLACE", Domains=["ssm.us-east-1.amazonaws.com"]
    )
    every = resolver.create_firewall_domain_list(CreatorRequestId=_request(), Name="every")[
        "FirewallDomainList"
    ]
    resolver.update_firewall_domains(FirewallDomainListId=every["Id"], Operation="REPLACE", Domains=["*"])
    group = resolver.create_firewall_rule_group(
        CreatorRequestId=_request(), Name="fw", Tags=[{"Key": "case", "Value": "1"}]
    )["FirewallRuleGroup"]
    return allowed, every, group


def test_rule_groups_rules_and_associations_are_kept_as_aws_keeps_them(
    resolver: Any, vpc: str, local_aws: LocalAws
) -> None:
    allowed, every, group = _firewall(resolver)
    assert allowed["Id"].startswith("rslvr-fdl-") and group["Id"].startswith("rslvr-frg-")
    account = local_aws.client("sts").get_caller_identity()["Account"]
    assert group["Arn"] == f"arn:aws:route53resolver:us-east-1:{account}:firewall-rule-group/{group['Id']}"
    assert resolver.list_tags_for_resource(ResourceArn=group["Arn"])["Tags"] == [
        {"Key": "case", "Value": "1"}
    ]
    # Created out of order: listed by priority.
    resolver.create_firewall_rule(
        CreatorRequestId=_request(),
        FirewallRuleGroupId=group["Id"],
        FirewallDomainListId=every["Id"],
        Priority=200,
        Action="BLOCK",
        BlockResponse="NXDOMAIN",
        Name="block",
    )
    resolver.create_firewall_rule(
        CreatorRequestId=_request(),
        FirewallRuleGroupId=group["Id"],
        FirewallDomainListId=allowed["Id"],
        Priority=100,
        Action="ALLOW",
        Name="allow",
    )
    rules = resolver.list_firewall_rules(FirewallRuleGroupId=group["Id"])["FirewallRules"]
    assert [(r["Priority"], r["Action"], r.get("BlockResponse")) for r in rules] == [
        (100, "ALLOW", None),
        (200, "BLOCK", "NXDOMAIN"),
    ]
    assert (
        resolver.get_firewall_rule_group(FirewallRuleGroupId=group["Id"])["FirewallRuleGroup"]["RuleCount"]
        == 2
    )

    association = resolver.associate_firewall_rule_group(
        CreatorRequestId=_request(), FirewallRuleGroupId=group["Id"], VpcId=vpc, Priority=101, Name="fw"
    )["FirewallRuleGroupAssociation"]
    assert association["Id"].startswith("rslvr-frgassoc-") and association["Status"] == "COMPLETE"
    listed = resolver.list_firewall_rule_group_associations(VpcId=vpc)["FirewallRuleGroupAssociations"]
    assert [a["Id"] for a in listed] == [association["Id"]]

    # In use: the group cannot go while associated, the list not while a rule uses it.
    with pytest.raises(ClientError) as refused:
        resolver.delete_firewall_rule_group(FirewallRuleGroupId=group["Id"])
    assert _code(refused) == "ConflictException"
    with pytest.raises(ClientError) as refused:
        resolver.delete_firewall_domain_list(FirewallDomainListId=every["Id"])
    assert _code(refused) == "ConflictException"

    resolver.disassociate_firewall_rule_group(FirewallRuleGroupAssociationId=association["Id"])
    with pytest.raises(ClientError) as gone:
        resolver.get_firewall_rule_group_association(FirewallRuleGroupAssociationId=association["Id"])
    assert _code(gone) == "ResourceNotFoundException"
    for domain_list in (allowed, every):
        resolver.delete_firewall_rule(FirewallRuleGroupId=group["Id"], FirewallDomainListId=domain_list["Id"])
        resolver.delete_firewall_domain_list(FirewallDomainListId=domain_list["Id"])
    resolver.delete_firewall_rule_group(FirewallRuleGroupId=group["Id"])


def test_what_aws_refuses_is_refused(resolver: Any, vpc: str) -> None:
    allowed, every, group = _firewall(resolver)

    def refused(call: Any, **kwargs: Any) -> str:
        with pytest.raises(ClientError) as error:
            call(CreatorRequestId=_request(), **kwargs)
        return _code(error)

    associate = resolver.associate_firewall_rule_group
    assert refused(
        associate, FirewallRuleGroupId=group["Id"], VpcId="vpc-0123456789abcdef0", Priority=101, Name="x"
    ) == ("ResourceNotFoundException")
    assert refused(
        associate, FirewallRuleGroupId="rslvr-frg-00000000000000000", VpcId=vpc, Priority=101, Name="x"
    ) == ("ResourceNotFoundException")
    for reserved in (100, 9900):
        assert refused(
            associate, FirewallRuleGroupId=group["Id"], VpcId=vpc, Priority=reserved, Name="x"
        ) == ("ValidationException")
    rule = resolver.create_firewall_rule
    base = {
        "FirewallRuleGroupId": group["Id"],
        "FirewallDomainListId": every["Id"],
        "Priority": 200,
        "Name": "r",
    }
    assert refused(rule, **base, Action="BLOCK") == "ValidationException"  # a block says how it answers
    assert refused(rule, **base, Action="BLOCK", BlockResponse="OVERRIDE") == "ValidationException"
    assert refused(rule, **base, Action="ALLOW", BlockResponse="NXDOMAIN") == "ValidationException"
    with pytest.raises(ClientError) as bad_domain:
        resolver.update_firewall_domains(
            FirewallDomainListId=allowed["Id"], Operation="ADD", Domains=["ex*ample.com"]
        )
    assert _code(bad_domain) == "ValidationException"

    associate(CreatorRequestId=_request(), FirewallRuleGroupId=group["Id"], VpcId=vpc, Priority=101, Name="a")
    assert refused(associate, FirewallRuleGroupId=group["Id"], VpcId=vpc, Priority=102, Name="b") == (
        "ConflictException"
    )  # the same group twice on one VPC
    protected = resolver.create_firewall_rule_group(CreatorRequestId=_request(), Name="p")[
        "FirewallRuleGroup"
    ]
    association = associate(
        CreatorRequestId=_request(),
        FirewallRuleGroupId=protected["Id"],
        VpcId=vpc,
        Priority=150,
        Name="p",
        MutationProtection="ENABLED",
    )["FirewallRuleGroupAssociation"]
    with pytest.raises(ClientError) as locked:
        resolver.disassociate_firewall_rule_group(FirewallRuleGroupAssociationId=association["Id"])
    assert _code(locked) == "ValidationException"
