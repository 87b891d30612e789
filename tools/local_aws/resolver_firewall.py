"""Route 53 Resolver DNS Firewall for the local AWS (moto 5.2.5 has none of its APIs).

Modelled as AWS keeps it, per account and region: domain lists (``rslvr-fdl-``), rule groups
(``rslvr-frg-``), the rules of a group (one per domain list, identified by group and list), and associations
of a group with a VPC (``rslvr-frgassoc-``); ARNs ``arn:aws:route53resolver:REGION:ACCOUNT:firewall-...``,
tags through the service's TagResource/ListTagsForResource. Requests are refused as AWS refuses them: unknown
ids (ResourceNotFoundException), a VPC that does not exist, an association priority outside 101..9899, a
rule group associated twice with one VPC or two groups at one priority, a BLOCK rule without a block
response, an OVERRIDE without its domain, type and TTL, deleting a list a rule uses or a group still
associated, disassociating under mutation protection (ConflictException / ValidationException).

Not modelled: DNS resolution itself (nothing here answers queries), managed domain lists, import from S3,
firewall configs (fail-open), sharing through RAM, DNS threat protection rules. Every change completes at
once (AWS passes through UPDATING/DELETING for a few seconds).
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ACTIONS = ("ALLOW", "BLOCK", "ALERT")
BLOCK_RESPONSES = ("NODATA", "NXDOMAIN", "OVERRIDE")
MUTATION = ("ENABLED", "DISABLED")
# AWS reserves 100 and 9900 for its own associations.
ASSOCIATION_PRIORITY = (101, 9899)
MAX_DOMAIN_CHARS = 255


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(9)[:17]}"


@dataclass
class DomainList:
    id: str
    arn: str
    name: str
    creator_request_id: str
    domains: list[str] = field(default_factory=list)
    created: str = field(default_factory=_now)
    modified: str = field(default_factory=_now)

    def describe(self) -> dict[str, Any]:
        return {
            "Id": self.id,
            "Arn": self.arn,
            "Name": self.name,
            "DomainCount": len(self.domains),
            "Status": "COMPLETE",
            "StatusMessage": "Created Firewall Domain List",
            "CreatorRequestId": self.creator_request_id,
            "CreationTime": self.created,
            "ModificationTime": self.modified,
        }


@dataclass
class RuleGroup:
    id: str
    arn: str
    name: str
    owner: str
    creator_request_id: str
    created: str = field(default_factory=_now)
    modified: str = field(default_factory=_now)

    def describe(self, rule_count: int) -> dict[str, Any]:
        return {
            "Id": self.id,
            "Arn": self.arn,
            "Name": self.name,
            "RuleCount": rule_count,
            "Status": "COMPLETE",
            "StatusMessage": "Created Firewall Rule Group",
            "OwnerId": self.owner,
            "CreatorRequestId": self.creator_request_id,
            "ShareStatus": "NOT_SHARED",
            "CreationTime": self.created,
            "ModificationTime": self.modified,
        }


@dataclass
class Rule:
    group_id: str
    domain_list_id: str
    name: str
    priority: int
    action: str
    creator_request_id: str
    block_response: str | None = None
    block_override_domain: str | None = None
    block_override_dns_type: str | None = None
    block_override_ttl: int | None = None
    redirection_action: str = "INSPECT_REDIRECTION_DOMAIN"
    qtype: str | None = None
    created: str = field(default_factory=_now)
    modified: str = field(default_factory=_now)

    def describe(self) -> dict[str, Any]:
        described = {
            "FirewallRuleGroupId": self.group_id,
            "FirewallDomainListId": self.domain_list_id,
            "Name": self.name,
            "Priority": self.priority,
            "Action": self.action,
            "BlockResponse": self.block_response,
            "BlockOverrideDomain": self.block_override_domain,
            "BlockOverrideDnsType": self.block_override_dns_type,
            "BlockOverrideTtl": self.block_override_ttl,
            "FirewallDomainRedirectionAction": self.redirection_action,
            "Qtype": self.qtype,
            "CreatorRequestId": self.creator_request_id,
            "CreationTime": self.created,
            "ModificationTime": self.modified,
        }
        return {k: v for k, v in described.items() if v is not None}


@dataclass
class Association:
    id: str
    arn: str
    group_id: str
    vpc_id: str
    name: str
    priority: int
    mutation_protection: str
    creator_request_id: str
    created: str = field(default_factory=_now)
    modified: str = field(default_factory=_now)

    def describe(self) -> dict[str, Any]:
        return {
            "Id": self.id,
            "Arn": self.arn,
            "FirewallRuleGroupId": self.group_id,
            "VpcId": self.vpc_id,
            "Name": self.name,
            "Priority": self.priority,
            "MutationProtection": self.mutation_protection,
            "Status": "COMPLETE",
            "StatusMessage": "Finished rule group association update",
            "CreatorRequestId": self.creator_request_id,
            "CreationTime": self.created,
            "ModificationTime": self.modified,
        }


@dataclass
class FirewallStore:
    """The firewall resources of one account and region."""

    domain_lists: dict[str, DomainList] = field(default_factory=dict)
    groups: dict[str, RuleGroup] = field(default_factory=dict)
    rules: dict[tuple[str, str], Rule] = field(default_factory=dict)
    associations: dict[str, Association] = field(default_factory=dict)


def _errors() -> Any:
    from moto.route53resolver import exceptions

    return exceptions


def _conflict(message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    error = JsonRESTError("ConflictException", message)
    error.code = 400
    return error


def _validation(message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    error = JsonRESTError("ValidationException", message)
    error.code = 400
    return error


def _not_found(kind: str, resource_id: str) -> Exception:
    error: Exception = _errors().ResourceNotFoundException(
        f"Can't find the resource with ID '{resource_id}'. ({kind})"
    )
    return error


class Firewall:
    """The firewall operations on one account and region's store (``backend`` is moto's resolver backend:
    its EC2 backend answers whether a VPC exists, its tagger keeps tags)."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        store = getattr(backend, "_forensics_firewall", None)
        if store is None:
            store = FirewallStore()
            backend._forensics_firewall = store
        self.store: FirewallStore = store

    def _arn(self, kind: str, resource_id: str) -> str:
        from moto.utilities.utils import get_partition

        region, account = self.backend.region_name, self.backend.account_id
        return f"arn:{get_partition(region)}:route53resolver:{region}:{account}:{kind}/{resource_id}"

    def _tag(self, arn: str, tags: list[dict[str, str]] | None) -> None:
        if tags:
            self.backend.tagger.tag_resource(arn, tags)

    def owns(self, arn: str) -> bool:
        store = self.store
        return any(
            item.arn == arn
            for items in (store.domain_lists, store.groups, store.associations)
            for item in items.values()
        )

    # --- domain lists ---------------------------------------------------------------------------------
    def domain_list(self, list_id: str) -> DomainList:
        found = self.store.domain_lists.get(list_id or "")
        if found is None:
            raise _not_found("firewall domain list", list_id)
        return found

    def create_domain_list(self, name: str, request_id: str, tags: list[dict[str, str]] | None) -> DomainList:
        if not name:
            raise _validation(
                "1 validation error detected: Value null at 'name' failed to satisfy constraint"
            )
        list_id = _id("rslvr-fdl")
        created = DomainList(list_id, self._arn("firewall-domain-list", list_id), name, request_id)
        self.store.domain_lists[list_id] = created
        self._tag(created.arn, tags)
        return created

    def update_domains(self, list_id: str, operation: str, domains: list[str]) -> DomainList:
        found = self.domain_list(list_id)
        for domain in domains:
            if not _valid_domain(domain):
                raise _validation(f"Invalid domain name: '{domain}'")
        normalised = list(domains)
        if operation == "REPLACE":
            found.domains = list(dict.fromkeys(normalised))
        elif operation == "ADD":
            found.domains = list(dict.fromkeys([*found.domains, *normalised]))
        elif operation == "REMOVE":
            found.domains = [d for d in found.domains if d not in normalised]
        else:
            raise _validation(
                f"Value '{operation}' at 'operation' failed to satisfy constraint: Member must "
                "satisfy enum value set: [ADD, REMOVE, REPLACE]"
            )
        found.modified = _now()
        return found

    def delete_domain_list(self, list_id: str) -> DomainList:
        found = self.domain_list(list_id)
        if any(rule.domain_list_id == list_id for rule in self.store.rules.values()):
            raise _conflict(f"The domain list {list_id} is used by a firewall rule: delete the rule first")
        del self.store.domain_lists[list_id]
        self.backend.tagger.delete_all_tags_for_resource(found.arn)
        return found

    # --- rule groups ----------------------------------------------------------------------------------
    def group(self, group_id: str) -> RuleGroup:
        found = self.store.groups.get(group_id or "")
        if found is None:
            raise _not_found("firewall rule group", group_id)
        return found

    def rule_count(self, group_id: str) -> int:
        return sum(1 for key in self.store.rules if key[0] == group_id)

    def create_group(self, name: str, request_id: str, tags: list[dict[str, str]] | None) -> RuleGroup:
        if not name:
            raise _validation(
                "1 validation error detected: Value null at 'name' failed to satisfy constraint"
            )
        group_id = _id("rslvr-frg")
        created = RuleGroup(
            group_id, self._arn("firewall-rule-group", group_id), name, self.backend.account_id, request_id
        )
        self.store.groups[group_id] = created
        self._tag(created.arn, tags)
        return created

    def delete_group(self, group_id: str) -> RuleGroup:
        found = self.group(group_id)
        if any(a.group_id == group_id for a in self.store.associations.values()):
            raise _conflict(f"The rule group {group_id} is associated with a VPC: disassociate it first")
        for key in [k for k in self.store.rules if k[0] == group_id]:
            del self.store.rules[key]
        del self.store.groups[group_id]
        self.backend.tagger.delete_all_tags_for_resource(found.arn)
        return found

    # --- rules ----------------------------------------------------------------------------------------
    def rule(self, group_id: str, list_id: str) -> Rule:
        self.group(group_id)
        found = self.store.rules.get((group_id, list_id or ""))
        if found is None:
            raise _not_found("firewall rule", f"{group_id}:{list_id}")
        return found

    @staticmethod
    def _check_action(params: dict[str, Any]) -> None:
        action, response = params.get("Action"), params.get("BlockResponse")
        if action not in ACTIONS:
            raise _validation(
                f"Value '{action}' at 'action' failed to satisfy constraint: Member must satisfy "
                "enum value set: [ALLOW, BLOCK, ALERT]"
            )
        if action == "BLOCK" and response not in BLOCK_RESPONSES:
            raise _validation("BlockResponse is required when Action is BLOCK (NODATA, NXDOMAIN or OVERRIDE)")
        if action != "BLOCK" and response is not None:
            raise _validation("BlockResponse is only valid when Action is BLOCK")
        override = [
            params.get(n) for n in ("BlockOverrideDomain", "BlockOverrideDnsType", "BlockOverrideTtl")
        ]
        if response == "OVERRIDE" and any(v is None for v in override):
            raise _validation(
                "BlockOverrideDomain, BlockOverrideDnsType and BlockOverrideTtl are required for OVERRIDE"
            )
        if response != "OVERRIDE" and any(v is not None for v in override):
            raise _validation("BlockOverride settings are only valid when BlockResponse is OVERRIDE")

    def _check_priority(self, group_id: str, list_id: str, priority: Any) -> int:
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise _validation(
                "1 validation error detected: Value null at 'priority' failed to satisfy constraint"
            )
        for key, other in self.store.rules.items():
            if key[0] == group_id and key[1] != list_id and other.priority == priority:
                raise _conflict(f"A rule with priority {priority} already exists in rule group {group_id}")
        return priority

    def create_rule(self, params: dict[str, Any]) -> Rule:
        group_id, list_id = params.get("FirewallRuleGroupId", ""), params.get("FirewallDomainListId", "")
        self.group(group_id)
        self.domain_list(list_id)
        if (group_id, list_id) in self.store.rules:
            raise _conflict(f"Rule group {group_id} already has a rule for domain list {list_id}")
        if not params.get("Name"):
            raise _validation(
                "1 validation error detected: Value null at 'name' failed to satisfy constraint"
            )
        self._check_action(params)
        created = Rule(
            group_id=group_id,
            domain_list_id=list_id,
            name=params["Name"],
            priority=self._check_priority(group_id, list_id, params.get("Priority")),
            action=params["Action"],
            creator_request_id=params.get("CreatorRequestId") or str(uuid.uuid4()),
            block_response=params.get("BlockResponse"),
            block_override_domain=params.get("BlockOverrideDomain"),
            block_override_dns_type=params.get("BlockOverrideDnsType"),
            block_override_ttl=params.get("BlockOverrideTtl"),
            redirection_action=params.get("FirewallDomainRedirectionAction") or "INSPECT_REDIRECTION_DOMAIN",
            qtype=params.get("Qtype"),
        )
        self.store.rules[(group_id, list_id)] = created
        return created

    def update_rule(self, params: dict[str, Any]) -> Rule:
        found = self.rule(params.get("FirewallRuleGroupId", ""), params.get("FirewallDomainListId", ""))
        merged = {
            "Action": found.action,
            "BlockResponse": found.block_response,
            "BlockOverrideDomain": found.block_override_domain,
            "BlockOverrideDnsType": found.block_override_dns_type,
            "BlockOverrideTtl": found.block_override_ttl,
            **{k: v for k, v in params.items() if v is not None},
        }
        if params.get("Action") and params["Action"] != "BLOCK" and "BlockResponse" not in params:
            merged.update(
                BlockResponse=None, BlockOverrideDomain=None, BlockOverrideDnsType=None, BlockOverrideTtl=None
            )
        self._check_action(merged)
        if params.get("Priority") is not None:
            found.priority = self._check_priority(found.group_id, found.domain_list_id, params["Priority"])
        found.action = merged["Action"]
        found.block_response = merged["BlockResponse"]
        found.block_override_domain = merged["BlockOverrideDomain"]
        found.block_override_dns_type = merged["BlockOverrideDnsType"]
        found.block_override_ttl = merged["BlockOverrideTtl"]
        found.name = params.get("Name") or found.name
        found.redirection_action = params.get("FirewallDomainRedirectionAction") or found.redirection_action
        found.qtype = params.get("Qtype") or found.qtype
        found.modified = _now()
        return found

    def delete_rule(self, group_id: str, list_id: str) -> Rule:
        found = self.rule(group_id, list_id)
        del self.store.rules[(group_id, list_id)]
        return found

    def rules_of(self, group_id: str) -> list[Rule]:
        self.group(group_id)
        return sorted((r for k, r in self.store.rules.items() if k[0] == group_id), key=lambda r: r.priority)

    # --- associations ---------------------------------------------------------------------------------
    def association(self, association_id: str) -> Association:
        found = self.store.associations.get(association_id or "")
        if found is None:
            raise _not_found("firewall rule group association", association_id)
        return found

    @staticmethod
    def _check_association_priority(priority: Any) -> int:
        low, high = ASSOCIATION_PRIORITY
        if not isinstance(priority, int) or isinstance(priority, bool) or not low <= priority <= high:
            raise _validation(
                f"Priority {priority} is not valid: use {low} to {high} (100 and 9900 are reserved)"
            )
        return priority

    def associate(self, params: dict[str, Any]) -> Association:
        group = self.group(params.get("FirewallRuleGroupId", ""))
        vpc_id = params.get("VpcId") or ""
        if vpc_id not in self.backend.ec2_backend.vpcs:
            raise _not_found("VPC", vpc_id)
        if not params.get("Name"):
            raise _validation(
                "1 validation error detected: Value null at 'name' failed to satisfy constraint"
            )
        priority = self._check_association_priority(params.get("Priority"))
        mutation = params.get("MutationProtection") or "DISABLED"
        if mutation not in MUTATION:
            raise _validation(f"Value '{mutation}' at 'mutationProtection' failed to satisfy constraint")
        for other in self.store.associations.values():
            if other.vpc_id != vpc_id:
                continue
            if other.group_id == group.id:
                raise _conflict(f"The rule group {group.id} is already associated with VPC {vpc_id}")
            if other.priority == priority:
                raise _conflict(f"VPC {vpc_id} already has a rule group association at priority {priority}")
        association_id = _id("rslvr-frgassoc")
        created = Association(
            id=association_id,
            arn=self._arn("firewall-rule-group-association", association_id),
            group_id=group.id,
            vpc_id=vpc_id,
            name=params["Name"],
            priority=priority,
            mutation_protection=mutation,
            creator_request_id=params.get("CreatorRequestId") or str(uuid.uuid4()),
        )
        self.store.associations[association_id] = created
        self._tag(created.arn, params.get("Tags"))
        return created

    def update_association(self, params: dict[str, Any]) -> Association:
        found = self.association(params.get("FirewallRuleGroupAssociationId", ""))
        if params.get("Priority") is not None:
            priority = self._check_association_priority(params["Priority"])
            for other in self.store.associations.values():
                if other.id != found.id and other.vpc_id == found.vpc_id and other.priority == priority:
                    raise _conflict(f"VPC {found.vpc_id} already has an association at priority {priority}")
            found.priority = priority
        if params.get("MutationProtection") is not None:
            if params["MutationProtection"] not in MUTATION:
                raise _validation("Value at 'mutationProtection' failed to satisfy constraint")
            found.mutation_protection = params["MutationProtection"]
        found.name = params.get("Name") or found.name
        found.modified = _now()
        return found

    def disassociate(self, association_id: str) -> Association:
        found = self.association(association_id)
        if found.mutation_protection == "ENABLED":
            raise _validation(
                f"Association {association_id} has mutation protection on: disable it before disassociating"
            )
        del self.store.associations[association_id]
        self.backend.tagger.delete_all_tags_for_resource(found.arn)
        return found


def _valid_domain(domain: str) -> bool:
    """A name, ``*.``name (its subdomains) or ``*`` (every name); a wildcard anywhere else is refused."""
    if domain == "*":
        return True
    name = domain.removeprefix("*.").rstrip(".")
    labels = name.split(".")
    return (
        0 < len(domain) <= MAX_DOMAIN_CHARS
        and all(0 < len(label) <= 63 for label in labels)
        and all(c.isalnum() or c in "-_" for label in labels for c in label)
    )


def _page(items: list[Any], params: dict[str, Any], key: str) -> str:
    """A page of ``items`` (MaxResults, NextToken as an offset), as the JSON body."""
    start = int(params.get("NextToken") or 0)
    size = int(params.get("MaxResults") or 100)
    body: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        body["NextToken"] = str(start + size)
    return json.dumps(body)


def _handlers() -> dict[str, Any]:
    """Response methods by moto's action name (snake case of the AWS operation)."""

    def firewall(response: Any) -> Firewall:
        return Firewall(response.route53resolver_backend)

    def params(response: Any) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(response.body or "{}")
        return body

    def create_firewall_domain_list(self: Any) -> str:
        p = params(self)
        made = firewall(self).create_domain_list(
            p.get("Name", ""), p.get("CreatorRequestId", ""), p.get("Tags")
        )
        return json.dumps({"FirewallDomainList": made.describe()})

    def update_firewall_domains(self: Any) -> str:
        p = params(self)
        found = firewall(self).update_domains(
            p.get("FirewallDomainListId", ""), p.get("Operation", ""), list(p.get("Domains") or [])
        )
        return json.dumps(
            {
                "Id": found.id,
                "Name": found.name,
                "Status": "COMPLETE",
                "StatusMessage": "Finished domain list update",
            }
        )

    def get_firewall_domain_list(self: Any) -> str:
        found = firewall(self).domain_list(params(self).get("FirewallDomainListId", ""))
        return json.dumps({"FirewallDomainList": found.describe()})

    def list_firewall_domains(self: Any) -> str:
        p = params(self)
        found = firewall(self).domain_list(p.get("FirewallDomainListId", ""))
        return _page(list(found.domains), p, "Domains")

    def list_firewall_domain_lists(self: Any) -> str:
        lists = firewall(self).store.domain_lists.values()
        summaries = [{k: d.describe()[k] for k in ("Id", "Arn", "Name", "CreatorRequestId")} for d in lists]
        return _page(summaries, params(self), "FirewallDomainLists")

    def delete_firewall_domain_list(self: Any) -> str:
        found = firewall(self).delete_domain_list(params(self).get("FirewallDomainListId", ""))
        return json.dumps({"FirewallDomainList": {**found.describe(), "Status": "DELETING"}})

    def create_firewall_rule_group(self: Any) -> str:
        p = params(self)
        made = firewall(self).create_group(p.get("Name", ""), p.get("CreatorRequestId", ""), p.get("Tags"))
        return json.dumps({"FirewallRuleGroup": made.describe(0)})

    def get_firewall_rule_group(self: Any) -> str:
        fw = firewall(self)
        found = fw.group(params(self).get("FirewallRuleGroupId", ""))
        return json.dumps({"FirewallRuleGroup": found.describe(fw.rule_count(found.id))})

    def list_firewall_rule_groups(self: Any) -> str:
        groups = firewall(self).store.groups.values()
        summaries = [
            {
                "Id": g.id,
                "Arn": g.arn,
                "Name": g.name,
                "OwnerId": g.owner,
                "CreatorRequestId": g.creator_request_id,
                "ShareStatus": "NOT_SHARED",
            }
            for g in groups
        ]
        return _page(summaries, params(self), "FirewallRuleGroups")

    def delete_firewall_rule_group(self: Any) -> str:
        found = firewall(self).delete_group(params(self).get("FirewallRuleGroupId", ""))
        return json.dumps({"FirewallRuleGroup": {**found.describe(0), "Status": "DELETING"}})

    def create_firewall_rule(self: Any) -> str:
        return json.dumps({"FirewallRule": firewall(self).create_rule(params(self)).describe()})

    def update_firewall_rule(self: Any) -> str:
        return json.dumps({"FirewallRule": firewall(self).update_rule(params(self)).describe()})

    def delete_firewall_rule(self: Any) -> str:
        p = params(self)
        found = firewall(self).delete_rule(
            p.get("FirewallRuleGroupId", ""), p.get("FirewallDomainListId", "")
        )
        return json.dumps({"FirewallRule": found.describe()})

    def list_firewall_rules(self: Any) -> str:
        p = params(self)
        rules = [r.describe() for r in firewall(self).rules_of(p.get("FirewallRuleGroupId", ""))]
        rules = [r for r in rules if p.get("Priority") is None or r["Priority"] == p["Priority"]]
        rules = [r for r in rules if p.get("Action") is None or r["Action"] == p["Action"]]
        return _page(rules, p, "FirewallRules")

    def associate_firewall_rule_group(self: Any) -> str:
        made = firewall(self).associate(params(self))
        return json.dumps({"FirewallRuleGroupAssociation": made.describe()})

    def get_firewall_rule_group_association(self: Any) -> str:
        found = firewall(self).association(params(self).get("FirewallRuleGroupAssociationId", ""))
        return json.dumps({"FirewallRuleGroupAssociation": found.describe()})

    def update_firewall_rule_group_association(self: Any) -> str:
        found = firewall(self).update_association(params(self))
        return json.dumps({"FirewallRuleGroupAssociation": found.describe()})

    def disassociate_firewall_rule_group(self: Any) -> str:
        found = firewall(self).disassociate(params(self).get("FirewallRuleGroupAssociationId", ""))
        return json.dumps({"FirewallRuleGroupAssociation": {**found.describe(), "Status": "DELETING"}})

    def list_firewall_rule_group_associations(self: Any) -> str:
        p = params(self)
        found = [
            a.describe()
            for a in firewall(self).store.associations.values()
            if all(
                p.get(name) is None or a.describe()[name] == p[name]
                for name in ("FirewallRuleGroupId", "VpcId", "Priority", "Status")
            )
        ]
        return _page(found, p, "FirewallRuleGroupAssociations")

    return {name: value for name, value in locals().items() if callable(value) and "_firewall" in name}


def patch_resolver_firewall() -> None:
    """Add the DNS Firewall actions to moto's Route 53 Resolver, and tags on their ARNs."""
    from moto.route53resolver import models, responses

    response_class = responses.Route53ResolverResponse
    if getattr(response_class, "_forensics_firewall", False):
        return
    response_class._forensics_firewall = True  # type: ignore[attr-defined]
    for name, handler in _handlers().items():
        setattr(response_class, name, handler)

    matched_arn = models.Route53ResolverBackend._matched_arn

    def _matched(self: Any, resource_arn: str) -> None:
        if Firewall(self).owns(resource_arn):
            return
        matched_arn(self, resource_arn)

    models.Route53ResolverBackend._matched_arn = _matched  # type: ignore[method-assign]
