"""EC2: VPC, subnet, security group, route table (+association), VPC endpoint, flow log, instance, EBS volume,
volume attachment, snapshot, snapshot copy, instance state; and the getAmi data source."""

from __future__ import annotations

import base64
import re
import zlib
from typing import Any

from botocore.exceptions import ClientError

from .base import (
    ResourceHandler,
    StandinError,
    drop_none,
    ints,
    not_found,
    retry_on,
    tag_map,
    wait_until,
)
from .datasources import DataSource
from .values import Props

_DEPENDENCY = ("DependencyViolation", "InvalidGroup.InUse")


class Ec2Handler(ResourceHandler):
    """Shared EC2 tagging: tags ride on TagSpecifications at create and CreateTags/DeleteTags on update."""

    taggable = True

    @property
    def ec2(self) -> Any:
        return self.aws.client("ec2")

    def tag_spec(self, resource_type: str, props: Props) -> list[dict[str, Any]]:
        tags = self.tags_all(props)
        return (
            [{"ResourceType": resource_type, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
            if tags
            else []
        )

    def update_tags(self, resource_id: str, olds: Props, news: Props) -> None:
        to_set, to_remove = self.tag_changes(olds, news)
        if to_remove:
            self.ec2.delete_tags(Resources=[resource_id], Tags=[{"Key": k} for k in to_remove])
        if to_set:
            self.ec2.create_tags(
                Resources=[resource_id], Tags=[{"Key": k, "Value": v} for k, v in to_set.items()]
            )

    def ec2_arn(self, kind: str, resource_id: str) -> str:
        return self.aws.arn("ec2", f"{kind}/{resource_id}")


# --- VPC ---------------------------------------------------------------------------------------------------
class Vpc(Ec2Handler):
    token = "aws:ec2/vpc:Vpc"
    inputs = frozenset({"cidrBlock", "enableDnsSupport", "enableDnsHostnames", "instanceTenancy"})
    outputs = frozenset(
        {
            "arn",
            "defaultSecurityGroupId",
            "mainRouteTableId",
            "defaultRouteTableId",
            "defaultNetworkAclId",
            "dhcpOptionsId",
            "ownerId",
            "enableDnsSupport",
            "enableDnsHostnames",
            "instanceTenancy",
            "cidrBlock",
            "ipv6CidrBlock",
            "ipv6AssociationId",
        }
    )
    replace_on = frozenset({"cidrBlock", "instanceTenancy"})

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        vpc = self.ec2.create_vpc(
            CidrBlock=news["cidrBlock"],
            InstanceTenancy=news.get("instanceTenancy") or "default",
            TagSpecifications=self.tag_spec("vpc", news),
        )["Vpc"]
        vpc_id = vpc["VpcId"]
        wait_until(lambda: self._describe(vpc_id, "available"), f"VPC {vpc_id} to be available")
        self._set_dns(vpc_id, {}, news)
        return vpc_id, self.read(vpc_id, news) or {}

    def _describe(self, vpc_id: str, state: str | None = None) -> dict[str, Any] | None:
        try:
            vpc = self.ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        return vpc if state is None or vpc.get("State") == state else None

    def _set_dns(self, vpc_id: str, olds: Props, news: Props) -> None:
        # Defaults as in AWS/pulumi-aws: DNS support on, hostnames off.
        for key, attr, default in (
            ("enableDnsSupport", "EnableDnsSupport", True),
            ("enableDnsHostnames", "EnableDnsHostnames", False),
        ):
            want = news.get(key, default)
            if olds.get(key, default) != want or not olds:
                self.ec2.modify_vpc_attribute(VpcId=vpc_id, **{attr: {"Value": bool(want)}})

    def read(self, resource_id: str, olds: Props) -> Props | None:
        vpc = self._describe(resource_id)
        if vpc is None:
            return None
        ec2 = self.ec2
        filters = [{"Name": "vpc-id", "Values": [resource_id]}]
        default_sg = ec2.describe_security_groups(
            Filters=[*filters, {"Name": "group-name", "Values": ["default"]}]
        )
        main_rt = ec2.describe_route_tables(
            Filters=[*filters, {"Name": "association.main", "Values": ["true"]}]
        )
        acl = ec2.describe_network_acls(Filters=[*filters, {"Name": "default", "Values": ["true"]}])
        main_rt_id = main_rt["RouteTables"][0]["RouteTableId"] if main_rt["RouteTables"] else ""
        ipv6 = (vpc.get("Ipv6CidrBlockAssociationSet") or [{}])[0]
        return {
            "arn": self.ec2_arn("vpc", resource_id),
            "cidrBlock": vpc["CidrBlock"],
            "instanceTenancy": vpc.get("InstanceTenancy", "default"),
            "enableDnsSupport": self._attribute(resource_id, "enableDnsSupport"),
            "enableDnsHostnames": self._attribute(resource_id, "enableDnsHostnames"),
            "defaultSecurityGroupId": default_sg["SecurityGroups"][0]["GroupId"]
            if default_sg["SecurityGroups"]
            else "",
            "mainRouteTableId": main_rt_id,
            "defaultRouteTableId": main_rt_id,
            "defaultNetworkAclId": acl["NetworkAcls"][0]["NetworkAclId"] if acl["NetworkAcls"] else "",
            "dhcpOptionsId": vpc.get("DhcpOptionsId", ""),
            "ownerId": vpc.get("OwnerId") or self.aws.account_id,
            "ipv6CidrBlock": ipv6.get("Ipv6CidrBlock", ""),
            "ipv6AssociationId": ipv6.get("AssociationId", ""),
            **self.tag_outputs(tag_map(vpc.get("Tags")), olds),
        }

    def _attribute(self, vpc_id: str, name: str) -> bool:
        got = self.ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=name)
        return bool(got[name[0].upper() + name[1:]]["Value"])

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        self._set_dns(resource_id, olds, news)
        self.update_tags(resource_id, olds, news)
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            retry_on(_DEPENDENCY, lambda: self.ec2.delete_vpc(VpcId=resource_id), f"delete VPC {resource_id}")
        except ClientError as exc:
            if not not_found(exc):
                raise


# --- Subnet ------------------------------------------------------------------------------------------------
class Subnet(Ec2Handler):
    token = "aws:ec2/subnet:Subnet"
    inputs = frozenset(
        {"vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId", "mapPublicIpOnLaunch"}
    )
    outputs = frozenset(
        {
            "arn",
            "availabilityZone",
            "availabilityZoneId",
            "ownerId",
            "mapPublicIpOnLaunch",
            "ipv6CidrBlock",
            "assignIpv6AddressOnCreation",
        }
    )
    replace_on = frozenset({"vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId"})

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        subnet = self.ec2.create_subnet(
            **drop_none(
                {
                    "VpcId": news["vpcId"],
                    "CidrBlock": news["cidrBlock"],
                    "AvailabilityZone": news.get("availabilityZone"),
                    "AvailabilityZoneId": news.get("availabilityZoneId"),
                    "TagSpecifications": self.tag_spec("subnet", news) or None,
                }
            )
        )["Subnet"]
        subnet_id = subnet["SubnetId"]
        if news.get("mapPublicIpOnLaunch"):
            self.ec2.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": True})
        return subnet_id, self.read(subnet_id, news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            subnet = self.ec2.describe_subnets(SubnetIds=[resource_id])["Subnets"][0]
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        return {
            "arn": subnet.get("SubnetArn") or self.ec2_arn("subnet", resource_id),
            "vpcId": subnet["VpcId"],
            "cidrBlock": subnet["CidrBlock"],
            "availabilityZone": subnet["AvailabilityZone"],
            "availabilityZoneId": subnet.get("AvailabilityZoneId", ""),
            "mapPublicIpOnLaunch": bool(subnet.get("MapPublicIpOnLaunch")),
            "assignIpv6AddressOnCreation": bool(subnet.get("AssignIpv6AddressOnCreation")),
            "ipv6CidrBlock": "",
            "ownerId": subnet.get("OwnerId") or self.aws.account_id,
            **self.tag_outputs(tag_map(subnet.get("Tags")), olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        if bool(olds.get("mapPublicIpOnLaunch")) != bool(news.get("mapPublicIpOnLaunch")):
            self.ec2.modify_subnet_attribute(
                SubnetId=resource_id, MapPublicIpOnLaunch={"Value": bool(news.get("mapPublicIpOnLaunch"))}
            )
        self.update_tags(resource_id, olds, news)
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            retry_on(
                _DEPENDENCY, lambda: self.ec2.delete_subnet(SubnetId=resource_id), f"delete {resource_id}"
            )
        except ClientError as exc:
            if not not_found(exc):
                raise


# --- Security group ----------------------------------------------------------------------------------------
_RULE_FIELDS = (
    "protocol",
    "fromPort",
    "toPort",
    "cidrBlocks",
    "ipv6CidrBlocks",
    "prefixListIds",
    "securityGroups",
    "self",
    "description",
)


def _rule_to_permissions(rule: Props, own_group: str) -> dict[str, Any]:
    """One pulumi-aws rule -> one EC2 IpPermission (the description goes on every range)."""
    desc = drop_none({"Description": rule.get("description") or None})
    protocol = str(rule.get("protocol", "-1")).lower()
    protocol = {"all": "-1", "6": "tcp", "17": "udp", "1": "icmp"}.get(protocol, protocol)
    perm: dict[str, Any] = {"IpProtocol": protocol}
    if protocol != "-1":
        perm["FromPort"] = ints(rule.get("fromPort", 0))
        perm["ToPort"] = ints(rule.get("toPort", 0))
    perm["IpRanges"] = [{"CidrIp": c, **desc} for c in rule.get("cidrBlocks") or []]
    perm["Ipv6Ranges"] = [{"CidrIpv6": c, **desc} for c in rule.get("ipv6CidrBlocks") or []]
    perm["PrefixListIds"] = [{"PrefixListId": c, **desc} for c in rule.get("prefixListIds") or []]
    groups = list(rule.get("securityGroups") or []) + ([own_group] if rule.get("self") else [])
    perm["UserIdGroupPairs"] = [{"GroupId": g, **desc} for g in groups]
    return perm


def _permissions_to_rules(perms: list[dict[str, Any]], own_group: str) -> list[Props]:
    """EC2 IpPermissions -> pulumi-aws rules, one per (permission, description) as Terraform flattens them."""
    rules: list[Props] = []
    for perm in perms:
        by_desc: dict[str, Props] = {}
        sources = (
            ("IpRanges", "CidrIp", "cidrBlocks"),
            ("Ipv6Ranges", "CidrIpv6", "ipv6CidrBlocks"),
            ("PrefixListIds", "PrefixListId", "prefixListIds"),
            ("UserIdGroupPairs", "GroupId", "securityGroups"),
        )
        for field, inner, target in sources:
            for source in perm.get(field, []):
                rule = by_desc.setdefault(source.get("Description") or "", _empty_rule(perm))
                if field == "UserIdGroupPairs" and source.get("GroupId") == own_group:
                    rule["self"] = True
                else:
                    rule[target].append(source[inner])
        for desc, rule in by_desc.items():
            rule["description"] = desc
        rules.extend(by_desc.values())
    return rules


def _empty_rule(perm: dict[str, Any]) -> Props:
    protocol = perm.get("IpProtocol", "-1")
    return {
        "protocol": protocol,
        "fromPort": perm.get("FromPort", 0) if protocol != "-1" else 0,
        "toPort": perm.get("ToPort", 0) if protocol != "-1" else 0,
        "cidrBlocks": [],
        "ipv6CidrBlocks": [],
        "prefixListIds": [],
        "securityGroups": [],
        "self": False,
        "description": "",
    }


def _perm_key(perm: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Flatten a permission into comparable atoms (protocol, ports, one source)."""
    base = (perm.get("IpProtocol"), perm.get("FromPort"), perm.get("ToPort"))
    atoms: list[tuple[Any, ...]] = []
    for field, inner in (
        ("IpRanges", "CidrIp"),
        ("Ipv6Ranges", "CidrIpv6"),
        ("PrefixListIds", "PrefixListId"),
        ("UserIdGroupPairs", "GroupId"),
    ):
        atoms += [(*base, field, inner, r[inner], r.get("Description") or "") for r in perm.get(field, [])]
    return atoms


def _atom_to_permission(atom: tuple[Any, ...]) -> dict[str, Any]:
    protocol, from_port, to_port, field, inner, value, desc = atom
    perm: dict[str, Any] = {
        "IpProtocol": protocol,
        field: [drop_none({inner: value, "Description": desc or None})],
    }
    if protocol != "-1":
        perm["FromPort"], perm["ToPort"] = from_port, to_port
    return perm


class SecurityGroup(Ec2Handler):
    token = "aws:ec2/securityGroup:SecurityGroup"
    inputs = frozenset(
        {
            "name",
            "namePrefix",
            "description",
            "vpcId",
            "ingress",
            "egress",
            "revokeRulesOnDelete",
            *(f"ingress.{f}" for f in _RULE_FIELDS),
            *(f"egress.{f}" for f in _RULE_FIELDS),
        }
    )
    outputs = frozenset({"arn", "ownerId", "name", "description", "ingress", "egress", "vpcId"})
    replace_on = frozenset({"name", "namePrefix", "description", "vpcId"})
    autoname = "name"

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        group_id = self.ec2.create_security_group(
            **drop_none(
                {
                    "GroupName": news["name"],
                    "Description": news.get("description") or "Managed by Pulumi",
                    "VpcId": news.get("vpcId"),
                    "TagSpecifications": self.tag_spec("security-group", news) or None,
                }
            )
        )["GroupId"]
        # Like Terraform: remove AWS's default allow-all egress, then authorize exactly the declared rules.
        self._sync_rules(group_id, news)
        return group_id, self.read(group_id, news) or {}

    def _current(self, group_id: str) -> dict[str, Any]:
        group: dict[str, Any] = self.ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
        return group

    def _sync_rules(self, group_id: str, news: Props) -> None:
        group = self._current(group_id)
        for direction, field in (("ingress", "IpPermissions"), ("egress", "IpPermissionsEgress")):
            want_rules = news.get(direction) or []
            want = {a for r in want_rules for a in _perm_key(_rule_to_permissions(r, group_id))}
            have = {a for p in group.get(field, []) for a in _perm_key(p)}
            revoke, authorize = have - want, want - have
            revoke_fn = getattr(self.ec2, f"revoke_security_group_{direction}")
            auth_fn = getattr(self.ec2, f"authorize_security_group_{direction}")
            if revoke:
                revoke_fn(
                    GroupId=group_id, IpPermissions=[_atom_to_permission(a) for a in sorted(revoke, key=str)]
                )
            if authorize:
                auth_fn(
                    GroupId=group_id,
                    IpPermissions=[_atom_to_permission(a) for a in sorted(authorize, key=str)],
                )

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            group = self._current(resource_id)
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        return {
            "arn": self.ec2_arn("security-group", resource_id),
            "name": group["GroupName"],
            "description": group.get("Description", ""),
            "vpcId": group.get("VpcId", ""),
            "ownerId": group.get("OwnerId") or self.aws.account_id,
            "ingress": _permissions_to_rules(group.get("IpPermissions", []), resource_id),
            "egress": _permissions_to_rules(group.get("IpPermissionsEgress", []), resource_id),
            **self.tag_outputs(tag_map(group.get("Tags")), olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        self._sync_rules(
            resource_id, {**{"ingress": olds.get("ingress"), "egress": olds.get("egress")}, **news}
        )
        self.update_tags(resource_id, olds, news)
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            if olds.get("revokeRulesOnDelete"):
                self._sync_rules(resource_id, {"ingress": [], "egress": []})
            retry_on(
                _DEPENDENCY,
                lambda: self.ec2.delete_security_group(GroupId=resource_id),
                f"delete security group {resource_id}",
            )
        except ClientError as exc:
            if not not_found(exc):
                raise


# --- Route table -------------------------------------------------------------------------------------------
class RouteTable(Ec2Handler):
    token = "aws:ec2/routeTable:RouteTable"
    inputs = frozenset({"vpcId", "routes", "propagatingVgws"})
    outputs = frozenset({"arn", "ownerId", "routes", "propagatingVgws", "vpcId"})
    replace_on = frozenset({"vpcId"})

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        if news.get("routes") or news.get("propagatingVgws"):
            # The clean room has no routes beyond the implicit local one; the stand-in does not model them.
            raise StandinError(
                f"{self.token}: routes/propagatingVgws are not supported by the local stand-in"
            )
        table = self.ec2.create_route_table(
            **drop_none(
                {
                    "VpcId": news["vpcId"],
                    "TagSpecifications": self.tag_spec("route-table", news) or None,
                }
            )
        )["RouteTable"]
        return table["RouteTableId"], self.read(table["RouteTableId"], news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            table = self.ec2.describe_route_tables(RouteTableIds=[resource_id])["RouteTables"][0]
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        # As Terraform: the local route and VPC endpoint (prefix list) routes are not part of `routes`.
        routes = [
            drop_none({"cidrBlock": r.get("DestinationCidrBlock"), "gatewayId": r.get("GatewayId")})
            for r in table.get("Routes", [])
            if r.get("GatewayId") != "local" and not str(r.get("GatewayId", "")).startswith("vpce-")
        ]
        return {
            "arn": self.ec2_arn("route-table", resource_id),
            "vpcId": table["VpcId"],
            "ownerId": table.get("OwnerId") or self.aws.account_id,
            "routes": routes,
            "propagatingVgws": [],
            **self.tag_outputs(tag_map(table.get("Tags")), olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        if news.get("routes"):
            raise StandinError(f"{self.token}: routes are not supported by the local stand-in")
        self.update_tags(resource_id, olds, news)
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            table = self.ec2.describe_route_tables(RouteTableIds=[resource_id])["RouteTables"][0]
            for assoc in table.get("Associations", []):
                if not assoc.get("Main"):
                    self.ec2.disassociate_route_table(AssociationId=assoc["RouteTableAssociationId"])
            self.ec2.delete_route_table(RouteTableId=resource_id)
        except ClientError as exc:
            if not not_found(exc):
                raise


class RouteTableAssociation(ResourceHandler):
    token = "aws:ec2/routeTableAssociation:RouteTableAssociation"
    inputs = frozenset({"subnetId", "gatewayId", "routeTableId"})
    outputs = frozenset()
    replace_on = frozenset({"subnetId", "gatewayId"})

    @property
    def ec2(self) -> Any:
        return self.aws.client("ec2")

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        assoc = self.ec2.associate_route_table(
            **drop_none(
                {
                    "RouteTableId": news["routeTableId"],
                    "SubnetId": news.get("subnetId"),
                    "GatewayId": news.get("gatewayId"),
                }
            )
        )
        return assoc["AssociationId"], {}

    def _find(self, resource_id: str, olds: Props) -> dict[str, Any] | None:
        """The association by id, or (after a route table change gave it a new id) by its subnet/gateway."""
        for name, value in (
            ("association.route-table-association-id", resource_id),
            ("association.subnet-id", olds.get("subnetId")),
            ("association.gateway-id", olds.get("gatewayId")),
        ):
            if not value:
                continue
            found = self.ec2.describe_route_tables(Filters=[{"Name": name, "Values": [value]}])
            for table in found["RouteTables"]:
                associations: list[dict[str, Any]] = table.get("Associations", [])
                for assoc in associations:
                    if value in (
                        assoc.get("RouteTableAssociationId"),
                        assoc.get("SubnetId"),
                        assoc.get("GatewayId"),
                    ):
                        return assoc
        return None

    def read(self, resource_id: str, olds: Props) -> Props | None:
        assoc = self._find(resource_id, olds)
        if assoc is None:
            return None
        return drop_none(
            {
                "routeTableId": assoc["RouteTableId"],
                "subnetId": assoc.get("SubnetId"),
                "gatewayId": assoc.get("GatewayId"),
            }
        )

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        # AWS gives the association a new id; a Pulumi update cannot change the id, so later reads and the
        # delete find the association by its subnet (or gateway) instead.
        assoc = self._find(resource_id, olds)
        if assoc is None:
            raise StandinError(f"{self.token} {resource_id}: association not found")
        self.ec2.replace_route_table_association(
            AssociationId=assoc["RouteTableAssociationId"], RouteTableId=news["routeTableId"]
        )
        return {}

    def delete(self, resource_id: str, olds: Props) -> None:
        assoc = self._find(resource_id, olds)
        if assoc is None:
            return
        try:
            self.ec2.disassociate_route_table(AssociationId=assoc["RouteTableAssociationId"])
        except ClientError as exc:
            if not not_found(exc):
                raise


# --- VPC endpoint ------------------------------------------------------------------------------------------
class VpcEndpoint(Ec2Handler):
    token = "aws:ec2/vpcEndpoint:VpcEndpoint"
    inputs = frozenset(
        {
            "vpcId",
            "serviceName",
            "vpcEndpointType",
            "routeTableIds",
            "subnetIds",
            "securityGroupIds",
            "privateDnsEnabled",
            "policy",
            "autoAccept",
            "ipAddressType",
        }
    )
    outputs = frozenset(
        {
            "arn",
            "state",
            "prefixListId",
            "cidrBlocks",
            "dnsEntries",
            "dnsEntries.dnsName",
            "dnsEntries.hostedZoneId",
            "networkInterfaceIds",
            "ownerId",
            "requesterManaged",
            "policy",
            "vpcEndpointType",
            "routeTableIds",
            "subnetIds",
            "securityGroupIds",
            "privateDnsEnabled",
        }
    )
    replace_on = frozenset({"vpcId", "serviceName", "vpcEndpointType"})

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        kind = news.get("vpcEndpointType") or "Gateway"
        endpoint = self.ec2.create_vpc_endpoint(
            **drop_none(
                {
                    "VpcId": news["vpcId"],
                    "ServiceName": news["serviceName"],
                    "VpcEndpointType": kind,
                    "RouteTableIds": news.get("routeTableIds") or None,
                    "SubnetIds": news.get("subnetIds") or None,
                    "SecurityGroupIds": news.get("securityGroupIds") or None,
                    "PrivateDnsEnabled": news.get("privateDnsEnabled") if kind == "Interface" else None,
                    "PolicyDocument": news.get("policy") or None,
                    "TagSpecifications": self.tag_spec("vpc-endpoint", news) or None,
                }
            )
        )["VpcEndpoint"]
        endpoint_id = endpoint["VpcEndpointId"]
        wait_until(
            lambda: (self._describe(endpoint_id) or {}).get("State") == "available",
            f"VPC endpoint {endpoint_id} to be available",
        )
        return endpoint_id, self.read(endpoint_id, news) or {}

    def _describe(self, endpoint_id: str) -> dict[str, Any] | None:
        try:
            found = self.ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"]
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        return (
            found[0] if found and found[0].get("State", "").lower() not in ("deleted", "deleting") else None
        )

    def read(self, resource_id: str, olds: Props) -> Props | None:
        ep = self._describe(resource_id)
        if ep is None:
            return None
        prefix_list = ""
        if ep.get("VpcEndpointType") == "Gateway":
            lists = self.ec2.describe_prefix_lists(
                Filters=[{"Name": "prefix-list-name", "Values": [ep["ServiceName"]]}]
            ).get("PrefixLists", [])
            prefix_list = lists[0]["PrefixListId"] if lists else ""
        policy = ep.get("PolicyDocument") or ""
        if olds.get("policy") and _same_json(olds["policy"], policy):
            policy = olds["policy"]
        return {
            "arn": self.ec2_arn("vpc-endpoint", resource_id),
            "vpcId": ep["VpcId"],
            "serviceName": ep["ServiceName"],
            "vpcEndpointType": ep.get("VpcEndpointType", "Gateway"),
            "state": ep.get("State", "available").lower(),
            "routeTableIds": ep.get("RouteTableIds", []),
            "subnetIds": ep.get("SubnetIds", []),
            "securityGroupIds": [g["GroupId"] for g in ep.get("Groups", [])],
            "privateDnsEnabled": bool(ep.get("PrivateDnsEnabled")),
            "policy": policy,
            "networkInterfaceIds": ep.get("NetworkInterfaceIds", []),
            "dnsEntries": [
                {"dnsName": d.get("DnsName", ""), "hostedZoneId": d.get("HostedZoneId", "")}
                for d in ep.get("DnsEntries", [])
            ],
            "prefixListId": prefix_list,
            "cidrBlocks": [],
            "ownerId": ep.get("OwnerId") or self.aws.account_id,
            "requesterManaged": bool(ep.get("RequesterManaged")),
            **self.tag_outputs(tag_map(ep.get("Tags")), olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        args: dict[str, Any] = {}
        for key, add, remove in (
            ("routeTableIds", "AddRouteTableIds", "RemoveRouteTableIds"),
            ("subnetIds", "AddSubnetIds", "RemoveSubnetIds"),
            ("securityGroupIds", "AddSecurityGroupIds", "RemoveSecurityGroupIds"),
        ):
            if key not in news:
                continue
            old, new = set(olds.get(key) or []), set(news.get(key) or [])
            if new - old:
                args[add] = sorted(new - old)
            if old - new:
                args[remove] = sorted(old - new)
        if "privateDnsEnabled" in news and bool(news["privateDnsEnabled"]) != bool(
            olds.get("privateDnsEnabled")
        ):
            args["PrivateDnsEnabled"] = bool(news["privateDnsEnabled"])
        if news.get("policy") and not _same_json(news["policy"], olds.get("policy") or ""):
            args["PolicyDocument"] = news["policy"]
        if args:
            self.ec2.modify_vpc_endpoint(VpcEndpointId=resource_id, **args)
        self.update_tags(resource_id, olds, news)
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            self.ec2.delete_vpc_endpoints(VpcEndpointIds=[resource_id])
        except ClientError as exc:
            if not not_found(exc):
                raise
        wait_until(lambda: self._describe(resource_id) is None, f"VPC endpoint {resource_id} to be deleted")


def _same_json(a: str, b: str) -> bool:
    import json

    try:
        return bool(json.loads(a) == json.loads(b))
    except (ValueError, TypeError):
        return a == b


# --- Flow log ----------------------------------------------------------------------------------------------
class FlowLog(Ec2Handler):
    token = "aws:ec2/flowLog:FlowLog"
    inputs = frozenset(
        {
            "vpcId",
            "subnetId",
            "eniId",
            "transitGatewayId",
            "transitGatewayAttachmentId",
            "trafficType",
            "logDestinationType",
            "logDestination",
            "iamRoleArn",
            "deliverCrossAccountRole",
            "maxAggregationInterval",
            "logFormat",
        }
    )
    outputs = frozenset(
        {"arn", "logFormat", "logDestinationType", "maxAggregationInterval", "logDestination"}
    )
    # Every flow log argument but tags forces a new flow log in AWS.
    replace_on = inputs

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        for key, kind in (
            ("vpcId", "VPC"),
            ("subnetId", "Subnet"),
            ("eniId", "NetworkInterface"),
            ("transitGatewayId", "TransitGateway"),
            ("transitGatewayAttachmentId", "TransitGatewayAttachment"),
        ):
            if news.get(key):
                resource, resource_type = news[key], kind
                break
        else:
            raise StandinError(f"{self.token}: one of vpcId, subnetId, eniId, transitGatewayId is required")
        result = self.ec2.create_flow_logs(
            **drop_none(
                {
                    "ResourceIds": [resource],
                    "ResourceType": resource_type,
                    "TrafficType": news.get("trafficType"),
                    "LogDestinationType": news.get("logDestinationType") or "cloud-watch-logs",
                    "LogDestination": news.get("logDestination"),
                    "DeliverLogsPermissionArn": news.get("iamRoleArn"),
                    "DeliverCrossAccountRole": news.get("deliverCrossAccountRole"),
                    "MaxAggregationInterval": ints(news.get("maxAggregationInterval")),
                    "LogFormat": news.get("logFormat"),
                    "TagSpecifications": self.tag_spec("vpc-flow-log", news) or None,
                }
            )
        )
        if result.get("Unsuccessful"):
            raise StandinError(f"{self.token}: {result['Unsuccessful'][0].get('Error')}")
        flow_id = result["FlowLogIds"][0]
        return flow_id, self.read(flow_id, news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        logs = self.ec2.describe_flow_logs(FlowLogIds=[resource_id]).get("FlowLogs", [])
        if not logs:
            return None
        fl = logs[0]
        return {
            "arn": self.ec2_arn("vpc-flow-log", resource_id),
            "trafficType": fl.get("TrafficType", ""),
            "logDestinationType": fl.get("LogDestinationType", "cloud-watch-logs"),
            "logDestination": fl.get("LogDestination") or olds.get("logDestination", ""),
            "iamRoleArn": fl.get("DeliverLogsPermissionArn") or olds.get("iamRoleArn", ""),
            "maxAggregationInterval": fl.get("MaxAggregationInterval", 600),
            "logFormat": fl.get("LogFormat", ""),
            **self.tag_outputs(tag_map(fl.get("Tags")), olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        self.update_tags(resource_id, olds, news)
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        self.ec2.delete_flow_logs(FlowLogIds=[resource_id])


# --- Instance ----------------------------------------------------------------------------------------------
_ROOT_FIELDS = (
    "encrypted",
    "kmsKeyId",
    "volumeType",
    "volumeSize",
    "iops",
    "throughput",
    "deleteOnTermination",
    "tags",
)
_METADATA_FIELDS = (
    "httpEndpoint",
    "httpTokens",
    "httpPutResponseHopLimit",
    "instanceMetadataTags",
    "httpProtocolIpv6",
)


def _instance_profile_name(value: str) -> str:
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


class Instance(Ec2Handler):
    token = "aws:ec2/instance:Instance"
    inputs = frozenset(
        {
            "ami",
            "instanceType",
            "subnetId",
            "vpcSecurityGroupIds",
            "securityGroups",
            "iamInstanceProfile",
            "associatePublicIpAddress",
            "availabilityZone",
            "privateIp",
            "keyName",
            "userData",
            "userDataBase64",
            "userDataReplaceOnChange",
            "ebsOptimized",
            "monitoring",
            "disableApiTermination",
            "disableApiStop",
            "instanceInitiatedShutdownBehavior",
            "volumeTags",
            "metadataOptions",
            "rootBlockDevice",
            *(f"rootBlockDevice.{f}" for f in _ROOT_FIELDS),
            *(f"metadataOptions.{f}" for f in _METADATA_FIELDS),
        }
    )
    outputs = frozenset(
        {
            "arn",
            "instanceState",
            "privateIp",
            "privateDns",
            "publicIp",
            "publicDns",
            "availabilityZone",
            "primaryNetworkInterfaceId",
            "vpcSecurityGroupIds",
            "securityGroups",
            "iamInstanceProfile",
            "instanceType",
            "subnetId",
            "ami",
            "metadataOptions",
            "rootBlockDevice",
            "rootBlockDevice.volumeId",
            "rootBlockDevice.deviceName",
            "rootBlockDevice.tagsAll",
            "outpostArn",
            "tenancy",
            "hostId",
            "placementGroup",
            "instanceLifecycle",
            "spotInstanceRequestId",
            "ipv6Addresses",
            *(f"rootBlockDevice.{f}" for f in _ROOT_FIELDS),
            *(f"metadataOptions.{f}" for f in _METADATA_FIELDS),
        }
    )
    replace_on = frozenset(
        {
            "ami",
            "subnetId",
            "availabilityZone",
            "associatePublicIpAddress",
            "privateIp",
            "keyName",
            "securityGroups",
            "rootBlockDevice.encrypted",
            "rootBlockDevice.kmsKeyId",
        }
    )

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        ec2 = self.ec2
        image = ec2.describe_images(ImageIds=[news["ami"]])["Images"][0]
        root_name = image.get("RootDeviceName") or "/dev/xvda"
        args: dict[str, Any] = drop_none(
            {
                "ImageId": news["ami"],
                "InstanceType": news.get("instanceType") or "t3.micro",
                "MinCount": 1,
                "MaxCount": 1,
                "SubnetId": news.get("subnetId"),
                "SecurityGroupIds": news.get("vpcSecurityGroupIds") or None,
                "SecurityGroups": news.get("securityGroups") or None,
                "PrivateIpAddress": news.get("privateIp"),
                "KeyName": news.get("keyName"),
                "UserData": news.get("userData"),  # botocore base64-encodes RunInstances UserData itself
                "EbsOptimized": news.get("ebsOptimized"),
                "DisableApiTermination": news.get("disableApiTermination"),
                "DisableApiStop": news.get("disableApiStop"),
                "InstanceInitiatedShutdownBehavior": news.get("instanceInitiatedShutdownBehavior"),
                "Placement": {"AvailabilityZone": news["availabilityZone"]}
                if news.get("availabilityZone")
                else None,
                "Monitoring": {"Enabled": bool(news["monitoring"])}
                if news.get("monitoring") is not None
                else None,
            }
        )
        if news.get("userDataBase64"):
            import base64

            args["UserData"] = base64.b64decode(news["userDataBase64"]).decode()
        if news.get("iamInstanceProfile"):
            profile = news["iamInstanceProfile"]
            args["IamInstanceProfile"] = {"Arn": profile} if profile.startswith("arn:") else {"Name": profile}
        if news.get("metadataOptions"):
            args["MetadataOptions"] = self._metadata_args(news["metadataOptions"])
        root = news.get("rootBlockDevice") or {}
        if root:
            # moto needs a size for a block device mapping; AWS would use the AMI's root snapshot size.
            image_root: dict[str, Any] = next(
                (
                    m.get("Ebs", {})
                    for m in image.get("BlockDeviceMappings", [])
                    if m.get("DeviceName") == root_name
                ),
                {},
            )
            args["BlockDeviceMappings"] = [
                {
                    "DeviceName": root_name,
                    "Ebs": drop_none(
                        {
                            "Encrypted": root.get("encrypted"),
                            "KmsKeyId": root.get("kmsKeyId") or None,
                            "VolumeType": root.get("volumeType"),
                            "VolumeSize": ints(root.get("volumeSize")) or image_root.get("VolumeSize") or 8,
                            "Iops": ints(root.get("iops")) or None,
                            "Throughput": ints(root.get("throughput")) or None,
                            "DeleteOnTermination": root.get("deleteOnTermination", True),
                        }
                    ),
                }
            ]
        specs = self.tag_spec("instance", news)
        volume_tags = news.get("volumeTags") or {}
        if volume_tags:
            specs.append(
                {"ResourceType": "volume", "Tags": [{"Key": k, "Value": v} for k, v in volume_tags.items()]}
            )
        if specs:
            args["TagSpecifications"] = specs
        instance_id = ec2.run_instances(**args)["Instances"][0]["InstanceId"]
        wait_until(lambda: self._state(instance_id) == "running", f"instance {instance_id} to be running")
        root_tags = {**self.aws.config.default_tags, **(root.get("tags") or {})}
        if root_tags:
            volume_id = self._root_volume_id(self._describe(instance_id) or {})
            if volume_id:
                ec2.create_tags(
                    Resources=[volume_id], Tags=[{"Key": k, "Value": v} for k, v in root_tags.items()]
                )
        return instance_id, self.read(instance_id, news) or {}

    @staticmethod
    def _metadata_args(options: Props) -> dict[str, Any]:
        return drop_none(
            {
                "HttpEndpoint": options.get("httpEndpoint"),
                "HttpTokens": options.get("httpTokens"),
                "HttpPutResponseHopLimit": ints(options.get("httpPutResponseHopLimit")),
                "InstanceMetadataTags": options.get("instanceMetadataTags"),
                "HttpProtocolIpv6": options.get("httpProtocolIpv6"),
            }
        )

    def _describe(self, instance_id: str) -> dict[str, Any] | None:
        try:
            reservations = self.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        return reservations[0]["Instances"][0] if reservations else None

    def _state(self, instance_id: str) -> str:
        instance = self._describe(instance_id)
        return instance["State"]["Name"] if instance else "gone"

    @staticmethod
    def _root_volume_id(instance: dict[str, Any]) -> str:
        root_name = instance.get("RootDeviceName")
        for mapping in instance.get("BlockDeviceMappings", []):
            if mapping.get("DeviceName") == root_name:
                return str(mapping.get("Ebs", {}).get("VolumeId", ""))
        return ""

    def read(self, resource_id: str, olds: Props) -> Props | None:
        instance = self._describe(resource_id)
        if instance is None or instance["State"]["Name"] in ("terminated", "shutting-down"):
            return None
        root: Props = {}
        volume_id = self._root_volume_id(instance)
        if volume_id:
            volume = self.ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]
            mapping = next(
                m for m in instance["BlockDeviceMappings"] if m["Ebs"].get("VolumeId") == volume_id
            )
            old_root = olds.get("rootBlockDevice") or {}
            volume_tags = {k: v for k, v in tag_map(volume.get("Tags")).items() if not k.startswith("aws:")}
            declared = old_root.get("tags") or {}
            defaults = self.aws.config.default_tags
            root = {
                "volumeId": volume_id,
                "deviceName": mapping["DeviceName"],
                "encrypted": bool(volume.get("Encrypted")),
                "kmsKeyId": volume.get("KmsKeyId") or "",
                "volumeSize": volume.get("Size", 0),
                "volumeType": volume.get("VolumeType", ""),
                "iops": volume.get("Iops", 0),
                "throughput": volume.get("Throughput", 0),
                "deleteOnTermination": bool(mapping["Ebs"].get("DeleteOnTermination")),
                "tags": {k: v for k, v in volume_tags.items() if k in declared or defaults.get(k) != v},
                "tagsAll": volume_tags,
            }
        metadata = instance.get("MetadataOptions") or {}
        profile_arn = (instance.get("IamInstanceProfile") or {}).get("Arn", "")
        old_profile = olds.get("iamInstanceProfile") or ""
        profile = (
            old_profile
            if profile_arn and _instance_profile_name(old_profile) == _instance_profile_name(profile_arn)
            else _instance_profile_name(profile_arn)
        )
        return {
            "arn": self.ec2_arn("instance", resource_id),
            "ami": instance["ImageId"],
            "instanceType": instance["InstanceType"],
            "instanceState": instance["State"]["Name"],
            "subnetId": instance.get("SubnetId", ""),
            "availabilityZone": instance.get("Placement", {}).get("AvailabilityZone", ""),
            "tenancy": instance.get("Placement", {}).get("Tenancy", "default"),
            "privateIp": instance.get("PrivateIpAddress", ""),
            "privateDns": instance.get("PrivateDnsName", ""),
            # A private clean room: no public address (moto may invent one only for default-VPC launches).
            "publicIp": instance.get("PublicIpAddress") or "",
            "publicDns": instance.get("PublicDnsName") or "",
            "primaryNetworkInterfaceId": (instance.get("NetworkInterfaces") or [{}])[0].get(
                "NetworkInterfaceId", ""
            ),
            "vpcSecurityGroupIds": [g["GroupId"] for g in instance.get("SecurityGroups", [])],
            "securityGroups": olds.get("securityGroups") or [],
            "iamInstanceProfile": profile,
            "metadataOptions": {
                "httpEndpoint": metadata.get("HttpEndpoint", "enabled"),
                "httpTokens": metadata.get("HttpTokens", "optional"),
                "httpPutResponseHopLimit": metadata.get("HttpPutResponseHopLimit", 1),
                "instanceMetadataTags": metadata.get("InstanceMetadataTags", "disabled"),
                "httpProtocolIpv6": metadata.get("HttpProtocolIpv6", "disabled"),
            },
            "rootBlockDevice": root,
            "outpostArn": "",
            "hostId": "",
            "placementGroup": "",
            "instanceLifecycle": "",
            "spotInstanceRequestId": "",
            "ipv6Addresses": [],
            **self.tag_outputs(tag_map(instance.get("Tags")), olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        ec2 = self.ec2
        # Changes AWS only accepts on a stopped instance.
        needs_stop = {
            "InstanceType": news.get("instanceType")
            if news.get("instanceType") != olds.get("instanceType")
            else None,
            "UserData": news.get("userData")
            if "userData" in news and news.get("userData") != olds.get("userData")
            else None,
        }
        needs_stop = drop_none(needs_stop)
        if needs_stop:
            was_running = self._state(resource_id) == "running"
            set_instance_state(ec2, resource_id, "stopped")
            if "InstanceType" in needs_stop:
                ec2.modify_instance_attribute(
                    InstanceId=resource_id, InstanceType={"Value": needs_stop["InstanceType"]}
                )
            if "UserData" in needs_stop:
                # Unlike RunInstances, ModifyInstanceAttribute takes user data already base64-encoded (the SDK
                # encodes the blob once more on the wire), as the real provider sends it.
                ec2.modify_instance_attribute(
                    InstanceId=resource_id,
                    UserData={"Value": base64.b64encode(needs_stop["UserData"].encode())},
                )
            if was_running:
                set_instance_state(ec2, resource_id, "running")
        if "vpcSecurityGroupIds" in news and set(news["vpcSecurityGroupIds"] or []) != set(
            olds.get("vpcSecurityGroupIds") or []
        ):
            ec2.modify_instance_attribute(InstanceId=resource_id, Groups=list(news["vpcSecurityGroupIds"]))
        if news.get("metadataOptions") and news["metadataOptions"] != olds.get("metadataOptions"):
            ec2.modify_instance_metadata_options(
                InstanceId=resource_id, **self._metadata_args(news["metadataOptions"])
            )
        if news.get("disableApiTermination") is not None and news.get("disableApiTermination") != olds.get(
            "disableApiTermination"
        ):
            ec2.modify_instance_attribute(
                InstanceId=resource_id, DisableApiTermination={"Value": bool(news["disableApiTermination"])}
            )
        self._update_profile(resource_id, olds, news)
        self._update_root(resource_id, olds, news)
        self.update_tags(resource_id, olds, news)
        return self.read(resource_id, news) or {}

    def _update_profile(self, resource_id: str, olds: Props, news: Props) -> None:
        new = news.get("iamInstanceProfile") or ""
        if _instance_profile_name(new) == _instance_profile_name(olds.get("iamInstanceProfile") or ""):
            return
        ec2 = self.ec2
        current = ec2.describe_iam_instance_profile_associations(
            Filters=[{"Name": "instance-id", "Values": [resource_id]}]
        ).get("IamInstanceProfileAssociations", [])
        spec = {"Arn": new} if new.startswith("arn:") else {"Name": new}
        if current and new:
            ec2.replace_iam_instance_profile_association(
                IamInstanceProfile=spec, AssociationId=current[0]["AssociationId"]
            )
        elif current:
            ec2.disassociate_iam_instance_profile(AssociationId=current[0]["AssociationId"])
        elif new:
            ec2.associate_iam_instance_profile(IamInstanceProfile=spec, InstanceId=resource_id)

    def _update_root(self, resource_id: str, olds: Props, news: Props) -> None:
        old_root, new_root = olds.get("rootBlockDevice") or {}, news.get("rootBlockDevice") or {}
        volume_id = old_root.get("volumeId")
        if not volume_id or not new_root:
            return
        modify = drop_none(
            {
                "Size": ints(new_root.get("volumeSize"))
                if new_root.get("volumeSize") not in (None, old_root.get("volumeSize"))
                else None,
                "VolumeType": new_root.get("volumeType")
                if new_root.get("volumeType") not in (None, old_root.get("volumeType"))
                else None,
                "Iops": ints(new_root.get("iops"))
                if new_root.get("iops") not in (None, 0, old_root.get("iops"))
                else None,
                "Throughput": ints(new_root.get("throughput"))
                if new_root.get("throughput") not in (None, 0, old_root.get("throughput"))
                else None,
            }
        )
        if modify:
            self.ec2.modify_volume(VolumeId=volume_id, **modify)
        if "deleteOnTermination" in new_root and bool(new_root["deleteOnTermination"]) != bool(
            old_root.get("deleteOnTermination")
        ):
            self.ec2.modify_instance_attribute(
                InstanceId=resource_id,
                BlockDeviceMappings=[
                    {
                        "DeviceName": old_root.get("deviceName"),
                        "Ebs": {"DeleteOnTermination": bool(new_root["deleteOnTermination"])},
                    }
                ],
            )
        old_tags = old_root.get("tagsAll") or old_root.get("tags") or {}
        new_tags = {**self.aws.config.default_tags, **(new_root.get("tags") or {})}
        removed = [k for k in old_tags if k not in new_tags]
        changed = {k: v for k, v in new_tags.items() if old_tags.get(k) != v}
        if removed:
            self.ec2.delete_tags(Resources=[volume_id], Tags=[{"Key": k} for k in removed])
        if changed:
            self.ec2.create_tags(
                Resources=[volume_id], Tags=[{"Key": k, "Value": v} for k, v in changed.items()]
            )

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            self.ec2.terminate_instances(InstanceIds=[resource_id])
        except ClientError as exc:
            if not_found(exc):
                return
            raise
        wait_until(
            lambda: self._state(resource_id) in ("terminated", "gone"), f"instance {resource_id} to terminate"
        )


def set_instance_state(
    ec2: Any, instance_id: str, state: str, force: bool = False, timeout: float = 600
) -> None:
    """Stop or start an instance and wait until it is there."""

    def current() -> str:
        return str(
            ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["State"][
                "Name"
            ]
        )

    if state not in ("running", "stopped"):
        raise StandinError(f"instance state must be 'running' or 'stopped', not {state!r}")
    now = current()
    if now == state:
        return
    if state == "stopped":
        if now != "stopping":
            ec2.stop_instances(InstanceIds=[instance_id], Force=force)
    else:
        wait_until(lambda: current() != "stopping", f"instance {instance_id} to finish stopping", timeout)
        ec2.start_instances(InstanceIds=[instance_id])
    wait_until(lambda: current() == state, f"instance {instance_id} to be {state}", timeout)


class InstanceState(ResourceHandler):
    token = "aws:ec2transitgateway/instanceState:InstanceState"
    inputs = frozenset({"instanceId", "state", "force"})
    outputs = frozenset({"state"})
    replace_on = frozenset({"instanceId"})

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        set_instance_state(self.aws.client("ec2"), news["instanceId"], news["state"], bool(news.get("force")))
        return news["instanceId"], {"state": news["state"]}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            found = self.aws.client("ec2").describe_instances(InstanceIds=[resource_id])["Reservations"]
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        if not found or found[0]["Instances"][0]["State"]["Name"] == "terminated":
            return None
        return {"instanceId": resource_id, "state": found[0]["Instances"][0]["State"]["Name"]}

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        set_instance_state(self.aws.client("ec2"), resource_id, news["state"], bool(news.get("force")))
        return {"state": news["state"]}

    def delete(self, resource_id: str, olds: Props) -> None:
        """As in pulumi-aws: deleting the state resource leaves the instance as it is."""


# --- EBS volume, attachment, snapshot ----------------------------------------------------------------------
class Volume(Ec2Handler):
    token = "aws:ebs/volume:Volume"
    inputs = frozenset(
        {
            "availabilityZone",
            "size",
            "snapshotId",
            "encrypted",
            "kmsKeyId",
            "type",
            "iops",
            "throughput",
            "multiAttachEnabled",
            "finalSnapshot",
            "outpostArn",
        }
    )
    outputs = frozenset(
        {
            "arn",
            "createTime",
            "size",
            "encrypted",
            "kmsKeyId",
            "type",
            "iops",
            "throughput",
            "snapshotId",
            "multiAttachEnabled",
            "availabilityZone",
        }
    )
    replace_on = frozenset(
        {"availabilityZone", "snapshotId", "encrypted", "kmsKeyId", "multiAttachEnabled", "outpostArn"}
    )

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        volume = self.ec2.create_volume(
            **drop_none(
                {
                    "AvailabilityZone": news["availabilityZone"],
                    "Size": ints(news.get("size")),
                    "SnapshotId": news.get("snapshotId"),
                    "Encrypted": news.get("encrypted"),
                    "KmsKeyId": news.get("kmsKeyId") or None,
                    "VolumeType": news.get("type"),
                    "Iops": ints(news.get("iops")) or None,
                    "Throughput": ints(news.get("throughput")) or None,
                    "MultiAttachEnabled": news.get("multiAttachEnabled"),
                    "TagSpecifications": self.tag_spec("volume", news) or None,
                }
            )
        )
        volume_id = volume["VolumeId"]
        wait_until(
            lambda: (self._describe(volume_id) or {}).get("State") == "available",
            f"volume {volume_id} to be available",
        )
        return volume_id, self.read(volume_id, news) or {}

    def _describe(self, volume_id: str) -> dict[str, Any] | None:
        try:
            volume: dict[str, Any] = self.ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        return volume

    def read(self, resource_id: str, olds: Props) -> Props | None:
        volume = self._describe(resource_id)
        if volume is None or volume.get("State") in ("deleted", "deleting"):
            return None
        return {
            "arn": self.ec2_arn("volume", resource_id),
            "availabilityZone": volume["AvailabilityZone"],
            "size": volume.get("Size", 0),
            "snapshotId": volume.get("SnapshotId") or "",
            "encrypted": bool(volume.get("Encrypted")),
            "kmsKeyId": volume.get("KmsKeyId") or "",
            "type": volume.get("VolumeType", ""),
            "iops": volume.get("Iops", 0),
            "throughput": volume.get("Throughput", 0),
            "multiAttachEnabled": bool(volume.get("MultiAttachEnabled")),
            "createTime": volume["CreateTime"].isoformat() if volume.get("CreateTime") else "",
            **self.tag_outputs(tag_map(volume.get("Tags")), olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        modify = drop_none(
            {
                key: ints(news[name]) if name != "type" else news[name]
                for key, name in (
                    ("Size", "size"),
                    ("VolumeType", "type"),
                    ("Iops", "iops"),
                    ("Throughput", "throughput"),
                )
                if news.get(name) is not None and news.get(name) != olds.get(name)
            }
        )
        if modify:
            self.ec2.modify_volume(VolumeId=resource_id, **modify)
        self.update_tags(resource_id, olds, news)
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        if olds.get("finalSnapshot"):
            snap = self.ec2.create_snapshot(
                VolumeId=resource_id, TagSpecifications=self.tag_spec("snapshot", olds)
            )
            wait_until(
                lambda: (
                    self.ec2.describe_snapshots(SnapshotIds=[snap["SnapshotId"]])["Snapshots"][0]["State"]
                    == "completed"
                ),
                f"final snapshot of {resource_id}",
            )
        try:
            retry_on(
                ("VolumeInUse",),
                lambda: self.ec2.delete_volume(VolumeId=resource_id),
                f"delete {resource_id}",
            )
        except ClientError as exc:
            if not not_found(exc):
                raise


def volume_attachment_id(device: str, instance_id: str, volume_id: str) -> str:
    """Terraform's id: ``vai-`` + CRC32 of ``<device>-<instance>-<volume>-``."""
    return f"vai-{zlib.crc32(f'{device}-{instance_id}-{volume_id}-'.encode())}"


class VolumeAttachment(ResourceHandler):
    token = "aws:ec2/volumeAttachment:VolumeAttachment"
    inputs = frozenset(
        {"deviceName", "instanceId", "volumeId", "forceDetach", "skipDestroy", "stopInstanceBeforeDetaching"}
    )
    outputs = frozenset()
    replace_on = frozenset({"deviceName", "instanceId", "volumeId"})

    @property
    def ec2(self) -> Any:
        return self.aws.client("ec2")

    def _attachment(self, volume_id: str, instance_id: str) -> dict[str, Any] | None:
        try:
            volume = self.ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        return next((a for a in volume.get("Attachments", []) if a.get("InstanceId") == instance_id), None)

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        volume_id, instance_id = news["volumeId"], news["instanceId"]
        if self._attachment(volume_id, instance_id) is None:
            self.ec2.attach_volume(Device=news["deviceName"], InstanceId=instance_id, VolumeId=volume_id)
        wait_until(
            lambda: (self._attachment(volume_id, instance_id) or {}).get("State") == "attached",
            f"volume {volume_id} to attach to {instance_id}",
        )
        return volume_attachment_id(news["deviceName"], instance_id, volume_id), {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        attachment = self._attachment(olds["volumeId"], olds["instanceId"])
        if attachment is None or attachment.get("State") in ("detached", "detaching"):
            return None
        return {"deviceName": attachment.get("Device", olds.get("deviceName"))}

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        return {}  # only the delete-time flags can change in place

    def delete(self, resource_id: str, olds: Props) -> None:
        if olds.get("skipDestroy"):
            return
        volume_id, instance_id = olds["volumeId"], olds["instanceId"]
        if self._attachment(volume_id, instance_id) is None:
            return
        if olds.get("stopInstanceBeforeDetaching"):
            set_instance_state(self.ec2, instance_id, "stopped")
        self.ec2.detach_volume(
            Device=olds["deviceName"],
            InstanceId=instance_id,
            VolumeId=volume_id,
            Force=bool(olds.get("forceDetach")),
        )
        wait_until(
            lambda: self._attachment(volume_id, instance_id) is None,
            f"volume {volume_id} to detach from {instance_id}",
        )


class Snapshot(Ec2Handler):
    token = "aws:ebs/snapshot:Snapshot"
    inputs = frozenset(
        {"volumeId", "description", "outpostArn", "storageTier", "permanentRestore", "temporaryRestoreDays"}
    )
    outputs = frozenset(
        {
            "arn",
            "dataEncryptionKeyId",
            "encrypted",
            "kmsKeyId",
            "ownerAlias",
            "ownerId",
            "volumeSize",
            "storageTier",
            "description",
        }
    )
    replace_on = frozenset({"volumeId", "description", "outpostArn"})

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        snap = self.ec2.create_snapshot(
            **drop_none(
                {
                    "VolumeId": news["volumeId"],
                    "Description": news.get("description"),
                    "OutpostArn": news.get("outpostArn"),
                    "TagSpecifications": self.tag_spec("snapshot", news) or None,
                }
            )
        )
        snapshot_id = snap["SnapshotId"]
        wait_until(
            lambda: (self._describe(snapshot_id) or {}).get("State") == "completed",
            f"snapshot {snapshot_id} to complete",
        )
        return snapshot_id, self.read(snapshot_id, news) or {}

    def _describe(self, snapshot_id: str) -> dict[str, Any] | None:
        try:
            snapshot: dict[str, Any] = self.ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        return snapshot

    def read(self, resource_id: str, olds: Props) -> Props | None:
        snap = self._describe(resource_id)
        if snap is None:
            return None
        kms_key = snap.get("KmsKeyId") or ""
        if not kms_key and snap.get("Encrypted"):
            # moto does not record the key of a snapshot taken from an encrypted volume: use the volume's.
            try:
                kms_key = (
                    self.ec2.describe_volumes(VolumeIds=[snap["VolumeId"]])["Volumes"][0].get("KmsKeyId")
                    or ""
                )
            except ClientError:
                kms_key = olds.get("kmsKeyId") or ""
        return {
            "arn": self.aws.arn("ec2", f"snapshot/{resource_id}", account=False),
            "volumeId": snap.get("VolumeId", olds.get("volumeId")),
            "description": snap.get("Description", ""),
            "encrypted": bool(snap.get("Encrypted")),
            "kmsKeyId": kms_key,
            "dataEncryptionKeyId": snap.get("DataEncryptionKeyId", ""),
            "ownerId": snap.get("OwnerId") or self.aws.account_id,
            "ownerAlias": snap.get("OwnerAlias", ""),
            "volumeSize": snap.get("VolumeSize", 0),
            "storageTier": snap.get("StorageTier", "standard"),
            **self.tag_outputs(tag_map(snap.get("Tags")), olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        self.update_tags(resource_id, olds, news)
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            self.ec2.delete_snapshot(SnapshotId=resource_id)
        except ClientError as exc:
            if not not_found(exc):
                raise


# Values pulumi-aws accepts for a snapshot's storage tier (EC2's TargetStorageTier plus "standard").
_STORAGE_TIERS = ("archive", "standard")
_COPY_MINUTES = range(15, 2881, 15)


class SnapshotCopy(Ec2Handler):
    """``aws_ebs_snapshot_copy``: made by CopySnapshot, then read, re-tiered, re-tagged and deleted as
    pulumi-aws does any EBS snapshot. Every create-time argument of the copy forces a new one."""

    token = "aws:ebs/snapshotCopy:SnapshotCopy"
    inputs = frozenset(
        {
            "sourceSnapshotId",
            "sourceRegion",
            "encrypted",
            "kmsKeyId",
            "description",
            "storageTier",
            "permanentRestore",
            "temporaryRestoreDays",
            "completionDurationMinutes",
        }
    )
    outputs = frozenset(
        {
            "arn",
            "dataEncryptionKeyId",
            "description",
            "encrypted",
            "kmsKeyId",
            "outpostArn",
            "ownerAlias",
            "ownerId",
            "storageTier",
            "volumeId",
            "volumeSize",
        }
    )
    replace_on = frozenset(
        {
            "sourceSnapshotId",
            "sourceRegion",
            "encrypted",
            "kmsKeyId",
            "description",
            "completionDurationMinutes",
        }
    )

    @staticmethod
    def _validate(news: Props) -> None:
        """The checks pulumi-aws makes before calling AWS."""
        tier = news.get("storageTier")
        if tier and tier not in _STORAGE_TIERS:
            raise StandinError(f"expected storage_tier to be one of {list(_STORAGE_TIERS)}, got {tier}")
        minutes = news.get("completionDurationMinutes")
        if minutes is not None and int(minutes) not in _COPY_MINUTES:
            raise StandinError(
                f"completion_duration_minutes must be 15..2880 in steps of 15, got {int(minutes)}"
            )

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        self._validate(news)
        copy = self.ec2.copy_snapshot(
            **drop_none(
                {
                    "SourceSnapshotId": news["sourceSnapshotId"],
                    "SourceRegion": news["sourceRegion"],
                    "Description": news.get("description") or None,
                    # As pulumi-aws: `encrypted` is sent only when true (a copy of an encrypted snapshot
                    # is encrypted whatever is asked).
                    "Encrypted": True if news.get("encrypted") else None,
                    "KmsKeyId": news.get("kmsKeyId") or None,
                    "CompletionDurationMinutes": ints(news.get("completionDurationMinutes")),
                    "TagSpecifications": self.tag_spec("snapshot", news) or None,
                }
            )
        )
        snapshot_id = copy["SnapshotId"]
        self._wait_completed(snapshot_id)
        if news.get("storageTier") == "archive":
            self._archive(snapshot_id)
        return snapshot_id, self.read(snapshot_id, news) or {}

    def _describe(self, snapshot_id: str) -> dict[str, Any] | None:
        try:
            snapshot: dict[str, Any] = self.ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        return snapshot

    def _wait_completed(self, snapshot_id: str) -> None:
        def completed() -> bool:
            snap = self._describe(snapshot_id) or {}
            if snap.get("State") == "error":
                # A copy that failed (the source's key not usable, say) never completes: say why now.
                raise StandinError(
                    f"copy {snapshot_id} failed: {snap.get('StateMessage') or 'no reason given by EC2'}"
                )
            return snap.get("State") == "completed"

        wait_until(completed, f"snapshot copy {snapshot_id} to complete", timeout=600)

    def _archive(self, snapshot_id: str) -> None:
        self.ec2.modify_snapshot_tier(SnapshotId=snapshot_id, StorageTier="archive")
        wait_until(
            lambda: (self._describe(snapshot_id) or {}).get("StorageTier") == "archive",
            f"snapshot copy {snapshot_id} to be archived",
        )

    def read(self, resource_id: str, olds: Props) -> Props | None:
        snap = self._describe(resource_id)
        if snap is None:
            return None
        return {
            "arn": self.aws.arn("ec2", f"snapshot/{resource_id}", account=False),
            "dataEncryptionKeyId": snap.get("DataEncryptionKeyId", ""),
            "description": snap.get("Description", ""),
            "encrypted": bool(snap.get("Encrypted")),
            "kmsKeyId": snap.get("KmsKeyId") or "",
            "outpostArn": snap.get("OutpostArn", ""),
            "ownerAlias": snap.get("OwnerAlias", ""),
            "ownerId": snap.get("OwnerId") or self.aws.account_id,
            "storageTier": snap.get("StorageTier", "standard"),
            # EC2 reports an arbitrary volume id for a copy; passed on as given.
            "volumeId": snap.get("VolumeId", ""),
            "volumeSize": snap.get("VolumeSize", 0),
            **self.tag_outputs(tag_map(snap.get("Tags")), olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        self._validate(news)
        tier = news.get("storageTier")
        if tier and tier != olds.get("storageTier"):
            if tier == "archive":
                self._archive(resource_id)
            else:
                # Restoring takes EC2 hours to days: asked for, not waited on (as pulumi-aws does).
                self.ec2.restore_snapshot_tier(
                    **drop_none(
                        {
                            "SnapshotId": resource_id,
                            "PermanentRestore": news.get("permanentRestore") or None,
                            "TemporaryRestoreDays": ints(news.get("temporaryRestoreDays")) or None,
                        }
                    )
                )
        self.update_tags(resource_id, olds, news)
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            retry_on(
                ("InvalidSnapshot.InUse",),
                lambda: self.ec2.delete_snapshot(SnapshotId=resource_id),
                f"delete {resource_id}",
            )
        except ClientError as exc:
            if not not_found(exc):
                raise


# --- getAmi ------------------------------------------------------------------------------------------------
def get_ami(aws: Any, args: Props) -> Props:
    ec2 = aws.client("ec2")
    request: dict[str, Any] = {}
    if args.get("filters"):
        request["Filters"] = [{"Name": f["name"], "Values": list(f["values"])} for f in args["filters"]]
    if args.get("owners"):
        request["Owners"] = list(args["owners"])
    if args.get("executableUsers"):
        request["ExecutableUsers"] = list(args["executableUsers"])
    if args.get("includeDeprecated"):
        request["IncludeDeprecated"] = True
    images = ec2.describe_images(**request)["Images"]
    if args.get("nameRegex"):
        pattern = re.compile(args["nameRegex"])
        images = [i for i in images if pattern.search(i.get("Name", ""))]
    if not images:
        raise StandinError(
            "Your query returned no results. Please change your search criteria and try again."
        )
    if len(images) > 1 and not args.get("mostRecent"):
        raise StandinError(
            "Your query returned more than one result. Please try a more specific search criteria, "
            "or set `most_recent` attribute to true."
        )
    image = max(images, key=lambda i: i.get("CreationDate", ""))
    root_name = image.get("RootDeviceName", "")
    mappings = image.get("BlockDeviceMappings", [])
    root_snapshot = next(
        (m.get("Ebs", {}).get("SnapshotId", "") for m in mappings if m.get("DeviceName") == root_name), ""
    )
    return {
        "id": image["ImageId"],
        "imageId": image["ImageId"],
        "arn": f"arn:aws:ec2:{aws.region}::image/{image['ImageId']}",
        "name": image.get("Name", ""),
        "description": image.get("Description", ""),
        "creationDate": image.get("CreationDate", ""),
        "deprecationTime": image.get("DeprecationTime", ""),
        "architecture": image.get("Architecture", ""),
        "ownerId": image.get("OwnerId", ""),
        "imageOwnerAlias": image.get("ImageOwnerAlias", ""),
        "imageLocation": image.get("ImageLocation", ""),
        "imageType": image.get("ImageType", "machine"),
        "state": image.get("State", "available"),
        "stateReason": {
            "code": (image.get("StateReason") or {}).get("Code", "UNSET"),
            "message": (image.get("StateReason") or {}).get("Message", "UNSET"),
        },
        "public": bool(image.get("Public")),
        "hypervisor": image.get("Hypervisor", ""),
        "virtualizationType": image.get("VirtualizationType", ""),
        "rootDeviceName": root_name,
        "rootDeviceType": image.get("RootDeviceType", ""),
        "rootSnapshotId": root_snapshot,
        "kernelId": image.get("KernelId", ""),
        "ramdiskId": image.get("RamdiskId", ""),
        "platform": image.get("Platform", ""),
        "platformDetails": image.get("PlatformDetails", ""),
        "usageOperation": image.get("UsageOperation", ""),
        "enaSupport": bool(image.get("EnaSupport")),
        "sriovNetSupport": image.get("SriovNetSupport", ""),
        "bootMode": image.get("BootMode", ""),
        "imdsSupport": image.get("ImdsSupport", ""),
        "tpmSupport": image.get("TpmSupport", ""),
        "uefiData": "",
        "lastLaunchedTime": image.get("LastLaunchedTime", ""),
        "productCodes": [
            {"productCodeId": c.get("ProductCodeId", ""), "productCodeType": c.get("ProductCodeType", "")}
            for c in image.get("ProductCodes", [])
        ],
        "blockDeviceMappings": [
            {
                "deviceName": m.get("DeviceName", ""),
                "noDevice": m.get("NoDevice", ""),
                "virtualName": m.get("VirtualName", ""),
                # pulumi-aws exposes the EBS block as a map of strings.
                "ebs": {
                    _snake(k): str(v).lower() if isinstance(v, bool) else str(v)
                    for k, v in m.get("Ebs", {}).items()
                },
            }
            for m in mappings
        ],
        "tags": tag_map(image.get("Tags")),
        "filters": args.get("filters") or [],
        "owners": args.get("owners") or [],
        "executableUsers": args.get("executableUsers") or [],
        "mostRecent": bool(args.get("mostRecent")),
        "nameRegex": args.get("nameRegex") or "",
        "includeDeprecated": bool(args.get("includeDeprecated")),
        "allowUnsafeFilter": bool(args.get("allowUnsafeFilter")),
        "region": aws.region,
    }


def _snake(name: str) -> str:
    """``DeleteOnTermination`` -> ``delete_on_termination`` (the keys pulumi-aws's getAmi ebs map uses)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


HANDLERS: tuple[type[ResourceHandler], ...] = (
    Vpc,
    Subnet,
    SecurityGroup,
    RouteTable,
    RouteTableAssociation,
    VpcEndpoint,
    FlowLog,
    Instance,
    InstanceState,
    Volume,
    VolumeAttachment,
    Snapshot,
    SnapshotCopy,
)

DATA_SOURCES = (
    DataSource(
        token="aws:ec2/getAmi:getAmi",
        result_class="ec2.GetAmiResult",
        args=frozenset(
            {
                "filters",
                "filters.name",
                "filters.values",
                "owners",
                "mostRecent",
                "executableUsers",
                "nameRegex",
                "includeDeprecated",
                "allowUnsafeFilter",
                "region",
            }
        ),
        results=frozenset(
            {
                "id",
                "imageId",
                "arn",
                "name",
                "description",
                "creationDate",
                "deprecationTime",
                "architecture",
                "ownerId",
                "imageOwnerAlias",
                "imageLocation",
                "imageType",
                "state",
                "stateReason",
                "public",
                "hypervisor",
                "virtualizationType",
                "rootDeviceName",
                "rootDeviceType",
                "rootSnapshotId",
                "kernelId",
                "ramdiskId",
                "platform",
                "platformDetails",
                "usageOperation",
                "enaSupport",
                "sriovNetSupport",
                "bootMode",
                "imdsSupport",
                "tpmSupport",
                "uefiData",
                "lastLaunchedTime",
                "productCodes",
                "productCodes.productCodeId",
                "productCodes.productCodeType",
                "blockDeviceMappings",
                "blockDeviceMappings.deviceName",
                "blockDeviceMappings.noDevice",
                "blockDeviceMappings.virtualName",
                "blockDeviceMappings.ebs",
                "tags",
                "filters",
                "owners",
                "executableUsers",
                "mostRecent",
                "nameRegex",
                "includeDeprecated",
                "allowUnsafeFilter",
                "region",
            }
        ),
        fn=get_ami,
    ),
)
