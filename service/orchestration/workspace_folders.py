"""A folder of its own for each Automation API workspace, removed when its work is done.

The SDK's ``LocalWorkspace``, given no ``work_dir``, makes one with ``mkdtemp`` in the system's temporary
folder and never removes it. There it writes the project file and the stack's settings file, which holds the
stack's plain config in clear (accounts, ticket, principals) and its encrypted secrets. Every operation and
every stack lookup of the service left such a folder behind on the host, long after the investigation was
destroyed. Each workspace of the service gets a folder under the service's own Pulumi home instead (mode
0700), removed when the operation or lookup ends, together with the note of its selected stack that the CLI
keeps in the home's ``workspaces`` folder for each project file it has seen. Nothing in it outlives the
work: the stack's config is sent with every operation and written again, and its encryption salt is kept in
the state.

A process killed mid-operation (the engine child, stopped with its group) leaves its folder under the home,
named for its process and host, where ``remove_left_over`` (run before each operation) finds it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

from service import processes

FOLDER_NAME = "work"

# Where the CLI keeps, per project file, the stack that file's workspace last selected (``stack init``
# selects the new stack): ``<project>-<sha1 of the project file's path>-workspace.json`` (pulumi/pkg
# workspace/workspace.go, ``settingsPath``). A folder used once leaves that file behind unless it is removed
# with the folder.
CLI_WORKSPACES = "workspaces"
PROJECT_FILE = "Pulumi.yaml"


@contextlib.contextmanager
def workspace_folder(pulumi_home: str | Path) -> Iterator[str]:
    """A new empty folder under ``pulumi_home`` for one workspace, removed with all it holds at the end."""
    parent = Path(pulumi_home) / FOLDER_NAME
    parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = tempfile.mkdtemp(prefix=f"{os.getpid()}_{socket.gethostname()}_", dir=parent)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        _forget_selection(Path(pulumi_home), folder)


def _forget_selection(pulumi_home: Path, folder: str) -> None:
    project_hash = hashlib.sha1(
        os.path.join(folder, PROJECT_FILE).encode(), usedforsecurity=False
    ).hexdigest()
    for selection in (pulumi_home / CLI_WORKSPACES).glob(f"*-{project_hash}-workspace.json"):
        selection.unlink(missing_ok=True)


def remove_left_over(pulumi_home: str | Path) -> list[str]:
    """Removes the folders of this host's processes that no longer run (killed before they could remove
    their own); returns their names. A folder of another host (a data folder shared between nodes) or of a
    process id in use again is kept: its owner may be alive. Host names hold no ``_``."""
    parent = Path(pulumi_home) / FOLDER_NAME
    removed: list[str] = []
    if not parent.is_dir():
        return removed
    for folder in parent.iterdir():
        pid, _, rest = folder.name.partition("_")
        host, _, _ = rest.partition("_")
        if pid.isdigit() and host == socket.gethostname() and not processes.process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            _forget_selection(Path(pulumi_home), str(folder))
            removed.append(folder.name)
    return removed
