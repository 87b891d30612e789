"""Every property the stand-in accepts or returns exists, under that name, on the type in the pulumi_aws SDK.

The program is written against pulumi_aws and runs on the real provider in production, so a name the stand-in
invents would work locally and break (or silently do nothing) in AWS.
"""

from __future__ import annotations

import importlib
import inspect
import re
from functools import cache

import pulumi
import pulumi_aws
import pytest
from pulumi._types import _py_to_pulumi_names_from_py_properties

from tools.aws_standin.registry import DATA_SOURCES, RESOURCES

CONTRACT_RESOURCES = {
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
    # The day-zero programs'.
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:cloudtrail/trail:Trail",
    "aws:cfg/recorder:Recorder",
    "aws:cfg/deliveryChannel:DeliveryChannel",
    "aws:cfg/recorderStatus:RecorderStatus",
    "aws:cloudwatch/eventRule:EventRule",
    "aws:cloudwatch/eventTarget:EventTarget",
    "aws:sns/topicPolicy:TopicPolicy",
    "aws:ssm/parameter:Parameter",
    "aws:sqs/queue:Queue",
    "aws:sqs/queuePolicy:QueuePolicy",
    "aws:sns/topicSubscription:TopicSubscription",
}
# The day-zero programs' (programs/organization): docs/contracts.md lists them apart.
ORGANIZATION_RESOURCES = {
    "aws:organizations/organizationalUnit:OrganizationalUnit",
    "aws:organizations/policy:Policy",
    "aws:organizations/policyAttachment:PolicyAttachment",
    "aws:organizations/account:Account",
}
CONTRACT_RESOURCES |= ORGANIZATION_RESOURCES
CONTRACT_DATA_SOURCES = {
    "aws:ec2/getAmi:getAmi",
    "aws:ssm/getParameter:getParameter",
    "aws:organizations/getOrganization:getOrganization",
}


def sdk_class(token: str) -> type:
    """The pulumi_aws resource class of a token: ``aws:ec2/vpc:Vpc`` -> ``pulumi_aws.ec2.Vpc``."""
    module_path, class_name = token.split(":")[1].split("/")[0], token.split(":")[2]
    cls = getattr(importlib.import_module(f"pulumi_aws.{module_path}"), class_name)
    # The resource's own registration names the token; guards against a same-named class elsewhere.
    assert token in inspect.getsource(cls.__init__) or f'"{token}"' in inspect.getsource(cls), token
    return cls


@cache
def names_of(cls: type) -> dict[str, property]:
    """pulumi name -> property object of an SDK resource or output type."""
    py_to_pulumi = _py_to_pulumi_names_from_py_properties(cls)
    return {pulumi_name: getattr(cls, py_name) for py_name, pulumi_name in py_to_pulumi.items()}


def nested_class(cls: type, name: str) -> type:
    """The output type of a nested property, from its getter's return annotation (``outputs.X``)."""
    getter = names_of(cls)[name].fget
    annotation = str(getattr(getter, "__annotations__", {}).get("return", ""))
    match = re.search(r"outputs\.(\w+)", annotation)
    assert match, f"{cls.__name__}.{name} is not an object type ({annotation})"
    module = importlib.import_module(cls.__module__.rsplit(".", 1)[0] + ".outputs")
    return getattr(module, match.group(1))  # type: ignore[no-any-return]


def check_path(cls: type, path: str) -> None:
    head, _, rest = path.partition(".")
    assert head in names_of(cls), f"{cls.__module__}.{cls.__name__} has no property {head!r}"
    if rest:
        check_path(nested_class(cls, head), rest)


def test_serves_exactly_the_contract() -> None:
    assert set(RESOURCES) == CONTRACT_RESOURCES
    assert set(DATA_SOURCES) == CONTRACT_DATA_SOURCES


@pytest.mark.parametrize("token", sorted(CONTRACT_RESOURCES))
def test_resource_property_names_exist_in_pulumi_aws(token: str) -> None:
    handler = RESOURCES[token]
    cls = sdk_class(token)
    assert issubclass(cls, pulumi.CustomResource)
    names = handler.input_names() | handler.output_names() | handler.replace_on
    if handler.autoname:
        names |= {handler.autoname}
    for path in sorted(names):
        check_path(cls, path)


@pytest.mark.parametrize("token", sorted(CONTRACT_DATA_SOURCES))
def test_data_source_names_exist_in_pulumi_aws(token: str) -> None:
    source = DATA_SOURCES[token]
    module, class_name = source.result_class.split(".")
    cls = getattr(importlib.import_module(f"pulumi_aws.{module}"), class_name)
    for path in sorted(source.args | source.results):
        check_path(cls, path)


def test_plugin_version_is_the_sdk_version() -> None:
    from tools.aws_standin.provider import plugin_version

    assert plugin_version() == pulumi_aws._utilities.get_version()
