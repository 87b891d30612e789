"""Deliberately bad variants of the forensic program: the policy packs must stop them before AWS."""

from __future__ import annotations

import pulumi_aws as aws

from programs.forensic_env.program import forensic_environment

# The resource each bad addition names (its URN ends so), by the policy that must stop it.
ROGUE_RESOURCES = {
    "internet_gateway": ("rogue-igw", "no-internet-gateway"),
    "unencrypted_volume": ("scratch", "ebs-encrypted-with-cmk"),
    "unencrypted_snapshot_copy": ("scratch-copy", "ebs-encrypted-with-cmk"),
}


def _internet_gateway() -> None:
    vpc = aws.ec2.Vpc("rogue-vpc", cidr_block="10.99.0.0/16")
    aws.ec2.InternetGateway("rogue-igw", vpc_id=vpc.id)


def _unencrypted_volume() -> None:
    aws.ebs.Volume("scratch", availability_zone="us-east-1a", size=10, encrypted=False)


def _unencrypted_snapshot_copy() -> None:
    aws.ebs.SnapshotCopy(
        "scratch-copy", source_snapshot_id="snap-0123456789abcdef0", source_region="us-east-1"
    )


def with_internet_gateway() -> None:
    forensic_environment()
    _internet_gateway()


def with_every_rogue_resource() -> None:
    """The program with each bad addition at once: the pack judges every resource of the preview, so each
    addition draws its own violation (its URN) and none hides behind another."""
    forensic_environment()
    _internet_gateway()
    _unencrypted_volume()
    _unencrypted_snapshot_copy()
