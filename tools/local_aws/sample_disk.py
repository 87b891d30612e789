"""The local AWS's sample evidence: a small disk image holding an ext4 file system with a few files of a
"compromised host", made with the real mkfs.ext4 (``mkfs.ext4 -d`` populates it without root). The seeded
sample snapshot holds it, so the workstation's mount script finds a file system there, as it would on a real
host's disk (a blank volume is refused: the script finds no file system)."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SAMPLE_FILES = {
    "etc/hostname": b"web-07\n",
    "etc/passwd": b"root:x:0:0:root:/root:/bin/bash\nbackdoor:x:0:0::/tmp:/bin/sh\n",
    "var/log/auth.log": b"Accepted publickey for backdoor from 203.0.113.9 port 50122\n" * 100,
}
SAMPLE_SIZE = "64M"  # sparse: a few MiB are written
# A fixed UUID, hash seed and time: the same files make the same image, and the same snapshot hash.
_UUID = "7b0c6f0e-2a55-4f4e-9a61-6d3f0b1c5e21"
_TOOLS_PATH = "/usr/sbin:/sbin:/usr/bin:/bin"


@contextmanager
def sample_image() -> Iterator[Path]:
    """The sample disk image, in a temporary folder removed on exit."""
    with tempfile.TemporaryDirectory(prefix="forensics-sample-disk-") as folder:
        content = Path(folder) / "content"
        for relative, data in SAMPLE_FILES.items():
            path = content / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        image = Path(folder) / "disk.img"
        with image.open("wb") as f:
            f.truncate(int(SAMPLE_SIZE[:-1]) << 20)
        subprocess.run(
            [
                "mkfs.ext4",
                "-q",
                "-F",
                "-d",
                str(content),
                "-U",
                _UUID,
                "-E",
                f"hash_seed={_UUID}",
                str(image),
            ],
            check=True,
            capture_output=True,
            env={"PATH": _TOOLS_PATH, "E2FSPROGS_FAKE_TIME": "1700000000"},
        )
        yield image
