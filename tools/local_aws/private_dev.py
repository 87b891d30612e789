"""The mount namespace both simulated instance processes start in (``memory_source`` and ``ssm_agent``).

A document run on the local AWS must see an instance's view of the machine, not the host's: each runs as
root under ``unshare --mount`` with bash, and first gives itself a private ``/dev`` holding only what every
Linux process expects (null, zero, urandom and the fd links); each caller then adds its own devices (the
instance's memory, the attached volumes) and mounts. ``PATH`` is the fixed system path: nothing from the
caller's environment decides which ``mount`` or ``mknod`` runs as root. ``run_in_private_namespace`` starts
one such process and collects its outcome as GetCommandInvocation reports it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# GetCommandInvocation returns at most this much of each stream (the rest only goes to S3).
OUTPUT_LIMIT = 24000
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Shell lines, run by bash as root inside `unshare --mount`, before the caller's own set-up.
PRIVATE_DEV = r"""mount --make-rprivate /
mount -t tmpfs -o mode=0755 forensics-dev /dev
mknod -m 666 /dev/null c 1 3
mknod -m 666 /dev/zero c 1 5
mknod -m 666 /dev/urandom c 1 9
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
"""


@dataclass(frozen=True)
class Outcome:
    status: str  # Success, Failed, TimedOut
    code: int
    stdout: str
    stderr: str


def run_in_private_namespace(
    setup: str, script: str, arguments: Callable[[Path], list[str]], *, env: dict[str, str], timeout: float
) -> Outcome:
    """Run ``setup`` (bash, as root, in a new private mount namespace) with ``arguments(script_path)``:
    ``script`` is written to a private file first, and the setup ends by running it. On timeout the whole
    session is killed: whatever the script started must let go of the namespace and its mounts."""
    with tempfile.TemporaryDirectory(prefix="forensics-ssm-command-") as folder:
        path = Path(folder) / "_script.sh"
        path.write_text(script, encoding="utf-8")
        path.chmod(0o700)
        process = subprocess.Popen(
            [
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "--",
                "bash",
                "-c",
                setup,
                "setup",
                *arguments(path),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            return Outcome("TimedOut", -1, stdout[-OUTPUT_LIMIT:], stderr[-OUTPUT_LIMIT:])
    status = "Success" if process.returncode == 0 else "Failed"
    return Outcome(status, process.returncode, stdout[-OUTPUT_LIMIT:], stderr[-OUTPUT_LIMIT:])
