"""Disk images for evidence tests: file systems with known files (ext4 without root; XFS and a dirty ext4
journal need root), and snapshots holding them, written through the EBS direct APIs as evidence would be."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from service.config import LOCAL_SOURCE_ACCOUNT
from service.custody import disk_image
from tests.support.aws import client_as
from tests.support.kept_images import kept_image
from tools.local_aws.aws import LocalAws
from tools.local_aws.organization_accounts import MEMBER_ROLE_NAME

# An administrator of the local AWS's sample affected account (its member-account role, which the suite's
# local AWS gives the operator): it made the account's hosts, disks and keys, and checks them after.
SOURCE_ROLE = f"arn:aws:iam::{LOCAL_SOURCE_ACCOUNT}:role/{MEMBER_ROLE_NAME}"
# What a compromised host's disk might hold.
HOST_FILES = {
    "etc/passwd": b"root:x:0:0:root:/root:/bin/bash\nbackdoor:x:0:0::/tmp:/bin/sh\n",
    "var/log/auth.log": b"Accepted publickey for backdoor from 203.0.113.9\n" * 200,
    "tmp/.x/implant.bin": bytes(range(256)) * 64,
}

FS_UUID = "3f1c2a77-7a51-4c8e-9d7e-0b5c1e2d4f60"
# Fixed UUID and hash seed, no lazy init: the same files give the same file system, written at once.
EXT4_OPTIONS = ("-q", "-F", "-U", FS_UUID, "-E", f"hash_seed={FS_UUID}")
MKFS_ENV = {"PATH": "/usr/sbin:/sbin:/usr/bin:/bin", "E2FSPROGS_FAKE_TIME": "1700000000"}


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
    command = ["mkfs.ext4", *EXT4_OPTIONS, "-d", str(content), str(image)]
    subprocess.run(command, check=True, env=MKFS_ENV)
    return image


def sha256sum(path: Path) -> str:
    """The real tool's answer, not ours."""
    return subprocess.run(
        ["sha256sum", str(path)], check=True, capture_output=True, text=True
    ).stdout.split()[0]


HOST_DISK_SIZE = "1G"


def host_disk(folder: Path, files: dict[str, bytes] = HOST_FILES) -> tuple[Path, str]:
    """A copy in ``folder`` of the 1 GiB ext4 image of ``files`` (the sample host's by default), and
    ``sha256sum``'s hash of it.

    The image is made and hashed by the tools once per user and kept (tests/support/kept_images.py): mkfs
    copies the files' change times into the image, so each fresh image differed and each cost ``sha256sum``
    a gigabyte read (~4 CPU-s), about twenty times a run. The hash stays the reference tool's, of the bytes
    the test writes as evidence."""
    folder.mkdir(parents=True, exist_ok=True)
    mkfs = subprocess.run(["mkfs.ext4", "-V"], capture_output=True, text=True, check=True, env=MKFS_ENV)
    made_from = [
        (mkfs.stdout + mkfs.stderr).encode(),
        " ".join(EXT4_OPTIONS).encode(),
        MKFS_ENV["E2FSPROGS_FAKE_TIME"].encode(),
        HOST_DISK_SIZE.encode(),
        *(name.encode() + b"\0" + data for name, data in sorted(files.items())),
    ]
    return kept_image(folder, made_from, lambda work: ext4_image(work, files, HOST_DISK_SIZE), sha256sum)


def source_evidence(
    local_aws: LocalAws, folder: Path, files: dict[str, bytes] = HOST_FILES
) -> tuple[str, str]:
    """A snapshot in the sample affected account holding the ext4 image of ``files`` (``host_disk``),
    written through the EBS direct APIs; and the image's ``sha256sum``."""
    image, expected = host_disk(folder, files)
    return evidence_snapshot(local_aws, image, "compromised host root disk"), expected


def blank_image(folder: Path, size: str = "1G", name: str = "blank.img") -> Path:
    """A sparse raw disk of zeros: no file system, no partition table (a fresh EBS volume)."""
    image = folder / name
    subprocess.run(["truncate", "-s", size, str(image)], check=True)
    return image


XFS_SIZE = "300M"  # the smallest file system mkfs.xfs (xfsprogs 5.19 and later) makes; sparse on disk


def xfs_image(folder: Path, files: dict[str, bytes], size: str = XFS_SIZE, name: str = "xfs.img") -> Path:
    """A sparse raw disk holding an XFS file system with ``files``. Root only: mkfs.xfs cannot populate a
    file system from a folder, so it is mounted on a loop device to write them."""
    image = folder / name
    subprocess.run(["truncate", "-s", size, str(image)], check=True)
    subprocess.run(["mkfs.xfs", "-q", "-f", str(image)], check=True)
    with _mounted(image, folder / f"{name}.mnt") as root:
        _write_files(root, files)
    return image


def ext4_image_with_dirty_journal(folder: Path, files: dict[str, bytes], name: str = "dirty.img") -> Path:
    """An ext4 image copied while it was mounted read-write, as a snapshot of a running disk is: its journal
    needs recovery, so any mount that replays it writes to the disk. Root only (a loop mount)."""
    work = ext4_image(folder, {}, size="64M", name=f"{name}.work")
    image = folder / name
    with _mounted(work, folder / f"{name}.mnt") as root:
        _write_files(root, files)
        subprocess.run(["sync"], check=True)
        subprocess.run(["cp", "--sparse=always", str(work), str(image)], check=True)
    work.unlink()
    return image


def ext4_features(image: Path) -> set[str]:
    out = subprocess.run(["dumpe2fs", "-h", str(image)], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("Filesystem features:"):
            return set(line.split(":", 1)[1].split())
    raise AssertionError(f"dumpe2fs -h {image} shows no features")


def _write_files(root: Path, files: dict[str, bytes]) -> None:
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@contextmanager
def _mounted(image: Path, target: Path) -> Iterator[Path]:
    """``image`` mounted read-write at ``target`` through a loop device, undone on exit."""
    device = subprocess.run(
        ["losetup", "--find", "--show", str(image)], check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        subprocess.run(["blockdev", "--setrw", device], check=True)
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", device, str(target)], check=True)
        try:
            yield target
        finally:
            subprocess.run(["umount", str(target)], check=True)
    finally:
        subprocess.run(["losetup", "--detach", device], check=True)


def evidence_snapshot(local_aws: LocalAws, image: Path, description: str = "evidence disk") -> str:
    """A snapshot in the sample affected account holding ``image``, written through the EBS direct APIs."""
    ebs = client_as(local_aws, SOURCE_ROLE, "ebs")
    return disk_image.write_image(ebs, image, description=description)


# The same administrator (not the service's evidence role), by the name the key tests use.
SOURCE_ADMIN = SOURCE_ROLE


def encrypted_source_evidence(
    local_aws: LocalAws, folder: Path, key: Literal["customer", "aws/ebs"]
) -> tuple[str, str, str]:
    """``source_evidence``, encrypted as the affected account keeps it: under a customer managed key of its
    own, or under its AWS managed ``aws/ebs`` key (EBS encryption by default). Returns the encrypted
    snapshot, its image's ``sha256sum`` and the key's ARN. Each key's disk holds a file naming it, so two
    such disks never hash the same: a test that acquires both tells their hashes apart."""
    files = {**HOST_FILES, "etc/disk-key": key.encode()}
    plain, expected = source_evidence(local_aws, folder, files)
    ec2 = client_as(local_aws, SOURCE_ADMIN, "ec2")
    options: dict[str, str] = {}
    if key == "customer":
        kms = client_as(local_aws, SOURCE_ADMIN, "kms")
        options["KmsKeyId"] = kms.create_key(Description="affected account disks")["KeyMetadata"]["Arn"]
    copy = ec2.copy_snapshot(SourceSnapshotId=plain, SourceRegion=local_aws.region, Encrypted=True, **options)
    (encrypted,) = ec2.describe_snapshots(SnapshotIds=[copy["SnapshotId"]])["Snapshots"]
    ec2.delete_snapshot(SnapshotId=plain)
    return str(encrypted["SnapshotId"]), expected, str(encrypted["KmsKeyId"])
