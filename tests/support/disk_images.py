"""Disk images for evidence tests: a small ext4 file system with known files, made without root."""

from __future__ import annotations

import subprocess
from pathlib import Path

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
