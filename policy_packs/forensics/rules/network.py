"""Network isolation: the clean room has no path to or from the internet, and its endpoints are fenced."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .base import (
    UNKNOWN,
    ReportFn,
    Rule,
    Statement,
    account_condition,
    as_bool,
    as_list,
    get,
    identifiers,
    internet_covered,
    is_public_principal,
    is_set,
    is_unknown,
    is_wildcard_action,
    is_wildcard_resource,
    label,
    parse_cidr,
    parse_policy_document,
    props_of,
    resolve_reference,
    resolve_targets,
    resources_of,
    service_wildcard_grants,
    statements,
    target_key,
    touches_internet,
    urn_of,
)
from .launch import LAUNCH_SPEC_TYPES, LaunchSpec, launch_specs

# Anything that gives a VPC a way out (internet, on-premises, other VPCs and networks) or a way in that is
# not Session Manager, including resources that add routes to it from elsewhere.
FORBIDDEN_GATEWAY_TYPES = frozenset(
    {
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/internetGatewayAttachment:InternetGatewayAttachment",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/natGatewayEipAssociation:NatGatewayEipAssociation",
        "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
        "aws:ec2/vpnGateway:VpnGateway",
        "aws:ec2/vpnGatewayAttachment:VpnGatewayAttachment",
        "aws:ec2/vpnGatewayRoutePropagation:VpnGatewayRoutePropagation",
        "aws:ec2/customerGateway:CustomerGateway",
        "aws:ec2/vpnConnection:VpnConnection",
        "aws:ec2/vpnConnectionRoute:VpnConnectionRoute",
        "aws:ec2/carrierGateway:CarrierGateway",
        "aws:ec2/localGatewayRoute:LocalGatewayRoute",
        "aws:ec2/localGatewayRouteTableVpcAssociation:LocalGatewayRouteTableVpcAssociation",
        "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
        "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter",
        "aws:ec2transitgateway/transitGateway:TransitGateway",
        "aws:ec2transitgateway/vpcAttachment:VpcAttachment",
        "aws:ec2transitgateway/vpcAttachmentAccepter:VpcAttachmentAccepter",
        "aws:ec2transitgateway/peeringAttachment:PeeringAttachment",
        "aws:ec2transitgateway/peeringAttachmentAccepter:PeeringAttachmentAccepter",
        "aws:ec2transitgateway/connect:Connect",
        "aws:ec2transitgateway/connectPeer:ConnectPeer",
        "aws:ec2transitgateway/route:Route",
        "aws:ec2transitgateway/routeTable:RouteTable",
        "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation",
        "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation",
        "aws:ec2transitgateway/prefixListReference:PrefixListReference",
        # A tunnel into the VPC from outside (SSH/RDP through the EC2 API), bypassing Session Manager.
        "aws:ec2transitgateway/instanceConnectEndpoint:InstanceConnectEndpoint",
        "aws:ec2clientvpn/endpoint:Endpoint",
        "aws:ec2clientvpn/networkAssociation:NetworkAssociation",
        "aws:ec2clientvpn/route:Route",
        # Route servers inject BGP-learned routes into the VPC's route tables.
        "aws:vpc/routeServerVpcAssociation:RouteServerVpcAssociation",
        "aws:vpc/routeServerPropagation:RouteServerPropagation",
    }
)

ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
DEFAULT_ROUTE_TABLE = "aws:ec2/defaultRouteTable:DefaultRouteTable"
# What puts a route table in charge of the clean room's subnets (or of the VPC, as its main table).
ROUTE_TABLE_ASSOCIATION_TYPES = (
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation",
)
SUBNET = "aws:ec2/subnet:Subnet"
EIP_TYPES = frozenset(
    {"aws:ec2/eip:Eip", "aws:ec2/eipAssociation:EipAssociation", "aws:ec2/eipDomainName:EipDomainName"}
)
# Lightsail instances always have a public address; static IPs are Lightsail's Elastic IPs.
LIGHTSAIL_TYPES = frozenset(
    {
        "aws:lightsail/instance:Instance",
        "aws:lightsail/staticIp:StaticIp",
        "aws:lightsail/staticIpAttachment:StaticIpAttachment",
    }
)
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
VPC_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
VPC_EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"
PREFIX_LIST_ENTRY = "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry"
VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
VPC_ENDPOINT_POLICY = "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy"

# Route targets that lead out of the VPC. `gatewayId: local` (the VPC's own route) is fine; targets inside the
# VPC (a network interface, an instance, a Gateway Load Balancer endpoint) are judged by where they send
# traffic (their destinations must not cover the internet).
_EXTERNAL_TARGETS = (
    "natGatewayId",
    "egressOnlyGatewayId",
    "carrierGatewayId",
    "transitGatewayId",
    "vpcPeeringConnectionId",
    "localGatewayId",
    "coreNetworkArn",
    "odbNetworkArn",
)


def check_no_internet_gateway(args: Any, report: ReportFn) -> None:
    if args.resource_type in FORBIDDEN_GATEWAY_TYPES:
        report(f"{args.resource_type} '{args.name}' would give the clean room a path out of its VPC")


# ------------------------------------------------------------------------------- CIDR coverage (shared)
@dataclass
class _Entry:
    """One route or security group rule: where it is declared, and the CIDRs it opens."""

    resource: Any
    where: str
    cidrs: list[Any] = field(default_factory=list)


class _PrefixLists:
    """The stack's managed prefix lists and their entries, so that a reference to one counts its CIDRs."""

    def __init__(self, args: Any) -> None:
        self.lists = resources_of(args, PREFIX_LIST)
        self.ids = {target_key(p): identifiers(props_of(p), "id", "arn") for p in self.lists}
        self.cidrs: dict[str, list[Any]] = {}
        for plist in self.lists:
            entries = props_of(plist).get("entries")
            self.cidrs[target_key(plist)] = [
                get(e, "cidr") for e in ([] if is_unknown(entries) else as_list(entries))
            ]
        for entry in resources_of(args, PREFIX_LIST_ENTRY):
            matched, unresolved = resolve_targets(entry, "prefixListId", self.lists, self.ids)
            for plist in matched or (self.lists if unresolved else []):
                self.cidrs[target_key(plist)].append(props_of(entry).get("cidr"))

    def expand(self, resource: Any, refs: Any, prop: str) -> list[Any]:
        """The CIDRs of the in-stack prefix lists that `refs` (ids, found under top-level `prop`) name."""
        found: list[Any] = []
        for ref in [UNKNOWN] if is_unknown(refs) else as_list(refs):  # unknown: judged by dependencies
            matched, unresolved = resolve_reference(resource, ref, prop, self.lists, self.ids)
            for plist in matched or (self.lists if unresolved else []):
                found.extend(self.cidrs.get(target_key(plist), []))
        return found


def _group_key(dependent: Any, prop: str, owners: list[Any], owner_ids: dict[str, set[str]]) -> str:
    """Which route table / security group a separate route or rule belongs to."""
    matched, unresolved = resolve_targets(dependent, prop, owners, owner_ids)
    if matched:
        return target_key(matched[0])
    ref = get(props_of(dependent), prop)
    if isinstance(ref, str) and not is_unknown(ref):
        return f"{prop}={ref}"  # one outside the stack: group by its id
    return "unresolved" if unresolved else target_key(dependent)


def _coverage_reports(
    groups: dict[str, list[_Entry]], owners: dict[str, Any], what: str, report: ReportFn
) -> None:
    for key, entries in groups.items():
        covered = internet_covered(c for e in entries for c in e.cidrs)
        if not covered:
            continue
        parts = []
        for entry in entries:
            public = [str(c) for c in entry.cidrs if touches_internet(parse_cidr(c))]
            if public:
                parts.append(f"{entry.where} ({', '.join(public)})")
        owner = owners.get(key)
        subject = label(owner) if owner is not None else key
        verb = "covers" if len(parts) == 1 else "together cover"
        internet = " and ".join(covered)
        report(
            f"{subject}: {'; '.join(parts)} {verb} the whole {internet} internet, which is {what}",
            urn_of(owner if owner is not None else entries[0].resource),
        )


# --------------------------------------------------------------------------------------- routes
def _target_problems(route: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    gateway = route.get("gatewayId")
    if is_set(gateway) and gateway != "local":
        problems.append(f"a route to a gateway (gatewayId={gateway})")
    for key in _EXTERNAL_TARGETS:
        if is_set(route.get(key)):
            problems.append(f"a route leaving the VPC ({key} set)")
    return problems


def check_no_default_route(args: Any, report: ReportFn) -> None:
    tables = resources_of(args, ROUTE_TABLE, DEFAULT_ROUTE_TABLE)
    table_ids = {target_key(t): identifiers(props_of(t), "id", "defaultRouteTableId") for t in tables}
    prefix_lists = _PrefixLists(args)
    groups: dict[str, list[_Entry]] = {}
    owners = {target_key(t): t for t in tables}

    for table in tables:
        props = props_of(table)
        vgws = props.get("propagatingVgws")
        if any(is_set(v) for v in ([] if is_unknown(vgws) else as_list(vgws))):
            report(
                f"{label(table)} propagates routes from virtual private gateways (propagatingVgws)",
                urn_of(table),
            )
        routes = props.get("routes")
        for index, route in enumerate([] if is_unknown(routes) else as_list(routes)):
            if not isinstance(route, dict):
                continue
            where = f"routes[{index}]"
            for problem in _target_problems(route):
                report(f"{label(table)} {where} declares {problem}", urn_of(table))
            if route.get("gatewayId") == "local":
                continue
            cidrs = [route.get("cidrBlock"), route.get("ipv6CidrBlock")]
            cidrs += prefix_lists.expand(table, route.get("destinationPrefixListId"), "routes")
            groups.setdefault(target_key(table), []).append(_Entry(table, where, cidrs))

    for route in resources_of(args, ROUTE):
        props = props_of(route)
        for problem in _target_problems(props):
            report(f"{label(route)} declares {problem}", urn_of(route))
        if props.get("gatewayId") == "local":
            continue
        cidrs = [props.get("destinationCidrBlock"), props.get("destinationIpv6CidrBlock")]
        cidrs += prefix_lists.expand(route, props.get("destinationPrefixListId"), "destinationPrefixListId")
        key = _group_key(route, "routeTableId", tables, table_ids)
        groups.setdefault(key, []).append(_Entry(route, label(route), cidrs))

    # A subnet (or the VPC, as its main table) given a route table the stack does not declare gets routes
    # nobody checked.
    for association in resources_of(args, *ROUTE_TABLE_ASSOCIATION_TYPES):
        ref = get(props_of(association), "routeTableId")
        matched, unresolved = resolve_targets(association, "routeTableId", tables, table_ids)
        if ref is None or matched or unresolved:
            continue
        shown = "a value not known yet" if is_unknown(ref) else repr(ref)
        report(
            f"{label(association)} associates route table {shown}, which this stack does not declare, so its "
            "routes cannot be checked",
            urn_of(association),
        )

    _coverage_reports(groups, owners, "a default route out of the clean room", report)


# --------------------------------------------------------------------------------------- public IPs
def _truthy(value: Any) -> bool:
    """A set flag, a positive count or a non-empty list (unknown: not judged)."""
    if value is None or is_unknown(value):
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value > 0
    if isinstance(value, str):
        return as_bool(value) is True or (value.strip().isdigit() and int(value) > 0)
    if isinstance(value, list):
        return any(not is_unknown(v) and v not in (None, "") for v in value)
    return bool(value)


def _launch_public_ip_problems(spec: LaunchSpec) -> list[str]:
    problems = [f"sets {path}=true" for path, value in spec.public_ip if as_bool(value) is True]
    problems += [
        f"sets {path} (IPv6 addresses in a VPC are public addresses)"
        for path, value in spec.ipv6
        if _truthy(value)
    ]
    associate = dict(spec.public_ip).get("associatePublicIpAddress")
    if spec.placed is False and as_bool(associate) is not False:
        problems.append(
            "chooses no subnet (subnetId, networkInterfaces or launchTemplate): it would launch into the "
            "default VPC, whose subnets assign public IPs"
        )
    return problems


def check_no_public_ip(args: Any, report: ReportFn) -> None:
    props = props_of(args)
    rtype = args.resource_type
    if rtype in EIP_TYPES:
        report(f"{rtype} '{args.name}': Elastic IPs are forbidden in the clean room")
    elif rtype in LIGHTSAIL_TYPES:
        report(f"{rtype} '{args.name}': Lightsail instances and static IPs are public by design")
    elif rtype == SUBNET:
        for flag in ("mapPublicIpOnLaunch", "mapCustomerOwnedIpOnLaunch", "assignIpv6AddressOnCreation"):
            if as_bool(props.get(flag)):
                report(f"subnet '{args.name}' sets {flag}=true")
    elif rtype in LAUNCH_SPEC_TYPES:
        for spec in launch_specs(rtype, args.name, props):
            for problem in _launch_public_ip_problems(spec):
                report(f"{spec.where} {problem}")


# ------------------------------------------------------------------------------------ security groups
def _sg_entry(
    resource: Any, where: str, cidrs: list[Any], pl_refs: Any, prop: str, lists: _PrefixLists
) -> _Entry:
    return _Entry(resource, where, cidrs + lists.expand(resource, pl_refs, prop))


def check_no_open_ingress(args: Any, report: ReportFn) -> None:
    sgs = resources_of(args, SECURITY_GROUP, DEFAULT_SECURITY_GROUP)
    sg_ids = {target_key(g): identifiers(props_of(g), "id", "arn") for g in sgs}
    prefix_lists = _PrefixLists(args)
    groups: dict[str, list[_Entry]] = {}
    owners: dict[str, Any] = {}

    def add(key: str, direction: str, entry: _Entry, owner: Any = None) -> None:
        groups.setdefault(f"{key} {direction}", []).append(entry)
        if owner is not None:
            owners[f"{key} {direction}"] = owner

    for sg in sgs:
        props = props_of(sg)
        for direction in ("ingress", "egress"):
            rules = props.get(direction)
            for index, rule in enumerate([] if is_unknown(rules) else as_list(rules)):
                if not isinstance(rule, dict):
                    continue
                cidrs = as_list(rule.get("cidrBlocks")) + as_list(rule.get("ipv6CidrBlocks"))
                entry = _sg_entry(
                    sg, f"{direction}[{index}]", cidrs, rule.get("prefixListIds"), direction, prefix_lists
                )
                add(target_key(sg), direction, entry, sg)

    for rule in resources_of(args, SECURITY_GROUP_RULE):
        props = props_of(rule)
        kind = props.get("type")
        direction = kind if kind in ("ingress", "egress") else "ingress/egress"
        cidrs = as_list(props.get("cidrBlocks")) + as_list(props.get("ipv6CidrBlocks"))
        entry = _sg_entry(rule, label(rule), cidrs, props.get("prefixListIds"), "prefixListIds", prefix_lists)
        add(_group_key(rule, "securityGroupId", sgs, sg_ids), direction, entry)

    for rtype, direction in ((VPC_INGRESS_RULE, "ingress"), (VPC_EGRESS_RULE, "egress")):
        for rule in resources_of(args, rtype):
            props = props_of(rule)
            cidrs = [props.get("cidrIpv4"), props.get("cidrIpv6")]
            entry = _sg_entry(
                rule, label(rule), cidrs, props.get("prefixListId"), "prefixListId", prefix_lists
            )
            add(_group_key(rule, "securityGroupId", sgs, sg_ids), direction, entry)

    _coverage_reports(groups, owners, "an open security group rule", report)


# ------------------------------------------------------------------------------------------ flow logs
def check_flow_logs_for_every_vpc(args: Any, report: ReportFn) -> None:
    vpcs = resources_of(args, VPC)
    if not vpcs:
        return
    vpc_ids = {target_key(v): identifiers(props_of(v), "id", "vpcId") for v in vpcs}
    covered: set[str] = set()
    for flow_log in resources_of(args, FLOW_LOG):
        traffic = props_of(flow_log).get("trafficType")
        if not (is_unknown(traffic) or traffic == "ALL"):
            continue
        # Tied by reference: the VPC's own id, or (preview) a dependency on it. A literal id that is not one
        # of the stack's VPCs names some other VPC, even while the stack's VPC ids are not known yet.
        matched, unresolved = resolve_targets(flow_log, "vpcId", vpcs, vpc_ids)
        if unresolved and not matched:
            matched = vpcs
        covered.update(target_key(v) for v in matched)
    for vpc in vpcs:
        if target_key(vpc) not in covered:
            report(f"{label(vpc)} has no flow log with trafficType ALL", urn_of(vpc))


# ----------------------------------------------------------------------------------- endpoint policies
def _endpoint_statement_problems(stmt: Statement) -> list[str]:
    if not stmt.is_allow:
        return []
    sid = stmt.raw.get("Sid") or stmt.raw.get("sid")
    where = f"statement {sid!r}" if isinstance(sid, str) else "an Allow statement"
    problems: list[str] = []
    for element in ("NotAction", "NotResource", "NotPrincipal"):
        if any(isinstance(k, str) and k.lower() == element.lower() for k in stmt.raw):
            problems.append(f"{where} uses {element} in an Allow")
    wildcard = [str(a) for a in stmt.actions if is_wildcard_action(a)]
    if wildcard:
        problems.append(f"{where} allows Action '*' ({', '.join(wildcard)})")
    for grant in service_wildcard_grants(stmt):
        problems.append(f"{where} allows {grant}, every action on every resource of the service")
    if account_condition(stmt.condition) is None:
        principal = stmt.principal
        if not is_unknown(principal) and (principal is None or is_public_principal(principal)):
            problems.append(f"{where} allows Principal '*' without an account condition")
        wide = [str(r) for r in stmt.resources if is_wildcard_resource(r)]
        if wide:
            problems.append(f"{where} allows Resource {', '.join(wide)} without an account condition")
    return problems


def endpoint_policy_problems(value: Any) -> list[str]:
    """What is wrong with an endpoint policy document (a set but unknown one cannot be judged yet)."""
    if is_unknown(value):
        return []
    doc = parse_policy_document(value)
    if doc is None:
        return ["the policy is not a JSON policy document"]
    if is_unknown(doc):
        return []
    return [p for stmt in statements(doc) for p in _endpoint_statement_problems(stmt)]


def check_vpc_endpoint_policy(args: Any, report: ReportFn) -> None:
    endpoints = resources_of(args, VPC_ENDPOINT)
    endpoint_ids = {target_key(e): identifiers(props_of(e), "id", "arn") for e in endpoints}
    has_policy: set[str] = set()
    for endpoint in endpoints:
        policy = props_of(endpoint).get("policy")
        if is_set(policy):
            has_policy.add(target_key(endpoint))
            for problem in endpoint_policy_problems(policy):
                report(f"{label(endpoint)}: {problem}", urn_of(endpoint))
    for attached in resources_of(args, VPC_ENDPOINT_POLICY):
        policy = props_of(attached).get("policy")
        for problem in endpoint_policy_problems(policy) if is_set(policy) else ["it sets no policy"]:
            report(f"{label(attached)}: {problem}", urn_of(attached))
        if not is_set(policy):
            continue
        matched, unresolved = resolve_targets(attached, "vpcEndpointId", endpoints, endpoint_ids)
        has_policy.update(target_key(e) for e in (matched or (endpoints if unresolved else [])))
    for endpoint in endpoints:
        if target_key(endpoint) not in has_policy:
            report(
                f"{label(endpoint)} has no endpoint policy: the default one allows every action on every "
                "resource to any principal",
                urn_of(endpoint),
            )


def _types(types: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(types))


RULES = [
    Rule(
        name="no-internet-gateway",
        description="The clean room VPC has no internet, NAT, VPN, peering, transit, local or carrier "
        "gateway, no client VPN, instance connect endpoint or route server, and no routes from any of them.",
        remediation=(
            "remove the gateway; the clean room reaches AWS APIs only through VPC endpoints "
            "(aws:ec2/vpcEndpoint:VpcEndpoint) and is reached only through Session Manager"
        ),
        check=check_no_internet_gateway,
        resource_types=_types(FORBIDDEN_GATEWAY_TYPES),
    ),
    Rule(
        name="no-default-route",
        description="No route table sends traffic out of the VPC: no route to a gateway or another network, "
        "no gateway route propagation, no set of routes (in the table or as separate routes, CIDRs or "
        "prefix lists) whose destinations together cover the IPv4 or IPv6 internet, and no subnet or main "
        "table association with a route table the stack does not declare.",
        remediation="keep only the VPC-local route; use VPC endpoints for AWS services",
        check=check_no_default_route,
        kind="stack",
        resource_types=(
            ROUTE,
            ROUTE_TABLE,
            DEFAULT_ROUTE_TABLE,
            *ROUTE_TABLE_ASSOCIATION_TYPES,
            PREFIX_LIST,
            PREFIX_LIST_ENTRY,
        ),
    ),
    Rule(
        name="no-public-ip",
        description="Nothing in the clean room gets a public IP address: instances, spot requests, launch "
        "templates, launch configurations and spot fleets (public, carrier or IPv6 addresses, or no subnet), "
        "subnets, Elastic IPs and Lightsail.",
        remediation=(
            "set associatePublicIpAddress=false and a private subnetId on instances, spot requests and "
            "fleets and on launch templates' network interfaces, mapPublicIpOnLaunch=false on subnets, no "
            "IPv6 addresses, Elastic IPs or Lightsail resources"
        ),
        check=check_no_public_ip,
        resource_types=(*LAUNCH_SPEC_TYPES, SUBNET, *_types(EIP_TYPES), *_types(LIGHTSAIL_TYPES)),
    ),
    Rule(
        name="no-open-ingress",
        description="Security groups are not open to the internet in either direction: no rule, and no set "
        "of rules of the same group (inline, SecurityGroupRule, VPC ingress/egress rules, CIDRs or prefix "
        "lists), covers the IPv4 or IPv6 internet.",
        remediation=(
            "restrict security group rules to the VPC CIDR, the endpoint security group or prefix lists of "
            "private ranges; never 0.0.0.0/0, ::/0 or pieces that add up to them"
        ),
        check=check_no_open_ingress,
        kind="stack",
        resource_types=(
            SECURITY_GROUP,
            DEFAULT_SECURITY_GROUP,
            SECURITY_GROUP_RULE,
            VPC_INGRESS_RULE,
            VPC_EGRESS_RULE,
            PREFIX_LIST,
            PREFIX_LIST_ENTRY,
        ),
    ),
    Rule(
        name="flow-logs-for-every-vpc",
        description="Every VPC has a VPC flow log capturing ALL traffic, tied to it by reference.",
        remediation="declare aws.ec2.FlowLog(vpc_id=<vpc>.id, traffic_type='ALL', "
        "log_destination=<log group ARN>, "
        "iam_role_arn=<delivery role ARN>) for each VPC",
        check=check_flow_logs_for_every_vpc,
        kind="stack",
        resource_types=(VPC, FLOW_LOG),
    ),
    Rule(
        name="vpc-endpoint-policy",
        description="Every VPC endpoint has an endpoint policy (inline or an aws.ec2.VpcEndpointPolicy), and "
        "no Allow in it grants Action '*' (or a service's every action on all its resources), NotAction, "
        "NotResource, or Principal '*' or Resource '*' without a StringEquals condition on "
        "aws:PrincipalAccount, aws:ResourceAccount or aws:PrincipalOrgID.",
        remediation=(
            "give each endpoint a policy listing the service actions the clean room needs, on the "
            "investigation's resources, with Condition StringEquals aws:PrincipalAccount=<account id>"
        ),
        check=check_vpc_endpoint_policy,
        kind="stack",
        resource_types=(VPC_ENDPOINT, VPC_ENDPOINT_POLICY),
    ),
]
