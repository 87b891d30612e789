"""Every taggable resource carries the investigation's tags."""

from __future__ import annotations

import json
from typing import Any

from .base import ReportFn, Rule, get, is_unknown, plain, props_of
from .stack_kind import is_day_zero

REQUIRED_TAGS = ("forensics:investigation-id", "forensics:ticket", "managed-by")
# A day-zero stack belongs to no investigation: its resources say which part of the baseline they are.
DAY_ZERO_TAGS = ("forensics:baseline", "managed-by")
MANAGED_BY = "forensic-cleanroom"

# Resource types with a `tags` input: the ones contracts.md lets the program use, plus a few that the
# other rules forbid anyway (so an untagged rogue resource is reported twice, which is fine).
TAGGABLE_TYPES = frozenset(
    {
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        "aws:ec2/flowLog:FlowLog",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:kms/key:Key",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketV2:BucketV2",
        "aws:s3/bucketObjectv2:BucketObjectv2",
        "aws:iam/role:Role",
        "aws:iam/instanceProfile:InstanceProfile",
        "aws:iam/policy:Policy",
        "aws:ec2/instance:Instance",
        "aws:ebs/volume:Volume",
        "aws:ebs/snapshot:Snapshot",
        "aws:ebs/snapshotCopy:SnapshotCopy",
        "aws:sns/topic:Topic",
        "aws:ssm/document:Document",
        "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:ec2/networkInterface:NetworkInterface",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/eip:Eip",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    }
)


def _provider_default_tags(args: Any) -> dict[str, Any]:
    """Tags from the provider's `defaultTags` (the engine gives the provider's inputs, maybe as JSON)."""
    provider = getattr(args, "provider", None)
    if provider is None:
        return {}
    default_tags = props_of(provider).get("defaultTags")
    if isinstance(default_tags, str) and not is_unknown(default_tags):
        try:
            default_tags = plain(json.loads(default_tags))
        except ValueError:
            return {}
    tags = get(default_tags, "tags")
    return tags if isinstance(tags, dict) else {}


def check_required_tags(args: Any, report: ReportFn) -> None:
    if args.resource_type not in TAGGABLE_TYPES:
        return
    tags = props_of(args).get("tags")
    if is_unknown(tags):
        return
    merged: dict[str, Any] = dict(_provider_default_tags(args))
    if isinstance(tags, dict):
        merged.update(tags)
    required = DAY_ZERO_TAGS if is_day_zero() else REQUIRED_TAGS
    missing = [k for k in required if not (is_unknown(merged.get(k)) or merged.get(k))]
    if missing:
        report(f"{args.resource_type} '{args.name}' lacks required tags: {', '.join(missing)}")
    managed_by = merged.get("managed-by")
    if isinstance(managed_by, str) and managed_by and not is_unknown(managed_by) and managed_by != MANAGED_BY:
        report(f"{args.resource_type} '{args.name}' has managed-by={managed_by!r}, expected {MANAGED_BY!r}")


RULES = [
    Rule(
        name="required-tags",
        description="Every taggable resource carries forensics:investigation-id, forensics:ticket and "
        f"managed-by={MANAGED_BY} (in a day-zero stack, as the service declares it: forensics:baseline and "
        "managed-by).",
        remediation="pass the common tag map (forensics:investigation-id, forensics:ticket, "
        f"managed-by={MANAGED_BY}, plus config tags) to every taggable resource, or set them as the "
        "provider's default_tags",
        check=check_required_tags,
        resource_types=tuple(sorted(TAGGABLE_TYPES)),
    ),
]
