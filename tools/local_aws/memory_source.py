"""The local AWS's stand-in for an instance's memory, and how its SSM agent stand-in runs the project's
memory-capture document (``programs/source_account/documents/capture-memory.json``) on it.

The document's own script runs, unchanged, as root, in a private mount namespace laid out where it looks:
``/dev`` holds null/zero/urandom and ``/dev/crash``, the instance's memory (read-only), which here is a known
image (``known_image``: bytes derived from the instance id, so a test can write the same file and hash it);
``/var/tmp`` is the instance's own folder (the captured image waits there between the capture and the upload
commands, as on the instance's disk). The script fetches the capture tool from the presigned URL the service
issued and runs it only if it hashes to the pinned SHA-256: locally that tool is ``avml_standin.sh``, which
copies ``/dev/crash``. The memory source is the only simulated part; the tool's download, its hash check,
the image's hash and the checksum-carrying upload are the script's real work against the local AWS.

One difference from an instance, said where it is: the local AWS's HTTPS listener has an in-memory
self-signed certificate naming no host, so no trust store can verify it; the instance's root ``HOME`` holds a
``.curlrc`` with ``insecure`` (curl's own per-user setting), where an instance on AWS verifies S3's
certificate. The script itself is not changed.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from tools.local_aws.private_dev import PRIVATE_DEV, SYSTEM_PATH, Outcome, run_in_private_namespace
from tools.local_aws.ssm_agent import CANNOT_RUN, CannotRun

DOCUMENT = (
    Path(__file__).resolve().parents[2] / "programs" / "source_account" / "documents" / "capture-memory.json"
)
# Small enough to capture in a test in a second, large enough to span many read and hash chunks.
KNOWN_IMAGE_BYTES = 4 * 1024 * 1024 + 4099

_SETUP = (
    r"""
set -eu
home=$1 var_tmp=$2 memory=$3 script=$4
"""
    + PRIVATE_DEV
    + r""": > /dev/crash
mount --bind "$memory" /dev/crash
mount -o remount,ro,bind /dev/crash
mount --bind "$var_tmp" /var/tmp
export HOME="$home"
exec sh -c "$script"
"""
)


def known_image(instance_id: str, size: int = KNOWN_IMAGE_BYTES) -> bytes:
    """The memory of an instance of the local AWS: SHA-256 in counter mode over its id (no two alike)."""
    blocks = (size + 31) // 32
    seed = f"forensics-local-memory:{instance_id}:".encode()
    return b"".join(hashlib.sha256(seed + i.to_bytes(8, "big")).digest() for i in range(blocks))[:size]


def write_known_image(instance_id: str, path: Path) -> Path:
    path.write_bytes(known_image(instance_id))
    return path


def is_memory_document(content: str) -> bool:
    """Whether ``content`` is the project's memory document, exactly (any other runs nothing here)."""
    try:
        return bool(json.loads(content) == json.loads(DOCUMENT.read_text(encoding="utf-8")))
    except ValueError:
        return False


def document_script(content: str, parameters: dict[str, str]) -> tuple[str, int]:
    """(script with the parameters put in as SSM does, timeout seconds) of the memory document."""
    import re

    document = json.loads(content)
    declared = document.get("parameters", {})
    values = {key: parameters.get(key, str(rule.get("default", ""))) for key, rule in declared.items()}
    (step,) = document["mainSteps"]
    lines = list(step["inputs"]["runCommand"])
    pattern = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
    missing = sorted({m.group(1) for line in lines for m in pattern.finditer(line)} - set(values))
    if missing:
        raise CannotRun(f"{CANNOT_RUN}: parameters not given: {', '.join(missing)}")
    script = "\n".join(pattern.sub(lambda m: values[m.group(1)], line) for line in lines) + "\n"
    return script, int(step["inputs"].get("timeoutSeconds") or 3600)


def run(instance_id: str, folder: Path, content: str, parameters: dict[str, str]) -> Outcome:
    """Run the memory document on the instance whose state is kept in ``folder`` (its /var/tmp, its root's
    home, its memory)."""
    from tools.local_aws.ssm_agent import loop_devices_unavailable

    script, timeout = document_script(content, parameters)
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        raise CannotRun(f"{CANNOT_RUN}: it needs root for the instance's mount namespace")
    why_not = loop_devices_unavailable()  # the same tools (unshare, mount, mknod, bash)
    if why_not is not None and "loop" not in why_not:
        raise CannotRun(f"{CANNOT_RUN}: {why_not}")
    home, var_tmp = folder / "root-home", folder / "var-tmp"
    for made in (home, var_tmp):
        made.mkdir(parents=True, exist_ok=True)
        made.chmod(0o700)
    (home / ".curlrc").write_text("insecure\n", encoding="utf-8")  # module docstring: the one difference
    memory = folder / "memory"
    if not memory.exists():
        write_known_image(instance_id, memory)
    return run_in_private_namespace(
        _SETUP,
        script,
        lambda path: [str(home), str(var_tmp), str(memory), str(path)],
        env={"PATH": SYSTEM_PATH, "LANG": "C.UTF-8"},
        timeout=timeout,
    )
