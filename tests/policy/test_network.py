"""no-internet-gateway, no-default-route, no-public-ip, no-open-ingress, flow-logs-for-every-vpc.

The routing and security group rules judge what the CIDRs add up to, not how they are spelled: every spelling
of "a route / rule covering the internet" found in pulumi-aws is refused, each test naming the rule.
"""

from __future__ import annotations

from typing import Any

import pytest

from .harness import (
    TAGS,
    U_ARR,
    U_BOOL,
    U_STR,
    Res,
    blocked,
    clean_room,
    replace,
    run_resource,
    run_stack,
    without,
)

# Every public /8 (0, 10, 127 and 224-255 are not the internet): together they are the IPv4 internet.
PUBLIC_SLASH_8S = [f"{n}.0.0.0/8" for n in range(1, 224) if n not in (10, 127)]


# ------------------------------------------------------------------------------ no-internet-gateway


@pytest.mark.parametrize(
    "rtype",
    [
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/natGatewayEipAssociation:NatGatewayEipAssociation",
        "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
        "aws:ec2/vpnGateway:VpnGateway",
        "aws:ec2/vpnConnectionRoute:VpnConnectionRoute",
        "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
        "aws:ec2/localGatewayRoute:LocalGatewayRoute",
        "aws:ec2/localGatewayRouteTableVpcAssociation:LocalGatewayRouteTableVpcAssociation",
        "aws:ec2transitgateway/vpcAttachment:VpcAttachment",
        "aws:ec2transitgateway/route:Route",
        "aws:ec2transitgateway/routeTable:RouteTable",
        "aws:ec2transitgateway/peeringAttachment:PeeringAttachment",
        "aws:ec2transitgateway/connect:Connect",
        "aws:ec2transitgateway/instanceConnectEndpoint:InstanceConnectEndpoint",
        "aws:ec2clientvpn/endpoint:Endpoint",
        "aws:ec2clientvpn/route:Route",
        "aws:vpc/routeServerVpcAssociation:RouteServerVpcAssociation",
        "aws:vpc/routeServerPropagation:RouteServerPropagation",
    ],
)
def test_gateways_are_forbidden(rtype: str) -> None:
    (found,) = run_resource("no-internet-gateway", rtype, {"vpcId": "vpc-1"}, "gw")
    assert "path out of its VPC" in found.message and "Remediation:" in found.message


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_forbidden_types_exist_in_pulumi_aws() -> None:
    import importlib
    import inspect

    from policy_packs.forensics.rules.network import FORBIDDEN_GATEWAY_TYPES

    for token in FORBIDDEN_GATEWAY_TYPES:
        module, cls = token.split(":")[1].split("/")[0], token.split(":")[2]
        source = inspect.getsource(getattr(importlib.import_module(f"pulumi_aws.{module}"), cls))
        assert f'"{token}"' in source, token


def test_vpc_endpoint_and_instance_state_are_not_gateways() -> None:
    assert run_resource("no-internet-gateway", "aws:ec2/vpcEndpoint:VpcEndpoint", {"vpcId": "v"}) == []
    assert (
        run_resource(
            "no-internet-gateway", "aws:ec2transitgateway/instanceState:InstanceState", {"state": "stopped"}
        )
        == []
    )


# ---------------------------------------------------------------------------------- no-default-route
ROUTE = "aws:ec2/route:Route"
TABLE = "aws:ec2/routeTable:RouteTable"
DEFAULT_TABLE = "aws:ec2/defaultRouteTable:DefaultRouteTable"
PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"
PREFIX_LIST_ENTRY = "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry"
NDR = "no-default-route"


def _table(name: str = "rt", routes: Any = None, **props: Any) -> Res:
    return Res(TABLE, name, {"id": f"{name}-id", "vpcId": "vpc-1", "routes": routes or [], **props})


def _route(name: str, table: Any = "rt-id", deps: list[str] | None = None, **props: Any) -> Res:
    return Res(ROUTE, name, {"routeTableId": table, **props}, deps={"routeTableId": deps} if deps else None)


def test_route_table_with_local_routes_only_passes() -> None:
    table = _table(routes=[{"cidrBlock": "10.77.0.0/16", "gatewayId": "local"}])
    endpoint_route = _route("r", destinationCidrBlock="10.0.0.0/8", vpcEndpointId="vpce-1")
    assert run_stack(NDR, [table, endpoint_route]) == []
    assert run_stack(NDR, clean_room()) == []


@pytest.mark.parametrize(
    "props",
    [
        {"destinationCidrBlock": "0.0.0.0/0", "vpcEndpointId": "vpce-1"},
        {"destinationIpv6CidrBlock": "::/0", "vpcEndpointId": "vpce-1"},
        {"destinationCidrBlock": "10.1.0.0/16", "gatewayId": "igw-1"},
        {"destinationCidrBlock": "10.1.0.0/16", "natGatewayId": U_STR},
        {"destinationCidrBlock": "10.1.0.0/16", "odbNetworkArn": "arn:aws:odb:us-east-1:1:odb-network/x"},
    ],
)
def test_route_to_the_world_or_a_gateway_is_a_violation(props: dict[str, str]) -> None:
    found = run_stack(NDR, [_route("r", **props)])
    assert found and all(v.urn and v.urn.endswith("::r") for v in found)
    assert NDR in blocked(_route("r", **props))


def test_route_table_default_route_is_a_violation() -> None:
    table = _table(routes=[{"cidrBlock": "0.0.0.0/0", "gatewayId": "igw-1"}])
    found = run_stack(NDR, [table])
    assert any("routes[0]" in v.message and "0.0.0.0/0" in v.message for v in found)
    assert all(v.urn and v.urn.endswith("::rt") for v in found)


def test_unknown_routes_cannot_be_judged_in_preview() -> None:
    assert run_stack(NDR, [_table(routes=U_ARR)]) == []
    assert run_stack(NDR, [_route("r", destinationCidrBlock=U_STR)]) == []


HALVES = ["0.0.0.0/1", "128.0.0.0/1"]
ENI = {"networkInterfaceId": "eni-0123456789abcdef0"}  # a NAT instance: inside the VPC, but a way out


@pytest.mark.parametrize(
    ("spelling", "resources"),
    [
        ("inline routes, split in halves", [_table(routes=[{"cidrBlock": c, **ENI} for c in HALVES])]),
        (
            "two Route resources on the stack's table (by id)",
            [_table(), *(_route(f"r{i}", destinationCidrBlock=c, **ENI) for i, c in enumerate(HALVES))],
        ),
        (
            "two Route resources on the stack's table (preview: by dependency)",
            [
                _table(id=U_STR),
                *(
                    _route(f"r{i}", table=U_STR, deps=["rt"], destinationCidrBlock=c, **ENI)
                    for i, c in enumerate(HALVES)
                ),
            ],
        ),
        (
            "one inline route and one Route resource",
            [
                _table(routes=[{"cidrBlock": HALVES[0], **ENI}]),
                _route("r1", destinationCidrBlock=HALVES[1], **ENI),
            ],
        ),
        (
            "Route resources on a table outside the stack",
            [_route(f"r{i}", table="rtb-0ffee", destinationCidrBlock=c, **ENI) for i, c in enumerate(HALVES)],
        ),
        (
            "every public /8 (private and reserved ranges left out)",
            [_table(routes=[{"cidrBlock": c, **ENI} for c in PUBLIC_SLASH_8S])],
        ),
        (
            "the public space in three uneven pieces",
            [_table(routes=[{"cidrBlock": c, **ENI} for c in ("0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3")])],
        ),
        (
            "IPv6 split in halves",
            [_table(routes=[{"ipv6CidrBlock": c, **ENI} for c in ("::/1", "8000::/1")])],
        ),
        ("IPv6 global unicast 2000::/3", [_route("r", destinationIpv6CidrBlock="2000::/3", **ENI)]),
        (
            "the default route table's routes (instanceId target)",
            [
                Res(
                    DEFAULT_TABLE,
                    "default-rt",
                    {
                        "defaultRouteTableId": "rtb-default",
                        "routes": [{"cidrBlock": c, "instanceId": "i-0nat"} for c in HALVES],
                    },
                )
            ],
        ),
        (
            "a managed prefix list with the halves (inline entries)",
            [
                Res(PREFIX_LIST, "pl", {"id": "pl-1", "entries": [{"cidr": c} for c in HALVES]}),
                _table(routes=[{"destinationPrefixListId": "pl-1", **ENI}]),
            ],
        ),
        (
            "a managed prefix list filled by ManagedPrefixListEntry resources",
            [
                Res(PREFIX_LIST, "pl", {"id": "pl-1", "entries": []}),
                *(
                    Res(PREFIX_LIST_ENTRY, f"e{i}", {"prefixListId": "pl-1", "cidr": c})
                    for i, c in enumerate(HALVES)
                ),
                _route("r", destinationPrefixListId="pl-1", **ENI),
            ],
        ),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_routes_covering_the_internet_are_a_default_route(spelling: str, resources: list[Res]) -> None:
    found = run_stack(NDR, resources)
    assert found, spelling
    assert any("internet" in v.message for v in found)
    assert NDR in blocked(*resources)


@pytest.mark.parametrize(
    "cidrs",
    [
        ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"],  # private space only
        ["0.0.0.0/1"],  # half the internet is not all of it (and a gateway-free appliance route)
        PUBLIC_SLASH_8S[:-1],  # one public /8 short
    ],
)
def test_routes_short_of_the_internet_pass(cidrs: list[str]) -> None:
    assert run_stack(NDR, [_table(routes=[{"cidrBlock": c, **ENI} for c in cidrs])]) == []


def test_halves_in_different_tables_do_not_add_up() -> None:
    tables = [
        _table("a", routes=[{"cidrBlock": HALVES[0], **ENI}]),
        _table("b", routes=[{"cidrBlock": HALVES[1], **ENI}]),
    ]
    assert run_stack(NDR, tables) == []


@pytest.mark.parametrize(
    "rtype",
    [
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation",
    ],
)
def test_associating_a_route_table_the_stack_does_not_declare_is_refused(rtype: str) -> None:
    # As the engine describes a literal: computed from nothing.
    external = Res(
        rtype, "assoc", {"subnetId": "s", "vpcId": "vpc-1", "routeTableId": "rtb-0ffee"}, {"routeTableId": []}
    )
    (found,) = run_stack(NDR, [_table(), external])
    assert "does not declare" in found.message and found.urn and found.urn.endswith("::assoc")
    assert NDR in blocked(external)
    # The stack's own table, by id or (preview) by reference, is fine.
    assert run_stack(NDR, [_table(), Res(rtype, "assoc", {"subnetId": "s", "routeTableId": "rt-id"})]) == []
    by_reference = Res(rtype, "assoc", {"subnetId": "s", "routeTableId": U_STR}, {"routeTableId": ["rt"]})
    assert run_stack(NDR, [_table(id=U_STR), by_reference]) == []


def test_gateway_route_propagation_is_a_way_out() -> None:
    found = run_stack(NDR, [_table(propagatingVgws=["vgw-1"])])
    assert found and "propagatingVgws" in found[0].message


# -------------------------------------------------------------------------------------- no-public-ip
INSTANCE = "aws:ec2/instance:Instance"
SPOT = "aws:ec2/spotInstanceRequest:SpotInstanceRequest"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
LAUNCH_CONFIG = "aws:ec2/launchConfiguration:LaunchConfiguration"
SPOT_FLEET = "aws:ec2/spotFleetRequest:SpotFleetRequest"


def test_private_instance_subnet_and_template_pass() -> None:
    private = {"associatePublicIpAddress": False, "subnetId": "subnet-1"}
    assert run_resource("no-public-ip", INSTANCE, private) == []
    assert run_resource("no-public-ip", INSTANCE, {"subnetId": U_STR}) == []
    assert run_resource("no-public-ip", SPOT, private) == []
    assert run_resource("no-public-ip", "aws:ec2/subnet:Subnet", {"mapPublicIpOnLaunch": False}) == []
    assert run_resource("no-public-ip", "aws:ec2/subnet:Subnet", {"mapPublicIpOnLaunch": U_BOOL}) == []
    assert (
        run_resource("no-public-ip", TEMPLATE, {"networkInterfaces": [{"associatePublicIpAddress": "false"}]})
        == []
    )
    assert run_resource("no-public-ip", LAUNCH_CONFIG, {"associatePublicIpAddress": False}) == []
    assert (
        run_resource(
            "no-public-ip",
            SPOT_FLEET,
            {"launchSpecifications": [{"subnetId": "subnet-1", "associatePublicIpAddress": False}]},
        )
        == []
    )


@pytest.mark.parametrize(
    ("rtype", "props", "expected"),
    [
        (INSTANCE, {"associatePublicIpAddress": True, "subnetId": "s"}, "associatePublicIpAddress=true"),
        (INSTANCE, {"subnetId": "s", "ipv6AddressCount": 1}, "ipv6AddressCount"),
        (INSTANCE, {"subnetId": "s", "ipv6Addresses": ["2600:1f18::1"]}, "ipv6Addresses"),
        (INSTANCE, {"subnetId": "s", "enablePrimaryIpv6": True}, "enablePrimaryIpv6"),
        (INSTANCE, {"ami": "ami-1"}, "default VPC"),
        (SPOT, {"associatePublicIpAddress": True, "subnetId": "s"}, "associatePublicIpAddress=true"),
        (SPOT, {}, "default VPC"),
        ("aws:ec2/subnet:Subnet", {"mapPublicIpOnLaunch": True}, "mapPublicIpOnLaunch"),
        ("aws:ec2/subnet:Subnet", {"mapCustomerOwnedIpOnLaunch": True}, "mapCustomerOwnedIpOnLaunch"),
        ("aws:ec2/subnet:Subnet", {"assignIpv6AddressOnCreation": True}, "assignIpv6AddressOnCreation"),
        ("aws:ec2/eip:Eip", {"domain": "vpc"}, "Elastic IPs"),
        ("aws:ec2/eipDomainName:EipDomainName", {"allocationId": "e"}, "Elastic IPs"),
        ("aws:lightsail/instance:Instance", {"blueprintId": "x"}, "Lightsail"),
        ("aws:lightsail/staticIp:StaticIp", {}, "Lightsail"),
        (TEMPLATE, {"networkInterfaces": [{"associatePublicIpAddress": "true"}]}, "networkInterfaces[0]"),
        (
            TEMPLATE,
            {"networkInterfaces": [{"associateCarrierIpAddress": "true"}]},
            "associateCarrierIpAddress",
        ),
        (TEMPLATE, {"networkInterfaces": [{"ipv6AddressCount": 2}]}, "ipv6AddressCount"),
        (TEMPLATE, {"networkInterfaces": [{"primaryIpv6": "true"}]}, "primaryIpv6"),
        (LAUNCH_CONFIG, {"associatePublicIpAddress": True}, "launch configuration"),
        (
            SPOT_FLEET,
            {"launchSpecifications": [{"subnetId": "s", "associatePublicIpAddress": True}]},
            "launchSpecifications[0]",
        ),
        (SPOT_FLEET, {"launchSpecifications": [{"ami": "ami-1"}]}, "default VPC"),
    ],
)
def test_public_ips_are_violations(rtype: str, props: dict[str, object], expected: str) -> None:
    (found,) = run_resource("no-public-ip", rtype, props, "x")
    assert expected in found.message, found.message
    assert "no-public-ip" in blocked(Res(rtype, "x", props))


# ----------------------------------------------------------------------------------- no-open-ingress
SG = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
NOI = "no-open-ingress"


def _sg(name: str = "sg", rtype: str = SG, **props: Any) -> Res:
    return Res(rtype, name, {"id": f"{name}-id", "vpcId": "vpc-1", **props})


def _rule(protocol: str = "tcp", port: int = 443, **extra: Any) -> dict[str, Any]:
    return {"protocol": protocol, "fromPort": port, "toPort": port, **extra}


def test_private_security_group_passes() -> None:
    props = {
        "ingress": [_rule(port=22, cidrBlocks=["10.77.0.0/16"])],
        "egress": [_rule("-1", 0, securityGroups=["sg-1"])],
    }
    assert run_stack(NOI, [_sg(**props)]) == []
    assert run_stack(NOI, [_sg(ingress=[], egress=[])]) == []
    assert run_stack(NOI, [Res(INGRESS_RULE, "r", {"cidrIpv4": "10.77.0.0/16", "ipProtocol": "tcp"})]) == []
    assert run_stack(NOI, clean_room()) == []


@pytest.mark.parametrize(
    ("rtype", "props"),
    [
        (SG, {"ingress": [_rule(port=22, cidrBlocks=["0.0.0.0/0"])]}),
        (SG, {"ingress": [_rule(port=22, ipv6CidrBlocks=["::/0"])]}),
        (SG, {"egress": [_rule("-1", 0, cidrBlocks=["0.0.0.0/0"])]}),
        (SG_RULE, {"type": "ingress", "cidrBlocks": ["0.0.0.0/0"], **_rule()}),
        (INGRESS_RULE, {"cidrIpv4": "0.0.0.0/0"}),
        (INGRESS_RULE, {"cidrIpv6": "::/0"}),
        (EGRESS_RULE, {"cidrIpv4": "0.0.0.0/0"}),
    ],
)
def test_open_rules_are_violations(rtype: str, props: dict[str, object]) -> None:
    (found,) = run_stack(NOI, [Res(rtype, "sg", props)])
    assert "/0" in found.message and found.urn and found.urn.endswith("::sg")


def _sg_rule(name: str, cidr: str, direction: str = "ingress", group: Any = "sg-id", **extra: Any) -> Res:
    family = "ipv6CidrBlocks" if ":" in cidr else "cidrBlocks"
    return Res(
        SG_RULE, name, {"type": direction, "securityGroupId": group, family: [cidr], **_rule(), **extra}
    )


@pytest.mark.parametrize(
    ("spelling", "resources"),
    [
        ("two inline ingress rules", [_sg(ingress=[_rule(cidrBlocks=[c]) for c in HALVES])]),
        ("one inline rule with both halves", [_sg(ingress=[_rule(cidrBlocks=HALVES)])]),
        (
            "inline egress halves on different ports",
            [_sg(egress=[_rule(port=p, cidrBlocks=[c]) for p, c in zip((80, 443), HALVES, strict=True)])],
        ),
        ("every public /8", [_sg(ingress=[_rule(cidrBlocks=PUBLIC_SLASH_8S)])]),
        ("IPv6 halves", [_sg(ingress=[_rule(ipv6CidrBlocks=["::/1", "8000::/1"])])]),
        (
            "the default security group",
            [_sg("default", DEFAULT_SG, ingress=[_rule(cidrBlocks=[c]) for c in HALVES])],
        ),
        (
            "two SecurityGroupRules on the stack's group",
            [_sg(), *(_sg_rule(f"r{i}", c) for i, c in enumerate(HALVES))],
        ),
        (
            "two SecurityGroupRules (preview: by dependency)",
            [
                _sg(id=U_STR),
                *(
                    Res(
                        SG_RULE,
                        f"r{i}",
                        {"type": "ingress", "securityGroupId": U_STR, "cidrBlocks": [c], **_rule()},
                        deps={"securityGroupId": ["sg"]},
                    )
                    for i, c in enumerate(HALVES)
                ),
            ],
        ),
        (
            "SecurityGroupRules on a group outside the stack",
            [_sg_rule(f"r{i}", c, group="sg-0ffee") for i, c in enumerate(HALVES)],
        ),
        (
            "an inline rule plus a SecurityGroupRule",
            [_sg(ingress=[_rule(cidrBlocks=[HALVES[0]])]), _sg_rule("r", HALVES[1])],
        ),
        (
            "two VPC ingress rules",
            [
                _sg(),
                *(
                    Res(INGRESS_RULE, f"r{i}", {"securityGroupId": "sg-id", "cidrIpv4": c})
                    for i, c in enumerate(HALVES)
                ),
            ],
        ),
        (
            "two VPC egress rules (IPv6)",
            [
                _sg(),
                *(
                    Res(EGRESS_RULE, f"r{i}", {"securityGroupId": "sg-id", "cidrIpv6": c})
                    for i, c in enumerate(("2000::/4", "3000::/4"))
                ),
            ],
        ),
        (
            "a SecurityGroupRule and a VPC ingress rule",
            [
                _sg(),
                _sg_rule("r0", HALVES[0]),
                Res(INGRESS_RULE, "r1", {"securityGroupId": "sg-id", "cidrIpv4": HALVES[1]}),
            ],
        ),
        (
            "an inline rule naming a prefix list of the internet",
            [
                Res(PREFIX_LIST, "pl", {"id": "pl-1", "entries": [{"cidr": "0.0.0.0/0"}]}),
                _sg(ingress=[_rule(prefixListIds=["pl-1"])]),
            ],
        ),
        (
            "a VPC ingress rule naming a prefix list (preview: by dependency)",
            [
                Res(PREFIX_LIST, "pl", {"id": U_STR, "entries": [{"cidr": c} for c in HALVES]}),
                _sg(),
                Res(
                    INGRESS_RULE,
                    "r",
                    {"securityGroupId": "sg-id", "prefixListId": U_STR},
                    deps={"prefixListId": ["pl"]},
                ),
            ],
        ),
        (
            "a SecurityGroupRule naming a prefix list filled by entries",
            [
                Res(PREFIX_LIST, "pl", {"id": "pl-1"}),
                *(
                    Res(PREFIX_LIST_ENTRY, f"e{i}", {"prefixListId": "pl-1", "cidr": c})
                    for i, c in enumerate(HALVES)
                ),
                _sg(),
                Res(
                    SG_RULE,
                    "r",
                    {"type": "egress", "securityGroupId": "sg-id", "prefixListIds": ["pl-1"], **_rule()},
                ),
            ],
        ),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_rules_covering_the_internet_are_open(spelling: str, resources: list[Res]) -> None:
    found = run_stack(NOI, resources)
    assert found and any("internet" in v.message for v in found), spelling
    assert NOI in blocked(*resources)


def test_halves_in_different_directions_or_groups_do_not_add_up() -> None:
    both = _sg(ingress=[_rule(cidrBlocks=[HALVES[0]])], egress=[_rule(cidrBlocks=[HALVES[1]])])
    assert run_stack(NOI, [both]) == []
    split = [
        _sg("a", ingress=[_rule(cidrBlocks=[HALVES[0]])]),
        _sg("b", ingress=[_rule(cidrBlocks=[HALVES[1]])]),
    ]
    assert run_stack(NOI, split) == []
    rules = [_sg_rule("r0", HALVES[0], group="sg-a"), _sg_rule("r1", HALVES[1], group="sg-b")]
    assert run_stack(NOI, rules) == []


def test_private_prefix_list_passes() -> None:
    resources = [
        Res(
            PREFIX_LIST, "pl", {"id": "pl-1", "entries": [{"cidr": "10.0.0.0/8"}, {"cidr": "192.168.0.0/16"}]}
        ),
        _sg(ingress=[_rule(prefixListIds=["pl-1"])]),
    ]
    assert run_stack(NOI, resources) == []


# --------------------------------------------------------------------------- flow-logs-for-every-vpc
FLOW = "aws:ec2/flowLog:FlowLog"
VPC = "aws:ec2/vpc:Vpc"


def test_every_vpc_with_an_all_traffic_flow_log_passes() -> None:
    assert run_stack("flow-logs-for-every-vpc", clean_room()) == []


def test_vpc_without_flow_log_is_a_violation() -> None:
    (found,) = run_stack("flow-logs-for-every-vpc", without(clean_room(), "flow"))
    assert found.urn and found.urn.endswith("::vpc")


def test_reject_only_flow_log_is_a_violation() -> None:
    assert run_stack("flow-logs-for-every-vpc", replace(clean_room(), "flow", trafficType="REJECT"))


def test_second_vpc_without_flow_log_is_a_violation() -> None:
    rogue = Res(VPC, "rogue-vpc", {"id": "vpc-2", "cidrBlock": "10.99.0.0/16", "tags": TAGS})
    (found,) = run_stack("flow-logs-for-every-vpc", [*clean_room(), rogue])
    assert found.urn and found.urn.endswith("::rogue-vpc")


def test_preview_matches_flow_logs_by_property_dependencies() -> None:
    vpc_a = Res(VPC, "a", {"id": U_STR, "cidrBlock": "10.1.0.0/16"})
    vpc_b = Res(VPC, "b", {"id": U_STR, "cidrBlock": "10.2.0.0/16"})
    log_a = Res(FLOW, "log-a", {"vpcId": U_STR, "trafficType": "ALL"}, deps={"vpcId": ["a"]})
    (found,) = run_stack("flow-logs-for-every-vpc", [vpc_a, vpc_b, log_a])
    assert found.urn and found.urn.endswith("::b")
    log_b = Res(FLOW, "log-b", {"vpcId": U_STR, "trafficType": "ALL"}, deps={"vpcId": ["b"]})
    assert run_stack("flow-logs-for-every-vpc", [vpc_a, vpc_b, log_a, log_b]) == []


def test_preview_without_dependency_information_falls_back_to_existence() -> None:
    vpc = Res(VPC, "a", {"id": U_STR})
    log = Res(FLOW, "log", {"vpcId": U_STR, "trafficType": "ALL"})
    assert run_stack("flow-logs-for-every-vpc", [vpc, log]) == []
    assert run_stack("flow-logs-for-every-vpc", [vpc])


def test_flow_log_on_a_literal_id_of_another_vpc_does_not_count() -> None:
    """Preview of a new stack: the stack's VPC has no id yet; a flow log on a literal id watches some other
    VPC, however the rule would otherwise fall back to 'some flow log exists'."""
    vpc = Res(VPC, "vpc", {"id": U_STR, "cidrBlock": "10.77.0.0/16"})
    # As the engine describes it: a literal vpcId was computed from nothing.
    other = Res(FLOW, "flow", {"vpcId": "vpc-0someoneelse", "trafficType": "ALL"}, deps={"vpcId": []})
    (found,) = run_stack("flow-logs-for-every-vpc", [vpc, other])
    assert found.urn and found.urn.endswith("::vpc")
    known = Res(VPC, "vpc", {"id": "vpc-1", "cidrBlock": "10.77.0.0/16"})
    assert run_stack("flow-logs-for-every-vpc", [known, other])
    # ...even when the flow log depends on the stack's VPC in some other way (depends_on).
    tied = Res(FLOW, "flow", {"vpcId": "vpc-0someoneelse", "trafficType": "ALL"}, deps={"tags": ["vpc"]})
    assert run_stack("flow-logs-for-every-vpc", [vpc, tied])
    # The VPC's own id, or a reference to it, does count.
    assert run_stack("flow-logs-for-every-vpc", [known, replace([other], "flow", vpcId="vpc-1")[0]]) == []
    no_id = Res(VPC, "vpc", {"cidrBlock": "10.77.0.0/16"})  # providers need not echo the id as a property
    derived = Res(FLOW, "flow", {"vpcId": "vpc-1", "trafficType": "ALL"}, deps={"vpcId": ["vpc"]})
    assert run_stack("flow-logs-for-every-vpc", [no_id, derived]) == []
    assert "flow-logs-for-every-vpc" in blocked(base=[vpc, other])
