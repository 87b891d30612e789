"""Disk images for evidence tests: a small ext4 file system with known files, made without root."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Literal

from service.config import LOCAL_SOURCE_ACCOUNT
from service.custody import disk_image
from service.local.aws import LocalAws
from tests.support.aws import client_as

# The seeded snapshot role of the local AWS's sample affected account.
SOURCE_ROLE = f"arn:aws:iam::{LOCAL_SOURCE_ACCOUNT}:role/forensics-evidence-reader"
# What a compromised host's disk might hold.
HOST_FILES = {
    "etc/passwd": b"root:x:0:0:root:/root:/bin/bash\nbackdoor:x:0:0::/tmp:/bin/sh\n",
    "var/log/auth.log": b"Accepted publickey for backdoor from 203.0.113.9\n" * 200,
    "tmp/.x/implant.bin": bytes(range(256)) * 64,
}

FS_UUID = "3f1c2a77-7a51-4c8e-9d7e-0b5c1e2d4f60"


def ext4_image(folder: Path, files: dict[str, bytes], size: str = "1G", name: str = "disk.img") -> Path:
    """A sparse raw disk of ``size`` holding an ext4 file system populated with ``files`` (mkfs -d)."""
    content = folder / f"{name}.content"
    content.mkdir(parents=True)
    for relative, data in files.items():
        path = content / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    image = folder / name
    subprocess.run(["truncate", "-s", size, str(image)], check=True)
    # Fixed UUID and hash seed, no lazy init: the same files give the same image, written at once.
    subprocess.run(
        [
            "mkfs.ext4", "-q", "-F", "-d", str(content),
            "-U", FS_UUID, "-E", f"hash_seed={FS_UUID}",
            str(image),
        ],
        check=True,
        env={"PATH": "/usr/sbin:/sbin:/usr/bin:/bin", "E2FSPROGS_FAKE_TIME": "1700000000"},
    )  # fmt: skip
    return image


def sha256sum(path: Path) -> str:
    """The real tool's answer, not ours."""
    return subprocess.run(
        ["sha256sum", str(path)], check=True, capture_output=True, text=True
    ).stdout.split()[0]


def source_evidence(local_aws: LocalAws, folder: Path) -> tuple[str, str]:
    """A snapshot in the sample affected account holding an ext4 image of ``HOST_FILES``, written through
    the EBS direct APIs; and the image's ``sha256sum``."""
    image = ext4_image(folder, HOST_FILES)
    ebs = client_as(local_aws, SOURCE_ROLE, "ebs")
    snapshot_id = disk_image.write_image(ebs, image, description="compromised host root disk")
    return snapshot_id, sha256sum(image)


# An administrator of the sample affected account (not the service's snapshot role): it made the account's
# disks and keys.
SOURCE_ADMIN = f"arn:aws:iam::{LOCAL_SOURCE_ACCOUNT}:role/source-account-admin"


def encrypted_source_evidence(
    local_aws: LocalAws, folder: Path, key: Literal["customer", "aws/ebs"]
) -> tuple[str, str, str]:
    """``source_evidence``, encrypted as the affected account keeps it: under a customer managed key of its
    own, or under its AWS managed ``aws/ebs`` key (EBS encryption by default). Returns the encrypted
    snapshot, its image's ``sha256sum`` and the key's ARN."""
    plain, expected = source_evidence(local_aws, folder)
    ec2 = client_as(local_aws, SOURCE_ADMIN, "ec2")
    options: dict[str, str] = {}
    if key == "customer":
        kms = client_as(local_aws, SOURCE_ADMIN, "kms")
        options["KmsKeyId"] = kms.create_key(Description="affected account disks")["KeyMetadata"]["Arn"]
    copy = ec2.copy_snapshot(SourceSnapshotId=plain, SourceRegion=local_aws.region, Encrypted=True, **options)
    (encrypted,) = ec2.describe_snapshots(SnapshotIds=[copy["SnapshotId"]])["Snapshots"]
    ec2.delete_snapshot(SnapshotId=plain)
    return str(encrypted["SnapshotId"]), expected, str(encrypted["KmsKeyId"])
