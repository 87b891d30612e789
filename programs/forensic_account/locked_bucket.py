"""An S3 bucket whose objects nobody deletes early: Object Lock with a COMPLIANCE default retention (so
versioned), SSE-KMS with the audit key, all public access blocked, TLS only. The anchor bucket and the trail
bucket are both made this way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from programs.forensic_account.permissions import document
from programs.forensic_account.tags import baseline_tags


def tls_only(bucket_name: str) -> dict[str, Any]:
    bucket = f"arn:aws:s3:::{bucket_name}"
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket, f"{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


class LockedBucket(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    ready: list[pulumi.Resource]

    def __init__(
        self,
        name: str,
        bucket_name: str,
        retention_days: int,
        part: str,
        key: aws.kms.Key,
        statements: Sequence[dict[str, Any]] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("forensics:baseline:LockedBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True)
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=bucket_name,
            object_lock_enabled=True,
            force_destroy=False,
            tags=baseline_tags(part, bucket_name),
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        public = aws.s3.BucketPublicAccessBlock(
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
            rule={"default_retention": {"mode": "COMPLIANCE", "days": retention_days}},
            opts=pulumi.ResourceOptions(
                parent=self, protect=True, retain_on_delete=True, depends_on=[versioning]
            ),
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
        policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=document([tls_only(bucket_name), *statements]),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public]),
        )
        self.ready = [versioning, public, lock, encryption, policy]
        self.register_outputs({"bucket": self.bucket.id})
