"""EvidenceStore: the investigation's S3 bucket, write-once and readable only by the evidence roles.

Object Lock (default retention from config) on a versioned bucket, SSE-KMS with the investigation key and
an S3 bucket key, all public access blocked, and a bucket policy that refuses plain HTTP and object access by
anyone but the evidence roles. The folder layout follows the AWS blog post. When `retainEvidenceBucket` is set
(the default) the bucket, its configuration and its objects are `retain_on_delete`: evidence outlives the
clean room.

Why `aws:PrincipalArn` rather than `NotPrincipal`: a Deny with NotPrincipal must list every assumed-role
session ARN (and the account) to work with roles, AWS advises against it, and role ARNs in a Principal element
turn into unique ids that no longer match once a role is re-created. A Deny for every principal with a
`StringNotLike aws:PrincipalArn` condition matches a role's sessions by the role's ARN.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from programs.forensic_env.access import FOLDERS
from programs.forensic_env.config import EnvironmentConfig
from programs.forensic_env.policies import document
from programs.forensic_env.tags import tags_for

BUCKET_GUARD_RAILS = (
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketVersioning",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutEncryptionConfiguration",
    "s3:PutBucketAcl",
    "s3:DeleteBucket",
)


def _frozen_legal_hold_guard(
    cfg: EnvironmentConfig, objects: pulumi.Output[str], guardians: Sequence[str]
) -> list[dict[str, object]]:
    """Frozen, no legal hold changes but the deployment's (the service placing holds, or lifting them once a
    second person approved a release that removes them; it does so after the release's `up` thawed the
    bucket) and break-glass's: the custodian's role cannot lift a hold alone and skip the two-person rule."""
    if not cfg.frozen:
        return []
    return [
        {
            "Sid": "DenyLegalHoldChangesWhileFrozenExceptBreakGlassAndDeployment",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["s3:PutObjectLegalHold"],
            "Resource": [objects],
            "Condition": {"StringNotLike": {"aws:PrincipalArn": list(guardians)}},
        }
    ]


def bucket_name(cfg: EnvironmentConfig) -> str:
    return cfg.evidence_bucket_name


class EvidenceStore(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    policy: aws.s3.BucketPolicy
    folders: dict[str, aws.s3.BucketObjectv2]

    def __init__(
        self,
        name: str,
        cfg: EnvironmentConfig,
        key: aws.kms.Key,
        evidence_role_arns: Sequence[pulumi.Input[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("forensics:index:EvidenceStore", name, None, opts)
        # retain_on_delete is not inherited from a parent: set it on every resource here.
        retain = cfg.retain_evidence_bucket or None
        child = pulumi.ResourceOptions(parent=self, retain_on_delete=retain)

        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=bucket_name(cfg),
            object_lock_enabled=True,
            # Only a custodian's explicit "do not retain" lets a destroy empty the bucket (governance-mode
            # retention is bypassed; compliance-mode objects still cannot be deleted, as intended).
            force_destroy=not cfg.retain_evidence_bucket,
            tags=tags_for(cfg, bucket_name(cfg), {"forensics:data": "evidence"}),
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-sse",
            bucket=self.bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": key.arn,
                    },
                    "bucket_key_enabled": True,
                }
            ],
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        lock = aws.s3.BucketObjectLockConfiguration(
            f"{name}-object-lock",
            bucket=self.bucket.id,
            object_lock_enabled="Enabled",
            rule={
                "default_retention": {
                    # Frozen: what is written from now on cannot be deleted early by anyone, break-glass
                    # included (COMPLIANCE); the configured mode otherwise.
                    "mode": "COMPLIANCE" if cfg.frozen else cfg.object_lock_mode,
                    "days": cfg.object_lock_retention_days,
                }
            },
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=retain, depends_on=[versioning]),
        )

        # Empty folder markers, written after versioning, encryption and the lock are in place. S3 requires an
        # integrity checksum for writes to an Object Lock bucket.
        ready = [versioning, encryption, lock, public_access]
        self.folders = {
            folder: aws.s3.BucketObjectv2(
                f"{name}-folder-{folder.rstrip('/').replace('/', '-')}",
                bucket=self.bucket.id,
                key=folder,
                content="",
                content_type="application/x-directory",
                checksum_algorithm="SHA256",
                tags=tags_for(cfg),
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=retain, depends_on=ready),
            )
            for folder in FOLDERS
        }

        arn = self.bucket.arn
        objects = pulumi.Output.concat(arn, "/*")
        guardians = [cfg.break_glass_role_arn, *cfg.service_principals]
        markers = [pulumi.Output.concat(arn, "/", folder) for folder in FOLDERS]
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=document(
                [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [arn, objects],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                    {
                        # The bucket's guard rails (its policy, versioning, the lock, lifecycle, public
                        # access, encryption) and its deletion belong to break-glass and the deployment
                        # alone: a data custodian manages evidence, not the rules that protect it.
                        "Sid": "DenyGuardRailChangesExceptBreakGlassAndDeployment",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": list(BUCKET_GUARD_RAILS),
                        "Resource": [arn],
                        "Condition": {"StringNotLike": {"aws:PrincipalArn": guardians}},
                    },
                    {
                        # Governance retention is bypassed only by break-glass, or by the deployment carrying
                        # out a custodian's decision not to retain the bucket.
                        "Sid": "DenyRetentionBypassExceptBreakGlassAndDeployment",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": ["s3:BypassGovernanceRetention"],
                        "Resource": [objects],
                        "Condition": {"StringNotLike": {"aws:PrincipalArn": guardians}},
                    },
                    *_frozen_legal_hold_guard(cfg, objects, guardians),
                    {
                        # Every object but the empty folder markers (which the deployment itself writes and
                        # refreshes) is off limits to anyone but the evidence roles. Bucket-level actions stay
                        # with the account's IAM policies so the deployment can manage the bucket.
                        "Sid": "DenyObjectAccessExceptEvidenceRoles",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "NotResource": [arn, *markers],
                        "Condition": {"StringNotLike": {"aws:PrincipalArn": list(evidence_role_arns)}},
                    },
                ]
            ),
            opts=pulumi.ResourceOptions(
                parent=self, retain_on_delete=retain, depends_on=[public_access, *self.folders.values()]
            ),
        )
        self.register_outputs({"evidenceBucket": self.bucket.bucket, "evidenceBucketArn": arn})
