"""Evidence mounts on the workstation, through SSM Run Command: the program's mount document runs the same
mount script as the boot script (``programs/forensic_env/scripts/mount_evidence.sh``) and prints the device's
JSON report line, which decides. A failure of the command, a missing report, or a report that is not ``ok``
and read-only fails the operation with the script's own message."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Literal

from service.errors import MountFailed

# The SSM agent answers only once the workstation has booted and registered: keep asking until then.
WAIT_SECONDS = 900.0
POLL_SECONDS = 2.0
RUNNING = ("Pending", "InProgress", "Delayed")


@dataclass(frozen=True)
class MountReport:
    device: str
    snapshot: str
    mountpoints: list[str]
    fstype: str
    readonly: bool
    command_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "snapshot": self.snapshot,
            "mountpoints": self.mountpoints,
            "fstype": self.fstype,
            "readonly": self.readonly,
            "ssm_command_id": self.command_id,
        }


def _error_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def report_line(output: str, device: str) -> dict[str, Any] | None:
    """The last JSON report line for ``device`` in the command's output (anything else is ignored): the line
    of the device attached as ``device``, which the script names by the block device it resolved to (an NVMe
    device on EC2), or, when it failed before finding one, by ``device`` itself."""
    found = None
    for line in output.splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict) and device in (parsed.get("attached_as"), parsed.get("device")):
            found = parsed
    return found


def run(
    ssm: Any,
    document: str,
    instance_id: str,
    *,
    action: Literal["mount", "report"],
    letter: str,
    snapshot: str,
    wait_seconds: float = WAIT_SECONDS,
    poll_seconds: float = POLL_SECONDS,
) -> MountReport:
    device = f"/dev/sd{letter}"
    deadline = time.monotonic() + wait_seconds
    parameters = {"action": [action], "letter": [letter], "snapshot": [snapshot]}
    while True:
        try:
            command = ssm.send_command(
                InstanceIds=[instance_id],
                DocumentName=document,
                Parameters=parameters,
                Comment=f"forensics: {action} evidence {snapshot} on {device}",
            )["Command"]
            break
        except Exception as exc:  # botocore's ClientError
            # Not registered with SSM yet (still booting): ask again until the deadline.
            if _error_code(exc) != "InvalidInstanceId" or time.monotonic() > deadline:
                raise MountFailed(device, f"the mount command could not be sent: {exc}") from exc
            time.sleep(poll_seconds)
    command_id = command["CommandId"]
    while True:
        try:
            invocation = ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
        except Exception as exc:
            if _error_code(exc) != "InvocationDoesNotExist" or time.monotonic() > deadline:
                raise MountFailed(device, f"the mount command's result could not be read: {exc}") from exc
            time.sleep(poll_seconds)
            continue
        if invocation["Status"] not in RUNNING:
            break
        if time.monotonic() > deadline:
            raise MountFailed(device, f"the mount command {command_id} did not finish in time")
        time.sleep(poll_seconds)
    line = report_line(invocation.get("StandardOutputContent") or "", device)
    errors = (invocation.get("StandardErrorContent") or "").strip().splitlines()
    if line is None:
        said = errors[-1] if errors else f"the command ended {invocation['Status']} without a report"
        raise MountFailed(device, said)
    if not (invocation["Status"] == "Success" and line.get("ok") is True and line.get("readonly") is True):
        raise MountFailed(device, str(line.get("error") or (errors[-1] if errors else invocation["Status"])))
    return MountReport(
        device=device,
        snapshot=str(line.get("snapshot") or snapshot),
        mountpoints=[str(m) for m in line.get("mountpoints") or []],
        fstype=str(line.get("fstype") or ""),
        readonly=True,
        command_id=command_id,
    )
