"""Small inline programs for the foundation tests (the forensic program has its own tests)."""

from __future__ import annotations

import time

import pulumi
import pulumi_aws as aws


def network_and_bucket() -> None:
    """A VPC, a subnet, a security group and an encrypted S3 bucket."""
    cfg = pulumi.Config("forensics")
    name = cfg.require("name")
    tags = {"forensics:test": name, "owner": "foundation-test"}
    vpc = aws.ec2.Vpc("vpc", cidr_block="10.42.0.0/16", enable_dns_hostnames=True, tags=tags)
    subnet = aws.ec2.Subnet(
        "subnet", vpc_id=vpc.id, cidr_block="10.42.1.0/24", availability_zone="us-east-1a", tags=tags
    )
    sg = aws.ec2.SecurityGroup(
        "sg",
        vpc_id=vpc.id,
        description="foundation test",
        egress=[
            aws.ec2.SecurityGroupEgressArgs(
                protocol="tcp", from_port=443, to_port=443, cidr_blocks=["10.42.0.0/16"]
            )
        ],
        tags=tags,
    )
    bucket = aws.s3.Bucket("bucket", bucket=f"foundation-{name}", force_destroy=True, tags=tags)
    if cfg.get_bool("encrypt") is not False:
        aws.s3.BucketServerSideEncryptionConfiguration(
            "bucket-sse",
            bucket=bucket.bucket,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            ],
        )
    pulumi.export("vpcId", vpc.id)
    pulumi.export("subnetId", subnet.id)
    pulumi.export("securityGroupId", sg.id)
    pulumi.export("bucket", bucket.bucket)
    # A secret output: the service keeps none (the engine child reads outputs masked, in one CLI run).
    pulumi.export("bucketSecret", pulumi.Output.secret(bucket.arn))


# Long enough for a test polling /proc to read every process of the operation while all of them still run.
LINGER_SECONDS = 1.5


def encrypted_bucket_that_lingers() -> None:
    """One encrypted bucket; then the program waits, while the provider and the policy analyzer still run."""
    cfg = pulumi.Config("forensics")
    name = cfg.require("name")
    bucket = aws.s3.Bucket("bucket", bucket=f"foundation-{name}", tags={"forensics:test": name})
    aws.s3.BucketServerSideEncryptionConfiguration(
        "bucket-sse",
        bucket=bucket.bucket,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"
                )
            )
        ],
    )
    # The URN is known once the engine has registered the bucket, i.e. once the provider has checked it, so
    # the provider plugin is up by the time this waits (even in a preview, where the bucket's id is not).
    bucket.urn.apply(lambda _: time.sleep(LINGER_SECONDS))
