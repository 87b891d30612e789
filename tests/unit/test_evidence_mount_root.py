"""The evidence mount script against real loop devices (root only): read-only, proven, nothing written.

Runs the very file the workstation's user data embeds (programs/forensic_env/scripts/mount_evidence.sh)
with bash. The evidence is a small ext4 image copied while it was mounted read-write, as a snapshot of a
running disk is: its journal needs recovery, so a plain `mount -o ro` would write to it (checked here on a
copy). The image is attached read-write (`losetup` without `-r`): making it read-only is the script's job.

Skipped unless running as root where loop devices attach, with util-linux, e2fsprogs and xfsprogs
(tools/system_packages.py installs them); under CI (CI=true) that is a failure, not a skip. Every mount
and loop device made here is undone in `finally`, and a loop device's
read-only flag is cleared before it is detached (the kernel keeps it for the next user of that device).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from programs.forensic_env.workstation import MOUNT_SCRIPT
from tests.support.root import require_root
from tools.local_aws import ssm_agent

TOOLS = (
    "bash",
    "losetup",
    "mkfs.ext4",
    "dumpe2fs",
    "blkid",
    "blockdev",
    "findmnt",
    "lsblk",
    "mount",
    "umount",
    "mountpoint",
)
SNAPSHOT = "snap-0123456789abcdef0"
KNOWN_FILES = {
    "case/notes.txt": "chain of custody: SEC-123\n",
    "case/bin/payload.sh": "#!/bin/sh\necho owned\n",
    "etc/hostname": "build-host-07\n",
}
IMAGE_MIB = 24
XFS_MIB = 300  # the smallest filesystem mkfs.xfs makes (sparse: a few MiB on disk)


def _sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(argv), capture_output=True, text=True, timeout=120, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {result.returncode}: {result.stderr.strip()}")
    return result


@pytest.fixture(scope="module", autouse=True)
def _root_with_loop_devices() -> None:
    """Skip where loop devices cannot be attached and mounted (not root, a container), with the cause;
    under CI (CI=true), which runs as root, fail instead: a skipped mount test proves nothing."""
    require_root(*TOOLS, "mkfs.xfs")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _features(image: Path) -> set[str]:
    out = _sh("dumpe2fs", "-h", str(image)).stdout
    for line in out.splitlines():
        if line.startswith("Filesystem features:"):
            return set(line.split(":", 1)[1].split())
    raise AssertionError(f"dumpe2fs -h {image} shows no features")


class Loops:
    """Loop devices and mounts made by one test, undone in reverse order by close()."""

    def __init__(self) -> None:
        self.devices: list[str] = []
        self.mounts: list[Path] = []

    def attach(self, image: Path) -> str:
        """Attach read-write; clear a read-only flag left on this loop device by an earlier user."""
        device = _sh("losetup", "-f", "--show", str(image)).stdout.strip()
        self.devices.append(device)
        _sh("blockdev", "--setrw", device)
        assert _sh("blockdev", "--getro", device).stdout.strip() == "0"
        return device

    def mount(self, device: str, target: Path, options: str) -> None:
        target.mkdir(parents=True, exist_ok=True)
        _sh("mount", "-o", options, device, str(target))
        self.mounts.append(target)

    def unmount_all_under(self, root: Path) -> None:
        """Whatever the script mounted under root, deepest first."""
        out = _sh("findmnt", "-rn", "-o", "TARGET", check=False).stdout
        targets = [Path(t) for t in out.splitlines() if Path(t) == root or root in Path(t).parents]
        for target in sorted(targets, key=lambda t: len(t.parts), reverse=True):
            _sh("umount", str(target))

    def detach(self, device: str) -> None:
        _sh("blockdev", "--setrw", device)
        _sh("losetup", "-d", device)
        self.devices.remove(device)

    def close(self) -> None:
        errors = []
        for target in reversed(self.mounts):
            if _sh("mountpoint", "-q", str(target), check=False).returncode == 0:
                result = _sh("umount", str(target), check=False)
                if result.returncode != 0:
                    errors.append(f"umount {target}: {result.stderr.strip()}")
        self.mounts.clear()
        for device in reversed(self.devices):
            _sh("blockdev", "--setrw", device, check=False)
            result = _sh("losetup", "-d", device, check=False)
            if result.returncode != 0:
                errors.append(f"losetup -d {device}: {result.stderr.strip()}")
        self.devices.clear()
        assert not errors, errors


@pytest.fixture
def loops(tmp_path: Path) -> Iterator[Loops]:
    made = Loops()
    try:
        yield made
    finally:
        try:
            made.unmount_all_under(tmp_path)
        finally:
            made.close()


def _image_of_a_running_disk(tmp_path: Path, loops: Loops, name: str, mkfs: list[str], mib: int) -> Path:
    """A filesystem image with KNOWN_FILES, copied while mounted read-write (its journal or log is dirty)."""
    work = tmp_path / f"{name}.source.img"
    with work.open("wb") as f:
        f.truncate(mib << 20)
    _sh(*mkfs, str(work))
    device = loops.attach(work)
    live = tmp_path / f"{name}.live"
    loops.mount(device, live, "rw")
    for path, text in KNOWN_FILES.items():
        (live / path).parent.mkdir(parents=True, exist_ok=True)
        (live / path).write_text(text)
    _sh("umount", str(live))  # the known files are on disk, outside the journal
    loops.mount(device, live, "rw")
    (live / "case" / "late.txt").write_text("written just before the snapshot\n")
    os.sync()
    image = tmp_path / f"{name}.img"
    _sh("cp", "--sparse=always", str(work), str(image))  # the "snapshot": mounted, journal not clean
    _sh("umount", str(live))
    loops.detach(device)
    work.unlink()
    return image


@pytest.fixture
def evidence_image(tmp_path: Path, loops: Loops) -> Path:
    """An ext4 image with KNOWN_FILES whose journal needs recovery."""
    image = _image_of_a_running_disk(tmp_path, loops, "ext4", ["mkfs.ext4", "-q", "-F"], IMAGE_MIB)
    assert "needs_recovery" in _features(image)
    return image


def _run(tmp_path: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "EVIDENCE_MOUNT_ROOT": str(tmp_path / "evidence"),
        "EVIDENCE_MOUNT_REPORT": str(tmp_path / "report.json"),
        "EVIDENCE_DEVICE_TIMEOUT": "2",
    }
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        ["bash", str(MOUNT_SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _report(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp_path / "report.json").read_text().splitlines()]


def _mount_options(target: Path) -> tuple[list[str], list[str]]:
    out = _sh("findmnt", "-rn", "-o", "VFS-OPTIONS,FS-OPTIONS", "--mountpoint", str(target)).stdout
    vfs, fs = out.splitlines()[-1].split(" ", 1)
    return vfs.split(","), fs.split(",")


def _assert_erofs(action: Any, what: str) -> None:
    with pytest.raises(OSError) as caught:
        action()
    assert caught.value.errno == errno.EROFS, f"{what}: {caught.value!r}"


def test_a_plain_read_only_mount_would_write_to_this_image(
    tmp_path: Path, evidence_image: Path, loops: Loops
) -> None:
    """The control: without noload, even `mount -o ro` replays the journal into the image."""
    copy = tmp_path / "control.img"
    _sh("cp", "--sparse=always", str(evidence_image), str(copy))
    before = _sha256(copy)
    device = loops.attach(copy)
    loops.mount(device, tmp_path / "control", "ro")
    _sh("umount", str(tmp_path / "control"))
    loops.detach(device)
    assert _sha256(copy) != before
    assert "needs_recovery" not in _features(copy)


def test_evidence_is_mounted_read_only_and_nothing_is_written(
    tmp_path: Path, evidence_image: Path, loops: Loops
) -> None:
    before = _sha256(evidence_image)
    device = loops.attach(evidence_image)

    result = _run(tmp_path, "mount_evidence_device", device, SNAPSHOT)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert f"{device} mounted read-only at" in result.stdout  # the human log

    # The script made the block device read-only.
    assert _sh("blockdev", "--getro", device).stdout.strip() == "1"
    mounted = tmp_path / "evidence" / SNAPSHOT
    vfs, fs = _mount_options(mounted)
    assert "ro" in vfs and "ro" in fs
    assert "norecovery" in fs  # how the kernel shows noload: the journal was not replayed

    # (a) nothing can be written, not even metadata.
    _assert_erofs(lambda: (mounted / "case" / "new.txt").write_text("x"), "create")
    _assert_erofs(lambda: (mounted / "case" / "notes.txt").open("a"), "append")
    _assert_erofs(lambda: (mounted / "case" / "new-dir").mkdir(), "mkdir")
    _assert_erofs(lambda: os.utime(mounted / "etc" / "hostname"), "utime")
    _assert_erofs(lambda: os.chmod(mounted / "case" / "bin" / "payload.sh", 0o777), "chmod")

    # (b) the known files read back as written.
    for name, text in KNOWN_FILES.items():
        assert (mounted / name).read_text() == text

    # (d) the report says so.
    [line] = _report(tmp_path)
    assert line == {
        "time": line["time"],
        "device": device,
        "attached_as": "",
        "snapshot": SNAPSHOT,
        "mountpoints": [str(mounted)],
        "fstype": "ext4",
        "skipped": [],
        "readonly": True,
        "ok": True,
        "error": None,
    }

    # (c) after unmounting and detaching, the image is bit for bit what it was: no replay, no atime.
    loops.unmount_all_under(tmp_path / "evidence")
    loops.detach(device)
    after = _sha256(evidence_image)
    print(f"\nevidence image sha256 before={before} after={after}")
    assert after == before
    assert "needs_recovery" in _features(evidence_image)


def test_a_device_without_a_filesystem_fails_loudly(tmp_path: Path, loops: Loops) -> None:
    blank = tmp_path / "blank.img"
    with blank.open("wb") as f:
        f.truncate(16 << 20)
    before = _sha256(blank)
    device = loops.attach(blank)

    result = _run(tmp_path, "mount_evidence_device", device, "snap-0000000000000blank")
    assert result.returncode == 1
    [message] = result.stderr.splitlines()
    assert message.startswith(f"mount_evidence: {device} (snapshot snap-0000000000000blank): ")
    assert "no filesystem found" in message
    [line] = _report(tmp_path)
    assert line["device"] == device and line["snapshot"] == "snap-0000000000000blank"
    assert line["ok"] is False and "no filesystem found" in line["error"]
    assert line["readonly"] is True  # set read-only before it was probed
    assert line["mountpoints"] == []
    assert _sh("blockdev", "--getro", device).stdout.strip() == "1"
    assert (
        _sh(
            "findmnt",
            "-rn",
            "--mountpoint",
            str(tmp_path / "evidence" / "snap-0000000000000blank"),
            check=False,
        ).returncode
        != 0
    )
    loops.detach(device)
    assert _sha256(blank) == before


def test_a_read_write_mount_is_caught_and_taken_back(
    tmp_path: Path, evidence_image: Path, loops: Loops
) -> None:
    """If the mount table showed the evidence writable, the script unmounts it and fails.

    findmnt is a stand-in that reports "rw" for the script's check (and answers everything else itself)."""
    before = _sha256(evidence_image)
    device = loops.attach(evidence_image)
    real_findmnt = shutil.which("findmnt")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "findmnt").write_text(
        "#!/bin/sh\n"
        'case "$*" in *VFS-OPTIONS*) echo "' + device + ' rw,relatime rw,noload"; exit 0 ;; esac\n'
        f'exec {real_findmnt} "$@"\n'
    )
    (bin_dir / "findmnt").chmod(0o755)

    result = _run(tmp_path, "mount_evidence_device", device, SNAPSHOT, path=f"{bin_dir}:{os.environ['PATH']}")
    assert result.returncode == 1
    [message] = result.stderr.splitlines()
    assert f"{device} (snapshot {SNAPSHOT})" in message
    assert "mounted read-write" in message and "(unmounted again)" in message
    [line] = _report(tmp_path)
    assert line["ok"] is False and line["readonly"] is False and line["mountpoints"] == []
    target = tmp_path / "evidence" / SNAPSHOT
    assert _sh("mountpoint", "-q", str(target), check=False).returncode != 0
    loops.detach(device)
    assert _sha256(evidence_image) == before


def test_a_second_run_does_not_mount_over_the_first(
    tmp_path: Path, evidence_image: Path, loops: Loops
) -> None:
    device = loops.attach(evidence_image)
    assert _run(tmp_path, "mount_evidence_device", device, SNAPSHOT).returncode == 0
    again = _run(tmp_path, "mount_evidence_device", device, SNAPSHOT)
    assert again.returncode == 1
    assert "is already a mount point" in again.stderr
    assert [line["ok"] for line in _report(tmp_path)] == [True, False]


def test_xfs_with_a_dirty_log_and_a_duplicate_uuid(tmp_path: Path, loops: Loops) -> None:
    """ro,norecovery: the log is not replayed; nouuid: two snapshots of one disk (or of a disk made from the
    workstation's own image) have the same XFS UUID, and both must mount."""
    image = _image_of_a_running_disk(tmp_path, loops, "xfs", ["mkfs.xfs", "-q", "-f"], XFS_MIB)
    twin = tmp_path / "xfs-twin.img"
    control = tmp_path / "xfs-control.img"
    for copy in (twin, control):
        _sh("cp", "--sparse=always", str(image), str(copy))
    before = _sha256(image)

    # The control: a plain read-only mount replays the log into the image.
    device = loops.attach(control)
    loops.mount(device, tmp_path / "control", "ro")
    _sh("umount", str(tmp_path / "control"))
    loops.detach(device)
    assert _sha256(control) != before

    first, second = loops.attach(image), loops.attach(twin)
    for device, snapshot in ((first, "snap-00000000000000a01"), (second, "snap-00000000000000a02")):
        result = _run(tmp_path, "mount_evidence_device", device, snapshot)
        assert result.returncode == 0, result.stderr
        mounted = tmp_path / "evidence" / snapshot
        vfs, fs = _mount_options(mounted)
        assert "ro" in vfs and "ro" in fs and "norecovery" in fs
        for path, text in KNOWN_FILES.items():
            assert (mounted / path).read_text() == text
        _assert_erofs(lambda mounted=mounted: (mounted / "new.txt").write_text("x"), "create")
    assert [(line["fstype"], line["ok"], line["readonly"]) for line in _report(tmp_path)] == [
        ("xfs", True, True),
        ("xfs", True, True),
    ]
    loops.unmount_all_under(tmp_path / "evidence")
    loops.detach(first)
    loops.detach(second)
    assert _sha256(image) == before
    assert _sha256(twin) == before


def test_partitions_are_mounted_one_by_one_and_empty_ones_skipped(
    tmp_path: Path, evidence_image: Path, loops: Loops
) -> None:
    """This kernel may have no partition table support, so lsblk is a stand-in that lists two other loop
    devices as the disk's partitions (everything else about them is real): an ext4 one and an empty one."""
    disk_image, empty_image = tmp_path / "disk.img", tmp_path / "empty.img"
    for image in (disk_image, empty_image):
        with image.open("wb") as f:
            f.truncate(16 << 20)
    before = _sha256(evidence_image)
    disk, part1, part2 = (loops.attach(image) for image in (disk_image, evidence_image, empty_image))
    real_lsblk = shutil.which("lsblk")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "lsblk").write_text(
        "#!/bin/sh\n"
        f'case "$*" in *{disk}) printf "%s\\n" "{disk} disk" "{part1} part" "{part2} part"; exit 0 ;; esac\n'
        f'exec {real_lsblk} "$@"\n'
    )
    (bin_dir / "lsblk").chmod(0o755)
    path = f"{bin_dir}:{os.environ['PATH']}"

    result = _run(tmp_path, "mount_evidence_device", disk, SNAPSHOT, path=path)
    assert result.returncode == 0, result.stderr
    for device in (disk, part1, part2):
        assert _sh("blockdev", "--getro", device).stdout.strip() == "1", device
    mounted = tmp_path / "evidence" / SNAPSHOT / "part1"
    for name, text in KNOWN_FILES.items():
        assert (mounted / name).read_text() == text
    _assert_erofs(lambda: (mounted / "new.txt").write_text("x"), "create")
    assert not (tmp_path / "evidence" / SNAPSHOT / "part2").exists()
    [line] = _report(tmp_path)
    assert line["device"] == disk and line["ok"] is True and line["readonly"] is True
    assert line["mountpoints"] == [str(mounted)] and line["fstype"] == "ext4"
    assert line["skipped"] == [f"{part2}: no filesystem"]

    # A disk none of whose partitions holds a filesystem is a failure.
    (bin_dir / "lsblk").write_text(
        "#!/bin/sh\n"
        f'case "$*" in *{disk}) printf "%s\\n" "{disk} disk" "{part2} part"; exit 0 ;; esac\n'
        f'exec {real_lsblk} "$@"\n'
    )
    result = _run(tmp_path, "mount_evidence_device", disk, "snap-00000000000000b02", path=path)
    assert result.returncode == 1
    assert "none of its partitions (1) holds a filesystem to mount" in result.stderr
    assert _report(tmp_path)[-1]["ok"] is False

    loops.unmount_all_under(tmp_path / "evidence")
    loops.detach(part1)
    assert _sha256(evidence_image) == before


def test_an_ebs_nvme_device_is_found_by_its_attachment_name(tmp_path: Path, evidence_image: Path) -> None:
    """On Nitro instances EBS volumes are NVMe devices; ebsnvme-id tells which one was attached as /dev/sdf.
    The script runs where /dev has no sd/xvd name for it, only two NVMe devices (the local AWS's workstation
    namespace, tools/local_aws/ssm_agent.py), and a stand-in ebsnvme-id that names them."""
    other = tmp_path / "other.img"
    with other.open("wb") as f:
        f.truncate(IMAGE_MIB << 20)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    asked = tmp_path / "asked"
    (bin_dir / "ebsnvme-id").write_text(
        "#!/bin/sh\n"
        f'echo "$*" >>{asked}\n'
        'case "$*" in "-b /dev/nvme1n1") echo sdg ;; "-b /dev/nvme2n1") echo /dev/sdf ;; *) exit 1 ;; esac\n'
    )
    (bin_dir / "ebsnvme-id").chmod(0o755)
    log = tmp_path / "var-log"
    log.mkdir()
    script = "\n".join(["#!/bin/bash", MOUNT_SCRIPT.read_text().rstrip("\n"), f"mount_evidence f {SNAPSHOT}"])
    with ssm_agent.loop_device(other) as decoy, ssm_agent.loop_device(evidence_image) as device:
        done = ssm_agent.run_on_workstation(
            script,
            {"/dev/nvme1n1": decoy, "/dev/nvme2n1": device},
            log,
            timeout=120,
            env={"EVIDENCE_DEVICE_TIMEOUT": "0", "PATH": f"{bin_dir}:{os.environ['PATH']}"},
        )
    assert done.status == "Success", done.stderr
    assert "/dev/sdf is /dev/nvme2n1" in done.stdout
    (line,) = [json.loads(x) for x in (log / "forensics-evidence-mount.json").read_text().splitlines()]
    assert line["ok"] is True and line["readonly"] is True and line["fstype"] == "ext4"
    assert line["attached_as"] == "/dev/sdf" and line["device"] == device
    assert "-b /dev/nvme1n1" in asked.read_text()  # asked about each, chose by the answer


def test_without_ebsnvme_id_an_nvme_device_is_not_guessed(tmp_path: Path, evidence_image: Path) -> None:
    log = tmp_path / "var-log"
    log.mkdir()
    script = "\n".join(["#!/bin/bash", MOUNT_SCRIPT.read_text().rstrip("\n"), f"mount_evidence f {SNAPSHOT}"])
    with ssm_agent.loop_device(evidence_image) as device:
        done = ssm_agent.run_on_workstation(
            script, {"/dev/nvme1n1": device}, log, timeout=120, env={"EVIDENCE_DEVICE_TIMEOUT": "0"}
        )
    assert done.status == "Failed" and "device did not appear within 0s" in done.stderr
