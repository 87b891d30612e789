"""Route 53 Resolver DNS Firewall: domain list, rule group, rule, rule group association.

Ids as pulumi-aws reports them: the list, group and association ids AWS gives (``rslvr-fdl-``,
``rslvr-frg-``, ``rslvr-frgassoc-``), and for a rule ``<rule group id>:<domain list id>`` (a group has one
rule per domain list).
"""

from __future__ import annotations

import uuid
from typing import Any

from botocore.exceptions import ClientError

from .base import ResourceHandler, StandinError, aws_tags, drop_none, ints, not_found, tag_map
from .values import Props

NOT_FOUND = "ResourceNotFoundException"


class _Resolver(ResourceHandler):
    @property
    def resolver(self) -> Any:
        return self.aws.client("route53resolver")

    def _tags(self, arn: str, olds: Props) -> Props:
        tags = self.resolver.list_tags_for_resource(ResourceArn=arn).get("Tags", [])
        return self.tag_outputs(tag_map(tags), olds)

    def _retag(self, arn: str, olds: Props, news: Props) -> None:
        to_set, to_remove = self.tag_changes(olds, news)
        if to_remove:
            self.resolver.untag_resource(ResourceArn=arn, TagKeys=to_remove)
        if to_set:
            self.resolver.tag_resource(ResourceArn=arn, Tags=aws_tags(to_set))


def _gone(exc: ClientError) -> bool:
    return not_found(exc, NOT_FOUND)


class FirewallDomainList(_Resolver):
    token = "aws:route53/resolverFirewallDomainList:ResolverFirewallDomainList"
    inputs = frozenset({"name", "domains"})
    outputs = frozenset({"arn", "name", "domains"})
    replace_on = frozenset({"name"})
    autoname = "name"
    autoname_max_len = 64
    diff_defaults = {"domains": []}
    taggable = True

    def _domains(self, list_id: str) -> list[str]:
        pages = self.resolver.get_paginator("list_firewall_domains").paginate(FirewallDomainListId=list_id)
        return [domain for page in pages for domain in page.get("Domains", [])]

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        tags = self.tags_all(news)
        made = self.resolver.create_firewall_domain_list(
            **drop_none(
                {"CreatorRequestId": str(uuid.uuid4()), "Name": news["name"], "Tags": aws_tags(tags) or None}
            )
        )["FirewallDomainList"]
        if news.get("domains"):
            self.resolver.update_firewall_domains(
                FirewallDomainListId=made["Id"], Operation="REPLACE", Domains=list(news["domains"])
            )
        return made["Id"], self.read(made["Id"], news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            found = self.resolver.get_firewall_domain_list(FirewallDomainListId=resource_id)[
                "FirewallDomainList"
            ]
        except ClientError as exc:
            if _gone(exc):
                return None
            raise
        return {
            "arn": found["Arn"],
            "name": found["Name"],
            "domains": self._domains(resource_id),
            **self._tags(found["Arn"], olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        domains = list(news.get("domains") or [])
        if domains != list(olds.get("domains") or []):
            self.resolver.update_firewall_domains(
                FirewallDomainListId=resource_id, Operation="REPLACE", Domains=domains
            )
        self._retag(olds["arn"], olds, news)
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            self.resolver.delete_firewall_domain_list(FirewallDomainListId=resource_id)
        except ClientError as exc:
            if not _gone(exc):
                raise


class FirewallRuleGroup(_Resolver):
    token = "aws:route53/resolverFirewallRuleGroup:ResolverFirewallRuleGroup"
    inputs = frozenset({"name"})
    outputs = frozenset({"arn", "name", "ownerId", "shareStatus"})
    replace_on = frozenset({"name"})
    autoname = "name"
    autoname_max_len = 64
    taggable = True

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        tags = self.tags_all(news)
        made = self.resolver.create_firewall_rule_group(
            **drop_none(
                {"CreatorRequestId": str(uuid.uuid4()), "Name": news["name"], "Tags": aws_tags(tags) or None}
            )
        )["FirewallRuleGroup"]
        return made["Id"], self.read(made["Id"], news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            found = self.resolver.get_firewall_rule_group(FirewallRuleGroupId=resource_id)[
                "FirewallRuleGroup"
            ]
        except ClientError as exc:
            if _gone(exc):
                return None
            raise
        return {
            "arn": found["Arn"],
            "name": found["Name"],
            "ownerId": found.get("OwnerId", ""),
            "shareStatus": found.get("ShareStatus", "NOT_SHARED"),
            **self._tags(found["Arn"], olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        self._retag(olds["arn"], olds, news)
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            self.resolver.delete_firewall_rule_group(FirewallRuleGroupId=resource_id)
        except ClientError as exc:
            if not _gone(exc):
                raise


# Rule inputs -> the API's parameter names (the same in Create and Update).
_RULE_FIELDS = {
    "action": "Action",
    "blockResponse": "BlockResponse",
    "blockOverrideDomain": "BlockOverrideDomain",
    "blockOverrideDnsType": "BlockOverrideDnsType",
    "blockOverrideTtl": "BlockOverrideTtl",
    "firewallDomainRedirectionAction": "FirewallDomainRedirectionAction",
    "name": "Name",
    "priority": "Priority",
    "qType": "Qtype",
}


class FirewallRule(_Resolver):
    token = "aws:route53/resolverFirewallRule:ResolverFirewallRule"
    inputs = frozenset({"firewallRuleGroupId", "firewallDomainListId", *_RULE_FIELDS})
    outputs = frozenset({"firewallRuleGroupId", "firewallDomainListId", *_RULE_FIELDS})
    replace_on = frozenset({"firewallRuleGroupId", "firewallDomainListId"})
    autoname = "name"
    autoname_max_len = 64
    diff_defaults = {"firewallDomainRedirectionAction": "INSPECT_REDIRECTION_DOMAIN"}

    @staticmethod
    def _params(news: Props) -> dict[str, Any]:
        params = {api: news.get(name) for name, api in _RULE_FIELDS.items()}
        params["Priority"] = ints(params["Priority"])
        params["BlockOverrideTtl"] = ints(params["BlockOverrideTtl"])
        return drop_none({k: v for k, v in params.items() if v != ""})

    @staticmethod
    def _split(resource_id: str) -> tuple[str, str]:
        group, _, domain_list = resource_id.partition(":")
        if not group or not domain_list:
            raise StandinError(f"firewall rule id {resource_id!r} is not <rule group id>:<domain list id>")
        return group, domain_list

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        group, domain_list = news["firewallRuleGroupId"], news["firewallDomainListId"]
        self.resolver.create_firewall_rule(
            CreatorRequestId=str(uuid.uuid4()),
            FirewallRuleGroupId=group,
            FirewallDomainListId=domain_list,
            **self._params(news),
        )
        resource_id = f"{group}:{domain_list}"
        return resource_id, self.read(resource_id, news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        group, domain_list = self._split(resource_id)
        try:
            pages = self.resolver.get_paginator("list_firewall_rules").paginate(FirewallRuleGroupId=group)
            rules = [rule for page in pages for rule in page.get("FirewallRules", [])]
        except ClientError as exc:
            if _gone(exc):
                return None
            raise
        found = next((r for r in rules if r["FirewallDomainListId"] == domain_list), None)
        if found is None:
            return None
        values: Props = {"firewallRuleGroupId": group, "firewallDomainListId": domain_list}
        for name, api in _RULE_FIELDS.items():
            if api in found:
                values[name] = found[api]
        return values

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        group, domain_list = self._split(resource_id)
        self.resolver.update_firewall_rule(
            FirewallRuleGroupId=group, FirewallDomainListId=domain_list, **self._params(news)
        )
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        group, domain_list = self._split(resource_id)
        try:
            self.resolver.delete_firewall_rule(FirewallRuleGroupId=group, FirewallDomainListId=domain_list)
        except ClientError as exc:
            if not _gone(exc):
                raise


class FirewallRuleGroupAssociation(_Resolver):
    token = "aws:route53/resolverFirewallRuleGroupAssociation:ResolverFirewallRuleGroupAssociation"
    inputs = frozenset({"name", "firewallRuleGroupId", "vpcId", "priority", "mutationProtection"})
    outputs = frozenset({"arn", "name", "firewallRuleGroupId", "vpcId", "priority", "mutationProtection"})
    replace_on = frozenset({"firewallRuleGroupId", "vpcId"})
    autoname = "name"
    autoname_max_len = 64
    diff_defaults = {"mutationProtection": "DISABLED"}
    taggable = True

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        tags = self.tags_all(news)
        made = self.resolver.associate_firewall_rule_group(
            **drop_none(
                {
                    "CreatorRequestId": str(uuid.uuid4()),
                    "FirewallRuleGroupId": news["firewallRuleGroupId"],
                    "VpcId": news["vpcId"],
                    "Priority": ints(news["priority"]),
                    "Name": news["name"],
                    "MutationProtection": news.get("mutationProtection") or None,
                    "Tags": aws_tags(tags) or None,
                }
            )
        )["FirewallRuleGroupAssociation"]
        return made["Id"], self.read(made["Id"], news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            found = self.resolver.get_firewall_rule_group_association(
                FirewallRuleGroupAssociationId=resource_id
            )["FirewallRuleGroupAssociation"]
        except ClientError as exc:
            if _gone(exc):
                return None
            raise
        return {
            "arn": found["Arn"],
            "name": found["Name"],
            "firewallRuleGroupId": found["FirewallRuleGroupId"],
            "vpcId": found["VpcId"],
            "priority": found["Priority"],
            "mutationProtection": found.get("MutationProtection", "DISABLED"),
            **self._tags(found["Arn"], olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        self.resolver.update_firewall_rule_group_association(
            **drop_none(
                {
                    "FirewallRuleGroupAssociationId": resource_id,
                    "Priority": ints(news.get("priority")),
                    "MutationProtection": news.get("mutationProtection") or None,
                    "Name": news.get("name"),
                }
            )
        )
        self._retag(olds["arn"], olds, news)
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            self.resolver.disassociate_firewall_rule_group(FirewallRuleGroupAssociationId=resource_id)
        except ClientError as exc:
            if not _gone(exc):
                raise


HANDLERS: tuple[type[ResourceHandler], ...] = (
    FirewallDomainList,
    FirewallRuleGroup,
    FirewallRule,
    FirewallRuleGroupAssociation,
)
