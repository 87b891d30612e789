"""Network isolation: the clean room has no path to or from the internet."""

from __future__ import annotations

from typing import Any

from .base import (
    ReportFn,
    Rule,
    as_bool,
    as_list,
    get,
    identifiers,
    is_any_network,
    is_set,
    is_unknown,
    label,
    props_of,
    resolve_targets,
    resources_of,
    target_key,
    urn_of,
)

# Anything that gives a VPC a way out (internet, on-premises, other VPCs).
FORBIDDEN_GATEWAY_TYPES = frozenset(
    {
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/internetGatewayAttachment:InternetGatewayAttachment",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
        "aws:ec2/vpnGateway:VpnGateway",
        "aws:ec2/vpnGatewayAttachment:VpnGatewayAttachment",
        "aws:ec2/vpnGatewayRoutePropagation:VpnGatewayRoutePropagation",
        "aws:ec2/customerGateway:CustomerGateway",
        "aws:ec2/vpnConnection:VpnConnection",
        "aws:ec2/carrierGateway:CarrierGateway",
        "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
        "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter",
        "aws:ec2transitgateway/transitGateway:TransitGateway",
        "aws:ec2transitgateway/vpcAttachment:VpcAttachment",
        "aws:ec2transitgateway/vpcAttachmentAccepter:VpcAttachmentAccepter",
    }
)

ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
INSTANCE = "aws:ec2/instance:Instance"
SUBNET = "aws:ec2/subnet:Subnet"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
EIP_TYPES = frozenset({"aws:ec2/eip:Eip", "aws:ec2/eipAssociation:EipAssociation"})
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
VPC_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
VPC_EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"

# Route targets that lead out of the VPC. `gatewayId: local` (the VPC's own route) is fine.
_EXTERNAL_TARGETS = (
    "natGatewayId",
    "egressOnlyGatewayId",
    "carrierGatewayId",
    "transitGatewayId",
    "vpcPeeringConnectionId",
    "localGatewayId",
    "coreNetworkArn",
)


def check_no_internet_gateway(args: Any, report: ReportFn) -> None:
    if args.resource_type in FORBIDDEN_GATEWAY_TYPES:
        report(f"{args.resource_type} '{args.name}' would give the clean room a path out of its VPC")


def _route_problems(route: dict[str, Any], cidr_key: str, ipv6_key: str) -> list[str]:
    problems: list[str] = []
    for key in (cidr_key, ipv6_key):
        dest = route.get(key)
        if is_any_network(dest):
            problems.append(f"a default route ({key}={dest})")
    gateway = route.get("gatewayId")
    if is_set(gateway) and gateway != "local":
        problems.append("a route to a gateway (gatewayId set)")
    for key in _EXTERNAL_TARGETS:
        if is_set(route.get(key)):
            problems.append(f"a route leaving the VPC ({key} set)")
    return problems


def check_no_default_route(args: Any, report: ReportFn) -> None:
    props = props_of(args)
    if args.resource_type == ROUTE:
        for problem in _route_problems(props, "destinationCidrBlock", "destinationIpv6CidrBlock"):
            report(f"route '{args.name}' declares {problem}")
    elif args.resource_type == ROUTE_TABLE:
        routes = props.get("routes")
        if is_unknown(routes):
            return
        for index, route in enumerate(as_list(routes)):
            if not isinstance(route, dict):
                continue
            for problem in _route_problems(route, "cidrBlock", "ipv6CidrBlock"):
                report(f"route table '{args.name}' routes[{index}] declares {problem}")


def check_no_public_ip(args: Any, report: ReportFn) -> None:
    props = props_of(args)
    rtype = args.resource_type
    if rtype in EIP_TYPES:
        report(f"{rtype} '{args.name}': Elastic IPs are forbidden in the clean room")
    elif rtype == INSTANCE:
        if as_bool(props.get("associatePublicIpAddress")):
            report(f"instance '{args.name}' sets associatePublicIpAddress=true")
    elif rtype == SUBNET:
        if as_bool(props.get("mapPublicIpOnLaunch")):
            report(f"subnet '{args.name}' sets mapPublicIpOnLaunch=true")
        if as_bool(props.get("mapCustomerOwnedIpOnLaunch")):
            report(f"subnet '{args.name}' sets mapCustomerOwnedIpOnLaunch=true")
    elif rtype == LAUNCH_TEMPLATE:
        nics = props.get("networkInterfaces")
        for index, nic in enumerate(as_list(nics) if not is_unknown(nics) else []):
            if isinstance(nic, dict) and as_bool(nic.get("associatePublicIpAddress")):
                report(f"launch template '{args.name}' networkInterfaces[{index}] associates a public IP")


def _open_cidrs(values: Any) -> list[str]:
    if is_unknown(values):
        return []
    return [c for c in as_list(values) if is_any_network(c)]


def check_no_open_ingress(args: Any, report: ReportFn) -> None:
    props = props_of(args)
    rtype = args.resource_type
    if rtype == SECURITY_GROUP:
        for direction in ("ingress", "egress"):
            rules = props.get(direction)
            if is_unknown(rules):
                continue
            for index, rule in enumerate(as_list(rules)):
                if not isinstance(rule, dict):
                    continue
                opened = _open_cidrs(rule.get("cidrBlocks")) + _open_cidrs(rule.get("ipv6CidrBlocks"))
                if opened:
                    report(
                        f"security group '{args.name}' {direction}[{index}] is open to {', '.join(opened)}"
                    )
    elif rtype == SECURITY_GROUP_RULE:
        direction = get(props, "type")
        opened = _open_cidrs(props.get("cidrBlocks")) + _open_cidrs(props.get("ipv6CidrBlocks"))
        if opened:
            report(
                f"security group rule '{args.name}' ({direction if isinstance(direction, str) else '?'}) "
                f"is open to {', '.join(opened)}"
            )
    elif rtype in (VPC_INGRESS_RULE, VPC_EGRESS_RULE):
        opened = _open_cidrs(props.get("cidrIpv4")) + _open_cidrs(props.get("cidrIpv6"))
        if opened:
            direction = "ingress" if rtype == VPC_INGRESS_RULE else "egress"
            report(f"security group {direction} rule '{args.name}' is open to {', '.join(opened)}")


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
        matched, unresolved = resolve_targets(flow_log, "vpcId", vpcs, vpc_ids)
        if unresolved and not matched:
            matched = vpcs
        covered.update(target_key(v) for v in matched)
    for vpc in vpcs:
        if target_key(vpc) not in covered:
            report(f"{label(vpc)} has no flow log with trafficType ALL", urn_of(vpc))


RULES = [
    Rule(
        name="no-internet-gateway",
        description="The clean room VPC has no internet, NAT, VPN, peering or transit gateway.",
        remediation=(
            "remove the gateway; the clean room reaches AWS APIs only through VPC endpoints "
            "(aws:ec2/vpcEndpoint:VpcEndpoint)"
        ),
        check=check_no_internet_gateway,
        resource_types=tuple(sorted(FORBIDDEN_GATEWAY_TYPES)),
    ),
    Rule(
        name="no-default-route",
        description="No route table or route sends traffic to 0.0.0.0/0, ::/0 "
        "or to a gateway outside the VPC.",
        remediation="keep only the VPC-local route; use VPC endpoints for AWS services",
        check=check_no_default_route,
        resource_types=(ROUTE, ROUTE_TABLE),
    ),
    Rule(
        name="no-public-ip",
        description="Nothing in the clean room gets a public IP address (instances, subnets, EIPs).",
        remediation=(
            "set associatePublicIpAddress=false on instances and launch templates, "
            "mapPublicIpOnLaunch=false on subnets, and do not declare Elastic IPs"
        ),
        check=check_no_public_ip,
        resource_types=(INSTANCE, SUBNET, LAUNCH_TEMPLATE, *sorted(EIP_TYPES)),
    ),
    Rule(
        name="no-open-ingress",
        description="Security groups allow no traffic from or to 0.0.0.0/0 or ::/0 (ingress and egress).",
        remediation=(
            "restrict security group rules to the VPC CIDR, the endpoint security group or prefix lists; "
            "never 0.0.0.0/0 or ::/0"
        ),
        check=check_no_open_ingress,
        resource_types=(SECURITY_GROUP, SECURITY_GROUP_RULE, VPC_INGRESS_RULE, VPC_EGRESS_RULE),
    ),
    Rule(
        name="flow-logs-for-every-vpc",
        description="Every VPC has a VPC flow log capturing ALL traffic.",
        remediation="declare aws.ec2.FlowLog(vpc_id=<vpc>.id, traffic_type='ALL', "
        "log_destination=<log group ARN>, "
        "iam_role_arn=<delivery role ARN>) for each VPC",
        check=check_flow_logs_for_every_vpc,
        kind="stack",
        resource_types=(VPC, FLOW_LOG),
    ),
]
