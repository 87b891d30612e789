"""Tests that need root and loop devices (mounting evidence as the workstation does): where they cannot run
they are skipped on a developer's machine, and FAIL under CI (``CI=true``), which runs as root and must run
them: a skipped mount test proves nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import pytest

TOOLS = (
    "bash",
    "losetup",
    "blkid",
    "blockdev",
    "findmnt",
    "lsblk",
    "mount",
    "umount",
    "unshare",
    "mkfs.ext4",
)


def why_not_root(*extra_tools: str) -> str | None:
    """Why loop devices cannot be attached and mounted here, or None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root (losetup, mount, blockdev --setro)"
    missing = [tool for tool in (*TOOLS, *extra_tools) if shutil.which(tool) is None]
    if missing:
        return f"missing tools: {', '.join(missing)} (python -m tools.system_packages installs them)"
    with tempfile.NamedTemporaryFile(prefix="loop-probe-") as probe:
        probe.truncate(1 << 20)
        probe.flush()
        attached = subprocess.run(
            ["losetup", "-f", "--show", probe.name], capture_output=True, text=True, timeout=60, check=False
        )
        if attached.returncode != 0:
            return f"loop devices cannot be attached here: losetup -f --show: {attached.stderr.strip()}"
        subprocess.run(["losetup", "-d", attached.stdout.strip()], check=True, timeout=60)
    return None


def require_root(*extra_tools: str) -> None:
    """Skip (fail under CI=true) unless loop devices can be attached and mounted here."""
    reason = why_not_root(*extra_tools)
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI runs as root and must run this test: {reason}", pytrace=False)
    pytest.skip(reason)
