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

HUMAN_ROLES = ("responder", "investigator", "custodian", "analyst")
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

KMS_USE = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:DescribeKey",
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

        people = assume_role({"AWS": list(cfg.trusted_principals)})
        self.roles = {
            role: aws.iam.Role(
                f"{name}-{role}",
                name=f"{cfg.name_prefix}-{role}",
                description=f"Forensic {role} for investigation {cfg.investigation_id} ({cfg.ticket})",
                assume_role_policy=people,
                max_session_duration=3600,
                force_detach_policies=True,
                tags=tags_for(cfg, f"{cfg.name_prefix}-{role}", {"forensics:role": role}),
                opts=child,
            )
            for role in HUMAN_ROLES
        }
        self.workstation_role = aws.iam.Role(
            f"{name}-workstation",
            name=f"{cfg.name_prefix}-workstation",
            description=f"Forensic workstation instance role for investigation {cfg.investigation_id}",
            assume_role_policy=assume_role(
                {"Service": "ec2.amazonaws.com"}, {"StringEquals": {"aws:SourceAccount": cfg.account_id}}
            ),
            force_detach_policies=True,
            tags=tags_for(cfg, f"{cfg.name_prefix}-workstation", {"forensics:role": "workstation"}),
            opts=child,
        )

        # Evidence encrypted with this key outlives the clean room when the bucket is retained: keep the key
        # too, or destroying the stack would schedule the evidence's key for deletion.
        key_opts = pulumi.ResourceOptions(parent=self, retain_on_delete=cfg.retain_evidence_bucket or None)
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
        cfg = self._cfg
        users = [r.arn for r in self.roles.values()] + [self.workstation_role.arn]
        # In a key policy "Resource": "*" means "this key" (its ARN does not exist yet); AWS requires it.
        return document(
            [
                # The sole kms:* grant, and AWS's required default: the account root administers the key,
                # which delegates key administration to the account's IAM policies (without it the key would
                # become unmanageable, see "Default key policy" in the KMS developer guide).
                {
                    "Sid": "EnableAccountRootAdministration",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{cfg.account_id}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "AllowUseByInvestigationRoles",
                    "Effect": "Allow",
                    "Principal": {"AWS": users},
                    "Action": list(KMS_USE),
                    "Resource": "*",
                },
                {
                    "Sid": "AllowCloudWatchLogsForInvestigationLogGroups",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{cfg.region}.amazonaws.com"},
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
                                f"arn:aws:logs:{cfg.region}:{cfg.account_id}:log-group:"
                                f"{log_group_name(cfg, '*')}"
                            )
                        }
                    },
                },
            ]
        )

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
                allow(
                    "StartSessionOnWorkstationOnly",
                    ["ssm:StartSession"],
                    [
                        grants.instance_arn,
                        f"{ssm}:document/{grants.session_document_name}",
                        f"arn:aws:ssm:{cfg.region}::document/SSM-SessionManagerRunShell",
                    ],
                    Condition={"BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"}},
                ),
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
