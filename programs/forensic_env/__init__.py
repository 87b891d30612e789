"""The forensic clean-room Pulumi program (see docs/contracts.md).

Entry points: `program.forensic_environment` (the inline program), `config.validate_config` (pure validation
for the service), `config.ConfigError`, and `RESOURCE_TYPES`, the resource type tokens the program can create.
"""

from __future__ import annotations

from programs.forensic_env.config import ConfigError, EnvironmentConfig, validate_config

# Every resource type the program may register (the stand-in provider serves exactly these), plus the
# program's own component types. Data sources (invokes): see DATA_SOURCES.
RESOURCE_TYPES: tuple[str, ...] = (
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:ec2/vpcEndpoint:VpcEndpoint",
    "aws:ec2/flowLog:FlowLog",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:kms/key:Key",
    "aws:kms/alias:Alias",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketObjectv2:BucketObjectv2",
    "aws:iam/role:Role",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/instanceProfile:InstanceProfile",
    "aws:ec2/instance:Instance",
    "aws:ebs/volume:Volume",
    "aws:ec2/volumeAttachment:VolumeAttachment",
    "aws:ebs/snapshot:Snapshot",
    "aws:ebs/snapshotCopy:SnapshotCopy",
    "aws:sns/topic:Topic",
    "aws:ssm/document:Document",
    "aws:ec2transitgateway/instanceState:InstanceState",
    "aws:route53/resolverFirewallDomainList:ResolverFirewallDomainList",
    "aws:route53/resolverFirewallRuleGroup:ResolverFirewallRuleGroup",
    "aws:route53/resolverFirewallRule:ResolverFirewallRule",
    "aws:route53/resolverFirewallRuleGroupAssociation:ResolverFirewallRuleGroupAssociation",
)
DATA_SOURCES: tuple[str, ...] = ("aws:ec2/getAmi:getAmi", "aws:ssm/getParameter:getParameter")
COMPONENT_TYPES: tuple[str, ...] = (
    "forensics:index:ForensicEnvironment",
    "forensics:index:AccessRoles",
    "forensics:index:IsolatedNetwork",
    "forensics:index:EvidenceStore",
    "forensics:index:Workstation",
)

__all__ = [
    "COMPONENT_TYPES",
    "DATA_SOURCES",
    "RESOURCE_TYPES",
    "ConfigError",
    "EnvironmentConfig",
    "validate_config",
]
