"""moto's IAM judge, given the resources and condition keys AWS authorizes a request on.

moto judges every identity-policy statement against the resource ``"*"`` (only IAM, STS and SQS name one),
so a statement scoped to ARNs never matches and is denied, and it gives identity policies no request context,
so ``aws:RequestTag/<k>``, ``aws:TagKeys``, ``aws:ResourceTag/<k>`` and ``iam:PermissionsBoundary`` conditions
hold vacuously. With IAM enforced (``install``), each signed request is judged instead:

- its resource ARNs are derived per action, as the Service Authorization Reference lists them
  (``RESOURCES``): the existing resources the request names (EC2 ``InstanceId``, ``VolumeId``,
  ``SnapshotId``, ... wherever they sit in the parameters; an S3 bucket or object as moto names it; a KMS key
  from any of its ids or aliases; an IAM role, instance profile or policy; an SSM document, parameter or
  managed instance; an SNS topic; a log group; a DNS Firewall list, rule group or association), and for a
  call that creates one, the new resource (``vpc/vpc-*``: its id is not known before moto makes it, so only a
  pattern that admits every id of its type matches, as any pattern written for an unknown id would).
  A request is allowed only when every resource it names is (RunInstances: instance, image, subnet,
  security groups, network interface, volume); an action the table does not map keeps moto's resource
  (``"*"`` for most), so an ARN-scoped statement never grants it: the call fails, it does not pass silently;
- its context holds ``aws:RequestTag/<k>`` and ``aws:TagKeys`` from the tags the request sets (EC2
  ``TagSpecification.N`` and ``Tag.N``, IAM/SNS ``Tags.member.N``, KMS ``Tags``, Logs ``tags``, S3
  ``x-amz-tagging``), ``iam:PermissionsBoundary`` from CreateRole/PutRolePermissionsBoundary, and per
  resource ``aws:ResourceTag/<k>`` (the resource's tags in moto's backend, read when judged) and for a KMS key
  ``kms:ResourceAliases``; ``s3:prefix`` of a listing (``""`` without one), ``ec2:Add/userId`` of a snapshot
  share, ``kms:GranteePrincipal`` of a grant; plus ``aws:PrincipalArn``, ``aws:PrincipalAccount``,
  ``aws:userid``, ``aws:RequestedRegion``, ``aws:CurrentTime`` and ``aws:EpochTime``;
- conditions are judged against that context: a key it lacks fails its condition (``...IfExists``, negated
  operators and ``ForAllValues:`` excepted), ``Null`` tests presence, ``ForAnyValue:``/``ForAllValues:``
  judge multi-valued keys, and an operator the launcher cannot judge never grants (an Allow with it does not
  apply; a Deny with it does). An explicit Deny wins; otherwise every resource needs an applying Allow.
  A refusal names the action, the resource and why, as AWS's message does;
- S3 calls moto authorizes under names that are no IAM action are judged as the one AWS uses (HeadBucket as
  ``s3:ListBucket``, the public access block as ``s3:Get/PutBucketPublicAccessBlock``).

Not modelled: permissions boundaries and session policies of the caller (only its identity policies are
judged), resource-based policies beyond what moto does, the implicit ``ec2:CreateTags`` authorization of
tag-on-create (with ``ec2:CreateAction``), ``iam:PassRole`` (moto never asks for it), service-specific keys
other than the above (``kms:ViaService``, ``iam:PassedToService``, ...: absent, so an Allow on them does not
apply). tests/local_aws/test_iam_resources.py catches a divergence on the modelled parts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import parse_qsl, unquote

from tools.local_aws.moto_server import OPERATORS, _instant, _values, current_time_context, principal_arn

ContextValue = str | list[str]


@dataclass(frozen=True)
class Target:
    """One resource a request is authorized on, with the context keys that belong to it."""

    arn: str
    context: dict[str, ContextValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    """What the launcher knows of a signed request when moto is about to authorize it."""

    action: str  # service:Action
    region: str
    account: str
    params: dict[str, Any]  # query parameters (first values) or the JSON body
    headers: dict[str, str]  # lower-cased names
    path: str

    def param(self, name: str) -> str | None:
        value = self.params.get(name)
        if isinstance(value, list):
            value = value[0] if value else None
        return None if value is None else str(value)

    def numbered(self, prefix: str) -> list[str]:
        """``prefix.1``, ``prefix.2``... (query protocol lists), or a JSON list under ``prefix``."""
        found = self.params.get(prefix)
        if isinstance(found, list) and not self.params.get(f"{prefix}.1"):
            return [str(v) for v in found]
        out, n = [], 1
        while (value := self.param(f"{prefix}.{n}")) is not None:
            out.append(value)
            n += 1
        return out


Deriver = Callable[[Request], list[Target]]


# --- EC2 -------------------------------------------------------------------------------------------------

# Parameter (the last named part of a query key: ``NetworkInterface.1.SubnetId``) -> resource type.
EC2_ID_PARAMETERS = {
    "InstanceId": "instance",
    "VolumeId": "volume",
    "SnapshotId": "snapshot",
    "GroupId": "security-group",
    "SecurityGroupId": "security-group",
    "SubnetId": "subnet",
    "VpcId": "vpc",
    "ImageId": "image",
    "RouteTableId": "route-table",
    "VpcEndpointId": "vpc-endpoint",
    "FlowLogId": "vpc-flow-log",
    "NetworkInterfaceId": "network-interface",
}
# An id names its type (CreateTags' ResourceId.N, CreateFlowLogs' ResourceId.N).
EC2_ID_PREFIXES = {
    "i": "instance",
    "vol": "volume",
    "snap": "snapshot",
    "sg": "security-group",
    "subnet": "subnet",
    "vpc": "vpc",
    "ami": "image",
    "rtb": "route-table",
    "vpce": "vpc-endpoint",
    "fl": "vpc-flow-log",
    "eni": "network-interface",
}
# Snapshots and images are named without an account.
EC2_ACCOUNTLESS = {"snapshot", "image"}
# Parameter groups that name resources AWS does not authorize the call on (rule peers, filters, tags).
EC2_IGNORED_GROUPS = ("IpPermissions", "Filter", "TagSpecification", "Tag")


def _ec2_backend_tags(resource_id: str, region: str) -> dict[str, str]:
    """The resource's tags in moto, in whichever account holds it (ids are unique; a snapshot or image shared
    from another account carries its owner's tags)."""
    from moto.ec2.models import ec2_backends

    # dict's own accessors: moto's create a backend for every account or region they are asked about.
    for regions in list(dict.values(ec2_backends)):
        backend = dict.get(regions, region)
        if backend is not None and resource_id in dict.keys(backend.tags):
            return dict(backend.tags[resource_id])
    return {}


def _resource_tag_context(tags: dict[str, str]) -> dict[str, ContextValue]:
    return {f"aws:ResourceTag/{key}": value for key, value in tags.items()}


def ec2_arn(request: Request, kind: str, resource_id: str, region: str | None = None) -> str:
    account = "" if kind in EC2_ACCOUNTLESS else request.account
    return f"arn:aws:ec2:{region or request.region}:{account}:{kind}/{resource_id}"


def _ec2_existing(request: Request, kind: str, resource_id: str, region: str | None = None) -> Target:
    return Target(
        ec2_arn(request, kind, resource_id, region),
        _resource_tag_context(_ec2_backend_tags(resource_id, region or request.region)),
    )


def _ec2_named(request: Request) -> list[Target]:
    """Every existing resource the request names by id."""
    targets: dict[str, Target] = {}
    for key in request.params:
        parts = [p for p in key.split(".") if not p.isdigit()]
        if not parts or parts[0] in EC2_IGNORED_GROUPS:
            continue
        name = parts[-1]
        region = request.param("SourceRegion") if name == "SourceSnapshotId" else None
        kind = EC2_ID_PARAMETERS.get("SnapshotId" if name == "SourceSnapshotId" else name)
        if kind is None and name == "ResourceId":
            kind = EC2_ID_PREFIXES.get((request.param(key) or "").split("-", 1)[0])
        value = request.param(key)
        if kind and value:
            target = _ec2_existing(request, kind, value, region)
            targets[target.arn] = target
    return list(targets.values())


def _ec2_creating(*kinds: str) -> Deriver:
    """A call that makes resources of these types, and names existing ones (the VPC of a subnet...)."""

    def derive(request: Request) -> list[Target]:
        prefixes = {kind: prefix for prefix, kind in EC2_ID_PREFIXES.items()}
        made = [Target(ec2_arn(request, kind, f"{prefixes[kind]}-*")) for kind in kinds]
        return made + _ec2_named(request)

    return derive


EC2_CREATING: dict[str, Deriver] = {
    "ec2:CreateVpc": _ec2_creating("vpc"),
    "ec2:CreateSubnet": _ec2_creating("subnet"),
    "ec2:CreateSecurityGroup": _ec2_creating("security-group"),
    "ec2:CreateRouteTable": _ec2_creating("route-table"),
    "ec2:CreateVpcEndpoint": _ec2_creating("vpc-endpoint"),
    "ec2:CreateFlowLogs": _ec2_creating("vpc-flow-log"),
    "ec2:RunInstances": _ec2_creating("instance", "volume", "network-interface"),
    "ec2:CreateVolume": _ec2_creating("volume"),
    "ec2:CopySnapshot": _ec2_creating("snapshot"),
    "ec2:CreateSnapshot": _ec2_creating("snapshot"),
}
# Calls authorized on the existing resources they name.
EC2_ON_NAMED = (
    "ec2:ModifyVpcAttribute",
    "ec2:DeleteVpc",
    "ec2:DeleteSubnet",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:DeleteSecurityGroup",
    "ec2:AssociateRouteTable",
    "ec2:DeleteRouteTable",
    "ec2:ModifyVpcEndpoint",
    "ec2:DeleteVpcEndpoints",
    "ec2:DeleteFlowLogs",
    "ec2:StartInstances",
    "ec2:StopInstances",
    "ec2:TerminateInstances",
    "ec2:ModifyInstanceAttribute",
    "ec2:AttachVolume",
    "ec2:DetachVolume",
    "ec2:DeleteVolume",
    "ec2:DeleteSnapshot",
    "ec2:ModifySnapshotAttribute",
    "ec2:CreateTags",
    "ec2:DeleteTags",
    "ec2:DescribeInstanceAttribute",
    "ec2:DescribeSnapshotAttribute",
    "ec2:DescribeVolumeAttribute",
    "ec2:DescribeVpcAttribute",
)


def _ec2_disassociate_route_table(request: Request) -> list[Target]:
    """DisassociateRouteTable names an association: authorized on its route table (and subnet)."""
    from moto.ec2.models import ec2_backends

    association = request.param("AssociationId") or ""
    backend = ec2_backends[request.account][request.region]
    for table in list(backend.route_tables.values()):
        subnet = table._associations.get(association)
        if subnet is not None:
            targets = [_ec2_existing(request, "route-table", table.id)]
            if str(subnet).startswith("subnet-"):
                targets.append(_ec2_existing(request, "subnet", str(subnet)))
            return targets
    return [Target(ec2_arn(request, "route-table", f"unknown-association-{association}"))]


# --- EBS direct APIs -------------------------------------------------------------------------------------

_EBS_SNAPSHOT_PATH = re.compile(r"^/snapshots/([^/?]+)")


def _ebs_snapshot(request: Request) -> list[Target]:
    found = _EBS_SNAPSHOT_PATH.match(request.path)
    snapshot_id = found.group(1) if found else "*"
    return [_ec2_existing(request, "snapshot", snapshot_id)] if found else [Target("*")]


# --- IAM -------------------------------------------------------------------------------------------------


def _iam_tags(entity: Any) -> dict[str, str]:
    tags = getattr(entity, "tags", None) or {}
    return {str(t["Key"]): str(t.get("Value", "")) for t in tags.values()} if isinstance(tags, dict) else {}


def _iam_named(request: Request) -> list[Target]:
    """The instance profile, role or managed policy the call is about (the first the call names, as the
    Service Authorization Reference gives each action one resource type)."""
    from moto.iam.models import iam_backends

    iam = iam_backends[request.account]["aws"]
    path = request.param("Path") or "/"
    if (profile := request.param("InstanceProfileName")) is not None:
        found = next((p for p in list(iam.instance_profiles.values()) if p.name == profile), None)
        arn = found.arn if found else f"arn:aws:iam::{request.account}:instance-profile{path}{profile}"
        return [Target(arn, _resource_tag_context(_iam_tags(found)) if found else {})]
    if (role_name := request.param("RoleName")) is not None:
        role = next((r for r in list(iam.roles.values()) if r.name == role_name), None)
        arn = role.arn if role else f"arn:aws:iam::{request.account}:role{path}{role_name}"
        return [Target(arn, _resource_tag_context(_iam_tags(role)) if role else {})]
    if (policy_arn := request.param("PolicyArn")) is not None:
        return [Target(policy_arn)]
    if (policy_name := request.param("PolicyName")) is not None:  # CreatePolicy
        return [Target(f"arn:aws:iam::{request.account}:policy{path}{policy_name}")]
    return [Target("*")]


IAM_ON_NAMED = (
    "iam:CreateRole",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:GetRole",
    "iam:DeleteRole",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePolicy",
    "iam:GetRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:ListRoleTags",
    "iam:CreateInstanceProfile",
    "iam:GetInstanceProfile",
    "iam:DeleteInstanceProfile",
    "iam:AddRoleToInstanceProfile",
    "iam:RemoveRoleFromInstanceProfile",
    "iam:TagInstanceProfile",
    "iam:UntagInstanceProfile",
    "iam:CreatePolicy",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:DeletePolicy",
    "iam:CreatePolicyVersion",
    "iam:DeletePolicyVersion",
    "iam:ListPolicyVersions",
)


# --- KMS -------------------------------------------------------------------------------------------------


def _kms_key(request: Request) -> list[Target]:
    """The key the call names by id, ARN, alias or alias ARN (CreateAlias/UpdateAlias: the alias and its
    target key), with its tags and aliases."""
    from moto.kms.models import kms_backends

    backend = kms_backends[request.account][request.region]
    targets: list[Target] = []
    alias = request.param("AliasName")
    if alias is not None and request.action.split(":", 1)[1] in ("CreateAlias", "UpdateAlias", "DeleteAlias"):
        targets.append(Target(f"arn:aws:kms:{request.region}:{request.account}:{alias}"))
    named = request.param("KeyId") or request.param("TargetKeyId")
    if named is None and alias is not None:  # DeleteAlias: authorized on the key it points at, too
        named = alias
    if named is None:
        return targets or [Target("*")]
    try:
        key_id = backend.any_id_to_key_id(named)
        key = backend.keys[key_id]
    except Exception:  # unknown key: KMS answers NotFound after authorizing on the ARN as named
        return [*targets, Target(f"arn:aws:kms:{request.region}:{request.account}:key/{named}")]
    context: dict[str, ContextValue] = {
        f"aws:ResourceTag/{tag['TagKey']}": tag["TagValue"]
        for tag in backend.list_resource_tags(key_id)["Tags"]
    }
    context["kms:ResourceAliases"] = sorted(str(name) for name in key.aliases)
    return [*targets, Target(str(key.arn), context)]


KMS_ON_KEY = (
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:PutKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:EnableKeyRotation",
    "kms:DisableKey",
    "kms:ListResourceTags",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
    "kms:ScheduleKeyDeletion",
    "kms:CreateGrant",
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:Sign",
    "kms:Verify",
    "kms:GetPublicKey",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:UpdateAlias",
)


# --- SSM, SNS, Logs, DNS Firewall, S3 --------------------------------------------------------------------


def ssm_document_arn(request: Request, name: str) -> str:
    # Documents AWS owns are named without an account.
    account = "" if name.startswith(("AWS-", "AWSEC2-", "AWSSupport-", "Amazon")) else request.account
    return f"arn:aws:ssm:{request.region}:{account}:document/{name}"


def _ssm_document(request: Request) -> list[Target]:
    name = request.param("Name") or request.param("DocumentName")
    if name is None and request.param("ResourceType") == "Document":
        name = request.param("ResourceId")
    return [Target(ssm_document_arn(request, name))] if name else [Target("*")]


def _ssm_send_command(request: Request) -> list[Target]:
    """SendCommand: the document and every managed instance it targets (by id)."""
    document = request.param("DocumentName") or ""
    targets = [Target(ssm_document_arn(request, document))]
    targets += [_ec2_existing(request, "instance", i) for i in request.numbered("InstanceIds")]
    return targets


def _ssm_parameters(request: Request) -> list[Target]:
    names = request.numbered("Names") or [request.param("Name") or ""]
    return [
        Target(f"arn:aws:ssm:{request.region}:{request.account}:parameter/{n.lstrip('/')}") for n in names
    ]


def _sns_topic(request: Request) -> list[Target]:
    arn = request.param("TopicArn") or request.param("ResourceArn")
    if arn is None and (name := request.param("Name")) is not None:
        arn = f"arn:aws:sns:{request.region}:{request.account}:{name}"
    return [Target(arn or "*")]


def _log_groups(request: Request) -> list[Target]:
    """DescribeLogGroups is authorized on every log group of the account and region."""
    return [Target(f"arn:aws:logs:{request.region}:{request.account}:log-group:*")]


def _log_group(request: Request) -> list[Target]:
    name = request.param("logGroupName")
    if name is not None:
        return [Target(f"arn:aws:logs:{request.region}:{request.account}:log-group:{name}")]
    arn = request.param("resourceArn")
    return [Target(arn.removesuffix(":*"))] if arn else [Target("*")]


# DNS Firewall ids -> their resource types; a Create* makes one of its type.
RESOLVER_IDS = {
    "FirewallDomainListId": "firewall-domain-list",
    "FirewallRuleGroupId": "firewall-rule-group",
    "FirewallRuleGroupAssociationId": "firewall-rule-group-association",
}
RESOLVER_CREATES = {
    "route53resolver:CreateFirewallDomainList": "firewall-domain-list",
    "route53resolver:CreateFirewallRuleGroup": "firewall-rule-group",
    "route53resolver:AssociateFirewallRuleGroup": "firewall-rule-group-association",
}


def _resolver(request: Request) -> list[Target]:
    prefix = f"arn:aws:route53resolver:{request.region}:{request.account}"
    targets = []
    if (made := RESOLVER_CREATES.get(request.action)) is not None:
        targets.append(Target(f"{prefix}:{made}/*"))
    for parameter, kind in RESOLVER_IDS.items():
        if (value := request.param(parameter)) is not None:
            targets.append(Target(f"{prefix}:{kind}/{value}"))
    if (arn := request.param("ResourceArn")) is not None:
        targets.append(Target(arn))
    return targets or [Target("*")]


RESOLVER_ACTIONS = (
    "route53resolver:CreateFirewallDomainList",
    "route53resolver:UpdateFirewallDomains",
    "route53resolver:GetFirewallDomainList",
    "route53resolver:DeleteFirewallDomainList",
    "route53resolver:ListFirewallDomains",
    "route53resolver:CreateFirewallRuleGroup",
    "route53resolver:GetFirewallRuleGroup",
    "route53resolver:DeleteFirewallRuleGroup",
    "route53resolver:CreateFirewallRule",
    "route53resolver:UpdateFirewallRule",
    "route53resolver:DeleteFirewallRule",
    "route53resolver:ListFirewallRules",
    "route53resolver:AssociateFirewallRuleGroup",
    "route53resolver:UpdateFirewallRuleGroupAssociation",
    "route53resolver:GetFirewallRuleGroupAssociation",
    "route53resolver:DisassociateFirewallRuleGroup",
    "route53resolver:TagResource",
    "route53resolver:UntagResource",
    "route53resolver:ListTagsForResource",
)


# The resources each mapped action is authorized on. An action not here is judged on moto's resource.
RESOURCES: dict[str, Deriver] = {
    **EC2_CREATING,
    **dict.fromkeys(EC2_ON_NAMED, _ec2_named),
    "ec2:DisassociateRouteTable": _ec2_disassociate_route_table,
    "ebs:ListSnapshotBlocks": _ebs_snapshot,
    "ebs:GetSnapshotBlock": _ebs_snapshot,
    "ebs:ListChangedBlocks": _ebs_snapshot,
    **dict.fromkeys(IAM_ON_NAMED, _iam_named),
    **dict.fromkeys(KMS_ON_KEY, _kms_key),
    **dict.fromkeys(
        (
            "ssm:CreateDocument",
            "ssm:UpdateDocument",
            "ssm:UpdateDocumentDefaultVersion",
            "ssm:DeleteDocument",
            "ssm:DescribeDocument",
            "ssm:DescribeDocumentPermission",
            "ssm:GetDocument",
            "ssm:AddTagsToResource",
            "ssm:RemoveTagsFromResource",
            "ssm:ListTagsForResource",
        ),
        _ssm_document,
    ),
    "ssm:SendCommand": _ssm_send_command,
    "ssm:GetParameter": _ssm_parameters,
    "ssm:GetParameters": _ssm_parameters,
    **dict.fromkeys(
        (
            "sns:CreateTopic",
            "sns:DeleteTopic",
            "sns:GetTopicAttributes",
            "sns:SetTopicAttributes",
            "sns:TagResource",
            "sns:UntagResource",
            "sns:ListTagsForResource",
            "sns:Subscribe",
            "sns:Publish",
        ),
        _sns_topic,
    ),
    **dict.fromkeys(
        (
            "logs:CreateLogGroup",
            "logs:DeleteLogGroup",
            "logs:PutRetentionPolicy",
            "logs:DeleteRetentionPolicy",
            "logs:AssociateKmsKey",
            "logs:DisassociateKmsKey",
            "logs:TagResource",
            "logs:UntagResource",
            "logs:TagLogGroup",
            "logs:ListTagsLogGroup",
            "logs:ListTagsForResource",
        ),
        _log_group,
    ),
    "logs:DescribeLogGroups": _log_groups,
    **dict.fromkeys(RESOLVER_ACTIONS, _resolver),
}
# Services whose every action moto already authorizes on the resource AWS does.
JUDGED_BY_MOTO = ("s3:",)
# Permissions AWS checks on no API call of their own (iam:PassRole, when a role is handed to a service):
# moto never asks for them, so the local AWS does not enforce them (README, fidelity).
NEVER_ASKED = frozenset({"iam:PassRole"})


def is_mapped(action: str) -> bool:
    """Whether the launcher judges this action on the resources AWS would (else on moto's ``"*"``), or
    never judges it at all (``NEVER_ASKED``)."""
    return (
        action in RESOURCES
        or action.startswith(JUDGED_BY_MOTO)
        or action == "sts:AssumeRole"
        or action in NEVER_ASKED
    )


# --- Request tags and other request keys -----------------------------------------------------------------


def request_tags(request: Request) -> dict[str, str]:
    """The tags the request sets, whichever way its service passes them."""
    tags: dict[str, str] = {}
    params = request.params
    for key in params:
        found = re.fullmatch(r"(TagSpecification\.\d+\.Tag|Tag|Tags\.member)\.(\d+)\.Key", key)
        if found:
            value = request.param(f"{found.group(1)}.{found.group(2)}.Value") or ""
            tags[request.param(key) or ""] = value
    listed = params.get("Tags")
    if isinstance(listed, list):  # KMS (TagKey/TagValue), SSM, DNS Firewall (Key/Value)
        for tag in listed:
            if isinstance(tag, dict):
                tag_key = tag.get("TagKey", tag.get("Key"))
                if tag_key is not None:
                    tags[str(tag_key)] = str(tag.get("TagValue", tag.get("Value", "")))
    for name in ("tags", "Tags"):  # CloudWatch Logs
        if isinstance(params.get(name), dict):
            tags.update({str(k): str(v) for k, v in params[name].items()})
    if (header := request.headers.get("x-amz-tagging")) is not None:
        tags.update(dict(parse_qsl(header, keep_blank_values=True)))
    return tags


def request_context(request: Request, principal: str, userid: str | None) -> dict[str, ContextValue]:
    context: dict[str, ContextValue] = {
        "aws:PrincipalArn": principal,
        "aws:PrincipalAccount": request.account,
        "aws:RequestedRegion": request.region,
        **current_time_context(),
    }
    if userid:
        context["aws:userid"] = userid
    tags = request_tags(request)
    for key, value in tags.items():
        context[f"aws:RequestTag/{key}"] = value
    if tags:
        context["aws:TagKeys"] = sorted(tags)
    context.update(service_keys(request))
    return context


def service_keys(request: Request) -> dict[str, ContextValue]:
    """The service-specific condition keys AWS puts in these requests' context, from their parameters."""
    keys: dict[str, ContextValue] = {}
    action = request.action
    boundary = request.param("PermissionsBoundary")
    grantee = request.param("GranteePrincipal")
    if action in ("iam:CreateRole", "iam:PutRolePermissionsBoundary") and boundary is not None:
        keys["iam:PermissionsBoundary"] = boundary
    elif action in ("s3:ListBucket", "s3:ListBucketVersions"):
        keys["s3:prefix"] = request.param("prefix") or ""  # AWS judges a listing without one as ""
    elif action == "ec2:ModifySnapshotAttribute":
        added = [
            value
            for key, value in ((k, request.param(k)) for k in request.params)
            if value and re.fullmatch(r"CreateVolumePermission\.Add\.\d+\.UserId", key)
        ]
        if (request.param("OperationType") or "").lower() == "add":
            added += request.numbered("UserId")
        if added:
            keys["ec2:Add/userId"] = sorted(added)
    elif action == "kms:CreateGrant" and grantee is not None:
        keys["kms:GranteePrincipal"] = grantee
    return keys


# --- The judge -------------------------------------------------------------------------------------------


def _lookup(context: dict[str, ContextValue], key: str) -> ContextValue | None:
    wanted = key.lower()
    return next((value for name, value in context.items() if name.lower() == wanted), None)


def conditions_hold(condition: dict[str, dict[str, Any]], context: dict[str, ContextValue]) -> bool | None:
    """A Condition block judged as IAM does against a whole request context whose keys may be multi-valued
    (``aws:TagKeys``, ``kms:ResourceAliases``). None: an operator the launcher cannot judge."""
    for operator, block in condition.items():
        qualifier, _, base = operator.rpartition(":")
        if qualifier not in ("", "ForAnyValue", "ForAllValues"):
            return None
        if_exists = base.endswith("IfExists")
        base = base.removesuffix("IfExists")
        for key, expected in block.items():
            actual = _lookup(context, key)
            if base == "Null":
                if not OPERATORS["Bool"](expected, "true" if actual is None else "false"):
                    return False
                continue
            test = OPERATORS.get(base)
            if test is None:
                return None
            if base.startswith("Date") and any(_instant(v) is None for v in _values(expected)):
                return None
            if actual is None:
                # ForAllValues holds over an empty set; IfExists and negated operators hold on absence.
                if if_exists or "Not" in base or qualifier == "ForAllValues":
                    continue
                return False
            values = actual if isinstance(actual, list) else [actual]
            if qualifier == "ForAllValues":
                holds = all(test(expected, v) for v in values)
            else:
                holds = any(test(expected, v) for v in values)
            if not holds:
                return False
    return True


def _matches(patterns: Any, value: str, *, fold: bool = False) -> bool:
    if fold:
        return any(fnmatchcase(value.lower(), p.lower()) for p in _values(patterns))
    return any(fnmatchcase(value, p) for p in _values(patterns))


def _statements(policy: dict[str, Any]) -> Iterable[dict[str, Any]]:
    found = policy.get("Statement", [])
    return found if isinstance(found, list) else [found]


def statement_applies(
    statement: dict[str, Any], action: str, target: Target, context: dict[str, Any]
) -> bool:
    """Whether an identity-policy statement applies to the action on this resource in this context (an
    unjudgeable condition applies a Deny and never an Allow)."""
    if "NotAction" in statement:
        if _matches(statement["NotAction"], action, fold=True):
            return False
    elif not _matches(statement.get("Action", []), action, fold=True):
        return False
    if "NotResource" in statement:
        if _matches(statement["NotResource"], target.arn):
            return False
    elif not _matches(statement.get("Resource", []), target.arn):
        return False
    holds = conditions_hold(statement.get("Condition", {}), {**context, **target.context})
    return holds is not False if statement.get("Effect") == "Deny" else holds is True


def decision(
    policies: list[dict[str, Any]], action: str, targets: list[Target], context: dict[str, ContextValue]
) -> tuple[str, Target | None]:
    """``"deny"`` (an explicit Deny applies to a resource), ``"allow"`` (every resource has an applying
    Allow) or ``"implicit"`` (some resource has none), with the resource refused."""
    refused: Target | None = None
    for target in targets:
        allowed = False
        for policy in policies:
            for statement in _statements(policy):
                if not statement_applies(statement, action, target, context):
                    continue
                if statement.get("Effect") == "Deny":
                    return "deny", target
                allowed = True
        if not allowed and refused is None:
            refused = target
    return ("allow", None) if refused is None else ("implicit", refused)


def request_of(iam_request: Any) -> Request:
    """The launcher's view of moto's IAMRequest."""
    headers = {str(k).lower(): str(v) for k, v in dict(iam_request._headers).items()}
    params: dict[str, Any] = dict(iam_request._data or {})
    body = iam_request._body
    if body and (
        "x-amz-target" in headers
        or headers.get("content-type", "").startswith(("application/x-amz-json", "application/json"))
    ):
        try:
            parsed = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            parsed = None
        if isinstance(parsed, dict):
            params = parsed
    path = unquote(str(iam_request._path).split("?", 1)[0])
    return Request(
        action=iam_request._action,
        region=iam_request._region,
        account=iam_request.account_id,
        params=params,
        headers=headers,
        path=path,
    )


# Requests moto authorizes under a name that is no IAM action -> the action AWS authorizes them as (HeadBucket
# is s3:ListBucket; the public access block calls are s3:Get/PutBucketPublicAccessBlock).
S3_IAM_ACTIONS: dict[str, dict[str, dict[str, str]]] = {
    "BUCKET": {
        "HEAD": {"DEFAULT": "ListBucket"},
        "GET": {
            "public_access_block": "GetBucketPublicAccessBlock",
            "publicAccessBlock": "GetBucketPublicAccessBlock",
        },
        "PUT": {
            "public_access_block": "PutBucketPublicAccessBlock",
            "publicAccessBlock": "PutBucketPublicAccessBlock",
        },
        "DELETE": {
            "public_access_block": "PutBucketPublicAccessBlock",
            "publicAccessBlock": "PutBucketPublicAccessBlock",
        },
    },
}


def install() -> None:
    """Judge every signed request on its derived resources and its request context (module docstring)."""
    from moto.iam.access_control import IAMPolicy, IAMRequestBase

    from tools.local_aws import iam_resources_response
    from tools.local_aws.caller_identity import caller_userid

    iam_resources_response.register()  # the source account's response calls (Auto Scaling, ELB, logs...)
    if getattr(IAMRequestBase, "_judges_resources", False):
        return
    IAMRequestBase._judges_resources = True  # type: ignore[attr-defined]
    from moto.s3 import responses as s3_responses

    for resource_type, methods in S3_IAM_ACTIONS.items():
        for method, actions in methods.items():
            s3_responses.ACTION_MAP[resource_type][method].update(actions)

    def check_action_permitted(self: Any, resource: str) -> None:
        if self._action == "sts:GetCallerIdentity":  # always allowed, as AWS does
            return
        request = request_of(self)
        derive = RESOURCES.get(request.action)
        targets = derive(request) if derive is not None else [Target(resource)]
        access_key_id = self._access_key._access_key_id
        context = request_context(
            request,
            principal_arn(access_key_id, self.account_id, users=True),
            caller_userid(access_key_id, self.account_id),
        )
        policies = [IAMPolicy(policy)._policy_json for policy in self._access_key.collect_policies()]
        verdict, refused = decision(policies, request.action, targets, context)
        if refused is not None:
            # AWS's message names the resource and why (S3's says only "Access Denied").
            why = (
                "with an explicit deny in an identity-based policy"
                if verdict == "deny"
                else "because no identity-based policy allows the action"
            )
            self._action = f"{self._action} on resource: {refused.arn} {why}"
            self._raise_access_denied()
        if self._is_assuming_role_operation(resource) and not self._check_role_trust_relationship(resource):
            self._raise_access_denied()

    IAMRequestBase.check_action_permitted = check_action_permitted  # type: ignore[method-assign]
