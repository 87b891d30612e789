"""AccessRoles: the investigation's KMS key and the least-privilege roles of the people working the case.

Roles follow the AWS forensic clean-room guidance: the *responder* drops evidence into `incoming/`, the
*investigator* examines it through the workstation and writes notes and reports, the *data custodian*
moves, holds and expires evidence, the *analyst* only reads finished reports. Each role has exactly one
inline policy, no managed policies, and no Allow with a `*` action or a `*` resource.

The workstation's instance role is created here as well (its permissions are attached by the Workstation
component): the key policy has to name it, and the key must exist before the workstation's disks.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from programs.forensic_env.config import EnvironmentConfig
from programs.forensic_env.policies import DENY_ALL, Statement, allow, assume_role, document
from programs.forensic_env.tags import tags_for
from programs.forensic_env.trust import INVESTIGATION_SESSION_TAG as INVESTIGATION_SESSION_TAG
from programs.forensic_env.trust import PERSON_ROLES, person_trust_statements, trust_document

HUMAN_ROLES = PERSON_ROLES
FROZEN_DENY_POLICY = "deny-all-frozen"
# Frozen: the people who *examine* evidence lose all access; responders may still hand in evidence and the
# custodian keeps the chain of custody.
FROZEN_ROLES = ("investigator", "analyst")

# Bucket prefixes (the layout of the AWS blog post).
INCOMING = "incoming/evidence-artifacts/"
EXTRACTED = "active-investigation/extracted-artifacts/"
NOTES = "active-investigation/notes/"
REPORTS = "active-investigation/reports/"
LEGAL_HOLD = "legal-hold/"
FOLDERS = (INCOMING, EXTRACTED, NOTES, REPORTS, LEGAL_HOLD)

# Key administration, spelled out (no kms:*): break-glass alone may also delete or disable the key.
KEY_MANAGEMENT = (
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListResourceTags",
    "kms:ListAliases",
    "kms:PutKeyPolicy",
    "kms:EnableKeyRotation",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
    "kms:CreateAlias",
    "kms:UpdateAlias",
    "kms:DeleteAlias",
)
KEY_ADMINISTRATION = (
    *KEY_MANAGEMENT,
    "kms:EnableKey",
    "kms:DisableKey",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
)
KEY_USE_BY_SERVICES = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:CreateGrant",
)


def human_trust_policy(cfg: EnvironmentConfig, role: str) -> str:
    """Who may become ``role``: the named principals from settings (break-glass when none), never the account
    root; each session must carry MFA or a source identity (the person, for CloudTrail), and be tagged with
    this investigation. Then the role's just-in-time grants in force (``programs.forensic_env.trust``), each
    refused by STS itself from its expiry on. Plain JSON, so the policy pack judges it at preview."""
    principals = list(cfg.trusted_principals) or [cfg.break_glass_role_arn]
    return trust_document(
        person_trust_statements(cfg.investigation_id, principals, cfg.grants_in_force, role)
    )


@dataclass(frozen=True)
class Grants:
    """What the role policies point at; known only once the other components exist."""

    bucket_arn: pulumi.Input[str]
    instance_arn: pulumi.Input[str]
    session_document_name: str


def log_group_name(cfg: EnvironmentConfig, purpose: str) -> str:
    return f"/forensics/{cfg.investigation_id}/{purpose}"


class AccessRoles(pulumi.ComponentResource):
    roles: dict[str, aws.iam.Role]
    workstation_role: aws.iam.Role
    key: aws.kms.Key
    alias: aws.kms.Alias

    def __init__(self, name: str, cfg: EnvironmentConfig, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("forensics:index:AccessRoles", name, None, opts)
        self._name = name
        self._cfg = cfg
        child = pulumi.ResourceOptions(parent=self)

        self.roles = {
            role: aws.iam.Role(
                f"{name}-{role}",
                name=f"{cfg.name_prefix}-{role}",
                description=f"Forensic {role} for investigation {cfg.investigation_id} ({cfg.ticket})",
                assume_role_policy=human_trust_policy(cfg, role),
                max_session_duration=3600,
                force_detach_policies=True,
                permissions_boundary=cfg.permissions_boundary_arn,
                tags=tags_for(cfg, f"{cfg.name_prefix}-{role}", {"forensics:role": role}),
                opts=child,
            )
            for role in HUMAN_ROLES
        }
        self.workstation_role = aws.iam.Role(
            f"{name}-workstation",
            name=f"{cfg.name_prefix}-workstation",
            description=f"Forensic workstation instance role for investigation {cfg.investigation_id}",
            permissions_boundary=cfg.permissions_boundary_arn,
            assume_role_policy=assume_role(
                {"Service": "ec2.amazonaws.com"}, {"StringEquals": {"aws:SourceAccount": cfg.account_id}}
            ),
            force_detach_policies=True,
            tags=tags_for(cfg, f"{cfg.name_prefix}-workstation", {"forensics:role": "workstation"}),
            opts=child,
        )

        # Always kept: the freeze snapshots (kept for good) and a retained bucket are encrypted with it, and
        # scheduling its deletion is break-glass work, never a destroy's side effect.
        key_opts = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"Forensic clean room {cfg.investigation_id} ({cfg.ticket}): evidence, disks, logs",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=self._key_policy(),
            tags=tags_for(cfg, cfg.name_prefix),
            opts=key_opts,
        )
        self.alias = aws.kms.Alias(
            f"{name}-key-alias", name=f"alias/{cfg.name_prefix}", target_key_id=self.key.key_id, opts=child
        )
        self.register_outputs(
            {f"{role}RoleArn": r.arn for role, r in self.roles.items()}
            | {"kmsKeyArn": self.key.arn, "workstationRoleArn": self.workstation_role.arn}
        )

    def _key_policy(self) -> pulumi.Output[str]:
        """No root ``kms:*``: only what each principal's duty needs. Identity policies cannot widen it (the
        key policy does not delegate to the account), so an account admin cannot decrypt frozen disks."""
        cfg = self._cfg
        region = cfg.region
        via_s3 = {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}
        via_ec2 = {"StringEquals": {"kms:ViaService": f"ec2.{region}.amazonaws.com"}}
        # Objects of this investigation's evidence bucket only (S3 puts the bucket ARN in the context).
        bucket_context = {"kms:EncryptionContext:aws:s3:arn": [f"arn:aws:s3:::{cfg.evidence_bucket_name}"]}
        evidence_only = {"StringEquals": {**via_s3["StringEquals"]}, "StringLike": bucket_context}
        roles = self.roles
        deployers = list(cfg.service_principals) or [cfg.break_glass_role_arn]
        statements: list[Statement] = [
            {
                "Sid": "KeyAdministrationByBreakGlass",
                "Effect": "Allow",
                "Principal": {"AWS": cfg.break_glass_role_arn},
                "Action": list(KEY_ADMINISTRATION),
                "Resource": "*",
            },
            {
                # The deployment manages the key it declared (rotation, tags, policy) and uses it to create
                # the encrypted disks and folder markers; it cannot schedule the key's deletion.
                "Sid": "KeyManagementByTheDeployment",
                "Effect": "Allow",
                "Principal": {"AWS": deployers},
                "Action": list(KEY_MANAGEMENT),
                "Resource": "*",
            },
            {
                "Sid": "DeploymentUsesTheKeyThroughS3AndEc2",
                "Effect": "Allow",
                "Principal": {"AWS": deployers},
                "Action": list(KEY_USE_BY_SERVICES),
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": [f"s3.{region}.amazonaws.com", f"ec2.{region}.amazonaws.com"]
                    }
                },
            },
            {
                "Sid": "ResponderEncryptsEvidenceThroughS3",
                "Effect": "Allow",
                "Principal": {"AWS": roles["responder"].arn},
                "Action": ["kms:GenerateDataKey", "kms:Encrypt"],
                "Resource": "*",
                "Condition": evidence_only,
            },
            {
                "Sid": "InvestigatorReadsEvidenceAndWritesNotesThroughS3",
                "Effect": "Allow",
                "Principal": {"AWS": roles["investigator"].arn},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": evidence_only,
            },
            {
                "Sid": "CustodianManagesEvidenceThroughS3",
                "Effect": "Allow",
                "Principal": {"AWS": roles["custodian"].arn},
                "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": evidence_only,
            },
            {
                "Sid": "AnalystReadsReportsThroughS3",
                "Effect": "Allow",
                "Principal": {"AWS": roles["analyst"].arn},
                "Action": ["kms:Decrypt"],
                "Resource": "*",
                "Condition": evidence_only,
            },
            {
                # The workstation's disks: EC2 decrypts them for the instance through grants it creates.
                "Sid": "WorkstationDisksThroughEc2",
                "Effect": "Allow",
                "Principal": {"AWS": self.workstation_role.arn},
                "Action": [
                    "kms:Decrypt",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:CreateGrant",
                    "kms:DescribeKey",
                ],
                "Resource": "*",
                "Condition": {**via_ec2, "Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
            {
                "Sid": "NobodyElseRewritesTheKeyPolicy",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["kms:PutKeyPolicy"],
                "Resource": "*",
                "Condition": {"StringNotLike": {"aws:PrincipalArn": [cfg.break_glass_role_arn, *deployers]}},
            },
            {
                "Sid": "OnlyBreakGlassSchedulesDeletion",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["kms:ScheduleKeyDeletion", "kms:DisableKey"],
                "Resource": "*",
                "Condition": {"StringNotLike": {"aws:PrincipalArn": [cfg.break_glass_role_arn]}},
            },
            {
                "Sid": "AllowCloudWatchLogsForInvestigationLogGroups",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:DescribeKey",
                ],
                "Resource": "*",
                "Condition": {
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:aws:logs:{region}:{cfg.account_id}:log-group:{log_group_name(cfg, '*')}"
                        )
                    }
                },
            },
        ]
        return document(statements)

    def grant(self, grants: Grants) -> None:
        """Attach each role's inline policy (and, when frozen, the deny-all on investigator and analyst)."""
        cfg = self._cfg
        bucket = grants.bucket_arn
        key = self.key.arn
        objects = pulumi.Output.concat(bucket, "/*")

        def under(prefix: str) -> pulumi.Output[str]:
            return pulumi.Output.concat(bucket, "/", prefix, "*")

        ssm = f"arn:aws:ssm:{cfg.region}:{cfg.account_id}"
        policies: dict[str, list[Statement]] = {
            "responder": [
                allow("SubmitEvidence", ["s3:PutObject"], [under(INCOMING)]),
                allow(
                    "ListIncoming",
                    ["s3:ListBucket"],
                    [bucket],
                    Condition={"StringLike": {"s3:prefix": [INCOMING, f"{INCOMING}*"]}},
                ),
                allow("EncryptEvidence", ["kms:GenerateDataKey", "kms:Encrypt"], [key]),
            ],
            "investigator": [
                allow("ReadEvidence", ["s3:GetObject", "s3:GetObjectVersion"], [objects]),
                allow("ListEvidence", ["s3:ListBucket", "s3:ListBucketVersions"], [bucket]),
                allow("WriteNotesAndReports", ["s3:PutObject"], [under(NOTES), under(REPORTS)]),
                allow("UseInvestigationKey", ["kms:Decrypt", "kms:GenerateDataKey"], [key]),
                # Sessions only through the investigation's logged session document: with the access check,
                # StartSession without a document (the default shell, unlogged) is refused by SSM.
                allow(
                    "StartLoggedSessionOnWorkstationOnly",
                    ["ssm:StartSession"],
                    [grants.instance_arn, f"{ssm}:document/{grants.session_document_name}"],
                    Condition={"Bool": {"ssm:SessionDocumentAccessCheck": "true"}},
                ),
                {
                    "Sid": "NoUnloggedShell",
                    "Effect": "Deny",
                    "Action": ["ssm:StartSession"],
                    "Resource": [f"arn:aws:ssm:{cfg.region}::document/SSM-SessionManagerRunShell"],
                },
                allow(
                    "ManageOwnSessions",
                    ["ssm:TerminateSession", "ssm:ResumeSession"],
                    [f"{ssm}:session/${{aws:userid}}-*"],
                ),
            ],
            "custodian": [
                allow(
                    "CustodyOfEvidence",
                    [
                        "s3:GetObject",
                        "s3:GetObjectVersion",
                        "s3:PutObject",
                        "s3:DeleteObject",
                        "s3:PutObjectLegalHold",
                        "s3:GetObjectLegalHold",
                        "s3:PutObjectRetention",
                        "s3:GetObjectRetention",
                        "s3:GetObjectTagging",
                        "s3:PutObjectTagging",
                    ],
                    [objects],
                ),
                allow(
                    "ListEvidence",
                    ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketObjectLockConfiguration"],
                    [bucket],
                ),
                allow(
                    "UseInvestigationKey",
                    ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                    [key],
                ),
            ],
            "analyst": [
                allow("ReadReports", ["s3:GetObject"], [under(REPORTS)]),
                allow(
                    "ListReports",
                    ["s3:ListBucket"],
                    [bucket],
                    Condition={"StringLike": {"s3:prefix": [REPORTS, f"{REPORTS}*"]}},
                ),
                allow("DecryptReports", ["kms:Decrypt"], [key]),
            ],
        }
        if cfg.frozen:
            # Lifting a hold while frozen is a second person's decision, carried out by the deployment.
            policies["custodian"].append(
                {
                    "Sid": "NoLegalHoldChangesWhileFrozen",
                    "Effect": "Deny",
                    "Action": ["s3:PutObjectLegalHold"],
                    "Resource": [objects],
                }
            )
        child = pulumi.ResourceOptions(parent=self)
        for role, statements in policies.items():
            aws.iam.RolePolicy(
                f"{self._name}-{role}-policy",
                role=self.roles[role].id,
                name=f"forensics-{role}",
                policy=document(statements),
                opts=child,
            )
        if cfg.frozen:
            for role in FROZEN_ROLES:
                aws.iam.RolePolicy(
                    f"{self._name}-{role}-{FROZEN_DENY_POLICY}",
                    role=self.roles[role].id,
                    name=FROZEN_DENY_POLICY,
                    policy=document([DENY_ALL]),
                    opts=child,
                )
