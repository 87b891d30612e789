"""The evidence mount script in the workstation's user data, and its behaviour that needs no root.

The user data embeds programs/forensic_env/scripts/mount_evidence.sh verbatim and calls it once per evidence
volume, one after the other, so a failure stops the boot script with a non-zero status. The script itself
is run here (with bash) where no block device is touched: a device that never appears, settings it refuses,
and a block device that will not become read-only (blockdev replaced by a stand-in). The runs against real
loop devices are in tests/unit/test_evidence_mount_root.py (root only).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from programs.forensic_env.config import (
    EVIDENCE_DEVICE_LETTERS,
    MAX_EVIDENCE_SNAPSHOTS,
    EnvironmentConfig,
    validate_config,
)
from programs.forensic_env.workstation import (
    MOUNT_LOG,
    MOUNT_REPORT,
    MOUNT_ROOT,
    MOUNT_SCRIPT,
    mount_script,
    user_data,
)
from tests.programs.harness import BASE_CONFIG, SNAPSHOTS, ProgramRun, run_program

CALL = re.compile(r"^mount_evidence (\S+) (\S+)$", re.MULTILINE)
BASH = shutil.which("bash")
needs_bash = pytest.mark.skipif(BASH is None, reason="bash is not installed")


@pytest.fixture(scope="module")
def env() -> ProgramRun:
    return run_program(evidenceSnapshotIds=SNAPSHOTS)


def _user_data(run: ProgramRun) -> str:
    script: str = run.one("aws:ec2/instance:Instance").inputs["userData"]
    return script


def _all_snapshots_config() -> tuple[EnvironmentConfig, list[str]]:
    snapshots = [f"snap-{n:017x}" for n in range(MAX_EVIDENCE_SNAPSHOTS)]
    return validate_config({**BASE_CONFIG, "evidenceSnapshotIds": snapshots}), snapshots


# --- the user data ---


def test_user_data_embeds_the_script_file_verbatim(env: ProgramRun) -> None:
    script = MOUNT_SCRIPT.read_text(encoding="utf-8")
    assert script == mount_script()
    assert script.startswith("#!/usr/bin/env bash\n") and "\nset -euo pipefail\n" in script
    data = _user_data(env)
    assert data.startswith("#!/bin/bash\n")
    assert data.count(script) == 1
    # The log and settings come first, the calls after the embedded functions.
    head, _, tail = data.partition(script)
    assert f"exec >>{MOUNT_LOG} 2>&1\n" in head
    assert f"EVIDENCE_MOUNT_ROOT={MOUNT_ROOT}\n" in head
    assert f"EVIDENCE_MOUNT_REPORT={MOUNT_REPORT}\n" in head
    assert CALL.findall(head) == []
    assert CALL.findall(tail) == list(zip("fg", SNAPSHOTS, strict=True))


def test_one_call_per_snapshot_in_device_letter_order() -> None:
    cfg, snapshots = _all_snapshots_config()
    data = user_data(cfg)
    _, _, tail = data.partition(mount_script())
    assert CALL.findall(tail) == list(zip(EVIDENCE_DEVICE_LETTERS, snapshots, strict=True))
    # The calls are the last lines: nothing after them could mask the exit status of the last one.
    assert data.rstrip("\n").splitlines()[-1] == f"mount_evidence p {snapshots[-1]}"


def test_no_evidence_no_calls() -> None:
    data = user_data(validate_config(BASE_CONFIG))
    assert mount_script() in data
    assert CALL.findall(data) == []


def test_nothing_swallowed_nothing_in_the_background(env: ProgramRun) -> None:
    data = _user_data(env)
    assert "|| true" not in data
    assert "||true" not in data
    for line in data.splitlines():
        code = line.split(" #", 1)[0].rstrip()
        assert not re.search(r"(?<![&|>])&$", code), f"runs in the background: {line!r}"
    assert not re.search(r"^\s*wait\b", data, re.MULTILINE)
    for call in CALL.finditer(data):
        assert "&" not in call.group(0)


def test_user_data_fits_the_ec2_limit_with_every_device() -> None:
    cfg, _ = _all_snapshots_config()
    assert len(user_data(cfg).encode()) < 16 * 1024  # EC2 rejects user data over 16 KiB


def test_script_defaults_are_the_programs_paths() -> None:
    """Run by hand on the workstation, the script reads and writes the same places as the boot script."""
    script = mount_script()
    assert f': "${{EVIDENCE_MOUNT_ROOT:={MOUNT_ROOT}}}"' in script
    assert f': "${{EVIDENCE_MOUNT_REPORT:={MOUNT_REPORT}}}"' in script
    assert ': "${EVIDENCE_DEVICE_TIMEOUT:=600}"' in script  # as before: 120 tries 5 s apart


def test_mount_options_never_write() -> None:
    """Every mount the script makes is ro, and none replays a journal or log."""
    mounts = [line.strip() for line in mount_script().splitlines() if re.search(r"\bmount -", line)]
    assert mounts, "no mount command found"
    for line in mounts:
        options = re.search(r"-o (\S+)", line)
        assert options and options.group(1).split(",")[0] == "ro", line
        assert "rw" not in options.group(1).split(","), line
    assert any("ext3 | ext4) mount -o ro,noload " in line for line in mounts)
    assert any("xfs) mount -o ro,norecovery,nouuid " in line for line in mounts)


@needs_bash
def test_user_data_is_valid_bash(env: ProgramRun, tmp_path: Path) -> None:
    path = tmp_path / "user-data.sh"
    path.write_text(_user_data(env), encoding="utf-8")
    result = subprocess.run([BASH or "bash", "-n", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


# --- the script, where no device is touched ---


def _run(tmp_path: Path, *args: str, path: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    settings = {
        "EVIDENCE_MOUNT_ROOT": str(tmp_path / "evidence"),
        "EVIDENCE_MOUNT_REPORT": str(tmp_path / "report" / "mount.json"),
        "EVIDENCE_DEVICE_TIMEOUT": "1",
        **env,
    }
    environ = {**os.environ, **settings}
    if path is not None:
        environ["PATH"] = path
    return subprocess.run(
        [BASH or "bash", str(MOUNT_SCRIPT), *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _report(tmp_path: Path) -> list[dict[str, Any]]:
    lines = (tmp_path / "report" / "mount.json").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _stderr_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@needs_bash
def test_a_device_that_never_appears_fails_loudly(tmp_path: Path) -> None:
    letter = "z"
    if Path(f"/dev/sd{letter}").exists() or Path(f"/dev/xvd{letter}").exists():
        pytest.skip(f"this machine has a /dev/sd{letter} or /dev/xvd{letter}")
    result = _run(tmp_path, "mount_evidence", letter, "snap-0123456789abcdef0")
    assert result.returncode == 1
    message = _stderr_line(result)
    assert "/dev/sdz" in message and "snap-0123456789abcdef0" in message
    assert "did not appear within 1s" in message
    [line] = _report(tmp_path)
    assert line["device"] == "/dev/sdz" and line["attached_as"] == "/dev/sdz"
    assert line["snapshot"] == "snap-0123456789abcdef0"
    assert line["ok"] is False and line["readonly"] is False and line["mountpoints"] == []
    assert "did not appear" in line["error"]
    assert not (tmp_path / "evidence").exists()


@needs_bash
def test_bad_settings_are_failures_in_the_report(tmp_path: Path) -> None:
    odd = 'ten "seconds" \\ please'
    result = _run(tmp_path, "mount_evidence", "z", "snap-1", EVIDENCE_DEVICE_TIMEOUT=odd)
    assert result.returncode == 1
    assert "EVIDENCE_DEVICE_TIMEOUT" in _stderr_line(result)
    [line] = _report(tmp_path)  # valid JSON although the value has quotes and a backslash
    assert line["ok"] is False and odd in line["error"]

    result = _run(tmp_path, "mount_evidence_device", "/dev/null", "snap-2", EVIDENCE_MOUNT_ROOT="relative")
    assert result.returncode == 1
    assert "absolute path" in _stderr_line(result)

    result = _run(tmp_path, "mount_evidence_device", str(tmp_path), "snap-3")
    assert result.returncode == 1
    assert f"{tmp_path} (snapshot snap-3): not a block device" in _stderr_line(result)
    assert [line["ok"] for line in _report(tmp_path)] == [False, False, False]


@needs_bash
def test_usage(tmp_path: Path) -> None:
    result = _run(tmp_path, "mount_everything")
    assert result.returncode == 2 and "usage:" in result.stderr
    result = _run(tmp_path, "mount_evidence", "f")
    assert result.returncode == 2 and "usage: mount_evidence <device letter> <snapshot id>" in result.stderr


def _a_block_device() -> str:
    sys_block = Path("/sys/class/block")
    names = sorted(p.name for p in sys_block.iterdir()) if sys_block.is_dir() else []
    for name in names:
        if Path(f"/dev/{name}").is_block_device():
            return f"/dev/{name}"
    pytest.skip("no block device node on this machine")


@needs_bash
def test_refuses_a_device_that_stays_writable(tmp_path: Path) -> None:
    """blockdev --getro must say 1 after --setro; otherwise nothing else may touch the device.

    blockdev is a stand-in that ignores --setro; every tool that would read or mount the device records
    being called, and none may be."""
    device = _a_block_device()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    (bin_dir / "blockdev").write_text(
        f'#!/bin/sh\necho "blockdev $*" >>{calls}\nif [ "$1" = --getro ]; then echo 0; fi\nexit 0\n'
    )
    for tool in ("blkid", "lsblk", "mount", "umount", "findmnt"):
        (bin_dir / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >>{calls}\nexit 99\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    result = _run(
        tmp_path, "mount_evidence_device", device, "snap-test", path=f"{bin_dir}:{os.environ['PATH']}"
    )
    assert result.returncode == 1
    message = _stderr_line(result)
    real = os.path.realpath(device)
    assert f"{real} (snapshot snap-test)" in message
    assert "reports '0' after --setro, not 1" in message
    assert calls.read_text().splitlines() == [f"blockdev --setro {real}", f"blockdev --getro {real}"]
    [line] = _report(tmp_path)
    assert line["ok"] is False and line["readonly"] is False and line["device"] == real
