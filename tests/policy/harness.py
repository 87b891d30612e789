"""A tiny harness that drives the forensic rules the way the engine does, without the engine.

Props go through pulumi_policy's own `unknown_checking_proxy` (as in Analyze/AnalyzeStack), args are the real
`ResourceValidationArgs` / `StackValidationArgs` / `PolicyResource` classes, and every policy is run through
its pulumi_policy object (`ALL_POLICIES`), so the wrapper that appends remediation hints is exercised too.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from pulumi_policy import ResourceValidationArgs, StackValidationArgs
from pulumi_policy.policy import PolicyProviderResource, PolicyResource
from pulumi_policy.proxy import (
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    unknown_checking_proxy,
)

from policy_packs.forensics.rules import ALL_POLICIES

U_STR = UNKNOWN_STRING_VALUE
U_BOOL = UNKNOWN_BOOLEAN_VALUE
U_ARR = UNKNOWN_ARRAY_VALUE
U_OBJ = UNKNOWN_OBJECT_VALUE

POLICIES = {p.name: p for p in ALL_POLICIES}
STACK = "inv-case-1"
ACCOUNT = "123456789012"

TAGS = {
    "forensics:investigation-id": "case-1",
    "forensics:ticket": "SEC-123",
    "managed-by": "forensic-cleanroom",
}


def urn(rtype: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::forensics::{rtype}::{name}"


@dataclass
class Violation:
    message: str
    urn: str | None


@dataclass
class Res:
    """A resource as the tests declare it; turned into engine objects by the runners."""

    rtype: str
    name: str
    props: dict[str, Any]
    deps: dict[str, list[str]] | None = None  # property -> names of resources it depends on

    @property
    def urn(self) -> str:
        return urn(self.rtype, self.name)


def run_resource(
    policy: str,
    rtype: str,
    props: dict[str, Any],
    name: str = "res",
    config: dict[str, Any] | None = None,
    provider_props: dict[str, Any] | None = None,
) -> list[Violation]:
    found: list[Violation] = []

    def report(message: str, violation_urn: str | None = None) -> None:
        found.append(Violation(message, violation_urn))

    provider = None
    if provider_props is not None:
        provider = PolicyProviderResource(
            "pulumi:providers:aws",
            unknown_checking_proxy(copy.deepcopy(provider_props)),
            urn("pulumi:providers:aws", "default"),
            "default",
        )
    args = ResourceValidationArgs(
        rtype, unknown_checking_proxy(copy.deepcopy(props)), urn(rtype, name), name, None, provider, config
    )
    POLICIES[policy].validate(args, report)
    return found


def run_stack(policy: str, resources: list[Res], config: dict[str, Any] | None = None) -> list[Violation]:
    found: list[Violation] = []

    def report(message: str, violation_urn: str | None = None) -> None:
        found.append(Violation(message, violation_urn))

    by_name: dict[str, PolicyResource] = {}
    for r in resources:
        by_name[r.name] = PolicyResource(
            r.rtype, unknown_checking_proxy(copy.deepcopy(r.props)), r.urn, r.name, None, None, None, [], {}
        )
    for r in resources:
        for prop, names in (r.deps or {}).items():
            targets = [by_name[n] for n in names]
            by_name[r.name].property_dependencies[prop] = targets
            by_name[r.name].dependencies.extend(t for t in targets if t not in by_name[r.name].dependencies)
    POLICIES[policy].validate(StackValidationArgs(list(by_name.values()), config), report)
    return found


def run_everything(resources: list[Res]) -> dict[str, list[Violation]]:
    """Every policy of the pack on a whole stack: resource policies per resource, then stack policies."""
    from pulumi_policy import StackValidationPolicy

    results: dict[str, list[Violation]] = {}
    for policy in ALL_POLICIES:
        if isinstance(policy, StackValidationPolicy):
            found = run_stack(policy.name, resources)
        else:
            found = [v for r in resources for v in run_resource(policy.name, r.rtype, r.props, r.name)]
        if found:
            results[policy.name] = found
    return results


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(actions: Any, resources: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def deny(actions: Any, resources: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": actions, "Resource": resources, **extra}


BUCKET = "forensics-case-1-evidence"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"


def in_account(statement: dict[str, Any], account: str = ACCOUNT) -> dict[str, Any]:
    """An endpoint-policy statement for every principal of one account."""
    return {"Principal": "*", **statement, "Condition": {"StringEquals": {"aws:PrincipalAccount": account}}}


def endpoint_doc(*statements: dict[str, Any]) -> str:
    """An endpoint policy: each statement for principals of ACCOUNT only."""
    return doc(*(in_account(s) for s in statements))


def trust() -> str:
    """How the program's people roles are assumed: a named role, a source identity, the session tag."""
    return doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": ROOT.replace(":root", ":role/IncidentResponse")},
            "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
            "Condition": {
                "StringEquals": {"aws:RequestTag/forensics-investigation": "case-1"},
                "Null": {"sts:SourceIdentity": "false"},
            },
        }
    )


def role(name: str, kind: str | None, inline: list[dict[str, Any]] | None = None, **props: Any) -> Res:
    tags = dict(TAGS)
    if kind:
        tags["forensics:role"] = kind
    body = {"name": name, "assumeRolePolicy": trust(), "tags": tags, **props}
    if inline is not None:
        body["inlinePolicies"] = inline
    return Res("aws:iam/role:Role", name, body)


def role_policy(name: str, role_name: str, policy: str, deps: bool = False) -> Res:
    return Res(
        "aws:iam/rolePolicy:RolePolicy",
        name,
        {"role": role_name, "policy": policy},
        deps={"role": [role_name]} if deps else None,
    )


def clean_room() -> list[Res]:
    """A compliant clean room, shaped like what programs/forensic_env declares."""
    t = TAGS
    objects = f"{BUCKET_ARN}/*"
    return [
        Res("aws:ec2/vpc:Vpc", "vpc", {"id": "vpc-1", "cidrBlock": "10.77.0.0/16", "tags": t}),
        Res(
            "aws:ec2/subnet:Subnet",
            "subnet-a",
            {"vpcId": "vpc-1", "cidrBlock": "10.77.0.0/24", "mapPublicIpOnLaunch": False, "tags": t},
        ),
        Res(
            "aws:ec2/securityGroup:SecurityGroup",
            "sg",
            {
                "vpcId": "vpc-1",
                "tags": t,
                "ingress": [
                    {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.77.0.0/16"]}
                ],
                "egress": [
                    {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.77.0.0/16"]}
                ],
            },
        ),
        Res("aws:ec2/routeTable:RouteTable", "rt", {"vpcId": "vpc-1", "routes": [], "tags": t}),
        Res(
            "aws:ec2/routeTableAssociation:RouteTableAssociation",
            "rta",
            {"subnetId": "s", "routeTableId": "r"},
        ),
        Res(
            "aws:ec2/vpcEndpoint:VpcEndpoint",
            "ep-s3",
            {
                "vpcId": "vpc-1",
                "serviceName": "com.amazonaws.us-east-1.s3",
                "policy": endpoint_doc(allow(["s3:GetObject", "s3:PutObject"], [BUCKET_ARN, objects])),
                "tags": t,
            },
        ),
        Res(
            "aws:cloudwatch/logGroup:LogGroup",
            "flow-logs",
            {"name": "/forensics/case-1/flow", "kmsKeyId": KEY_ARN, "tags": t},
        ),
        Res("aws:ec2/flowLog:FlowLog", "flow", {"vpcId": "vpc-1", "trafficType": "ALL", "tags": t}),
        Res(
            "aws:kms/key:Key",
            "key",
            {
                "enableKeyRotation": True,
                "tags": t,
                "policy": doc(
                    {
                        "Sid": "breakGlass",
                        "Effect": "Allow",
                        "Principal": {"AWS": ROOT.replace(":root", ":role/forensics-break-glass")},
                        "Action": ["kms:DescribeKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"],
                        "Resource": "*",
                    }
                ),
            },
        ),
        Res("aws:kms/alias:Alias", "alias", {"name": "alias/forensics-case-1", "targetKeyId": KEY_ARN}),
        Res("aws:s3/bucket:Bucket", "evidence", {"bucket": BUCKET, "objectLockEnabled": True, "tags": t}),
        Res(
            "aws:s3/bucketVersioning:BucketVersioning",
            "evidence-versioning",
            {"bucket": BUCKET, "versioningConfiguration": {"status": "Enabled"}},
        ),
        Res(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "evidence-sse",
            {
                "bucket": BUCKET,
                "rules": [
                    {
                        "applyServerSideEncryptionByDefault": {
                            "sseAlgorithm": "aws:kms",
                            "kmsMasterKeyId": KEY_ARN,
                        },
                        "bucketKeyEnabled": True,
                    }
                ],
            },
        ),
        Res(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "evidence-pab",
            {
                "bucket": BUCKET,
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
        ),
        Res(
            "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
            "evidence-lock",
            {"bucket": BUCKET, "rule": {"defaultRetention": {"mode": "GOVERNANCE", "days": 30}}},
        ),
        Res(
            "aws:s3/bucketPolicy:BucketPolicy",
            "evidence-policy",
            {
                "bucket": BUCKET,
                "policy": doc(
                    {
                        "Sid": "TlsOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [BUCKET_ARN, objects],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ),
            },
        ),
        Res(
            "aws:s3/bucketObjectv2:BucketObjectv2",
            "reports-prefix",
            {"bucket": BUCKET, "key": "active-investigation/reports/", "tags": t},
        ),
        role(
            "responder-role",
            "responder",
            inline=[
                {
                    "name": "responder",
                    "policy": doc(
                        allow(["s3:PutObject", "s3:ListBucket"], [BUCKET_ARN, f"{BUCKET_ARN}/incoming/*"]),
                        allow(["ec2:CreateSnapshot"], f"arn:aws:ec2:us-east-1:{ACCOUNT}:volume/*"),
                    ),
                }
            ],
        ),
        role("investigator-role", "investigator"),
        role_policy(
            "investigator-policy",
            "investigator-role",
            doc(
                allow(["s3:GetObject", "s3:PutObject", "s3:ListBucket"], [BUCKET_ARN, objects]),
                allow(["kms:Decrypt", "kms:GenerateDataKey"], KEY_ARN),
            ),
        ),
        role(
            "custodian-role",
            "custodian",
            inline=[
                {
                    "name": "custodian",
                    "policy": doc(
                        allow(
                            ["s3:PutObjectLegalHold", "s3:PutObjectRetention", "s3:GetObjectLegalHold"],
                            objects,
                        )
                    ),
                }
            ],
        ),
        role(
            "analyst-role",
            "analyst",
            inline=[
                {
                    "name": "analyst",
                    "policy": doc(
                        allow(["s3:ListBucket"], BUCKET_ARN),
                        allow(["s3:GetObject"], f"{BUCKET_ARN}/active-investigation/reports/*"),
                    ),
                }
            ],
        ),
        role(
            "workstation-role",
            None,
            inline=[
                {
                    "name": "ssm",
                    "policy": doc(
                        allow(
                            ["ssm:UpdateInstanceInformation"], f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/*"
                        )
                    ),
                }
            ],
        ),
        Res("aws:iam/instanceProfile:InstanceProfile", "profile", {"role": "workstation-role", "tags": t}),
        Res(
            "aws:ec2/instance:Instance",
            "workstation",
            {
                "ami": "ami-0123456789abcdef0",
                "instanceType": "t3.large",
                "subnetId": "subnet-1",
                "associatePublicIpAddress": False,
                "metadataOptions": {"httpTokens": "required", "httpEndpoint": "enabled"},
                "rootBlockDevice": {"encrypted": True, "kmsKeyId": KEY_ARN, "volumeSize": 50},
                "ebsBlockDevices": [],
                "tags": t,
            },
        ),
        Res(
            "aws:ebs/volume:Volume",
            "evidence-vol",
            {
                "availabilityZone": "us-east-1a",
                "snapshotId": "snap-1",
                "encrypted": True,
                "kmsKeyId": KEY_ARN,
                "tags": t,
            },
        ),
        Res(
            "aws:ec2/volumeAttachment:VolumeAttachment",
            "evidence-attach",
            {"deviceName": "/dev/sdf", "instanceId": "i-1", "volumeId": "vol-1"},
        ),
        Res("aws:sns/topic:Topic", "alerts", {"name": "forensics-case-1", "tags": t}),
        Res("aws:ssm/document:Document", "session-prefs", {"documentType": "Session", "tags": t}),
        *dns_firewall(),
    ]


def blocked(*extra: Res, base: list[Res] | None = None) -> dict[str, list[Violation]]:
    """Policy name -> violations, for the compliant clean room (or ``base``) plus ``extra``."""
    return run_everything([*(clean_room() if base is None else base), *extra])


DNS_LIST = "aws:route53/resolverFirewallDomainList:ResolverFirewallDomainList"
DNS_GROUP = "aws:route53/resolverFirewallRuleGroup:ResolverFirewallRuleGroup"
DNS_RULE = "aws:route53/resolverFirewallRule:ResolverFirewallRule"
DNS_ASSOCIATION = "aws:route53/resolverFirewallRuleGroupAssociation:ResolverFirewallRuleGroupAssociation"


def dns_firewall(vpc_id: str = "vpc-1", suffix: str = "") -> list[Res]:
    """The clean room's DNS Firewall: the endpoints' names allowed (100), every other name NXDOMAIN (200)."""
    t = TAGS
    allowed = ["ssm.us-east-1.amazonaws.com", "*.s3.us-east-1.amazonaws.com", "*.ec2.internal"]
    return [
        Res(DNS_LIST, f"dns-allowed{suffix}", {"id": f"rslvr-fdl-a{suffix}", "domains": allowed, "tags": t}),
        Res(DNS_LIST, f"dns-everything{suffix}", {"id": f"rslvr-fdl-e{suffix}", "domains": ["*"], "tags": t}),
        Res(DNS_GROUP, f"dns-group{suffix}", {"id": f"rslvr-frg-1{suffix}", "tags": t}),
        Res(
            DNS_RULE,
            f"dns-allow{suffix}",
            {
                "firewallRuleGroupId": f"rslvr-frg-1{suffix}",
                "firewallDomainListId": f"rslvr-fdl-a{suffix}",
                "priority": 100,
                "action": "ALLOW",
            },
        ),
        Res(
            DNS_RULE,
            f"dns-block{suffix}",
            {
                "firewallRuleGroupId": f"rslvr-frg-1{suffix}",
                "firewallDomainListId": f"rslvr-fdl-e{suffix}",
                "priority": 200,
                "action": "BLOCK",
                "blockResponse": "NXDOMAIN",
            },
        ),
        Res(
            DNS_ASSOCIATION,
            f"dns-association{suffix}",
            {"firewallRuleGroupId": f"rslvr-frg-1{suffix}", "vpcId": vpc_id, "priority": 101, "tags": t},
        ),
    ]


def replace(resources: list[Res], name: str, **props: Any) -> list[Res]:
    """A copy of `resources` with the named resource's props updated (value None deletes the prop)."""
    result = []
    for r in resources:
        if r.name == name:
            body = copy.deepcopy(r.props)
            for key, value in props.items():
                if value is None:
                    body.pop(key, None)
                else:
                    body[key] = value
            r = Res(r.rtype, r.name, body, r.deps)
        result.append(r)
    return result


def without(resources: list[Res], *names: str) -> list[Res]:
    return [r for r in resources if r.name not in names]
