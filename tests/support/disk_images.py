"""Disk images for evidence tests: a small ext4 file system with known files, made without root."""

from __future__ import annotations

import subprocess
from pathlib import Path

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
