"""IsolatedNetwork: a VPC with no way in or out except private AWS service endpoints.

Two private subnets, one route table holding only the implicit local route (no internet or NAT gateway),
an S3 gateway endpoint and interface endpoints for Session Manager, KMS and CloudWatch Logs, and VPC flow logs
of all traffic to a log group encrypted with the investigation key.
"""

from __future__ import annotations

import ipaddress

import pulumi
import pulumi_aws as aws

from programs.forensic_env.access import log_group_name
from programs.forensic_env.config import EnvironmentConfig
from programs.forensic_env.policies import allow, assume_role, document
from programs.forensic_env.tags import tags_for

INTERFACE_ENDPOINTS = ("ssm", "ssmmessages", "ec2messages", "kms", "logs")
GATEWAY_ENDPOINTS = ("s3",)
HTTPS = 443


def carve_subnets(vpc_cidr: str, count: int = 2) -> list[str]:
    """The first `count` subnets of the VPC range: /20s of a /16, halves of a /24."""
    network = ipaddress.IPv4Network(vpc_cidr)
    new_prefix = min(network.prefixlen + 4, 25)
    return [str(s) for s, _ in zip(network.subnets(new_prefix=new_prefix), range(count), strict=False)]


class IsolatedNetwork(pulumi.ComponentResource):
    vpc: aws.ec2.Vpc
    subnets: list[aws.ec2.Subnet]
    route_table: aws.ec2.RouteTable
    endpoint_security_group: aws.ec2.SecurityGroup
    workstation_security_group: aws.ec2.SecurityGroup
    endpoints: dict[str, aws.ec2.VpcEndpoint]
    flow_log_group: aws.cloudwatch.LogGroup
    flow_log: aws.ec2.FlowLog

    def __init__(
        self, name: str, cfg: EnvironmentConfig, key: aws.kms.Key, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("forensics:index:IsolatedNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        prefix = cfg.name_prefix

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=cfg.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=tags_for(cfg, f"{prefix}-vpc"),
            opts=child,
        )
        self.subnets = [
            aws.ec2.Subnet(
                f"{name}-private-{zone}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone=f"{cfg.region}{zone}",
                map_public_ip_on_launch=False,
                tags=tags_for(cfg, f"{prefix}-private-{zone}", {"forensics:tier": "private"}),
                opts=child,
            )
            for zone, cidr in zip("ab", carve_subnets(cfg.vpc_cidr), strict=True)
        ]
        # No routes: the VPC's implicit local route is the only one (no internet, NAT or peering).
        self.route_table = aws.ec2.RouteTable(
            f"{name}-private-rt", vpc_id=self.vpc.id, tags=tags_for(cfg, f"{prefix}-private"), opts=child
        )
        for zone, subnet in zip("ab", self.subnets, strict=True):
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{zone}-rta",
                subnet_id=subnet.id,
                route_table_id=self.route_table.id,
                opts=child,
            )

        self.endpoint_security_group = aws.ec2.SecurityGroup(
            f"{name}-endpoints-sg",
            name=f"{prefix}-endpoints",
            description="Interface endpoints: HTTPS from inside the clean room only",
            vpc_id=self.vpc.id,
            ingress=[
                {
                    "protocol": "tcp",
                    "from_port": HTTPS,
                    "to_port": HTTPS,
                    "cidr_blocks": [cfg.vpc_cidr],
                    "description": "HTTPS from the clean room",
                }
            ],
            egress=[],
            tags=tags_for(cfg, f"{prefix}-endpoints"),
            opts=child,
        )
        # The workstation: nothing inbound (access is Session Manager only); outbound only HTTPS to the
        # endpoints inside the VPC. Frozen: no rules at all.
        egress: list[aws.ec2.SecurityGroupEgressArgsDict] = (
            []
            if cfg.frozen
            else [
                {
                    "protocol": "tcp",
                    "from_port": HTTPS,
                    "to_port": HTTPS,
                    "cidr_blocks": [cfg.vpc_cidr],
                    "description": "HTTPS to the VPC endpoints",
                }
            ]
        )
        self.workstation_security_group = aws.ec2.SecurityGroup(
            f"{name}-workstation-sg",
            name=f"{prefix}-workstation",
            description="Forensic workstation: no inbound, HTTPS to VPC endpoints only",
            vpc_id=self.vpc.id,
            ingress=[],
            egress=egress,
            revoke_rules_on_delete=True,
            tags=tags_for(cfg, f"{prefix}-workstation"),
            opts=child,
        )

        self.endpoints = {
            service: aws.ec2.VpcEndpoint(
                f"{name}-{service}-endpoint",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{cfg.region}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=[self.route_table.id],
                tags=tags_for(cfg, f"{prefix}-{service}"),
                opts=child,
            )
            for service in GATEWAY_ENDPOINTS
        }
        for service in INTERFACE_ENDPOINTS:
            self.endpoints[service] = aws.ec2.VpcEndpoint(
                f"{name}-{service}-endpoint",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{cfg.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[s.id for s in self.subnets],
                security_group_ids=[self.endpoint_security_group.id],
                tags=tags_for(cfg, f"{prefix}-{service}"),
                opts=child,
            )

        self.flow_log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=log_group_name(cfg, "vpc-flow-logs"),
            kms_key_id=key.arn,
            retention_in_days=365,
            tags=tags_for(cfg, f"{prefix}-vpc-flow-logs"),
            opts=child,
        )
        delivery_role = aws.iam.Role(
            f"{name}-flow-logs-role",
            name=f"{prefix}-flow-logs",
            description=f"VPC flow log delivery for investigation {cfg.investigation_id}",
            assume_role_policy=assume_role(
                {"Service": "vpc-flow-logs.amazonaws.com"},
                {
                    "StringEquals": {"aws:SourceAccount": cfg.account_id},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:{cfg.region}:{cfg.account_id}:vpc-flow-log/*"},
                },
            ),
            force_detach_policies=True,
            tags=tags_for(cfg, f"{prefix}-flow-logs", {"forensics:role": "flow-logs"}),
            opts=child,
        )
        group_arn = self.flow_log_group.arn
        aws.iam.RolePolicy(
            f"{name}-flow-logs-policy",
            role=delivery_role.id,
            name="deliver-flow-logs",
            policy=document(
                [
                    allow(
                        "DeliverToTheFlowLogGroupOnly",
                        ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                        [group_arn, pulumi.Output.concat(group_arn, ":*")],
                    )
                ]
            ),
            opts=child,
        )
        self.flow_log = aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group_arn,
            iam_role_arn=delivery_role.arn,
            max_aggregation_interval=60,
            tags=tags_for(cfg, f"{prefix}-vpc-flow-log"),
            opts=child,
        )
        self.register_outputs(
            {
                "vpcId": self.vpc.id,
                "subnetIds": [s.id for s in self.subnets],
                "securityGroupId": self.workstation_security_group.id,
                "flowLogGroup": self.flow_log_group.name,
            }
        )
