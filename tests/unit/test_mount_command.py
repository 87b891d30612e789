"""The mount document's driver, run by bash exactly as SSM would run it (parameters substituted), against a
report file: what the service gets back decides whether evidence counts as mounted read-only."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from programs.forensic_env.config import EnvironmentConfig
from programs.forensic_env.workstation import MOUNT_COMMAND_WAIT, MOUNT_REPORT, mount_command
from service.custody import mounting

SNAPSHOT = "snap-0123456789abcdef0"


def _run(tmp_path: Path, report_lines: list[dict[str, object]]) -> subprocess.CompletedProcess[str]:
    report = tmp_path / "report.json"
    # The script writes compact JSON lines.
    report.write_text("".join(json.dumps(line, separators=(",", ":")) + "\n" for line in report_lines))
    (step,) = mount_command(EnvironmentConfig(investigation_id="inv-1", ticket="T-1"))["mainSteps"]  # type: ignore[misc]
    script = "\n".join(step["inputs"]["runCommand"])
    for name, value in {"action": "report", "letter": "g", "snapshot": SNAPSHOT}.items():
        script = script.replace("{{ " + name + " }}", value)
    script = script.replace(MOUNT_REPORT, str(report)).replace(f"seq {MOUNT_COMMAND_WAIT}", "seq 1")
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)


def _line(device: str, ok: bool, error: str | None = None) -> dict[str, object]:
    mountpoints = [f"/mnt/evidence/{SNAPSHOT}"] if ok else []
    return {"device": device, "snapshot": SNAPSHOT, "mountpoints": mountpoints,
            "fstype": "ext4" if ok else "", "readonly": ok, "ok": ok, "error": error}  # fmt: skip


def test_a_read_only_mount_is_reported_back_as_the_last_line_for_the_device(tmp_path: Path) -> None:
    done = _run(tmp_path, [_line("/dev/sdf", False, "other device"), _line("/dev/sdg", True)])
    assert done.returncode == 0, done.stderr
    assert mounting.report_line(done.stdout, "/dev/sdg") == _line("/dev/sdg", True)


@pytest.mark.parametrize(
    "lines",
    [
        [_line("/dev/sdg", False, "no filesystem found (blkid reports no TYPE) and no partitions")],
        [_line("/dev/sdg", True), _line("/dev/sdg", False, "mounted read-write: refusing")],
    ],
)
def test_a_failed_mount_exits_non_zero_with_its_report(
    tmp_path: Path, lines: list[dict[str, object]]
) -> None:
    done = _run(tmp_path, lines)
    assert done.returncode == 1
    assert mounting.report_line(done.stdout, "/dev/sdg") == lines[-1]


def test_no_report_for_the_device_is_a_failure_naming_it(tmp_path: Path) -> None:
    done = _run(tmp_path, [_line("/dev/sdf", True)])
    assert done.returncode == 1 and done.stdout == ""
    assert f"/dev/sdg (snapshot {SNAPSHOT}): no report line" in done.stderr
