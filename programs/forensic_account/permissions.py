"""What the deploy role may do, what every role it creates is capped at, and who may assume it: plain policy
documents (known at preview, so the policy pack judges them before anything exists). One place decides each.

The deploy role's allowances are what `programs/forensic_env` creates, updates and destroys and what the
service's own steps do in the forensic account (acquisition copies, volumes and attachments, SSM
commands on the workstation, freeze and release, just-in-time grants on the clean-room roles' trust, the
CloudTrail reader, evidence and anchor writes, statement signing). Whatever the clean room creates carries
the investigation tag, so creation requires it (`aws:RequestTag`) and changes require it on the resource
(`aws:ResourceTag`) where the service supports tag conditions; elsewhere names are scoped to `forensics-`."""

from __future__ import annotations

import json
from typing import Any

from programs.forensic_account.config import (
    CONFIG_RECORDER_NAME,
    AccountConfig,
)
from programs.forensic_env.config import AMI_SSM_PREFIX
from programs.forensic_env.tags import TAG_INVESTIGATION

Statement = dict[str, Any]

REQUEST_TAGGED = {"Null": {f"aws:RequestTag/{TAG_INVESTIGATION}": "false"}}
RESOURCE_TAGGED = {"Null": {f"aws:ResourceTag/{TAG_INVESTIGATION}": "false"}}
ROOT_VOLUME_UNCLAIMED = {
    "Null": {f"aws:RequestTag/{TAG_INVESTIGATION}": "false", f"aws:ResourceTag/{TAG_INVESTIGATION}": "true"}
}

# Created by the clean room (tagged at creation: RunInstances, CreateVolume and CopySnapshot tag in the call).
EC2_CREATE = (
    "ec2:CreateVpc",
    "ec2:CreateSubnet",
    "ec2:CreateSecurityGroup",
    "ec2:CreateRouteTable",
    "ec2:CreateVpcEndpoint",
    "ec2:CreateFlowLogs",
    "ec2:RunInstances",
    "ec2:CreateVolume",
    "ec2:CopySnapshot",
    "ec2:CreateSnapshot",
)
# Changed or deleted only on resources that carry the investigation tag.
EC2_MANAGE = (
    "ec2:ModifyVpcAttribute",
    "ec2:DeleteVpc",
    "ec2:DeleteSubnet",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:DeleteSecurityGroup",
    "ec2:AssociateRouteTable",
    "ec2:DisassociateRouteTable",
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
    "ec2:CreateSnapshot",
    "ec2:DeleteTags",
)
# Read-only calls AWS authorizes on no resource type: only Resource "*" matches them (the pack accepts "*"
# for exactly such statements).
DESCRIBE = (
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeFlowLogs",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceCreditSpecifications",
    "ec2:DescribeInstanceStatus",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeInstances",
    "ec2:DescribeNetworkAcls",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribePrefixLists",
    "ec2:DescribeRegions",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroupRules",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSnapshots",
    "ec2:DescribeSubnets",
    "ec2:DescribeTags",
    "ec2:DescribeVolumes",
    "ec2:DescribeVpcEndpointServices",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeVpcs",
    "cloudtrail:LookupEvents",
    "kms:ListAliases",
    "ssm:DescribeInstanceInformation",
    "ssm:GetCommandInvocation",
    "ssm:ListCommandInvocations",
    "ssm:ListCommands",
    "route53resolver:ListFirewallDomainLists",
    "route53resolver:ListFirewallRuleGroups",
    "route53resolver:ListFirewallRuleGroupAssociations",
)
# Reads AWS authorizes per resource: held to the account and region.
SCOPED_READS = (
    "ec2:DescribeInstanceAttribute",
    "ec2:DescribeSnapshotAttribute",
    "ec2:DescribeVolumeAttribute",
    "ec2:DescribeVpcAttribute",
    "logs:DescribeLogGroups",
    "route53resolver:ListFirewallRules",
)
# The clean room's roles and instance profile (forensics-<id>-*), never without the boundary.
IAM_ROLE_MANAGE = (
    "iam:GetRole",
    "iam:DeleteRole",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePolicy",
    "iam:GetRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:ListRoleTags",
)
IAM_PROFILE_MANAGE = (
    "iam:CreateInstanceProfile",
    "iam:GetInstanceProfile",
    "iam:DeleteInstanceProfile",
    "iam:AddRoleToInstanceProfile",
    "iam:RemoveRoleFromInstanceProfile",
    "iam:TagInstanceProfile",
    "iam:UntagInstanceProfile",
)
KMS_KEY_MANAGE = (
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:PutKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:EnableKeyRotation",
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
)
EVIDENCE_BUCKET_MANAGE = (
    "s3:CreateBucket",
    "s3:DeleteBucket",
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:GetBucketLocation",
    "s3:GetBucketTagging",
    "s3:PutBucketTagging",
    "s3:GetBucketPolicy",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:GetBucketVersioning",
    "s3:PutBucketVersioning",
    "s3:GetEncryptionConfiguration",
    "s3:PutEncryptionConfiguration",
    "s3:GetBucketPublicAccessBlock",
    "s3:PutBucketPublicAccessBlock",
    "s3:GetBucketObjectLockConfiguration",
    "s3:PutBucketObjectLockConfiguration",
    "s3:GetBucketAcl",
    "s3:GetBucketOwnershipControls",
    # What pulumi-aws reads of a bucket on every refresh.
    "s3:GetAccelerateConfiguration",
    "s3:GetBucketCORS",
    "s3:GetBucketLogging",
    "s3:GetBucketRequestPayment",
    "s3:GetBucketWebsite",
    "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration",
)
# A release "without retaining" empties the bucket past its governance-mode retention (forensic_env's
# force_destroy); COMPLIANCE-mode objects still cannot be deleted, by anyone.
EVIDENCE_OBJECT_DISCARD = (
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:BypassGovernanceRetention",
)
EVIDENCE_OBJECT_WRITE = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectTagging",
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:GetObjectLegalHold",
    "s3:PutObjectLegalHold",
    "s3:GetObjectRetention",
    "s3:PutObjectRetention",
)
LOGS_MANAGE = (
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
)
SNS_MANAGE = (
    "sns:CreateTopic",
    "sns:DeleteTopic",
    "sns:GetTopicAttributes",
    "sns:SetTopicAttributes",
    "sns:TagResource",
    "sns:UntagResource",
    "sns:ListTagsForResource",
)
SSM_DOCUMENT_MANAGE = (
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
)
RESOLVER_MANAGE = (
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
    "route53resolver:AssociateFirewallRuleGroup",
    "route53resolver:UpdateFirewallRuleGroupAssociation",
    "route53resolver:GetFirewallRuleGroupAssociation",
    "route53resolver:DisassociateFirewallRuleGroup",
    "route53resolver:TagResource",
    "route53resolver:UntagResource",
    "route53resolver:ListTagsForResource",
)
# Every role the deploy role can create is capped at these: what the clean-room roles' inline policies and the
# workstation's instance role use, nothing of IAM, Organizations or the guardrails.
BOUNDARY_ACTIONS = (
    "ec2:DescribeInstances",
    "ec2:DescribeVolumes",
    "ec2:DescribeSnapshots",
    "ec2messages:AcknowledgeMessage",
    "ec2messages:DeleteMessage",
    "ec2messages:FailMessage",
    "ec2messages:GetEndpoint",
    "ec2messages:GetMessages",
    "ec2messages:SendReply",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "logs:CreateLogStream",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
    "logs:PutLogEvents",
    "s3:GetBucketLocation",
    "s3:GetObject",
    "s3:GetObjectLegalHold",
    "s3:GetObjectRetention",
    "s3:GetObjectTagging",
    "s3:GetObjectVersion",
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:PutObject",
    "s3:PutObjectLegalHold",
    "s3:PutObjectRetention",
    "s3:PutObjectTagging",
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
    "ssm:ResumeSession",
    "ssm:SessionDocumentAccessCheck",
    "ssm:StartSession",
    "ssm:TerminateSession",
    "ssm:UpdateAssociationStatus",
    "ssm:UpdateInstanceAssociationStatus",
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
# The guardrails: never changed by the deploy role (nor by any role it creates: the boundary lacks them).
GUARDRAIL_TRAIL_ACTIONS = (
    "cloudtrail:DeleteTrail",
    "cloudtrail:StopLogging",
    "cloudtrail:UpdateTrail",
    "cloudtrail:PutEventSelectors",
    "cloudtrail:PutInsightSelectors",
)
GUARDRAIL_CONFIG_ACTIONS = (
    "config:DeleteConfigurationRecorder",
    "config:StopConfigurationRecorder",
    "config:PutConfigurationRecorder",
    "config:DeleteDeliveryChannel",
    "config:PutDeliveryChannel",
)
GUARDRAIL_BUCKET_ACTIONS = (
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketPolicy",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketVersioning",
    "s3:PutLifecycleConfiguration",
    "s3:BypassGovernanceRetention",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
)
GUARDRAIL_ALERT_ACTIONS = (
    "events:DeleteRule",
    "events:DisableRule",
    "events:PutRule",
    "events:PutTargets",
    "events:RemoveTargets",
    "sns:DeleteTopic",
    "sns:SetTopicAttributes",
    "sns:RemovePermission",
    "sns:Unsubscribe",
    "sqs:DeleteQueue",
    "sqs:SetQueueAttributes",
    "sqs:PurgeQueue",
    "sqs:RemovePermission",
    "sqs:AddPermission",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
)
GUARDRAIL_KEY_ACTIONS = (
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
    "kms:PutKeyPolicy",
    "kms:DeleteAlias",
    "kms:UpdateAlias",
    "kms:CreateAlias",
)


def _allow(sid: str, actions: tuple[str, ...], resources: list[str], condition: Any = None) -> Statement:
    statement: Statement = {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


def _deny(sid: str, actions: list[str], resources: list[str]) -> Statement:
    return {"Sid": sid, "Effect": "Deny", "Action": actions, "Resource": resources}


def document(statements: list[Statement]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def deploy_trust_statements(cfg: AccountConfig) -> list[Statement]:
    """Only the service's principal(s) assume the deploy role, with the external id when one is set."""
    statement: Statement = {
        "Sid": "ServiceOnly",
        "Effect": "Allow",
        "Principal": {"AWS": list(cfg.service_principal_arns)},
        "Action": "sts:AssumeRole",
    }
    if cfg.external_id:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": cfg.external_id}}
    return [statement]


def _service_scope(cfg: AccountConfig, service: str) -> list[str]:
    """The account's resources of one service in this region. Actions without resource-level permissions
    are written with this scope rather than `*`, as the clean room's policies are (the pack refuses `*`)."""
    return [cfg.arn(service, "*")]


def boundary_statements(cfg: AccountConfig) -> list[Statement]:
    by_service: dict[str, list[str]] = {}
    for action in BOUNDARY_ACTIONS:
        by_service.setdefault(action.split(":", 1)[0], []).append(action)
    statements = []
    for service, actions in sorted(by_service.items()):
        resources = (
            ["arn:aws:s3:::forensics-*", "arn:aws:s3:::forensics-*/*"]
            if service == "s3"
            else [
                *_service_scope(cfg, "ssm"),
                cfg.arn("ssm", "document/*", account=False),
                cfg.arn("ec2", "instance/*"),
            ]
            if service == "ssm"
            else _service_scope(cfg, service)
        )
        statements.append(
            _allow(f"CleanRoom{service.title().replace('messages', 'Messages')}", tuple(actions), resources)
        )
    # The clean-room roles are assumed with a source identity, and the examiners' sessions are tagged.
    statements.append(
        _allow(
            "CleanRoomSessions",
            ("sts:SetSourceIdentity", "sts:TagSession"),
            [cfg.arn("iam", "role/forensics-*", region=False)],
        )
    )
    return statements


def guardrail_denies(cfg: AccountConfig) -> list[Statement]:
    """Explicit denies (they win over every allowance): the deploy role never changes itself, the boundary,
    the trail, Config, the alert channel, the anchor or trail bucket, or the golden-image parameter."""
    role, boundary = cfg.deploy_role_arn, cfg.boundary_policy_arn
    buckets = [
        f"arn:aws:s3:::{name}{suffix}"
        for name in (cfg.anchor_bucket_name, cfg.trail_bucket_name)
        for suffix in ("", "/*")
    ]
    statements = [
        _deny("NeverItself", ["iam:*"], [role, boundary]),
        _deny("NeverUnbound", ["iam:DeleteRolePermissionsBoundary", "iam:AttachRolePolicy"], ["*"]),
        _deny("NeverTheTrail", list(GUARDRAIL_TRAIL_ACTIONS), ["*"]),
        _deny("NeverConfig", list(GUARDRAIL_CONFIG_ACTIONS), ["*"]),
        _deny("NeverTheAuditBuckets", list(GUARDRAIL_BUCKET_ACTIONS), buckets),
        _deny(
            "NeverTheAlerts",
            list(GUARDRAIL_ALERT_ACTIONS),
            [cfg.login_rule_arn, cfg.alert_topic_arn, cfg.alert_queue_arn],
        ),
        _deny(
            "NeverTheGoldenImage",
            ["ssm:PutParameter", "ssm:DeleteParameter", "ssm:LabelParameterVersion", "imagebuilder:*"],
            [cfg.arn("ssm", f"parameter{cfg.golden_ami_ssm_parameter}"), cfg.arn("imagebuilder", "*")],
        ),
    ]
    statements.append(
        {
            **_deny("NeverTheSigningKey", list(GUARDRAIL_KEY_ACTIONS), [cfg.arn("kms", "key/*")]),
            "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": cfg.signing_key_alias}},
        }
    )
    statements.append(
        _deny("NeverTheSigningAlias", list(GUARDRAIL_KEY_ACTIONS), [cfg.arn("kms", cfg.signing_key_alias)])
    )
    return statements


def deploy_statements(cfg: AccountConfig) -> list[Statement]:
    """The deploy role's policy, known from the config alone."""
    a = cfg.arn
    prefix_role = a("iam", "role/forensics-*", region=False)
    buckets = "arn:aws:s3:::forensics-*-evidence"
    return [
        _allow("Describe", DESCRIBE, ["*"]),
        *(
            _allow(
                f"Read{service.title()}",
                tuple(x for x in SCOPED_READS if x.startswith(f"{service}:")),
                _service_scope(cfg, service),
            )
            for service in sorted({x.split(":", 1)[0] for x in SCOPED_READS})
        ),
        _allow("CreateTagged", EC2_CREATE, _service_scope(cfg, "ec2"), REQUEST_TAGGED),
        # Snapshots are named without an account: the freeze's and acquisition's new ones, tagged at the call.
        _allow(
            "SnapshotsTagged",
            ("ec2:CreateSnapshot", "ec2:CopySnapshot"),
            [a("ec2", "snapshot/*", account=False)],
            REQUEST_TAGGED,
        ),
        # RunInstances/CreateVolume/CopySnapshot also name resources nobody tags at the call: the golden
        # image, the source snapshots shared from the evidence accounts, the workstation's network interface.
        _allow(
            "RunInstancesInputs",
            ("ec2:RunInstances",),
            [
                a("ec2", "image/*", account=False),
                a("ec2", "subnet/*"),
                a("ec2", "security-group/*"),
                a("ec2", "network-interface/*"),
                a("ec2", "volume/*"),
            ],
        ),
        # Copies and volumes are made from snapshots nobody tags at the call (those shared from the evidence
        # accounts, and the clean room's own copies).
        _allow(
            "FromSnapshots",
            ("ec2:CreateVolume", "ec2:CopySnapshot"),
            [a("ec2", "snapshot/*", account=False)],
        ),
        _allow(
            "TagAtCreate",
            ("ec2:CreateTags",),
            _service_scope(cfg, "ec2"),
            {"StringEquals": {"ec2:CreateAction": [x.split(":", 1)[1] for x in EC2_CREATE]}},
        ),
        _allow("TagTagged", ("ec2:CreateTags",), _service_scope(cfg, "ec2"), RESOURCE_TAGGED),
        # The workstation's root volume is made by RunInstances and tagged after launch (pulumi-aws applies
        # root_block_device tags with CreateTags): an untagged volume may get its investigation tag, never
        # lose or change one it has.
        _allow("TagRootVolumes", ("ec2:CreateTags",), [a("ec2", "volume/*")], ROOT_VOLUME_UNCLAIMED),
        _allow("ManageTagged", EC2_MANAGE, _service_scope(cfg, "ec2"), RESOURCE_TAGGED),
        # Acquisition hashes the clean room's copies block by block (EBS direct APIs).
        _allow(
            "ReadSnapshotBlocks",
            ("ebs:ListSnapshotBlocks", "ebs:GetSnapshotBlock"),
            [a("ec2", "snapshot/*", account=False)],
        ),
        _allow(
            "RoleCreateBounded",
            ("iam:CreateRole", "iam:PutRolePermissionsBoundary"),
            [prefix_role],
            {"StringEquals": {"iam:PermissionsBoundary": cfg.boundary_policy_arn}},
        ),
        _allow("RoleManage", IAM_ROLE_MANAGE, [prefix_role]),
        _allow(
            "InstanceProfiles", IAM_PROFILE_MANAGE, [a("iam", "instance-profile/forensics-*", region=False)]
        ),
        _allow(
            "PassCleanRoomRoles",
            ("iam:PassRole",),
            [prefix_role],
            {"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "vpc-flow-logs.amazonaws.com"]}},
        ),
        _allow("KeyCreateTagged", ("kms:CreateKey",), ["*"], REQUEST_TAGGED),
        _allow("KeyManageTagged", KMS_KEY_MANAGE, [a("kms", "key/*")], RESOURCE_TAGGED),
        _allow(
            "KeyAliases",
            ("kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"),
            [a("kms", "alias/forensics-*"), a("kms", "key/*")],
        ),
        # The signing key by its alias (its ARN is KMS's choice): the policy stays known at preview.
        _allow(
            "SignStatements",
            ("kms:Sign", "kms:GetPublicKey", "kms:DescribeKey"),
            [a("kms", "key/*")],
            {"ForAnyValue:StringEquals": {"kms:ResourceAliases": cfg.signing_key_alias}},
        ),
        _allow("EvidenceBuckets", EVIDENCE_BUCKET_MANAGE, [buckets]),
        _allow("EvidenceObjects", EVIDENCE_OBJECT_WRITE, [f"{buckets}/*"]),
        _allow("EvidenceDiscard", EVIDENCE_OBJECT_DISCARD, [f"{buckets}/*"]),
        _allow(
            "AnchorWrites",
            ("s3:PutObject", "s3:GetObject", "s3:GetObjectRetention", "s3:ListBucket"),
            [f"arn:aws:s3:::{cfg.anchor_bucket_name}", f"arn:aws:s3:::{cfg.anchor_bucket_name}/*"],
        ),
        _allow("LogGroups", LOGS_MANAGE, [a("logs", "log-group:/forensics/*")]),
        _allow("Topics", SNS_MANAGE, [a("sns", "forensics-*")]),
        _allow("Documents", SSM_DOCUMENT_MANAGE, [a("ssm", "document/forensics-*")]),
        _allow(
            "RunOnWorkstation",
            ("ssm:SendCommand",),
            [a("ssm", "document/forensics-*"), a("ssm", "document/AWS-RunShellScript", account=False)],
        ),
        _allow("RunOnTaggedInstances", ("ssm:SendCommand",), [a("ec2", "instance/*")], RESOURCE_TAGGED),
        _allow(
            "GoldenImage",
            ("ssm:GetParameter", "ssm:GetParameters"),
            [a("ssm", f"parameter{AMI_SSM_PREFIX}*")],
        ),
        _allow("DnsFirewall", RESOLVER_MANAGE, [a("route53resolver", "*")]),
        *guardrail_denies(cfg),
    ]


def config_recorder_trust() -> str:
    return document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": "config.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ]
    )


# Outside the `forensics-` prefix the deploy role manages: the clean room can never touch it.
CONFIG_ROLE_NAME = f"config-recorder-{CONFIG_RECORDER_NAME}"
