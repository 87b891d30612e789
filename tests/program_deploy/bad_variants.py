"""Deliberately bad variants of the forensic program: the policy packs must stop them before AWS."""

from __future__ import annotations

import pulumi_aws as aws

from programs.forensic_env.program import forensic_environment


def with_internet_gateway() -> None:
    forensic_environment()
    vpc = aws.ec2.Vpc("rogue-vpc", cidr_block="10.99.0.0/16")
    aws.ec2.InternetGateway("rogue-igw", vpc_id=vpc.id)


def with_unencrypted_volume() -> None:
    forensic_environment()
    aws.ebs.Volume("scratch", availability_zone="us-east-1a", size=10, encrypted=False)


def with_unencrypted_snapshot_copy() -> None:
    forensic_environment()
    aws.ebs.SnapshotCopy(
        "scratch-copy", source_snapshot_id="snap-0123456789abcdef0", source_region="us-east-1"
    )
