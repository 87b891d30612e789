"""IsolatedNetwork: a VPC with no way in or out except private AWS service endpoints.

Two private subnets, one route table holding only the implicit local route (no internet or NAT gateway),
an S3 gateway endpoint and interface endpoints for Session Manager, KMS and CloudWatch Logs, and VPC flow logs
of all traffic to a log group encrypted with the investigation key.

Name resolution goes through a Route 53 Resolver DNS Firewall: the Amazon resolver would otherwise answer
any name by asking the internet, and a DNS tunnel (data encoded in the names asked for) passes security
groups and flow logs. The VPC's rule group allows the names of the endpoints above (`allowed_dns_names`) and
the VPC's own host names, and answers NXDOMAIN for everything else.

Every endpoint has a policy (`endpoint_policy`): only principals of the investigation's account, and only the
investigation's resources where the service has resource ARNs. Without one, an endpoint allows anything: from
the workstation, evidence could be put to any bucket of any account through the S3 endpoint.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from programs.forensic_env.access import log_group_name
from programs.forensic_env.config import EnvironmentConfig
from programs.forensic_env.policies import (
    Statement,
    allow,
    assume_role,
    document,
    plain_document,
    principal_account,
)
from programs.forensic_env.tags import tags_for

INTERFACE_ENDPOINTS = ("ssm", "ssmmessages", "ec2messages", "kms", "logs")
GATEWAY_ENDPOINTS = ("s3",)
HTTPS = 443
# DNS Firewall: what the final rule matches (every name), its answer, and the rule and association order.
EVERY_NAME = "*"
DNS_BLOCK_RESPONSE = "NXDOMAIN"
DNS_ALLOW_PRIORITY = 100
DNS_BLOCK_PRIORITY = 200
# Association priorities run from 101 to 9899 (100 and 9900 are AWS's).
DNS_FIREWALL_ASSOCIATION_PRIORITY = 101

# What the clean room does with the evidence bucket from inside: read evidence, write notes and reports, list.
# (Legal hold, retention and deletion are the custodian's, done from outside the clean room.) The roles'
# own policies narrow this further.
EVIDENCE_BUCKET_ACTIONS = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:GetBucketLocation",
)
# AWS-owned buckets SSM Agent reads through an S3 endpoint (AWS Systems Manager User Guide, "SSM Agent
# communications with AWS managed S3 buckets"): agent updates, documents and their attachments, Distributor
# packages, patch baselines. `{region}` is the investigation's region.
SSM_AGENT_BUCKETS = (
    "aws-ssm-{region}",
    "aws-windows-downloads-{region}",
    "amazon-ssm-{region}",
    "amazon-ssm-packages-{region}",
    "{region}-birdwatcher-prod",
    "aws-ssm-distributor-file-{region}",
    "aws-ssm-document-attachments-{region}",
    "patch-baseline-snapshot-{region}",
)
# The actions the workstation needs through each interface endpoint: SSM Agent (registration, documents,
# associations, inventory), Session Manager channels, the agent's message service, the investigation key, and
# writing session logs (whose group's encryption the agent checks with DescribeLogGroups).
SSM_ACTIONS = (
    "ssm:DescribeAssociation",
    "ssm:DescribeDocument",
    "ssm:GetDeployablePatchSnapshotForInstance",
    "ssm:GetDocument",
    "ssm:GetManifest",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:ListAssociations",
    "ssm:ListInstanceAssociations",
    "ssm:PutComplianceItems",
    "ssm:PutConfigurePackageResult",
    "ssm:PutInventory",
    "ssm:UpdateAssociationStatus",
    "ssm:UpdateInstanceAssociationStatus",
    "ssm:UpdateInstanceInformation",
)
SSMMESSAGES_ACTIONS = (
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
EC2MESSAGES_ACTIONS = (
    "ec2messages:AcknowledgeMessage",
    "ec2messages:DeleteMessage",
    "ec2messages:FailMessage",
    "ec2messages:GetEndpoint",
    "ec2messages:GetMessages",
    "ec2messages:SendReply",
)
KMS_ACTIONS = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:DescribeKey",
)
LOGS_WRITE_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams")


def _endpoint_statement(
    cfg: EnvironmentConfig, sid: str, actions: Sequence[str], resources: Sequence[str]
) -> Statement:
    """An Allow for principals of the investigation's account only."""
    return allow(sid, actions, resources, Principal="*", Condition=principal_account(cfg.account_id))


def endpoint_policy(cfg: EnvironmentConfig, service: str, evidence_bucket: str) -> str:
    """The endpoint policy of one of GATEWAY_ENDPOINTS / INTERFACE_ENDPOINTS, as a JSON document.

    Every statement carries `aws:PrincipalAccount` = the investigation's account. Resources are the
    investigation's where the service has resource ARNs (the evidence bucket, the account's keys in the
    region, the investigation's log groups); SSM's agent APIs act on `*` (documents owned by AWS,
    associations, the instance itself), so for ssm, ssmmessages and ec2messages the account condition is
    what fences them."""
    partition, region, account = cfg.partition, cfg.region, cfg.account_id
    if service == "s3":
        bucket = f"arn:{partition}:s3:::{evidence_bucket}"
        statements = [
            _endpoint_statement(cfg, "EvidenceBucketOnly", EVIDENCE_BUCKET_ACTIONS, [bucket, f"{bucket}/*"]),
            _endpoint_statement(
                cfg,
                "SsmAgentAwsOwnedBuckets",
                ["s3:GetObject"],
                [f"arn:{partition}:s3:::{b.format(region=region)}/*" for b in SSM_AGENT_BUCKETS],
            ),
        ]
    elif service == "ssm":
        statements = [_endpoint_statement(cfg, "SsmAgent", SSM_ACTIONS, ["*"])]
    elif service == "ssmmessages":
        statements = [_endpoint_statement(cfg, "SessionManagerChannels", SSMMESSAGES_ACTIONS, ["*"])]
    elif service == "ec2messages":
        statements = [_endpoint_statement(cfg, "SsmAgentMessages", EC2MESSAGES_ACTIONS, ["*"])]
    elif service == "kms":
        keys = f"arn:{partition}:kms:{region}:{account}:key/*"
        statements = [_endpoint_statement(cfg, "AccountKeysInRegion", KMS_ACTIONS, [keys])]
    elif service == "logs":
        groups = f"arn:{partition}:logs:{region}:{account}:log-group"
        statements = [
            _endpoint_statement(
                cfg, "InvestigationLogGroups", LOGS_WRITE_ACTIONS, [f"{groups}:{log_group_name(cfg, '*')}"]
            ),
            # DescribeLogGroups has no per-group resource: the account's groups in the region, read only.
            _endpoint_statement(cfg, "DescribeLogGroups", ["logs:DescribeLogGroups"], [f"{groups}:*"]),
        ]
    else:
        raise ValueError(f"no endpoint policy for service {service!r}")
    return plain_document(statements)


def allowed_dns_names(region: str) -> list[str]:
    """The names the clean room may resolve: each endpoint's regional service name and its subdomains (S3
    bucket and interface endpoint names), and the VPC's own host names (an AWS-private zone the resolver
    answers itself, never delegated to the internet)."""
    names = []
    for service in (*GATEWAY_ENDPOINTS, *INTERFACE_ENDPOINTS):
        names += [f"{service}.{region}.amazonaws.com", f"*.{service}.{region}.amazonaws.com"]
    names.append("*.ec2.internal" if region == "us-east-1" else f"*.{region}.compute.internal")
    return names


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
    dns_firewall_rule_group: aws.route53.ResolverFirewallRuleGroup
    dns_firewall_association: aws.route53.ResolverFirewallRuleGroupAssociation

    def __init__(
        self,
        name: str,
        cfg: EnvironmentConfig,
        key: aws.kms.Key,
        opts: pulumi.ResourceOptions | None = None,
        *,
        evidence_bucket: str,
    ) -> None:
        """`evidence_bucket`: the name of the investigation's evidence bucket, the one bucket the S3 endpoint
        lets the clean room reach (besides the AWS-owned buckets SSM Agent needs)."""
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
                policy=endpoint_policy(cfg, service, evidence_bucket),
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
                policy=endpoint_policy(cfg, service, evidence_bucket),
                tags=tags_for(cfg, f"{prefix}-{service}"),
                opts=child,
            )

        self._dns_firewall(name, cfg, child)

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
            permissions_boundary=cfg.permissions_boundary_arn,
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

    def _dns_firewall(self, name: str, cfg: EnvironmentConfig, child: pulumi.ResourceOptions) -> None:
        """Allow the clean room's own names (priority 100), answer NXDOMAIN for every other (200); the
        association waits for both rules, so the VPC never resolves through an empty (allow-all) group."""
        prefix = cfg.name_prefix
        allowed = aws.route53.ResolverFirewallDomainList(
            f"{name}-dns-allowed",
            name=f"{prefix}-dns-allowed",
            domains=allowed_dns_names(cfg.region),
            tags=tags_for(cfg, f"{prefix}-dns-allowed"),
            opts=child,
        )
        everything = aws.route53.ResolverFirewallDomainList(
            f"{name}-dns-everything",
            name=f"{prefix}-dns-everything",
            domains=[EVERY_NAME],
            tags=tags_for(cfg, f"{prefix}-dns-everything"),
            opts=child,
        )
        self.dns_firewall_rule_group = aws.route53.ResolverFirewallRuleGroup(
            f"{name}-dns-firewall",
            name=f"{prefix}-dns-firewall",
            tags=tags_for(cfg, f"{prefix}-dns-firewall"),
            opts=child,
        )
        group_id = self.dns_firewall_rule_group.id
        rules = [
            aws.route53.ResolverFirewallRule(
                f"{name}-dns-allow-clean-room",
                name=f"{prefix}-allow-clean-room",
                firewall_rule_group_id=group_id,
                firewall_domain_list_id=allowed.id,
                priority=DNS_ALLOW_PRIORITY,
                action="ALLOW",
                opts=child,
            ),
            aws.route53.ResolverFirewallRule(
                f"{name}-dns-block-everything-else",
                name=f"{prefix}-block-everything-else",
                firewall_rule_group_id=group_id,
                firewall_domain_list_id=everything.id,
                priority=DNS_BLOCK_PRIORITY,
                action="BLOCK",
                block_response=DNS_BLOCK_RESPONSE,
                opts=child,
            ),
        ]
        self.dns_firewall_association = aws.route53.ResolverFirewallRuleGroupAssociation(
            f"{name}-dns-firewall-association",
            name=f"{prefix}-dns-firewall",
            firewall_rule_group_id=group_id,
            vpc_id=self.vpc.id,
            priority=DNS_FIREWALL_ASSOCIATION_PRIORITY,
            mutation_protection="DISABLED",
            tags=tags_for(cfg, f"{prefix}-dns-firewall"),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=rules)),
        )
