"""The account's CloudTrail trail: every region (so the CloudTrail reader is blind nowhere), global service
events, log-file validation (digest files prove nothing was removed or changed), into an Object Lock bucket.
AWS Config delivers its snapshots to the same bucket under `config/`."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from programs.forensic_account.config import TRAIL_RETENTION_DAYS, AccountConfig
from programs.forensic_account.locked_bucket import LockedBucket
from programs.forensic_account.tags import baseline_tags

CONFIG_PREFIX = "config"


def trail_bucket_statements(cfg: AccountConfig) -> list[dict[str, object]]:
    bucket = f"arn:aws:s3:::{cfg.trail_bucket_name}"
    from_trail = {"StringEquals": {"aws:SourceArn": cfg.trail_arn}}
    from_account = {"StringEquals": {"aws:SourceAccount": cfg.account_id}}
    return [
        {
            "Sid": "TrailAcl",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:GetBucketAcl",
            "Resource": bucket,
            "Condition": from_trail,
        },
        {
            "Sid": "TrailWrites",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{bucket}/AWSLogs/{cfg.account_id}/*",
            "Condition": {
                "StringEquals": {
                    "aws:SourceArn": cfg.trail_arn,
                    "s3:x-amz-acl": "bucket-owner-full-control",
                }
            },
        },
        {
            "Sid": "ConfigAcl",
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
            "Resource": bucket,
            "Condition": from_account,
        },
        {
            "Sid": "ConfigWrites",
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{bucket}/{CONFIG_PREFIX}/AWSLogs/{cfg.account_id}/Config/*",
            "Condition": {
                "StringEquals": {
                    "aws:SourceAccount": cfg.account_id,
                    "s3:x-amz-acl": "bucket-owner-full-control",
                }
            },
        },
    ]


class AuditTrail(pulumi.ComponentResource):
    trail: aws.cloudtrail.Trail
    store: LockedBucket

    def __init__(
        self, name: str, cfg: AccountConfig, key: aws.kms.Key, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("forensics:baseline:AuditTrail", name, None, opts)
        self.store = LockedBucket(
            f"{name}-logs",
            cfg.trail_bucket_name,
            TRAIL_RETENTION_DAYS,
            "trail",
            key,
            trail_bucket_statements(cfg),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.trail = aws.cloudtrail.Trail(
            f"{name}-trail",
            name=cfg.trail_name,
            s3_bucket_name=self.store.bucket.id,
            kms_key_id=key.arn,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            tags=baseline_tags("trail", cfg.trail_name),
            opts=pulumi.ResourceOptions(parent=self, protect=True, depends_on=self.store.ready),
        )
        self.register_outputs({"trailName": self.trail.name, "bucket": self.store.bucket.id})
