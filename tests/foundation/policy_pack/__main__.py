"""Every S3 bucket must have a server-side encryption configuration in the same stack."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)


def buckets_encrypted(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    encrypted = {
        r.props.get("bucket")
        for r in args.resources
        if r.resource_type
        == "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    }
    for r in args.resources:
        if r.resource_type == "aws:s3/bucket:Bucket" and r.props.get("bucket") not in encrypted:
            report_violation(
                "bucket has no server-side encryption. Remediation: add an SSE configuration", r.urn
            )


PolicyPack(
    name="foundation-test-pack",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        StackValidationPolicy(
            name="s3-bucket-encrypted",
            description="S3 buckets must be encrypted at rest.",
            validate=buckets_encrypted,
        )
    ],
)
