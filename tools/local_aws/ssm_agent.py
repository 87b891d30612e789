"""The local AWS's stand-in for the SSM agent on the clean room's workstation: it runs the program's own
evidence-mount document, as root, against the bytes of the volumes attached to the instance.

moto answers every SendCommand with ``Success`` and empty output, whatever the document. Here, for the
document the program declares (``programs.forensic_env.workstation.mount_command_lines``, compared line by
line), each invocation really runs the document's script:

- every volume in the instance's block-device mapping is materialised from its snapshot's EBS blocks (what
  the EBS direct APIs hold: written with PutSnapshotBlock, copied with CopySnapshot, carried by CreateSnapshot
  of a volume made from a snapshot; a blank volume is zeros) into a sparse image, attached read-write as a
  loop device (EBS attaches read-write too: making it read-only is the script's job);
- the script runs in a private mount namespace that looks like the workstation where the script looks:
  ``/dev`` holds only the loop devices, under their attachment names as udev names them on EC2
  (``/dev/sdf`` a link to the block device), plus null/zero/urandom; ``/mnt`` is empty; ``/var/log`` is the
  instance's own folder, which keeps the boot script's report between commands;
- before the first command for an instance, the instance's user data runs the same way if it is the
  program's boot script (the mount script verbatim, then ``mount_evidence <letter> <snapshot>`` lines):
  that is the boot that ``action=report`` reads the result of;
- the invocation carries the script's exit code, stdout and stderr (``Success`` only for exit 0, output cut
  at SSM's 24000 characters); when it ends, the namespace and with it every mount are gone, and the loop
  devices are made writable again and detached (no instance keeps them).

There is no hotplug here: what is attached when a command starts is all there will be, so the script is told
not to wait for devices (``EVIDENCE_DEVICE_TIMEOUT=0``, a setting the script documents). The project's
memory-capture document runs its own script too (``tools/local_aws/memory_source.py``). Any other document,
a document that is not the program's, or a machine where loop devices cannot be attached (not root, no
``/dev/loop-control``) gets a ``Failed`` invocation saying the local AWS cannot run it here: never a
success for work not done.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tools.local_aws.private_dev import (
    PRIVATE_DEV,
    SYSTEM_PATH,
    Outcome,
    run_in_private_namespace,
)

CANNOT_RUN = "the local AWS cannot run this document here"
_PARAMETER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
_BOOT_MOUNT = re.compile(r"^mount_evidence [f-p] snap-[0-9a-f]{8,17}$")
_TOOLS = ("losetup", "unshare", "mount", "mknod", "blockdev", "blkid", "findmnt", "lsblk", "bash")

# The namespace's set-up, run by bash as root inside `unshare --mount`: $1 the instance's log folder, $2 the
# script to run, then pairs of (attachment name, loop device).
_SETUP = (
    r"""
set -eu
log_dir=$1 script=$2
shift 2
"""
    + PRIVATE_DEV
    + r"""while [ $# -ge 2 ]; do
  name=$1 loop=$2
  shift 2
  for sys in /sys/class/block/"${loop#/dev/}" /sys/class/block/"${loop#/dev/}"p*; do
    [ -e "$sys/dev" ] || continue
    numbers=$(cat "$sys/dev")
    mknod -m 660 "/dev/${sys##*/}" b "${numbers%%:*}" "${numbers##*:}"
  done
  ln -s "${loop#/dev/}" "$name"
done
mount -t tmpfs -o mode=0755 forensics-mnt /mnt
mount -t tmpfs -o mode=0755 forensics-run /run
mount --bind "$log_dir" /var/log
exec sh -c "$script"
"""
)


class CannotRun(Exception):
    """The document cannot be run here (the message says why); the invocation fails with it."""


def loop_devices_unavailable() -> str | None:
    """Why this machine cannot attach loop devices for the stand-in, or None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "it needs root to attach loop devices"
    if not os.path.exists("/dev/loop-control"):
        return "there is no /dev/loop-control"
    missing = [tool for tool in _TOOLS if shutil.which(tool, path=SYSTEM_PATH) is None]
    if missing:
        return f"missing {', '.join(missing)}"
    return None


def _run(*argv: str, timeout: float = 120) -> str:
    done = subprocess.run(
        list(argv), capture_output=True, text=True, timeout=timeout, check=False, env={"PATH": SYSTEM_PATH}
    )
    if done.returncode != 0:
        raise CannotRun(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


# --- what the volumes hold ------------------------------------------------------------------------------
def volume_blocks(ec2: Any, volume: Any) -> tuple[int, dict[int, bytes]]:
    """(block size, block index -> data) of a volume: its snapshot's EBS blocks, none for a blank one."""
    from moto.ebs.models import ebs_backends

    from tools.local_aws.moto_server import EBS_BLOCK_SIZE, find_snapshot

    snapshot_id = getattr(volume, "snapshot_id", None)
    if not snapshot_id:
        return EBS_BLOCK_SIZE, {}
    snapshot = find_snapshot(snapshot_id, ec2.region_name)
    if snapshot is None:
        raise CannotRun(f"the snapshot {snapshot_id} of {volume.id} is gone")
    owner = snapshot.ec2_backend
    backend: Any = ebs_backends[owner.account_id][owner.region_name]
    record = backend.snapshot_record(snapshot_id)
    return int(record.block_size), {int(i): bytes(b.block_data) for i, b in dict(record.blocks).items()}


def materialise(path: Path, size_bytes: int, block_size: int, blocks: dict[int, bytes]) -> None:
    """A sparse image of ``size_bytes`` with ``blocks`` at their offsets (unwritten blocks read as zeros)."""
    with path.open("wb") as image:
        image.truncate(size_bytes)
        for index in sorted(blocks):
            image.seek(index * block_size)
            image.write(blocks[index])


@contextmanager
def loop_device(image: Path) -> Iterator[str]:
    """``image`` attached read-write as a loop device (with its partitions); on exit made writable again (the
    kernel keeps a read-only flag for the device's next user) and detached."""
    device = _run("losetup", "--find", "--show", "--partscan", str(image)).strip()
    try:
        _run("blockdev", "--setrw", device)
        yield device
    finally:
        subprocess.run(
            ["blockdev", "--setrw", device], capture_output=True, check=False, env={"PATH": SYSTEM_PATH}
        )
        _run("losetup", "--detach", device)


def run_on_workstation(
    script: str, devices: dict[str, str], log_dir: Path, *, timeout: float, env: dict[str, str] | None = None
) -> Outcome:
    """Run ``script`` (a shell script, its first line may name the interpreter) as root in a private mount
    namespace laid out as the workstation (module docstring): ``devices`` maps attachment names (/dev/sdf)
    to loop devices; ``log_dir`` is its /var/log."""
    pairs = [item for name, loop in sorted(devices.items()) for item in (name, loop)]
    environment = {"PATH": SYSTEM_PATH, "HOME": "/root", "LANG": "C.UTF-8", **(env or {})}
    return run_in_private_namespace(
        _SETUP, script, lambda path: [str(log_dir), str(path), *pairs], env=environment, timeout=timeout
    )


# --- the program's documents ----------------------------------------------------------------------------
def mount_document_script(content: str, parameters: dict[str, str]) -> tuple[str, int]:
    """(script with the parameters put in, timeout seconds) of the program's evidence-mount document, or
    CannotRun for any other document."""
    from programs.forensic_env.workstation import mount_command_lines

    try:
        document = json.loads(content)
        (step,) = document["mainSteps"]
        inputs = step["inputs"]
        lines = list(inputs["runCommand"])
        timeout = int(inputs.get("timeoutSeconds") or 3600)
    except (ValueError, KeyError, TypeError) as exc:
        raise CannotRun(f"{CANNOT_RUN}: not the program's evidence-mount document ({exc!r})") from exc
    if step.get("action") != "aws:runShellScript" or lines != mount_command_lines():
        raise CannotRun(f"{CANNOT_RUN}: only the program's own evidence-mount document runs here")
    missing = sorted({m.group(1) for line in lines for m in _PARAMETER.finditer(line)} - set(parameters))
    if missing:
        raise CannotRun(f"{CANNOT_RUN}: parameters not given: {', '.join(missing)}")
    script = "\n".join(_PARAMETER.sub(lambda m: parameters[m.group(1)], line) for line in lines) + "\n"
    return script, timeout


def boot_script(user_data: str) -> str | None:
    """The instance's user data if it is the program's boot script (the mount script verbatim, then only
    settings and ``mount_evidence <letter> <snapshot>`` lines), else None: nothing else runs as root here."""
    from programs.forensic_env.workstation import (
        MOUNT_LOG,
        MOUNT_REPORT,
        MOUNT_ROOT,
        MOUNT_SCRIPT_NAME,
        mount_script,
    )

    begin, end = f"# --- {MOUNT_SCRIPT_NAME} (verbatim) ---", f"# --- end of {MOUNT_SCRIPT_NAME} ---"
    lines = user_data.split("\n")
    if lines.count(begin) != 1 or lines.count(end) != 1:
        return None
    first, last = lines.index(begin), lines.index(end)
    if "\n".join(lines[first + 1 : last]) != mount_script().rstrip("\n"):
        return None
    allowed = {
        f"exec >>{MOUNT_LOG} 2>&1",
        f"EVIDENCE_MOUNT_ROOT={MOUNT_ROOT}",
        f"EVIDENCE_MOUNT_REPORT={MOUNT_REPORT}",
    }
    for line in lines[:first] + lines[last + 1 :]:
        if line and not line.startswith("#") and line not in allowed and not _BOOT_MOUNT.match(line):
            return None
    return user_data


# --- the agent ------------------------------------------------------------------------------------------
class Agent:
    """The agent of every instance of the local AWS: one log folder per instance, booted once."""

    def __init__(self) -> None:
        _remove_dead_agents_folders()
        self._root = Path(tempfile.mkdtemp(prefix=f"{_AGENT_PREFIX}{os.getpid()}-"))
        self._lock = threading.Lock()
        self._instances: dict[str, threading.Lock] = {}
        self._booted: set[str] = set()

    def _instance_lock(self, instance_id: str) -> threading.Lock:
        with self._lock:
            return self._instances.setdefault(instance_id, threading.Lock())

    def invoke(self, ec2: Any, instance: Any, content: str, parameters: dict[str, str]) -> Outcome:
        from tools.local_aws import memory_source

        try:
            if memory_source.is_memory_document(content):
                with self._instance_lock(instance.id):
                    return memory_source.run(instance.id, self._root / instance.id, content, parameters)
            script, timeout = mount_document_script(content, parameters)
            why_not = loop_devices_unavailable()
            if why_not is not None:
                raise CannotRun(f"{CANNOT_RUN}: {why_not}")
            with self._instance_lock(instance.id):
                return self._run(ec2, instance, script, timeout)
        except CannotRun as exc:
            return Outcome("Failed", 1, "", f"{exc}\n")

    def _run(self, ec2: Any, instance: Any, script: str, timeout: int) -> Outcome:
        log_dir = self._root / instance.id / "var-log"
        log_dir.mkdir(parents=True, exist_ok=True)
        quick = {"EVIDENCE_DEVICE_TIMEOUT": "0"}  # no hotplug here: attached now is all there will be
        with ExitStack() as stack:
            images = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="forensics-ssm-volumes-")))
            devices: dict[str, str] = {}
            for name, mapping in sorted(getattr(instance, "block_device_mapping", {}).items()):
                volume = ec2.get_volume(mapping.volume_id)
                block_size, blocks = volume_blocks(ec2, volume)
                image = images / f"{volume.id}.img"
                materialise(image, int(volume.size) << 30, block_size, blocks)
                devices[name] = stack.enter_context(loop_device(image))
            if instance.id not in self._booted:
                self._booted.add(instance.id)
                user_data = _user_data(instance)
                boot = boot_script(user_data) if user_data else None
                if boot is not None:
                    run_on_workstation(boot, devices, log_dir, timeout=timeout, env=quick)
            return run_on_workstation(script, devices, log_dir, timeout=timeout, env=quick)
        raise AssertionError("unreachable")  # pragma: no cover (ExitStack does not swallow exceptions)


_AGENT_PREFIX = "forensics-ssm-agent-"


def _remove_dead_agents_folders() -> None:
    """The instance folders of local AWS processes that are gone (moto's server is stopped by a signal, so it
    cannot clean up after itself)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_AGENT_PREFIX}*-*"):
        pid = folder.name[len(_AGENT_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)


def _user_data(instance: Any) -> str | None:
    data = getattr(instance, "user_data", None)
    if isinstance(data, list):
        data = data[0] if data else None
    if data is None:
        return None
    try:
        return str(data.decode()) if hasattr(data, "decode") else str(data)
    except (ValueError, UnicodeDecodeError):
        return None


_agent: Agent | None = None
_agent_lock = threading.Lock()


def agent() -> Agent:
    global _agent
    with _agent_lock:
        if _agent is None:
            _agent = Agent()
        return _agent


def check_parameters(content: str, parameters: dict[str, str]) -> str | None:
    """Why SSM would refuse these parameters for this document before anything runs (a value outside its
    ``allowedValues`` or ``allowedPattern``), or None."""
    try:
        declared = json.loads(content).get("parameters", {})
    except (ValueError, AttributeError):
        return None
    for key, rule in declared.items() if isinstance(declared, dict) else ():
        value = parameters.get(key, str(rule.get("default", "")))
        allowed = rule.get("allowedValues")
        pattern = rule.get("allowedPattern")
        if (allowed and value not in allowed) or (pattern and not re.fullmatch(pattern, value)):
            return f"parameter {key}={value!r} does not match the document's rules"
    return None


def answer(ec2: Any, command: Any, content: str | None, parameters: dict[str, str]) -> None:
    """Run ``command``'s document on each of its instances and put what happened in its invocations."""
    failed = 0
    for invocation in command.invocations:
        started = datetime.now(UTC)
        if content is None:
            outcome = Outcome(
                "Failed", 1, "", f"{CANNOT_RUN}: the document {command.document_name} is not here\n"
            )
        else:
            outcome = agent().invoke(ec2, ec2.get_instance(invocation["InstanceId"]), content, parameters)
        ended = datetime.now(UTC)
        failed += outcome.status != "Success"
        invocation.update(
            Status=outcome.status,
            StatusDetails=outcome.status,
            ResponseCode=outcome.code,
            StandardOutputContent=outcome.stdout,
            StandardErrorContent=outcome.stderr,
            ExecutionStartDateTime=started.isoformat(),
            ExecutionEndDateTime=ended.isoformat(),
            ExecutionElapsedTime=f"PT{(ended - started).total_seconds():.3f}S",
        )
    command.error_count = failed
    command.status = command.status_details = "Failed" if failed else "Success"


def install() -> None:
    """SendCommand runs the document (``answer``) once SSM's checks pass: the parameters against the
    document's rules (SSM refuses others before anything runs; moto checks none), on the instances named
    (moto added every instance of the account when no Targets were given). Idempotent."""
    from moto.ec2.models import ec2_backends
    from moto.ssm import models as ssm_models
    from moto.ssm.exceptions import ValidationException

    backend_class = ssm_models.SimpleSystemManagerBackend
    if getattr(backend_class, "_forensics_agent", False):
        return
    backend_class._forensics_agent = True  # type: ignore[attr-defined]
    original = backend_class.send_command
    from_targets = ssm_models.Command._get_instance_ids_from_targets

    def instances_targeted(self: Any) -> list[str]:
        # moto reads no Targets as a filter matching every instance: the command would run everywhere.
        return from_targets(self) if self.targets else []

    ssm_models.Command._get_instance_ids_from_targets = instances_targeted  # type: ignore[method-assign]

    def send_command(self: Any, *args: Any, **kwargs: Any) -> Any:
        command = original(self, *args, **kwargs)
        name = command.document_name
        documents = self._documents.get(name) if name else None
        content = documents.get_default_version().content if documents is not None else None
        given = {
            key: str(value[0] if isinstance(value, list) and value else value)
            for key, value in command.parameters.items()
        }
        refusal = check_parameters(content, given) if content is not None else None
        if refusal is not None:
            self._commands.remove(command)
            raise ValidationException(refusal)
        answer(ec2_backends[self.account_id][self.region_name], command, content, given)
        return command

    backend_class.send_command = send_command  # type: ignore[method-assign]
