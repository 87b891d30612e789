"""no-internet-gateway, no-default-route, no-public-ip, no-open-ingress, flow-logs-for-every-vpc."""

from __future__ import annotations

import pytest

from .harness import TAGS, U_ARR, U_BOOL, U_STR, Res, clean_room, replace, run_resource, run_stack, without

# ------------------------------------------------------------------------------ no-internet-gateway


@pytest.mark.parametrize(
    "rtype",
    [
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
        "aws:ec2/vpnGateway:VpnGateway",
        "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
        "aws:ec2transitgateway/vpcAttachment:VpcAttachment",
    ],
)
def test_gateways_are_forbidden(rtype: str) -> None:
    (found,) = run_resource("no-internet-gateway", rtype, {"vpcId": "vpc-1"}, "gw")
    assert "path out of its VPC" in found.message and "Remediation:" in found.message


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


def test_route_table_with_local_routes_only_passes() -> None:
    props = {"vpcId": "v", "routes": [{"cidrBlock": "10.77.0.0/16", "gatewayId": "local"}]}
    assert run_resource("no-default-route", TABLE, props) == []
    assert (
        run_resource(
            "no-default-route",
            ROUTE,
            {"routeTableId": "rt", "destinationCidrBlock": "10.0.0.0/8", "vpcEndpointId": "vpce-1"},
        )
        == []
    )


@pytest.mark.parametrize(
    "props",
    [
        {"routeTableId": "rt", "destinationCidrBlock": "0.0.0.0/0", "vpcEndpointId": "vpce-1"},
        {"routeTableId": "rt", "destinationIpv6CidrBlock": "::/0", "vpcEndpointId": "vpce-1"},
        {"routeTableId": "rt", "destinationCidrBlock": "10.1.0.0/16", "gatewayId": "igw-1"},
        {"routeTableId": "rt", "destinationCidrBlock": "10.1.0.0/16", "natGatewayId": U_STR},
    ],
)
def test_route_to_the_world_or_a_gateway_is_a_violation(props: dict[str, str]) -> None:
    assert run_resource("no-default-route", ROUTE, props, "r")


def test_route_table_default_route_is_a_violation() -> None:
    props = {"vpcId": "v", "routes": [{"cidrBlock": "0.0.0.0/0", "gatewayId": "igw-1"}]}
    found = run_resource("no-default-route", TABLE, props, "rt")
    assert any("routes[0]" in v.message and "0.0.0.0/0" in v.message for v in found)


def test_unknown_routes_cannot_be_judged_in_preview() -> None:
    assert run_resource("no-default-route", TABLE, {"vpcId": "v", "routes": U_ARR}) == []
    assert (
        run_resource("no-default-route", ROUTE, {"routeTableId": "rt", "destinationCidrBlock": U_STR}) == []
    )


# -------------------------------------------------------------------------------------- no-public-ip
def test_private_instance_subnet_and_template_pass() -> None:
    assert (
        run_resource("no-public-ip", "aws:ec2/instance:Instance", {"associatePublicIpAddress": False}) == []
    )
    assert run_resource("no-public-ip", "aws:ec2/subnet:Subnet", {"mapPublicIpOnLaunch": False}) == []
    assert run_resource("no-public-ip", "aws:ec2/subnet:Subnet", {"mapPublicIpOnLaunch": U_BOOL}) == []
    assert (
        run_resource(
            "no-public-ip",
            "aws:ec2/launchTemplate:LaunchTemplate",
            {"networkInterfaces": [{"associatePublicIpAddress": "false"}]},
        )
        == []
    )


@pytest.mark.parametrize(
    ("rtype", "props"),
    [
        ("aws:ec2/instance:Instance", {"associatePublicIpAddress": True}),
        ("aws:ec2/subnet:Subnet", {"mapPublicIpOnLaunch": True}),
        ("aws:ec2/eip:Eip", {"domain": "vpc"}),
        (
            "aws:ec2/launchTemplate:LaunchTemplate",
            {"networkInterfaces": [{"associatePublicIpAddress": "true"}]},
        ),
    ],
)
def test_public_ips_are_violations(rtype: str, props: dict[str, object]) -> None:
    assert len(run_resource("no-public-ip", rtype, props)) == 1


# ----------------------------------------------------------------------------------- no-open-ingress
SG = "aws:ec2/securityGroup:SecurityGroup"


def test_private_security_group_passes() -> None:
    props = {
        "ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["10.77.0.0/16"]}],
        "egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "securityGroups": ["sg-1"]}],
    }
    assert run_resource("no-open-ingress", SG, props) == []
    assert run_resource("no-open-ingress", SG, {"ingress": [], "egress": []}) == []
    assert (
        run_resource(
            "no-open-ingress",
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            {"cidrIpv4": "10.77.0.0/16", "ipProtocol": "tcp"},
        )
        == []
    )


@pytest.mark.parametrize(
    ("rtype", "props"),
    [
        (SG, {"ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}]}),
        (SG, {"ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "ipv6CidrBlocks": ["::/0"]}]}),
        (SG, {"egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]}),
        (
            "aws:ec2/securityGroupRule:SecurityGroupRule",
            {
                "type": "ingress",
                "cidrBlocks": ["0.0.0.0/0"],
                "fromPort": 443,
                "toPort": 443,
                "protocol": "tcp",
            },
        ),
        ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", {"cidrIpv4": "0.0.0.0/0"}),
        ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", {"cidrIpv6": "::/0"}),
        ("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", {"cidrIpv4": "0.0.0.0/0"}),
    ],
)
def test_open_rules_are_violations(rtype: str, props: dict[str, object]) -> None:
    found = run_resource("no-open-ingress", rtype, props, "sg")
    assert len(found) == 1 and "/0" in found[0].message


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
